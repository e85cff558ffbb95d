package extract

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// junkCapture builds the page of a 200 capture of body at finalURL and
// extracts it, as the pipeline does.
func junkCapture(t *testing.T, body []byte, finalURL string) (Page, *Extraction) {
	t.Helper()
	u, err := url.Parse(finalURL)
	if err != nil {
		t.Fatal(err)
	}
	c := Page{Body: body, FinalURL: finalURL}
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
	}{
		{"cloudflare-challenge.html", "https://news.example/2024/03/story", record.ReasonCaptcha},
		{"robot-check.html", "https://shop.example/dp/123", record.ReasonCaptcha},
		{"press-and-hold.html", "https://news.example/story", record.ReasonCaptcha},
		{"unusual-traffic.html", "https://www.example.com/sorry/index", record.ReasonCaptcha},
		{"consent-before-you-continue.html", "https://consent.example.com/ml?continue=https://news.example/a", record.ReasonConsentWall},
		{"consent-before-you-continue.html", "https://news.example/a", record.ReasonConsentWall},
		{"consent-tcf-de.html", "https://stadtanzeiger.example/lokales/artikel-1", record.ReasonConsentWall},
		{"consent-partner-list.html", "https://news.example/privacy-choices?return=/a", record.ReasonConsentWall},
		{"soft404-en.html", "https://ledger.example/news/missing-story", record.ReasonSoft404},
		{"soft404-ru.html", "https://gorod.example/news/123", record.ReasonSoft404},
		{"soft404-redirected.html", "https://gazette.example/404.html", record.ReasonSoft404},
		{"paywall-stub.html", "https://post.example/harbour", record.ReasonPaywallStub},
		{"paywall-jsonld.html", "https://review.example/budget", record.ReasonPaywallStub},
		{"empty.html", "https://valley.example/news/1", record.ReasonEmpty},

		{"ok-article-cookie-law.html", "https://techdesk.example/cookie-rules", ""},
		{"ok-article-comment-captcha.html", "https://coast.example/lighthouse", ""},
		{"ok-article-404-title.html", "https://pixel.example/404-pages", ""},
		{"ok-article-metered.html", "https://bearer.example/car-free", ""},
		{"ok-short-brief.html", "https://herald.example/ferries", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file+" at "+tt.finalURL, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "junk", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, e := junkCapture(t, body, tt.finalURL)
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
