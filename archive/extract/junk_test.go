package extract

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// junkCapture builds the page of a 200 capture of body at finalURL and
// extracts it, as the pipeline does.
func junkCapture(t *testing.T, body []byte, finalURL string) (Page, *Extraction) {
	t.Helper()
	return junkCaptureAsked(t, body, "", finalURL)
}

// junkCaptureAsked is junkCapture of a page asked for at asked ("" for
// finalURL).
func junkCaptureAsked(t *testing.T, body []byte, asked, finalURL string) (Page, *Extraction) {
	t.Helper()
	u, err := url.Parse(finalURL)
	if err != nil {
		t.Fatal(err)
	}
	c := Page{Body: body, FinalURL: finalURL, URL: asked}
	e, err := Extract(body, u)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return c, e
}

func TestDetectJunk(t *testing.T) {
	tests := []struct {
		file     string
		finalURL string
		want     record.Reason // "" for a real article
		asked    string        // the URL asked for, when it redirected to finalURL
	}{
		{"cloudflare-challenge.html", "https://news.example/2024/03/story", record.ReasonCaptcha, ""},
		{"robot-check.html", "https://shop.example/dp/123", record.ReasonCaptcha, ""},
		{"press-and-hold.html", "https://news.example/story", record.ReasonCaptcha, ""},
		{"unusual-traffic.html", "https://www.example.com/sorry/index", record.ReasonCaptcha, ""},
		{"consent-before-you-continue.html", "https://consent.example.com/ml?continue=https://news.example/a", record.ReasonConsentWall, ""},
		{"consent-before-you-continue.html", "https://news.example/a", record.ReasonConsentWall, ""},
		{"consent-tcf-de.html", "https://stadtanzeiger.example/lokales/artikel-1", record.ReasonConsentWall, ""},
		{"consent-partner-list.html", "https://news.example/privacy-choices?return=/a", record.ReasonConsentWall, ""},
		{"soft404-en.html", "https://ledger.example/news/missing-story", record.ReasonSoft404, ""},
		{"soft404-ru.html", "https://gorod.example/news/123", record.ReasonSoft404, ""},
		{"soft404-redirected.html", "https://gazette.example/404.html", record.ReasonSoft404, ""},
		{"paywall-stub.html", "https://post.example/harbour", record.ReasonPaywallStub, ""},
		{"paywall-jsonld.html", "https://review.example/budget", record.ReasonPaywallStub, ""},
		{"empty.html", "https://valley.example/news/1", record.ReasonEmpty, ""},

		// Consent walls in other languages, seen by their structure: a
		// wall without any marker (nl, is), CMP containers and scripts
		// (OneTrust, Didomi, Sourcepoint, Usercentrics), a role=dialog.
		{"consent-nl-wall.html", "https://noorden.example/nieuws/veerdienst", record.ReasonConsentWall, ""},
		{"consent-pl-onetrust.html", "https://portowa.example/wiadomosci/prom", record.ReasonConsentWall, ""},
		{"consent-it-didomi.html", "https://corriere-porto.example/cronaca/ponte", record.ReasonConsentWall, ""},
		{"consent-sv-sourcepoint.html", "https://hamnposten.example/nyheter/farjan", record.ReasonConsentWall, ""},
		{"consent-hu-dialog.html", "https://hirlap.example/hirek/kikoto", record.ReasonConsentWall, ""},
		{"consent-is-wall.html", "https://hafnarbladid.example/frettir/hofnin", record.ReasonConsentWall, ""},
		{"consent-el-usercentrics.html", "https://limeniki.example/eidiseis/limani", record.ReasonConsentWall, ""},

		// The article became a front or section page: redirected to the
		// root or to the listing it was in, or naming the root canonical.
		{"frontpage-root.html", "https://coastal.example/", record.ReasonGoneToFrontPage, "https://coastal.example/news/2024/05/12/harbour-bridge-closes"},
		{"frontpage-root.html", "https://www.coastal.example/index.html", record.ReasonGoneToFrontPage, "https://coastal.example/news/2024/05/12/harbour-bridge-closes"},
		{"frontpage-section.html", "https://coastal.example/news/world/", record.ReasonGoneToFrontPage, "https://coastal.example/news/world/2024/05/12/harbour-bridge-closes"},
		{"frontpage-canonical.html", "https://coastal.example/news/2024/05/12/harbour-bridge-closes", record.ReasonGoneToFrontPage, ""},
		// Not gone: the front page asked for itself, and an article that
		// moved to a short URL of its own.
		{"ok-article-cookie-law.html", "https://techdesk.example/a/8812", "", "https://techdesk.example/2024/05/12/cookie-rules"},

		// Mojibake: UTF-8 read as windows-1252, windows-1251 read as
		// windows-1252, replacement characters.
		{"mojibake-utf8-as-1252.html", "https://gazette.example/ile/pont", record.ReasonMojibake, ""},
		{"mojibake-1251-as-1252.html", "https://gorod.example/news/port", record.ReasonMojibake, ""},
		{"mojibake-replacement.html", "https://stadtanzeiger.example/hafen", record.ReasonMojibake, ""},

		// The other walls in other languages.
		{"captcha-de-text.html", "https://stadtanzeiger.example/lokales/artikel-2", record.ReasonCaptcha, ""},
		{"captcha-fr-title.html", "https://gazette.example/ile/pont", record.ReasonCaptcha, ""},
		{"captcha-lt-text.html", "https://uostas.example/naujienos/1", record.ReasonCaptcha, ""},
		{"paywall-nl.html", "https://noorden.example/nieuws/terminal", record.ReasonPaywallStub, ""},
		{"paywall-sv.html", "https://hamnposten.example/nyheter/farjan", record.ReasonPaywallStub, ""},
		{"soft404-pl.html", "https://portowa.example/wiadomosci/usuniety", record.ReasonSoft404, ""},
		{"soft404-fi.html", "https://satamalehti.example/uutiset/poistettu", record.ReasonSoft404, ""},

		{"ok-article-cookie-law.html", "https://techdesk.example/cookie-rules", "", ""},
		{"ok-article-comment-captcha.html", "https://coast.example/lighthouse", "", ""},
		{"ok-article-404-title.html", "https://pixel.example/404-pages", "", ""},
		{"ok-article-metered.html", "https://bearer.example/car-free", "", ""},
		{"ok-short-brief.html", "https://herald.example/ferries", "", ""},
		// Articles beside consent banners (CMP markup, the TCF API, a
		// dialog) or about cookies, in other languages; a brief whose
		// title a challenge page could have.
		{"ok-nl-article-cmp-banner.html", "https://noorden.example/nieuws/veerdienst", "", ""},
		{"ok-de-article-about-cookies.html", "https://stadtanzeiger.example/digital/cookie-banner", "", ""},
		{"ok-pl-article-onetrust.html", "https://portowa.example/wiadomosci/prom", "", ""},
		{"ok-fr-short-article-dialog.html", "https://gazette.example/ile/pont", "", ""},
		{"ok-es-brief-title-moment.html", "https://diariocosta.example/puerto/terminal", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file+" at "+tt.finalURL, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "junk", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, e := junkCaptureAsked(t, body, tt.asked, tt.finalURL)
			reason, blocked := DetectJunk(c, e)
			if blocked != (tt.want != "") || reason != tt.want {
				t.Errorf("DetectJunk = %q, %v; want %q (article words %d, page words %d)",
					reason, blocked, tt.want, e.WordCount, scanPage(body).words)
			}
		})
	}
}

func TestDetectJunkWithoutExtraction(t *testing.T) {
	if reason, blocked := DetectJunk(Page{}, nil); !blocked || reason != record.ReasonEmpty {
		t.Errorf("empty page: %q %v", reason, blocked)
	}
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "junk", "cloudflare-challenge.html"))
	if err != nil {
		t.Fatal(err)
	}
	c := Page{FinalURL: "https://news.example/a", Body: body}
	if reason, blocked := DetectJunk(c, nil); !blocked || reason != record.ReasonCaptcha {
		t.Errorf("challenge without extraction: %q %v", reason, blocked)
	}
}

// TestDetectJunkBenchmarkPages checks the rules against real articles: no
// page of the extraction benchmark may be called junk.
func TestDetectJunkBenchmarkPages(t *testing.T) {
	for _, p := range loadBenchmark(t) {
		c, e := junkCapture(t, p.html, p.url.String())
		if reason, blocked := DetectJunk(c, e); blocked {
			t.Errorf("%s (%s): blocked as %q, but it is an article (%d words)", p.id, p.url, reason, e.WordCount)
		}
	}
}

// TestJunkPhrasesEveryLanguage: every phrase list of the junk verdict has
// phrases in every official language of the EU and EEA, in lower case
// with the quotes normalised as the pages' text is.
func TestJunkPhrasesEveryLanguage(t *testing.T) {
	for name, byLang := range map[string]map[string][]string{
		"consent wall": consentWallByLang, "consent talk": consentTalkByLang, "accept": consentAcceptByLang,
		"reject": consentRejectByLang, "settings": consentSettingsByLang, "challenge": challengeByLang,
		"challenge title": challengeTitleByLang, "not found title": notFoundTitleByLang, "not found text": notFoundTextByLang,
		"paywall": paywallByLang,
	} {
		for _, lang := range euLanguages {
			if len(byLang[lang]) == 0 {
				t.Errorf("%s: no phrases in %s", name, lang)
			}
		}
		for lang, phrases := range byLang {
			for _, ph := range phrases {
				if ph != strings.ToLower(normalizeQuotes(ph)) || ph != strings.TrimSpace(ph) {
					t.Errorf("%s (%s): %q is not lower case, trimmed, with quotes normalised", name, lang, ph)
				}
			}
		}
	}
}

// harbourArticle is an article's worth of paragraphs (about 180 words)
// that say nothing of consent, walls or errors, in any language.
const harbourArticle = `<p>The harbour bridge, the town's only road link to the island, reopened on Tuesday morning after six months of repairs that cost more than the council had planned. Drivers queued from dawn to be among the first across.</p>
<p>Engineers replaced the corroded steel cables and resurfaced the deck. The council said the bridge should now last another forty years, provided it is inspected every spring as the new maintenance plan requires.</p>
<p>Ferry operators, who carried islanders during the closure, said they would return to their normal timetable next week. Several shop owners on the island said trade had fallen by half while the bridge was shut.</p>
<p>The mayor thanked the workers and the islanders for their patience, and said the town would now turn to the old quay, whose walls have been cracking since the storms of last winter and which fishermen say is no longer safe.</p>`

// TestJunkEveryLanguage builds, for every EU and EEA language, the pages
// of each kind from that language's phrases alone (no markup that names
// the kind) and checks the verdict, so that no language is a blind spot:
// a consent wall (its text and dialog buttons, short and long), a
// challenge, a soft 404 and a paywall stub; and an article beside that
// language's consent banner stays an article.
func TestJunkEveryLanguage(t *testing.T) {
	page := func(lang, title, body string) []byte {
		return []byte(`<!DOCTYPE html><html lang="` + lang + `"><head><meta charset="utf-8"><title>` + title +
			`</title></head><body>` + body + `</body></html>`)
	}
	for _, lang := range euLanguages {
		wall := consentWallByLang[lang]
		talk := consentTalkByLang[lang]
		accept, reject, settings := consentAcceptByLang[lang][0], consentRejectByLang[lang][0], consentSettingsByLang[lang][0]
		// A wall long enough to be taken for the article: paragraphs of
		// the language's consent talk, around plain words.
		var long strings.Builder
		for i := range 8 {
			fmt.Fprintf(&long, "<p>%s, %s: %s %s %s %s %s %s.</p>\n", wall[i%len(wall)], talk[i%len(talk)],
				"alpha", "beta", "gamma", "delta", "epsilon", "zeta")
		}
		buttons := "<div><button>" + accept + "</button><button>" + settings + "</button><button>" + reject + "</button></div>"
		cases := []struct {
			kind string
			body []byte
			want record.Reason
		}{
			{"short consent wall", page(lang, "News", "<div><p>"+wall[0]+". "+wall[1]+".</p>"+buttons+"</div>"), record.ReasonConsentWall},
			{"long consent wall", page(lang, "News", "<div>"+long.String()+buttons+"</div>"), record.ReasonConsentWall},
			{"challenge", page(lang, "News", "<main><p>"+challengeByLang[lang][0]+"</p></main>"), record.ReasonCaptcha},
			{"soft 404", page(lang, notFoundTitleByLang[lang][0]+" - News", "<main><h1>"+notFoundTitleByLang[lang][0]+"</h1><p><a href=\"/\">News</a></p></main>"), record.ReasonSoft404},
			{"soft 404 text", page(lang, "News", "<main><p>"+notFoundTextByLang[lang][0]+".</p></main>"), record.ReasonSoft404},
			{"paywall stub", page(lang, "Harbour bridge reopens", "<main><article><h1>Harbour bridge reopens</h1><p>The harbour bridge reopened on Tuesday morning after six months of repairs.</p><p>"+paywallByLang[lang][0]+"</p></article></main>"), record.ReasonPaywallStub},
			{"article beside a banner", page(lang, "Harbour bridge reopens", `<div class="cookie-banner"><p>`+wall[0]+".</p>"+buttons+"</div><main><article><h1>Harbour bridge reopens</h1>"+harbourArticle+"</article></main>"), ""},
		}
		for _, tc := range cases {
			c, e := junkCapture(t, tc.body, "https://news.example/2024/harbour")
			if reason, _ := DetectJunk(c, e); reason != tc.want {
				t.Errorf("%s, %s: %q, want %q (article words %d)", lang, tc.kind, reason, tc.want, e.WordCount)
			}
		}
	}
}

// BenchmarkDetectJunk: the junk verdict on every benchmark page (the
// extraction done beforehand), per page.
func BenchmarkDetectJunk(b *testing.B) {
	pages := loadBenchmark(b)
	exs := make([]*Extraction, len(pages))
	for i, p := range pages {
		ex, err := Extract(p.html, p.url)
		if err != nil {
			b.Fatal(err)
		}
		exs[i] = ex
	}
	for b.Loop() {
		for i, p := range pages {
			DetectJunk(Page{Body: p.html, FinalURL: p.url.String()}, exs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(pages)), "µs/page")
}
