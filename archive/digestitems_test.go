package archive

import (
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// TestDigestItemsKeepTheirOwnLinks: two digests of one run link one page,
// one with a tracking parameter and one without. They share one article,
// but each digest record keeps the URL its own item listed (never the
// other's tracking parameters), and a publisher link is recorded as the
// item's link, not as a Google News link.
func TestDigestItemsKeepTheirOwnLinks(t *testing.T) {
	sw := newSlugWorld(t, "/bridge.html")
	store := localStore(t)
	dir := t.TempDir()
	base := "http://" + sw.pub.Host
	a := writeSlugDigest(t, dir, "run0/a.md", "", "2026-01-04", sw.pub, []slugItem{{"Bridge reopens", "Paper", "/bridge.html?utm_source=x"}})
	b := writeSlugDigest(t, dir, "run0/b.md", "", "2026-01-04", sw.pub, []slugItem{{"Bridge reopens", "Paper", "/bridge.html"}})
	rep := sw.run(t, store, a, b)
	if rep.Counts[record.StatusOK] != 1 {
		t.Fatalf("counts %+v, want one article", rep.Counts)
	}
	for _, tt := range []struct{ path, want string }{
		{a, base + "/bridge.html?utm_source=x"},
		{b, base + "/bridge.html"},
	} {
		rec := readDigest(t, store, digestKeysOf(t, store, tt.path))
		it := rec.Articles[0]
		if it.URL != tt.want {
			t.Errorf("%s: url %q, want %q", tt.path, it.URL, tt.want)
		}
		if it.GoogleNewsURL != "" {
			t.Errorf("%s: google_news_url %q for a publisher link", tt.path, it.GoogleNewsURL)
		}
		if link, google := it.Listed(); link != tt.want || google || it.Link != tt.want {
			t.Errorf("%s: link %q, listed (%q, google %v), want %q", tt.path, it.Link, link, google, tt.want)
		}
		if strings.Contains(it.URL, "utm") != strings.Contains(tt.want, "utm") {
			t.Errorf("%s: another item's tracking parameters: %q", tt.path, it.URL)
		}
	}
}
