package viewer

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestSameSlugTwoDays is issue 10 item 7 in the viewer: the archiver keeps
// day 1's and day 2's "slug: morning-news" digests as two records
// (morning-news and morning-news-2026-01-05); the home page and the API
// list both, and each digest page shows its own articles.
func TestSameSlugTwoDays(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	w := record.Writer{Store: st}
	for _, d := range []struct{ key, date, story string }{
		{"morning-news", "2026-01-04", "first-day-story"},
		{"morning-news-2026-01-05", "2026-01-05", "second-day-story"},
	} {
		rec := record.DigestRecord{Slug: d.key, Source: "day/digest.md",
			FrontMatter: record.FrontMatter{Title: "Morning news " + d.date, Date: d.date, Slug: "morning-news"},
			ArchivedAt:  time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), Counts: map[string]int{record.StatusOK: 1},
			Articles: []record.DigestArticle{{Slug: d.story, Title: d.story, Publisher: "P", Status: record.StatusOK}}}
		if err := w.PutDigest(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(newTestServer(t, st, Options{}))
	t.Cleanup(ts.Close)
	for _, c := range []handlerCase{
		{name: "home", path: "/", status: 200, contains: []string{`href="/digests/morning-news"`, `href="/digests/morning-news-2026-01-05"`}},
		{name: "api", path: "/api/digests", status: 200, contains: []string{`"slug": "morning-news"`, `"slug": "morning-news-2026-01-05"`}},
		{name: "day 1", path: "/digests/morning-news", status: 200, contains: []string{"first-day-story"}, excludes: []string{"second-day-story"}},
		{name: "day 2", path: "/digests/morning-news-2026-01-05", status: 200, contains: []string{"second-day-story"}, excludes: []string{"first-day-story"}},
	} {
		t.Run(c.name, func(t *testing.T) { runHandlerCase(t, ts.Client(), ts.URL, c) })
	}
}
