package viewer

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestDigestItemLinkLabels: a digest item's own link is labelled for what
// it is. A Google News link is a "Google News link"; a shortener is an
// "Original link"; a publisher link that is the item's URL gets no second
// link. Records written before record.DigestArticle.Link held every link
// in google_news_url: they read the same, decided by the link's host.
func TestDigestItemLinkLabels(t *testing.T) {
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const (
		gnews = "https://news.google.com/rss/articles/CBMiAbc?oc=5"
		short = "https://t.example/x1"
		pub   = "https://paper.example/bridge.html"
	)
	tests := []struct {
		name           string
		gn, link, url  string
		label, labeled string // the label and its link; "" when none
	}{
		{"google", gnews, "", pub, "Google News link", gnews},
		{"shortener", "", short, pub, "Original link", short},
		{"publisher", "", pub, pub, "", ""},
		{"old publisher", pub, "", pub, "", ""},
		{"old shortener", short, "", pub, "Original link", short},
		{"old google", gnews, "", pub, "Google News link", gnews},
		{"unresolved shortener", "", short, "", "Original link", short},
	}
	var items []record.DigestArticle
	for i, tt := range tests {
		items = append(items, record.DigestArticle{Slug: "item-" + string(rune('a'+i)), Title: tt.name, Publisher: "Paper",
			GoogleNewsURL: tt.gn, Link: tt.link, URL: tt.url, Status: record.StatusOK})
	}
	d := record.DigestRecord{Slug: "links", FrontMatter: record.FrontMatter{Title: "Links", Date: "2026-01-04"}, Articles: items,
		ArchivedAt: time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), Counts: map[string]int{record.StatusOK: len(items)}}
	if err := (record.Writer{Store: st}).PutDigest(ctx, d); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newTestServer(t, st, Options{}))
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/digests/links")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	page := string(body)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			li := itemHTML(t, page, tt.name)
			for _, label := range []string{"Google News link", "Original link"} {
				has := strings.Contains(li, ">"+label+"</a>")
				if has != (label == tt.label) {
					t.Errorf("%q shown: %v, want label %q:\n%s", label, has, tt.label, li)
				}
			}
			if tt.labeled != "" && !strings.Contains(li, `href="`+tt.labeled+`" rel="noopener noreferrer nofollow" target="_blank">`+tt.label+`</a>`) {
				t.Errorf("no %s to %s:\n%s", tt.label, tt.labeled, li)
			}
		})
	}
}

// itemHTML is the <li> of the digest page whose title is title.
func itemHTML(t *testing.T, page, title string) string {
	t.Helper()
	for _, li := range strings.Split(page, `<li class="item">`)[1:] {
		li, _, _ = strings.Cut(li, "</li>")
		if strings.Contains(li, ">"+title+"</") {
			return li
		}
	}
	t.Fatalf("no item %q", title)
	return ""
}
