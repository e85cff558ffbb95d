package gnewstest

import (
	"fmt"
	"html"
	"strings"
)

// articlePage is the Step-1 page of spec §3.5: a Google News shell whose
// c-wiz (after </body>, as on the real page) holds the signature pair. Its
// head carries decoy pairs in a comment and a script, which a client must
// ignore (a regex over the raw page would pick them up and fail on POST).
// padding bytes of inert script make the page as large as real ones.
func articlePage(id string, ts int64, sg string, padding int) string {
	return articlePageWith(id, ts, sg, padding, nil)
}

// signedElement is a signature element for another article.
type signedElement struct {
	id string
	ts int64
	sg string
}

// articlePageWith is articlePage naming id in its signature element and
// data-p, with others' signature elements before it.
func articlePageWith(id string, ts int64, sg string, padding int, others []signedElement) string {
	var b strings.Builder
	b.Grow(2048 + padding)
	canon := "https://news.google.com/rss/articles/" + id
	fmt.Fprintf(&b, `<!doctype html><html lang="en-US" dir="ltr"><head><base href="https://news.google.com/">`+
		`<meta name="referrer" content="origin"><link rel="canonical" href="%s">`+
		`<title>Google News</title><meta name="googlebot" content="noindex">`+
		`<link rel="canonical" href="%s?hl=en-US&amp;gl=US&amp;ceid=US%%3Aen">`+
		`<meta property="og:site_name" content="Google News"><meta property="og:url" content="https://news.google.com">`+
		`<!-- <div data-n-a-ts="1000000000" data-n-a-sg="AdecoyInAComment0000000000"></div> -->`+
		`<script nonce="N">var tpl = '<div data-n-a-ts="1000000001" data-n-a-sg="AdecoyInAScript00000000000"></div>';`,
		canon, canon)
	if padding > 0 {
		b.WriteString("/*")
		const chunk = "WIZ bootstrap padding 0123456789abcdefghijklmnopqrstuvwxyz "
		for n := 0; n < padding; n += len(chunk) {
			b.WriteString(chunk)
		}
		b.WriteString("*/")
	}
	eid := html.EscapeString(id)
	fmt.Fprintf(&b, `</script></head><body class="y0K44d EA71Tc"></body><c-wiz jsrenderer="lW1Lhc" data-n-zris="1" data-n-ziab="1" `+
		`data-n-dnlg="false" jsshadow jsdata="deferred-i1" `+
		`data-p="%%.@.[[&quot;en-US&quot;,&quot;US&quot;,[&quot;FINANCE_TOP_INDICES&quot;,&quot;WEB_TEST_1_0_0&quot;],null,null,1,1,&quot;US:en&quot;,null,null,null,null,null,null,null,false],&quot;en-US&quot;,&quot;US&quot;,true,[3,5,9,19],1,true,&quot;985646084&quot;,false,false,null,false],&quot;%s&quot;,1,1,null,false,%d,&quot;%s&quot;]" `+
		`jscontroller="he6YWd" jsaction="rcuQ6b:npT2md" data-node-index="0;0" jsmodel="hc6Ubd" view c-wiz>`+
		`%s<div jscontroller="aLI87" jsaction="rcuQ6b:npT2md" data-n-a-id="%s" data-n-a-ts="%d" data-n-a-sg="%s" data-n-dnlg="false"></div>`+
		`<c-data id="i1"></c-data></c-wiz><script nonce="N"></script></body></html>`,
		eid, ts, html.EscapeString(sg), otherElements(others), eid, ts, html.EscapeString(sg))
	return b.String()
}

func otherElements(others []signedElement) string {
	var b strings.Builder
	for _, o := range others {
		fmt.Fprintf(&b, `<div jscontroller="aLI87" data-n-a-id="%s" data-n-a-ts="%d" data-n-a-sg="%s"></div>`,
			html.EscapeString(o.id), o.ts, html.EscapeString(o.sg))
	}
	return b.String()
}

// interstitialPage is the "JS interstitial": a 200 Google News shell with
// no element carrying the signature (spec §3.3).
const interstitialPage = `<!doctype html><html lang="en-US" dir="ltr"><head><base href="https://news.google.com/">` +
	`<title>Google News</title><script nonce="N">/* the real page bootstraps here and navigates by script */</script></head>` +
	`<body class="y0K44d"><c-wiz jsrenderer="lW1Lhc" jscontroller="he6YWd" jsmodel="hc6Ubd" view c-wiz>` +
	`<div jscontroller="Xe6Cwd" jsaction="rcuQ6b:npT2md"></div></c-wiz>` +
	`<noscript>Opening this page requires JavaScript.</noscript></body></html>`

// consentPage is the "Before you continue" interstitial (spec §5.6). It
// has no signature; clients must never submit it.
func consentPage(continueURL string) string {
	c := html.EscapeString(continueURL)
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Before you continue to Google News</title></head>` +
		`<body><h1>Before you continue to Google News</h1><p>We use cookies and data to deliver and maintain Google services…</p>` +
		`<form action="https://consent.google.com/save" method="POST"><input type="hidden" name="continue" value="` + c + `">` +
		`<input type="hidden" name="gl" value="FR"><input type="hidden" name="hl" value="en-US"><input type="hidden" name="set_eom" value="true">` +
		`<button>Reject all</button></form>` +
		`<form action="https://consent.google.com/save" method="POST"><input type="hidden" name="continue" value="` + c + `">` +
		`<input type="hidden" name="set_eom" value="false"><button>Accept all</button></form></body></html>`
}

// movedPage is the body Google's front ends send with a 302.
func movedPage(location string) string {
	return `<HTML><HEAD><meta http-equiv="content-type" content="text/html;charset=utf-8">` + "\n" +
		`<TITLE>302 Moved</TITLE></HEAD><BODY>` + "\n" + `<H1>302 Moved</H1>` + "\n" +
		`The document has moved` + "\n" + `<A HREF="` + html.EscapeString(location) + `">here</A>.` + "\r\n" + `</BODY></HTML>` + "\r\n"
}

// tooManyRequestsPage is Google's generic 429 page (spec §5.6).
const tooManyRequestsPage = `<!DOCTYPE html><html lang=en><meta charset=utf-8><meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">` +
	`<title>Error 429 (Too Many Requests)!!1</title><a href=//www.google.com/><span id=logo aria-label=Google></span></a>` +
	`<p><b>429.</b> <ins>That’s an error.</ins><p>We're sorry, but you have sent too many requests to us recently. Please try again later.  <ins>That’s all we know.</ins>`

// captchaTexts are the "About this page" sentence of Google's sorry page
// in a few languages; only the English one is matched by clients, the
// others test that the markup alone is recognised.
var captchaTexts = map[string]string{
	"en": "Our systems have detected unusual traffic from your computer network. This page checks to see if it's really you sending the requests, and not a robot.",
	"de": "Unsere Systeme haben ungewöhnlichen Datenverkehr aus Ihrem Computernetzwerk festgestellt. Auf dieser Seite wird überprüft, ob die Anfragen wirklich von Ihnen und nicht von einem Robot gesendet werden.",
	"fr": "Nos systèmes ont détecté un trafic exceptionnel sur votre réseau informatique. Cette page permet de vérifier que c'est bien vous qui envoyez des requêtes, et non un robot.",
	"ja": "このネットワークから通常とは異なるトラフィックが検出されました。このページでは、リクエストが送信されたのがロボットではなく、実際にお客様ご本人であることを確認します。",
}

// CaptchaPage is Google's "unusual traffic" page (www.google.com/sorry/index)
// in lang ("" is English), as a client that follows the redirect to /sorry
// receives it with status 200: the captcha-form posting to index, the
// reCAPTCHA script and g-recaptcha widget, and the explanation.
func CaptchaPage(lang, continueURL string) string {
	text, ok := captchaTexts[lang]
	if !ok {
		text = captchaTexts["en"]
	}
	c := html.EscapeString(continueURL)
	return `<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"><meta name="viewport" content="initial-scale=1"><title>` + c + `</title></head>` +
		`<body style="font-family: arial, sans-serif; background-color: #fff; color: #000; padding:20px; font-size:18px;" onload="e=document.getElementById('captcha');if(e){e.focus();}">` +
		`<div style="max-width:400px;"><hr noshade size="1" style="color:#ccc; background-color:#ccc;"><br>` +
		`<form id="captcha-form" action="index" method="post"><noscript><div style="font-size:13px;">JavaScript</div></noscript>` +
		`<script src="https://www.google.com/recaptcha/api.js" async defer></script>` +
		`<script>var submitCallback = function(response) {document.getElementById('captcha-form').submit();};</script>` +
		`<div id="recaptcha" class="g-recaptcha" data-sitekey="6LfwuyUTAAAAAOAmoS0fdqijC2PbbdH4kjq62Y1b" data-callback="submitCallback" data-s="REDACTED"></div>` +
		`<input type='hidden' name='q' value='EgQKAQIDGIuYw7gGIjD'><input type="hidden" name="continue" value="` + c + `"></form>` +
		`<hr noshade size="1" style="color:#ccc; background-color:#ccc;"><div style="font-size:13px;"><b>?</b><br><br>` + text + `<br><br>` +
		`IP address: 192.0.2.1<br>Time: 2026-09-23T16:44:32Z<br>URL: ` + c + `<br></div></div></body></html>`
}

// notFoundPage answers paths the fake does not serve.
const notFoundPage = `<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins>`
