package extract

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/internal/textscore"
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
	maxScanDepth     = 512 // elements the scan keeps track of; deeper ones are text only
	// minWallWords is the text a consent container or dialog needs to be
	// a visible wall rather than an empty mount point.
	minWallWords = 10
	// wallShare is the share of the page's text (or of the extracted
	// article's) that the consent dialog must hold for the page to be the
	// dialog.
	wallShare = 0.6
	// minLinkedHeadings and minLinkDensity make a teaser list: a front or
	// section page is headings that link elsewhere, and mostly link text.
	minLinkedHeadings = 5
	minLinkDensity    = 0.4
	minTeaserLinks    = 20
)

// Page is a fetched page as the junk check sees it.
type Page struct {
	Body     []byte // the page as UTF-8
	FinalURL string // where it was found, after redirects; "" when unknown
	// URL is the URL asked for, before redirects; "" when unknown or the
	// same as FinalURL.
	URL string
}

// DetectJunk tells whether a fetched page is not the article, and why:
// record.ReasonMojibake (its text is garbled by a wrong decoding),
// ReasonCaptcha (a bot challenge: CAPTCHA, "Just a moment…", "Press &
// Hold"), ReasonConsentWall, ReasonGoneToFrontPage (the article now
// redirects to the site's front page or a section page), ReasonSoft404,
// ReasonPaywallStub or ReasonEmpty. The rules are general, not tied to any
// site: structure first (consent-management markup and buttons, challenge
// widgets, redirects and teaser lists, structured data), then phrases in
// every EU and EEA language (junk_phrases.go), then text length. e may be
// nil when extraction failed; an empty Page is empty.
func DetectJunk(page Page, e *Extraction) (reason record.Reason, blocked bool) {
	words := 0
	rawText, articleText, siteName := "", "", ""
	if e != nil {
		words, rawText, siteName = e.WordCount, e.Text, e.SiteName
		articleText = strings.ToLower(normalizeQuotes(rawText))
	}
	p := scanPage(page.Body)
	final, _ := url.Parse(page.FinalURL)
	asked := final
	if page.URL != "" {
		asked, _ = url.Parse(page.URL)
	}

	switch {
	case isMisdecoded(p, words, rawText):
		return record.ReasonMojibake, true
	case isChallenge(p, words):
		return record.ReasonCaptcha, true
	case isConsentWall(p, final, words, articleText):
		return record.ReasonConsentWall, true
	case isGoneToFrontPage(p, asked, final, words, siteName):
		return record.ReasonGoneToFrontPage, true
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
	title   string   // <title>, lower case
	h1      string   // first <h1>, lower case
	text    string   // visible text, lower case, quotes normalised
	visible string   // visible text as the page has it
	words   int      // words of visible text
	buttons []string // labels of buttons, submit inputs and role=button elements, lower case
	markup  []byte   // the start of the page, lower case, for script/form markers

	// The consent dialog: text inside consent-management containers
	// (cmpContainerMarkers, or an id or class naming cookies, consent or
	// the GDPR) and inside dialogs (<dialog>, role=dialog, aria-modal)
	// that hold a consent button.
	wallText  string // lower case
	wallWords int

	// Links: for teaser lists.
	links          int // <a href> elements
	linkWords      int // words of visible text inside links
	linkedHeadings int // h1-h4 holding a link
	canonical      string
}

// elem is an element the scan has open.
type elem struct {
	name                 string
	hidden, consent      bool // text not shown; a consent container
	dialog, button, link bool
	heading              bool
}

// scanPage collects the title, first heading, visible text, buttons,
// links and consent dialog of a page, in one pass of the tokenizer over
// at most scanTextLimit bytes of text.
func scanPage(body []byte) pageSignals {
	var p pageSignals
	var text, title, h1, label, consentText, dialogText strings.Builder
	var stack []elem
	var hidden, consent, dialog, inButton, inLink, inHeading int // open elements of each kind
	headingLinked := false
	consentButtonInDialog := false
	inTitle, h1Open, h1Done := false, false, false
	push := func(e elem) {
		if len(stack) >= maxScanDepth {
			return
		}
		stack = append(stack, e)
		hidden, consent, dialog = hidden+b2i(e.hidden), consent+b2i(e.consent), dialog+b2i(e.dialog)
		inButton, inLink, inHeading = inButton+b2i(e.button), inLink+b2i(e.link), inHeading+b2i(e.heading)
	}
	pop := func() {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		hidden, consent, dialog = hidden-b2i(e.hidden), consent-b2i(e.consent), dialog-b2i(e.dialog)
		inButton, inLink, inHeading = inButton-b2i(e.button), inLink-b2i(e.link), inHeading-b2i(e.heading)
		if e.button && inButton == 0 {
			l := strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(label.String())))
			if l != "" {
				p.buttons = append(p.buttons, l)
				if dialog > 0 && consentAction(l) != "" {
					consentButtonInDialog = true
				}
			}
			label.Reset()
		}
		if e.heading && inHeading == 0 {
			if headingLinked {
				p.linkedHeadings++
			}
			headingLinked = false
		}
		if e.name == "h1" && h1.Len() > 0 {
			h1Done = true
		}
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for text.Len() < scanTextLimit {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var at attrs
			if hasAttr {
				at = readAttrs(z)
			}
			switch a {
			case atom.Title:
				inTitle = tt == html.StartTagToken
			case atom.Input:
				if t := at.typ; t == "submit" || t == "button" {
					if l := strings.ToLower(textnorm.CollapseSpace(at.value)); l != "" {
						p.buttons = append(p.buttons, l)
					}
				}
			case atom.Link:
				if strings.EqualFold(at.rel, "canonical") && p.canonical == "" {
					p.canonical = at.href
				}
			case atom.A:
				if at.hasHref {
					p.links++
					if inHeading > 0 {
						headingLinked = true
					}
				}
			case atom.H1:
				h1Open = !h1Done
			}
			if isBlock(a) {
				text.WriteByte('\n')
			}
			if tt == html.SelfClosingTagToken || voidElements[a] {
				continue
			}
			e := elem{name: string(name)}
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Iframe, atom.Object:
				e.hidden = true
			case atom.Button:
				e.button = true
			case atom.Dialog:
				e.dialog = true
			case atom.A:
				e.link = at.hasHref
			case atom.H1, atom.H2, atom.H3, atom.H4:
				e.heading = true
			}
			if at.role == "button" || (a == atom.A && markerIn(at.idClass, buttonClassMarkers)) {
				e.button = true
			}
			if at.role == "dialog" || at.role == "alertdialog" || at.ariaModal {
				e.dialog = true
			}
			switch a {
			case atom.Html, atom.Body, atom.Main, atom.Article, atom.P, atom.A, atom.Button, atom.Span:
			default:
				e.consent = isConsentContainer(at.idClass)
			}
			push(e)
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Title {
				inTitle = false
			}
			if a == atom.H1 {
				h1Open = false
			}
			if isBlock(a) {
				text.WriteByte('\n')
			}
			// Close up to the nearest open element of that name, as the
			// parser would for the common cases; a stray end tag closes
			// nothing.
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].name == string(name) {
					for len(stack) > i {
						pop()
					}
					break
				}
			}
		case html.TextToken:
			t := z.Text()
			switch {
			case inTitle:
				title.Write(t)
			case hidden > 0:
			default:
				if h1Open && !h1Done {
					h1.Write(t)
				}
				if inButton > 0 && label.Len() < 200 {
					label.Write(t)
				}
				if inLink > 0 {
					p.linkWords += countWords(string(t))
				}
				switch {
				case consent > 0:
					consentText.Write(t)
					consentText.WriteByte(' ')
				case dialog > 0:
					dialogText.Write(t)
					dialogText.WriteByte(' ')
				}
				text.Write(t)
				text.WriteByte(' ')
			}
		}
	}
	for len(stack) > 0 {
		pop()
	}
	wall := consentText.String()
	if consentButtonInDialog {
		wall += " " + dialogText.String()
	}
	p.wallText = strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(wall)))
	p.wallWords = countWords(p.wallText)
	p.title = strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(title.String())))
	p.h1 = strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(h1.String())))
	p.visible = textnorm.CollapseSpace(text.String())
	p.words = countWords(p.visible)
	p.text = strings.ToLower(normalizeQuotes(p.visible))
	p.markup = bytes.ToLower(body[:min(len(body), scanMarkupLimit)])
	return p
}

// phraseLimit bounds the text the phrase lists are matched against:
// walls, stubs and error pages say what they are at their start, and
// matching some 1,500 phrases against a whole long page would cost more
// than extracting it.
const phraseLimit = 32 << 10

// phraseText is the title and the start of the visible text, for the
// phrase lists.
func (p pageSignals) phraseText() string {
	t := p.title + " " + p.text
	if len(t) <= phraseLimit {
		return t
	}
	n := phraseLimit
	for n > 0 && !utf8.RuneStart(t[n]) {
		n--
	}
	return t[:n]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// voidElements have no end tag: they are never open.
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true, atom.Img: true,
	atom.Input: true, atom.Link: true, atom.Meta: true, atom.Source: true, atom.Track: true, atom.Wbr: true,
	atom.Param: true, atom.Keygen: true,
}

// attrs are the attributes the scan reads.
type attrs struct {
	idClass   string // id and class, lower case, space separated
	role, typ string // lower case
	value     string
	rel, href string
	hasHref   bool
	ariaModal bool
}

func readAttrs(z *html.Tokenizer) attrs {
	var a attrs
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "id", "class":
			a.idClass += " " + strings.ToLower(string(v))
		case "role":
			a.role = strings.ToLower(strings.TrimSpace(string(v)))
		case "type":
			a.typ = strings.ToLower(strings.TrimSpace(string(v)))
		case "value":
			a.value = string(v)
		case "rel":
			a.rel = strings.TrimSpace(string(v))
		case "href":
			a.href, a.hasHref = string(v), true
		case "aria-modal":
			a.ariaModal = strings.EqualFold(strings.TrimSpace(string(v)), "true")
		}
		if !more {
			return a
		}
	}
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

// hasWords tells whether s contains phrase as whole words: not inside a
// longer word ("ok" is not in "book").
func hasWords(s, phrase string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], phrase)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(phrase)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		i = start + 1
		for i < len(s) && s[i]&0xC0 == 0x80 {
			i++
		}
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// isMisdecoded: the text (the article's, or the page's when there is no
// article), as the page has it, bears the marks of a wrong decoding
// (charset.LooksMisdecoded).
func isMisdecoded(p pageSignals, words int, articleText string) bool {
	if words >= emptyWords {
		return charset.LooksMisdecoded(articleText)
	}
	return charset.LooksMisdecoded(p.visible)
}

// Bot challenges (Cloudflare, Akamai, PerimeterX, DataDome, Imperva,
// DDoS-Guard, AWS WAF, hCaptcha, reCAPTCHA, Turnstile, GeeTest, Arkose,
// Friendly Captcha, Google's "unusual traffic" page, plain CAPTCHAs).
var (
	challengeTexts  = allPhrases(challengeByLang)
	challengeTitles = allPhrases(challengeTitleByLang)
	challengeMarkup = [][]byte{
		[]byte("/cdn-cgi/challenge-platform/"), []byte("cf-chl-"), []byte("cf_chl_opt"), []byte("challenges.cloudflare.com"),
		[]byte("captcha-delivery.com"), []byte("px-captcha"), []byte("_incapsula_resource"),
		[]byte("g-recaptcha"), []byte("h-captcha"), []byte("hcaptcha.com"), []byte("cf-turnstile"), []byte("geo.captcha-delivery"),
		[]byte("awswaf"), []byte("captcha.awswaf"), []byte("geetest"), []byte("arkoselabs"), []byte("funcaptcha"),
		[]byte("frc-captcha"), []byte("friendlycaptcha"), []byte("mtcaptcha"), []byte("ddos-guard"), []byte("sucuri_cloudproxy"),
		[]byte("sec-if-cpt"), []byte("bm-verify"),
	}
)

// isChallenge: a challenge page carries a challenge script or widget, or
// says what it asks in its text, or names itself in its title, and has
// next to no content of its own. Titles such as "Un momento" also head
// real briefs, so a title alone only counts on a page with next to no
// text.
func isChallenge(p pageSignals, words int) bool {
	if p.words >= wallPageWords || words >= stubWords {
		return false
	}
	for _, m := range challengeMarkup {
		if bytes.Contains(p.markup, m) && words < emptyWords*2 {
			return true
		}
	}
	if containsAny(p.phraseText(), challengeTexts) {
		return true
	}
	return containsAny(p.title, challengeTitles) && words < emptyWords
}

// Consent walls.
var (
	consentWallPhrases = allPhrases(consentWallByLang)
	consentPhrases     = allPhrases(consentTalkByLang)
	consentAccept      = allPhrases(consentAcceptByLang)
	consentReject      = allPhrases(consentRejectByLang)
	consentSettings    = allPhrases(consentSettingsByLang)
)

// cmpContainerMarkers name the containers (id or class) and scripts of the
// common consent-management platforms: IAB TCF's API, OneTrust,
// Cookiebot, Didomi, Quantcast Choice, Sourcepoint, Usercentrics,
// TrustArc, Iubenda, Consentmanager, Google Funding Choices, CookieYes,
// Complianz, Borlabs, Axeptio, CookieFirst, Termly, Osano, Klaro, Cookie
// Information, Civic, Sirdata, LiveRamp, Commanders Act, Admiral, Ketch.
var cmpContainerMarkers = []string{
	"onetrust", "optanon", "ot-sdk", "cybotcookiebot", "cookiebot", "didomi", "qc-cmp", "quantcast", "sp_message",
	"sp-message", "sp_veil", "usercentrics", "uc-banner", "truste", "trustarc", "iubenda", "cmpbox", "cmpwrapper",
	"consentmanager", "fc-consent", "fc-dialog", "cky-consent", "cookieyes", "cmplz", "borlabs", "axeptio",
	"cookiefirst", "termly", "osano", "klaro", "coi-banner", "coi-consent", "cookie-information", "ccc-notify",
	"ccc-module", "sd-cmp", "sirdata", "faktor", "privacy-center", "tc-privacy", "tc_privacy", "admiral", "ketch",
	"gdpr", "cookie-consent", "cookieconsent", "cookie-banner", "cookie-notice", "cookie-law", "cookie-bar",
	"cookienotice", "cookiebanner", "cookie_banner", "cookie_notice", "consent-banner", "consent-manager",
	"consent-modal", "consent-dialog", "consent-layer", "consent_", "cc-window", "cc-banner", "cmp-",
}

// cmpScriptMarkers are consent-management scripts and APIs in a page's
// markup: the IAB TCF and GPP APIs and the vendors' loaders.
var cmpScriptMarkers = [][]byte{
	[]byte("__tcfapi"), []byte("__cmp("), []byte("__gpp"), []byte("__uspapi"), []byte("cdn.cookielaw.org"),
	[]byte("optanon"), []byte("consent.cookiebot.com"), []byte("sdk.privacy-center.org"), []byte("didomi"),
	[]byte("quantcast.mgr.consensu.org"), []byte("cmp.quantcast.com"), []byte("cdn.privacy-mgmt.com"),
	[]byte("usercentrics"), []byte("consent.trustarc.com"), []byte("cdn.iubenda.com"), []byte("consentmanager.net"),
	[]byte("fundingchoicesmessages.google.com"), []byte("cookieyes"), []byte("consensu.org"),
}

// buttonClassMarkers make a link a button (CMPs often use <a class="btn">).
var buttonClassMarkers = []string{"btn", "button"}

// markerIn tells whether an id/class string contains any marker.
func markerIn(idClass string, markers []string) bool {
	return idClass != "" && containsAny(idClass, markers)
}

// isConsentContainer tells whether an element's id and class name a
// consent dialog or banner.
func isConsentContainer(idClass string) bool {
	if idClass == "" {
		return false
	}
	if markerIn(idClass, cmpContainerMarkers) {
		return true
	}
	// A class or id token that is about cookies or consent ("cookies",
	// "consent", "cmp"), not one that merely contains the letters.
	for _, tok := range strings.FieldsFunc(idClass, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		switch tok {
		case "cookie", "cookies", "consent", "cmp", "privacy":
			return true
		}
	}
	return false
}

// consentAction classifies a button label: "reject", "settings",
// "accept", or "" for any other button. Rejection is checked first: "do
// not accept" and "continuer sans accepter" reject.
func consentAction(label string) string {
	if len(label) > 60 {
		return ""
	}
	for _, set := range []struct {
		action  string
		phrases []string
	}{{"reject", consentReject}, {"settings", consentSettings}, {"accept", consentAccept}} {
		for _, ph := range set.phrases {
			if hasWords(label, ph) {
				return set.action
			}
		}
	}
	return ""
}

// consentButtons counts a page's buttons by consent action, and all of
// them.
func consentButtons(p pageSignals) (accept, reject, settings, all int) {
	for _, b := range p.buttons {
		switch consentAction(b) {
		case "accept":
			accept++
		case "reject":
			reject++
		case "settings":
			settings++
		}
	}
	return accept, reject, settings, len(p.buttons)
}

// consentPathHints are URL parts of dedicated consent pages (a redirect to
// consent.example.com or /consent?...).
var consentPathHints = []string{"consent", "cookiewall", "cookie-wall", "privacy-gate", "gdpr", "privacy-choices"}

// isConsentWall: a page that is a consent dialog rather than the article.
// A consent dialog is seen by what it is in any language (a consent
// container or dialog with text, a dialog's buttons: accept beside reject
// or settings) and by its phrases; it is a wall when the page has no
// article besides it: next to no article text, or an "article" that is
// the dialog's own text, or a page made mostly of the dialog. A banner
// beside an article is not a wall.
func isConsentWall(p pageSignals, final *url.URL, words int, articleText string) bool {
	if final != nil && words < wallPageWords {
		host, path := strings.ToLower(final.Hostname()), strings.ToLower(final.EscapedPath())
		if strings.HasPrefix(host, "consent.") || strings.HasPrefix(host, "cmp.") || containsAny(path, consentPathHints) {
			if containsAny(p.phraseText(), consentWallPhrases) || containsAny(p.phraseText(), consentPhrases) {
				return true
			}
		}
	}
	if words >= consentTextWords {
		return false
	}
	accept, reject, settings, buttons := consentButtons(p)
	dialogButtons := accept >= 1 && reject+settings >= 1
	wallPhrases := countPhrases(p.phraseText(), consentWallPhrases)
	hints := wallPhrases + countPhrases(p.phraseText(), consentPhrases)
	cmp := false
	for _, m := range cmpScriptMarkers {
		if bytes.Contains(p.markup, m) {
			cmp = true
			break
		}
	}
	// A consent-management script alone is on most article pages too: it
	// counts beside an accept button and some talk of consent.
	visible := p.wallWords >= minWallWords || dialogButtons || wallPhrases >= 2 || (cmp && accept >= 1 && hints >= 1)
	if !visible {
		return false
	}
	wallRatio := float64(p.wallWords) / float64(max(p.words, 1))
	switch {
	case words < emptyWords:
		return true // the dialog and nothing else
	case p.wallWords >= minWallWords && wallRatio >= wallShare:
		return true // the page is mostly the dialog
	case p.wallWords >= minWallWords && textShare(articleText, p.wallText) >= wallShare:
		return true // readability took the dialog for the article
	}
	// No container told the dialog apart: its buttons dominate the page's
	// buttons, and the "article" talks of consent.
	dominant := dialogButtons && 2*(accept+reject+settings) >= buttons
	talksConsent := consentShare(articleText) >= 0.5
	return (dominant || (wallPhrases >= 2 && hints >= consentMinHints && accept >= 1)) && talksConsent
}

// textShare is the share of a's word 4-grams (or, under four words, of a
// as a whole) found in b.
func textShare(a, b string) float64 {
	at, bt := textscore.Tokens(a), textscore.Tokens(b)
	if len(at) == 0 || len(bt) == 0 {
		return 0
	}
	g := newGramCounts(bt)
	return g.support(blockGrams(at))
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

// homeTitles are what a front page's title says besides the site's name.
var homeTitles = []string{"home", "homepage", "home page", "front page", "startseite", "accueil", "inicio", "portada",
	"página inicial", "pagina iniziale", "strona główna", "etusivu", "forside", "forsiden", "startsida",
	"úvodní stránka", "úvod", "hlavná stránka", "naslovnica", "domov", "kezdőlap", "főoldal", "pagina principală",
	"acasă", "начало", "αρχική", "avaleht", "sākumlapa", "pradžia", "pagna ewlenija", "baile", "forsíða", "главная"}

// isGoneToFrontPage: the article's URL now leads to the site's front page
// or a section page (a deleted article redirected to the root, or to the
// listing it was in). The URL decides first: a redirect on the same site
// to the root or to a path the asked path starts with ("/news/world/"
// above "/news/world/2024/05/story"; a move to a short URL of its own,
// "/a/123", is not one), and the page looks like a front page: a list of
// teasers (headings linking elsewhere, or mostly link text), a title that
// is the site's name, or no article. Without a redirect, a canonical URL
// naming the root or a listing above counts only with teasers and a
// site-name title or no article, since some sites name their root as
// every page's canonical.
func isGoneToFrontPage(p pageSignals, asked, final *url.URL, words int, siteName string) bool {
	if asked == nil || final == nil || !isArticlePath(asked.Path) {
		return false
	}
	teasers := p.linkedHeadings >= minLinkedHeadings ||
		(p.links >= minTeaserLinks && float64(p.linkWords) >= minLinkDensity*float64(p.words))
	frontTitle := titleIsSiteName(p.title, siteName)
	if sameSite(asked, final) && asked.Path != final.Path {
		// Redirected: to the root or a listing above the article.
		return isSectionOf(final.Path, asked.Path) && (teasers || frontTitle || words < stubWords)
	}
	// Not redirected, but the page names the root or a listing above it
	// as its canonical URL: weaker (some sites name the root on every
	// page), so the page must also look like one.
	if p.canonical == "" {
		return false
	}
	c, err := final.Parse(p.canonical)
	return err == nil && sameSite(asked, c) && isSectionOf(c.Path, asked.Path) && teasers && (frontTitle || words < stubWords)
}

// isArticlePath: a path that names something below the root.
func isArticlePath(path string) bool {
	return len(pathSegments(path)) >= 1
}

// isSectionOf tells whether section is the root or a listing above path:
// its segments are a proper prefix of path's ("/news/world/" above
// "/news/world/2024/05/story").
func isSectionOf(section, path string) bool {
	s, a := pathSegments(section), pathSegments(path)
	if len(s) >= len(a) {
		return false
	}
	for i := range s {
		if !strings.EqualFold(s[i], a[i]) {
			return false
		}
	}
	return true
}

// pathSegments splits a path, dropping empty segments and a final index
// page.
func pathSegments(path string) []string {
	var out []string
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	if n := len(out); n > 0 {
		switch strings.ToLower(out[n-1]) {
		case "index.html", "index.htm", "index.php", "default.aspx", "home":
			out = out[:n-1]
		}
	}
	return out
}

// sameSite compares hosts without "www." and "m.".
func sameSite(a, b *url.URL) bool {
	norm := func(h string) string {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		for _, p := range []string{"www.", "m.", "amp."} {
			h = strings.TrimPrefix(h, p)
		}
		return h
	}
	return norm(a.Hostname()) == norm(b.Hostname())
}

// titleIsSiteName: the page's title is the site's name, perhaps with a
// "Home" or the like.
func titleIsSiteName(title, siteName string) bool {
	site := strings.ToLower(textnorm.CollapseSpace(normalizeQuotes(siteName)))
	if title == "" || site == "" || !strings.Contains(title, site) {
		return false
	}
	rest := strings.Replace(title, site, "", 1)
	rest = strings.TrimFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if rest == "" {
		return true
	}
	for _, h := range homeTitles {
		if rest == h {
			return true
		}
	}
	return false
}

// Soft 404s: error pages served with 200.
var (
	notFoundTitles    = allPhrases(notFoundTitleByLang)
	notFoundTexts     = allPhrases(notFoundTextByLang)
	notFoundPathHints = []string{"/404", "not-found", "notfound", "page-not-found", "error404", "/error"}
)

// isSoft404: a short page whose title or heading (or URL, after a
// redirect) says the page is not there.
func isSoft404(p pageSignals, final *url.URL, words int) bool {
	if words >= stubWords {
		return false
	}
	if final != nil && containsAny(strings.ToLower(final.EscapedPath()), notFoundPathHints) {
		return true
	}
	return containsAny(p.title, notFoundTitles) || containsAny(p.h1, notFoundTitles) || containsAny(p.phraseText(), notFoundTexts)
}

// Paywall stubs: a teaser and an offer to subscribe or log in.
var (
	paywallTexts = allPhrases(paywallByLang)
	// Google's structured data for paywalled content.
	notFreeRe = regexp.MustCompile(`"isaccessibleforfree"\s*:\s*"?false`)
	// paywallMarkup are the containers paywall services draw their offer
	// in.
	paywallMarkup = [][]byte{[]byte(`class="paywall`), []byte(`id="paywall`), []byte(`class="regwall`),
		[]byte(`tp-modal`), []byte(`piano-paywall`), []byte(`poool-widget`), []byte(`pelcro`), []byte(`zephr`)}
)

// isPaywallStub: a near-empty page whose structured data says its content
// is not free or that draws a paywall service's offer, or a short text
// next to a subscription offer. The structured data alone is weak
// evidence: metered sites mark every article not free, even when the
// whole text is served, so it only counts when next to nothing was found.
func isPaywallStub(p pageSignals, words int) bool {
	if words >= stubWords {
		return false
	}
	if words < notFreeWords {
		if notFreeRe.Match(p.markup) {
			return true
		}
		for _, m := range paywallMarkup {
			if bytes.Contains(p.markup, m) {
				return true
			}
		}
	}
	return containsAny(p.phraseText(), paywallTexts)
}
