package extract

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Thresholds, in words of the extracted article (Extraction.WordCount) or
// of the page's visible text. The smallest article of the extraction
// benchmark has 67 words; walls and stubs rarely reach 150.
const (
	emptyWords       = 30  // below this the capture has no article
	stubWords        = 150 // a paywall teaser, an error page's apology
	wallPageWords    = 400 // a challenge or consent page shows little else
	consentMinHints  = 3   // distinct consent phrases needed to call a consent wall
	consentTextWords = 250 // longer "articles" about consent are articles
	notFreeWords     = 50  // "near-empty" for a page that only says it is not free
	scanTextLimit    = 256 << 10
	scanMarkupLimit  = 512 << 10
)

// Page is a fetched page as the junk check sees it.
type Page struct {
	Body     []byte // the page as UTF-8
	FinalURL string // where it was found, after redirects; "" when unknown
}

// DetectJunk tells whether a fetched page is a wall rather than the
// article, and which: record.ReasonCaptcha (a bot challenge: CAPTCHA, "Just
// a moment…", "Press & Hold"), ReasonConsentWall, ReasonSoft404,
// ReasonPaywallStub or ReasonEmpty. The rules are general (phrases, page
// structure, text length), not tied to any site. e may be nil when
// extraction failed; an empty Page is empty.
func DetectJunk(page Page, e *Extraction) (reason record.Reason, blocked bool) {
	words := 0
	articleText := ""
	if e != nil {
		words, articleText = e.WordCount, strings.ToLower(normalizeQuotes(e.Text))
	}
	p := scanPage(page.Body)
	final, _ := url.Parse(page.FinalURL)

	switch {
	case isChallenge(p, words):
		return record.ReasonCaptcha, true
	case isConsentWall(p, final, words, articleText):
		return record.ReasonConsentWall, true
	case isSoft404(p, final, words):
		return record.ReasonSoft404, true
	case isPaywallStub(p, words):
		return record.ReasonPaywallStub, true
	case words < emptyWords:
		return record.ReasonEmpty, true
	}
	return "", false
}

// pageSignals is what the junk rules look at in a page.
type pageSignals struct {
	title   string // <title>, lower case
	h1      string // first <h1>, lower case
	text    string // visible text, lower case, quotes normalised
	words   int    // words of visible text
	buttons string // text of buttons and submit inputs, lower case, one per line
	markup  []byte // the start of the page, lower case, for script/form markers
}

// scanPage collects the title, first heading and visible text of a page.
func scanPage(body []byte) pageSignals {
	var p pageSignals
	var text, title, h1, buttons strings.Builder
	z := html.NewTokenizer(bytes.NewReader(body))
	skip := 0 // depth inside elements whose text is not shown
	inTitle, inH1, h1Done, inButton := false, false, false, false
	for text.Len() < scanTextLimit {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			open := tt == html.StartTagToken
			switch a {
			case atom.Button:
				inButton = open
				buttons.WriteByte('\n')
			case atom.Input:
				if hasAttr && tt != html.EndTagToken {
					buttons.WriteString(submitValue(z))
					buttons.WriteByte('\n')
				}
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Iframe, atom.Object:
				if open {
					skip++
				} else if skip > 0 {
					skip--
				}
			case atom.Title:
				inTitle = open
			case atom.H1:
				inH1 = open && !h1Done
				if !open && h1.Len() > 0 {
					h1Done = true
				}
			}
			if isBlock(a) {
				text.WriteByte('\n')
			}
		case html.TextToken:
			t := z.Text()
			switch {
			case inTitle:
				title.Write(t)
			case skip > 0:
			default:
				if inH1 {
					h1.Write(t)
				}
				if inButton {
					buttons.Write(t)
				}
				text.Write(t)
				text.WriteByte(' ')
			}
		}
	}
	p.title = strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(title.String())))
	p.h1 = strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(h1.String())))
	visible := normalizeQuotes(text.String())
	p.words = countWords(visible)
	p.text = strings.ToLower(textnorm.CollapseSpace(visible))
	p.buttons = strings.ToLower(buttons.String())
	p.markup = bytes.ToLower(body[:min(len(body), scanMarkupLimit)])
	return p
}

// submitValue returns the label of an <input type=submit|button>.
func submitValue(z *html.Tokenizer) string {
	var typ, value string
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "type":
			typ = strings.ToLower(string(v))
		case "value":
			value = string(v)
		}
		if !more {
			break
		}
	}
	if typ == "submit" || typ == "button" {
		return value
	}
	return ""
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside, atom.Form,
		atom.Button, atom.Td, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Main, atom.Dialog:
		return true
	}
	return false
}

func normalizeQuotes(s string) string {
	return strings.NewReplacer("’", "'", "‘", "'", "\u00a0", " ", "…", "...").Replace(s)
}

func containsAny(s string, phrases []string) bool {
	for _, ph := range phrases {
		if strings.Contains(s, ph) {
			return true
		}
	}
	return false
}

func countPhrases(s string, phrases []string) int {
	n := 0
	for _, ph := range phrases {
		if strings.Contains(s, ph) {
			n++
		}
	}
	return n
}

// Bot challenges (Cloudflare, Akamai, PerimeterX, DataDome, Imperva,
// DDoS-Guard, Google's "unusual traffic" page, plain CAPTCHAs).
var (
	challengeTitles = []string{
		"just a moment...", "attention required", "one more step", "are you a robot", "are you a human",
		"robot check", "bot check", "human verification", "verify you are human", "security check",
		"checking your browser", "ddos-guard", "access to this page has been denied",
		"pardon our interruption", "please verify you are a human", "captcha",
	}
	challengeTexts = []string{
		"verify you are human", "verify that you are human", "verifying you are human",
		"checking if the site connection is secure", "checking your browser before accessing",
		"enable javascript and cookies to continue", "please complete the security check",
		"complete the captcha", "press & hold", "press and hold", "make sure you're not a robot",
		"not a robot", "unusual traffic from your computer network", "prove you are human",
		"why have i been blocked", "please stand by, while we are checking your browser",
	}
	challengeMarkup = [][]byte{
		[]byte("/cdn-cgi/challenge-platform/"), []byte("cf-chl-"), []byte("cf_chl_opt"),
		[]byte("captcha-delivery.com"), []byte("px-captcha"), []byte("_incapsula_resource"),
		[]byte("g-recaptcha"), []byte("h-captcha"), []byte("cf-turnstile"), []byte("geo.captcha-delivery"),
	}
)

// isChallenge: a challenge page says so in its title or text, or carries a
// challenge script or widget, and has next to no content of its own.
func isChallenge(p pageSignals, words int) bool {
	if p.words >= wallPageWords || words >= stubWords {
		return false
	}
	if containsAny(p.title, challengeTitles) || containsAny(p.text, challengeTexts) {
		return true
	}
	for _, m := range challengeMarkup {
		if bytes.Contains(p.markup, m) && words < emptyWords*2 {
			return true
		}
	}
	return false
}

// Consent walls: IAB TCF and similar consent pages in several languages.
// consentPhrases are any talk of cookies and privacy (footers have some);
// consentWallPhrases are what only a consent dialog says.
var (
	consentPhrases = []string{
		"cookie", "consent", "your privacy", "privacy settings", "privacy policy", "personal data",
		"partners", "personalised", "personalized", "einwilligung", "datenschutz", "consentement",
		"données personnelles", "datos personales", "персональных данных",
	}
	consentWallPhrases = []string{
		"accept all", "reject all", "manage preferences", "manage options", "manage settings",
		"more options", "legitimate interest", "store and/or access information on a device",
		"before you continue", "i agree", "agree and continue", "accept and continue",
		"we and our partners", "we use cookies", "this site uses cookies", "this website uses cookies",
		"personalised ads", "personalized ads", "alle akzeptieren", "wir verwenden cookies",
		"tout accepter", "accepter et continuer", "nous utilisons des cookies",
		"aceptar todo", "utilizamos cookies", "accetta tutti", "utilizziamo i cookie",
		"мы используем cookie", "принять все",
	}
)

// consentActions are the labels of a consent dialog's buttons.
var consentActions = []string{
	"accept", "agree", "allow", "got it", "continue", "akzeptieren", "zustimmen", "einverstanden",
	"accepter", "j'accepte", "aceptar", "acepto", "accetta", "accetto", "принять", "согласен",
}

// consentPathHints are URL parts of dedicated consent pages (a redirect to
// consent.example.com or /consent?...).
var consentPathHints = []string{"consent", "cookiewall", "cookie-wall", "privacy-gate", "gdpr"}

// isConsentWall: a page dedicated to asking for consent, i.e. many consent
// phrases and little else, or a consent URL.
func isConsentWall(p pageSignals, final *url.URL, words int, articleText string) bool {
	if p.words >= 2*wallPageWords {
		return false
	}
	all := p.title + " " + p.text
	wall := countPhrases(all, consentWallPhrases)
	hints := wall + countPhrases(all, consentPhrases)
	if final != nil {
		host, path := strings.ToLower(final.Hostname()), strings.ToLower(final.EscapedPath())
		if strings.HasPrefix(host, "consent.") || strings.HasPrefix(host, "cmp.") || containsAny(path, consentPathHints) {
			if hints >= 1 && words < wallPageWords {
				return true
			}
		}
	}
	if wall < 2 || hints < consentMinHints || !containsAny(p.buttons, consentActions) {
		return false
	}
	// The page offers consent; it is a wall if that is all there is, or if
	// what readability took for the article is itself about consent (a
	// cookie banner beside a real article is not a wall).
	return words < emptyWords || (words < consentTextWords && consentShare(articleText) >= 0.5)
}

// consentShare is the share of paragraphs that talk about consent.
func consentShare(text string) float64 {
	var n, c int
	for para := range strings.SplitSeq(text, "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		n++
		if containsAny(para, consentPhrases) || containsAny(para, consentWallPhrases) {
			c++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(c) / float64(n)
}

// Soft 404s: error pages served with 200.
var (
	notFoundTitles = []string{
		"404", "not found", "page not found", "cannot be found", "can't be found", "could not be found",
		"couldn't be found", "no longer available", "does not exist", "doesn't exist", "page unavailable",
		"error 404", "страница не найдена", "не найдено", "ошибка 404", "seite nicht gefunden",
		"página no encontrada", "pagina no encontrada", "page introuvable", "pagina non trovata",
		"ページが見つかりません", "お探しのページ", "页面不存在", "找不到", "페이지를 찾을 수 없습니다",
	}
	notFoundTexts = []string{
		"the page you requested could not be found", "the page you are looking for", "the page you're looking for",
		"we can't find the page", "we couldn't find the page", "we could not find the page",
		"sorry, we couldn't find", "this page doesn't exist", "this page does not exist",
		"this article is no longer available", "the requested url was not found", "page not found",
		"запрашиваемая страница не найдена", "die angeforderte seite", "la page que vous recherchez",
	}
	notFoundPathHints = []string{"/404", "not-found", "notfound", "page-not-found", "error404", "/error"}
)

// isSoft404: a short page whose title or heading (or URL, after a
// redirect) says the page is not there.
func isSoft404(p pageSignals, final *url.URL, words int) bool {
	if words >= stubWords {
		return false
	}
	if containsAny(p.title, notFoundTitles) || containsAny(p.h1, notFoundTitles) || containsAny(p.text, notFoundTexts) {
		return true
	}
	if final != nil && containsAny(strings.ToLower(final.EscapedPath()), notFoundPathHints) {
		return true
	}
	return false
}

// Paywall stubs: a teaser and an offer to subscribe or log in.
var (
	paywallTexts = []string{
		"subscribe to continue reading", "subscribe to read", "subscribe to keep reading", "subscribe now to read",
		"to continue reading", "continue reading with", "keep reading with", "for subscribers only",
		"subscribers only", "subscriber-only", "subscriber only", "exclusive to subscribers",
		"this article is for subscribers", "this content is for subscribers", "already a subscriber",
		"log in to continue", "sign in to continue", "login to continue", "register to continue",
		"create a free account to continue", "you have reached your limit", "you've reached your limit",
		"you have reached the limit", "free articles remaining", "unlock this article", "unlock full access",
		"start your subscription", "become a member to read", "premium content",
		"nur für abonnenten", "jetzt weiterlesen", "mit plus weiterlesen", "réservé aux abonnés",
		"article réservé", "доступно только подписчикам", "только для подписчиков", "有料会員限定",
		"この記事は会員限定", "유료 회원", "solo para suscriptores", "riservato agli abbonati",
	}
	// Google's structured data for paywalled content.
	notFreeRe = regexp.MustCompile(`"isaccessibleforfree"\s*:\s*"?false`)
)

// isPaywallStub: a short text next to a subscription offer, or a
// near-empty page whose structured data says its content is not free. The
// structured data alone is weak evidence: metered sites mark every article
// not free, even when the whole text is served, so it only counts when
// next to nothing was found.
func isPaywallStub(p pageSignals, words int) bool {
	if words >= stubWords {
		return false
	}
	return containsAny(p.text, paywallTexts) || (words < notFreeWords && notFreeRe.Match(p.markup))
}
