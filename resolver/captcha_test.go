package resolver

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// Issue 12: Google's "unusual traffic" CAPTCHA page is recognised by its
// markup in every language, and by its English sentence; no other Google
// page is taken for it.
func TestIsCaptchaPage(t *testing.T) {
	rec, err := os.ReadFile(filepath.Join(fixtures, "rss-articles-page.2026-09-23.html"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(t, gnewstest.Options{})
	get := func(path string) string {
		resp, err := http.Get(f.NewsURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := readBody(resp, 1<<20)
		return string(b)
	}
	id := f.NewID("https://p.example/a")
	for _, tt := range []struct {
		name string
		page string
		want bool
	}{
		{"English", gnewstest.CaptchaPage("en", "https://news.google.com/rss/articles/x"), true},
		{"German", gnewstest.CaptchaPage("de", "https://news.google.com/rss/articles/x"), true},
		{"French", gnewstest.CaptchaPage("fr", ""), true},
		{"Japanese", gnewstest.CaptchaPage("ja", ""), true},
		{"form posting to /sorry/index only", `<html><body><form action="https://www.google.com/sorry/index" method="post"><input name="q"></form></body></html>`, true},
		{"captcha-form only", `<html><body><form id="captcha-form" action="index"></form></body></html>`, true},
		{"g-recaptcha widget only", `<html><body><div class="x g-recaptcha" data-sitekey="k"></div></body></html>`, true},
		{"reCAPTCHA script only", `<html><head><script src="https://www.google.com/recaptcha/api.js" async></script></head></html>`, true},
		{"English sentence only", `<p>Our systems have detected unusual traffic from your computer network.</p>`, true},
		{"recorded article page", string(rec), false},
		{"fake article page", get("/rss/articles/" + id + "?hl=en-US&gl=US&ceid=US:en"), false},
		{"words in a script", `<script>var s = "g-recaptcha captcha-form /sorry/index";</script>`, false},
		{"sentence in a script", `<script>var m = "Our systems have detected unusual traffic from your computer network";</script>`, false},
		{"sentence in a comment", `<!-- Our systems have detected unusual traffic from your computer network -->`, false},
		{"class that only contains the name", `<div class="g-recaptcha-like"></div>`, false},
		{"consent wall", `<html><head><title>Before you continue to Google News</title></head><body><form action="https://consent.google.com/save"></form></body></html>`, false},
		{"429 page", `<title>Error 429 (Too Many Requests)!!1</title><p>We're sorry, but you have sent too many requests to us recently.`, false},
		{"batchexecute answer", ")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",null,null,null,[3],\"generic\"]]", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := isCaptchaPage([]byte(tt.page)); got != tt.want {
				t.Errorf("isCaptchaPage = %v, want %v", got, tt.want)
			}
		})
	}
}

// Issue 12: a 200 CAPTCHA page in place of the article page (what a
// redirect-following proxy hands over) is rate limiting: it stops every
// further signature GET, the signatures already collected are posted, and
// the rest are rate_limited, in whatever language the page is.
func TestCaptchaPageStopsGoogle(t *testing.T) {
	for _, tc := range []struct {
		lang   string
		status int
	}{{"en", 200}, {"de", 200}, {"ja", 200}, {"en", 403}, {"fr", 503}} {
		t.Run(fmt.Sprint(tc.lang, "-", tc.status), func(t *testing.T) {
			const served = 3
			f := newFake(t, gnewstest.Options{CaptchaAfter: served, CaptchaLang: tc.lang, CaptchaStatus: tc.status})
			links, urls := mint(f, nil, 6, "c")
			r := newTestResolver(t, f, nil)
			res := r.Resolve(bg(), links)
			for i := range served {
				wantURL(t, res[i], urls[i], MethodBatchexecute)
			}
			for i := served; i < len(links); i++ {
				wantKind(t, res[i], record.ReasonRateLimited)
			}
			if !r.RateLimited() {
				t.Error("RateLimited() = false after a CAPTCHA page")
			}
			counts(t, f, served+1, 1)
		})
	}
}

// A CAPTCHA page answering the batchexecute POST, with 200 or an error
// status, stops the POSTs too.
func TestCaptchaPageOnPost(t *testing.T) {
	for _, status := range []int{200, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newFake(t, gnewstest.Options{})
			links, _ := mint(f, nil, 3, "p")
			f.SetPostOverride(&gnewstest.PostOverride{Status: status, ContentType: "text/html; charset=UTF-8", Body: gnewstest.CaptchaPage("de", "")})
			r := newTestResolver(t, f, func(o *Options) { o.BatchSize = 1 })
			res := r.Resolve(bg(), links)
			for _, rr := range res {
				wantKind(t, rr, record.ReasonRateLimited)
			}
			// The first POST met the CAPTCHA: no further GET or POST.
			counts(t, f, 1, 1)
			if !r.RateLimited() {
				t.Error("RateLimited() = false")
			}
		})
	}
}

// Issue 12: the signature element for the id asked for is preferred; the
// page's only element is used whatever id it names; several elements for
// other ids are a no_signature whose message says so, not "try another
// --user-agent".
func TestSignatureElementSelection(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	var links []string
	add := func(u string, a gnewstest.Article) {
		id := f.NewID(u)
		a.PublisherURL = u
		f.Register(id, a)
		links = append(links, gnewstest.ArticleURL(id))
	}
	other1, other2 := f.NewID("https://p.example/o1"), f.NewID("https://p.example/o2")
	add("https://p.example/own-after-others", gnewstest.Article{OtherSignatures: []string{other1, other2}})
	add("https://p.example/only-other-id", gnewstest.Article{PageID: "CBMiSomeOtherSpellingOfTheId"})
	add("https://p.example/several-none-ours", gnewstest.Article{PageID: other1, OtherSignatures: []string{other2}})
	r := newTestResolver(t, f, nil)
	res := r.Resolve(bg(), links)
	wantURL(t, res[0], "https://p.example/own-after-others", MethodBatchexecute)
	wantURL(t, res[1], "https://p.example/only-other-id", MethodBatchexecute)
	wantKind(t, res[2], record.ReasonNoSignature)
	if msg := res[2].Err.Message; !strings.Contains(msg, "2 signature elements and none is for this link's id") || strings.Contains(msg, "user-agent") {
		t.Errorf("message %q", msg)
	}
	counts(t, f, 3, 1)
}
