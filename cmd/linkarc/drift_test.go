package main

// Drifts between the archiver and the viewer that were bugs: each part had
// its own slug rule and its own meta.json reader. These tests hold the two
// side by side, through their public behaviour, so that they cannot drift
// apart again.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer"
)

// viewerOver serves st with a viewer for the test's lifetime.
func viewerOver(t *testing.T, st storage.Store) *httptest.Server {
	t.Helper()
	v, err := viewer.New(viewer.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return srv
}

func statusOf(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func putJSON(t *testing.T, st storage.Store, key string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestOneSlugRule: a slug the archiver keeps as a digest's own is one the
// viewer serves, and one it refuses the viewer refuses too, whatever the
// store holds under it.
func TestOneSlugRule(t *testing.T) {
	slugs := []struct {
		slug string
		ok   bool
	}{
		{"oversupply-angst-drags-oil-lower-reuters", true},
		{"новости-дня-reuters", true},
		{"2030-01-01-news-digest-0001", true},
		{"untitled", true},
		{strings.Repeat("x", record.MaxSlugLen), true},
		{"Ab", false}, // the viewer's own rule used to serve it
		{"a_b", false},
		{"a.b", false},
		{"a--b", false},
		{"-a", false},
		{"20240101T080000Z", false},
		{strings.Repeat("x", record.MaxSlugLen+1), false},
	}
	st, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slugs {
		// Whatever is in the store, the viewer must judge by the rule.
		// (A slug over record.MaxSlugLen cannot even name a digest record:
		// "digests/<slug>.json" would be a path segment over 255 bytes.)
		if storage.ValidKey(record.DigestKey(s.slug)) == nil {
			putJSON(t, st, record.DigestKey(s.slug), record.DigestRecord{Slug: s.slug, FrontMatter: record.FrontMatter{Title: "T"}})
		}
		putJSON(t, st, record.ArticleKey(s.slug, record.MetaFile), record.ArticleMeta{Slug: s.slug, Status: record.StatusOK})
	}
	srv := viewerOver(t, st)
	for _, s := range slugs {
		d, err := digest.Parse("d.md", []byte("---\ntitle: Some Digest\nslug: '"+s.slug+"'\n---\n<ol><li><a href=\"https://p.example/a\">A</a></li></ol>"))
		if err != nil {
			t.Fatal(err)
		}
		archiver := d.Slug == s.slug
		digestPage := statusOf(t, srv.URL+"/digests/"+url.PathEscape(s.slug)) == http.StatusOK
		articleAPI := statusOf(t, srv.URL+"/api/articles/"+url.PathEscape(s.slug)) == http.StatusOK
		if archiver != s.ok || digestPage != s.ok || articleAPI != s.ok {
			t.Errorf("%q: archiver keeps it %v, viewer serves the digest %v and the article %v; want all %v",
				s.slug, archiver, digestPage, articleAPI, s.ok)
		}
	}
}

// refusingFetcher fails every page and counts the attempts.
type refusingFetcher struct{ calls atomic.Int32 }

func (f *refusingFetcher) Fetch(_ context.Context, u string) (*fetch.Capture, error) {
	f.calls.Add(1)
	return nil, &fetch.Error{URL: u, Reason: record.ReasonNetwork, Err: errors.New("test: no network")}
}

// noGoogle stands in for the resolver of a batch without Google links.
type noGoogle struct{}

func (noGoogle) Stream(context.Context, []string, resolver.Sink) {
	panic("no link of this batch needs the resolver")
}
func (noGoogle) Classify(_ context.Context, links []string) []resolver.Classified {
	return make([]resolver.Classified, len(links))
}
func (noGoogle) ExpectedTime(int) time.Duration { return 0 }
func (noGoogle) RateLimited() bool              { return false }
func (noGoogle) IsShortLink(string) bool        { return false }

// TestOneMetaReader: a 5 MiB meta.json is read by the viewer and by the
// archiver alike (the article is served, and not fetched again), and one
// over record.MaxRecordSize is unreadable to both: the viewer reports it
// damaged, the archiver reports it, keeps it in history and captures the
// article again.
func TestOneMetaReader(t *testing.T) {
	st, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	items := []archivetest.DigestItem{
		{Title: "Five", Publisher: "P", Link: "https://five.example/a"},
		{Title: "Nine", Publisher: "P", Link: "https://nine.example/a"},
	}
	sizes := map[string]int{"Five": 5 << 20, "Nine": 9 << 20}
	fetchedAt := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, it := range items {
		slug := record.ArticleSlug(it.Title, it.Publisher)
		putJSON(t, st, record.ArticleKey(slug, record.MetaFile), record.ArticleMeta{
			Slug: slug, Title: it.Title, Publisher: it.Publisher, URL: it.Link, Status: record.StatusOK,
			FetchedAt: fetchedAt, Excerpt: strings.Repeat("x", sizes[it.Title]),
		})
	}
	five, nine := record.ArticleSlug("Five", "P"), record.ArticleSlug("Nine", "P")

	srv := viewerOver(t, st)
	if got := statusOf(t, srv.URL+"/api/articles/"+five); got != http.StatusOK {
		t.Errorf("viewer: 5 MiB meta.json answered %d, want 200", got)
	}
	if got := statusOf(t, srv.URL+"/api/articles/"+nine); got != http.StatusInternalServerError {
		t.Errorf("viewer: 9 MiB meta.json answered %d, want 500 (damaged record)", got)
	}

	dir := t.TempDir()
	if _, err := archivetest.WriteDigest(dir, "d.md", "Sizes", fetchedAt, items); err != nil {
		t.Fatal(err)
	}
	f := &refusingFetcher{}
	a, err := archive.New(archive.Options{Store: st, Resolver: noGoogle{}, Fetcher: f})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unchanged != 1 || f.calls.Load() != 1 {
		t.Errorf("archiver: %d unchanged, %d fetched; want the 5 MiB one unchanged and the 9 MiB one fetched again", rep.Unchanged, f.calls.Load())
	}
	if len(rep.Unreadable) != 1 || !strings.Contains(rep.Unreadable[0], record.ArticleKey(nine, record.MetaFile)) ||
		!strings.Contains(rep.Unreadable[0], record.ErrUnreadable.Error()) {
		t.Errorf("archiver: report lists %q as unreadable, want the 9 MiB meta.json", rep.Unreadable)
	}
	m, err := record.ReadMeta(context.Background(), st, nine)
	if err != nil || len(m.History) != 1 {
		t.Fatalf("after the run: %+v, %v; want the damaged capture in history", m, err)
	}
	kept := record.HistoryKey(nine, m.History[0].CaptureID, record.MetaFile)
	if info, err := st.Stat(context.Background(), kept); err != nil || info.Size <= record.MaxRecordSize {
		t.Errorf("history %s: %+v, %v; want the damaged meta.json kept whole", kept, info, err)
	}
}
