package archive

import (
	"context"
	"fmt"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage/record"
)

// TestOneArticlePerURL: an article's identity is its canonical publisher
// URL (weburl.Canonical), not the slug its title gives. Digests naming one
// page under different titles, with tracking parameters or a fragment,
// within one run or across runs, get one article: it is fetched once,
// stored once, and every digest record lists its one slug. Spellings
// Canonical keeps apart (another path, a trailing slash) stay two articles.
func TestOneArticlePerURL(t *testing.T) {
	sw := newSlugWorld(t, "/birds.html", "/birds.html/")
	first := slugItem{"Rare birds return to the marsh", "Paper", "/birds.html"}
	tests := []struct {
		name     string
		runs     [][]slugItem // one run per entry; each item is one digest
		articles int          // distinct articles stored at the end
	}{
		{"other title, same run", [][]slugItem{{first, {"Birds", "Paper", "/birds.html"}}}, 1},
		{"other title, second run", [][]slugItem{{first}, {{"Birds", "Paper", "/birds.html"}}}, 1},
		{"other title and publisher, second run", [][]slugItem{{first}, {{"Birds", "Other Paper", "/birds.html"}}}, 1},
		{"tracking parameters, same run", [][]slugItem{{first, {"Birds", "Paper", "/birds.html?utm_source=news&utm_medium=email"}}}, 1},
		{"tracking parameters, second run", [][]slugItem{{first}, {{"Birds", "Paper", "/birds.html?utm_source=news"}}}, 1},
		{"fragment, second run", [][]slugItem{{first}, {{"Birds", "Paper", "/birds.html#comments"}}}, 1},
		{"three titles over three runs", [][]slugItem{{first}, {{"Birds", "Paper", "/birds.html"}}, {{"Marsh birds", "Paper", "/birds.html#top"}}}, 1},
		{"trailing slash is another page", [][]slugItem{{first}, {{"Birds", "Paper", "/birds.html/"}}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := localStore(t)
			dir := t.TempDir()
			var paths []string
			for i, items := range tt.runs {
				var roots []string
				for j, it := range items {
					p := writeSlugDigest(t, dir, fmt.Sprintf("run%d/d%d.md", i, j), "", "2026-01-04", sw.pub, []slugItem{it})
					roots = append(roots, p)
				}
				before := sw.pub.Requests()
				rep := sw.run(t, store, roots...)
				if rep.Counts[record.StatusOK] < 1 {
					t.Fatalf("run %d: %+v", i, rep.Counts)
				}
				if i > 0 && tt.articles == 1 && sw.pub.Requests() != before {
					t.Errorf("run %d: %d requests to the publisher; the page was archived already", i, sw.pub.Requests()-before)
				}
				paths = append(paths, roots...)
			}
			urls := storedURLs(t, store)
			if len(urls) != tt.articles {
				t.Fatalf("stored %d articles, want %d: %v", len(urls), tt.articles, urls)
			}
			slugs := map[string]bool{}
			for _, p := range paths {
				rec := readDigest(t, store, digestKeysOf(t, store, p))
				slug := rec.Articles[0].Slug
				if _, ok := urls[slug]; !ok {
					t.Errorf("digest %s lists %s, which is not stored (%v)", p, slug, urls)
				}
				slugs[slug] = true
			}
			if len(slugs) != tt.articles {
				t.Errorf("digests list %d slugs, want %d", len(slugs), tt.articles)
			}
			if tt.articles == 1 {
				for slug := range urls {
					m, err := record.ReadMeta(t.Context(), store, slug)
					if err != nil {
						t.Fatal(err)
					}
					if len(m.Digests) != len(paths) {
						t.Errorf("meta.json lists digests %v, want %d", m.Digests, len(paths))
					}
				}
			}
			checkConsistent(t, store)
		})
	}
}

// TestOneArticlePerURLOldStore: a store written before the URL index
// existed (no index entries, no marker) is indexed by the first run that
// finds it so, and a digest naming an archived page under another title
// points at the article stored.
func TestOneArticlePerURLOldStore(t *testing.T) {
	sw := newSlugWorld(t, "/birds.html")
	store := localStore(t)
	dir := t.TempDir()
	p1 := writeSlugDigest(t, dir, "run0/d.md", "", "2026-01-04", sw.pub, []slugItem{{"Rare birds", "Paper", "/birds.html"}})
	sw.run(t, store, p1)
	// What an earlier version left: no index.
	var index []string
	if err := store.List(t.Context(), "index/", func(info storage.Info) error { index = append(index, info.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(index) != 2 {
		t.Fatalf("index holds %v, want one entry and the marker", index)
	}
	for _, k := range index {
		if err := store.Delete(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	before := sw.pub.Requests()
	p2 := writeSlugDigest(t, dir, "run1/d.md", "", "2026-01-05", sw.pub, []slugItem{{"Birds", "Paper", "/birds.html?utm_campaign=x"}})
	rep := sw.run(t, store, p2)
	if rep.Unchanged != 1 || sw.pub.Requests() != before {
		t.Errorf("second run: %d unchanged, %d requests", rep.Unchanged, sw.pub.Requests()-before)
	}
	if urls := storedURLs(t, store); len(urls) != 1 {
		t.Fatalf("stored %v", urls)
	}
	if got := readDigest(t, store, digestKeysOf(t, store, p2)).Articles[0].Slug; got != "rare-birds-paper" {
		t.Errorf("second digest lists %s", got)
	}
	if built, err := record.URLIndexBuilt(t.Context(), store); !built || err != nil {
		t.Errorf("marker not written: %v %v", built, err)
	}
}

// TestOneArticlePerURLRunsAtOnce: two runs at once, each from a digest
// that gives one page its own title, store it once and list it under one
// slug: the run that loses the URL index claim waits for the other's
// capture. Repeated, as which run wins varies.
func TestOneArticlePerURLRunsAtOnce(t *testing.T) {
	sw := newSlugWorld(t, "/birds.html")
	for try := range 5 {
		store := localStore(t)
		dir := t.TempDir()
		pa := writeSlugDigest(t, dir, "x/d.md", "", "2026-01-04", sw.pub, []slugItem{{"Rare birds", "Paper", "/birds.html"}})
		pb := writeSlugDigest(t, dir, "y/d.md", "", "2026-01-04", sw.pub, []slugItem{{"Birds", "Paper", "/birds.html#top"}})
		before := sw.pub.Requests()
		var wg sync.WaitGroup
		for _, root := range []string{pa, pb} {
			a := newWorldArchiver(t, sw.w, store, Options{}, nil, nil)
			wg.Go(func() {
				rep, err := a.Run(context.Background(), []string{root})
				if err != nil {
					t.Error(err)
				} else if rep.Counts[record.StatusOK] != 1 || rep.Unfinished != 0 {
					t.Errorf("try %d: %+v, unfinished %d", try, rep.Counts, rep.Unfinished)
				}
			})
		}
		wg.Wait()
		urls := storedURLs(t, store)
		if len(urls) != 1 {
			t.Fatalf("try %d: stored %v", try, urls)
		}
		// robots.txt may be asked by each run; the page once.
		if n := sw.pub.Requests() - before; n > 3 {
			t.Errorf("try %d: %d requests to the publisher", try, n)
		}
		sa := readDigest(t, store, digestKeysOf(t, store, pa)).Articles[0].Slug
		sb := readDigest(t, store, digestKeysOf(t, store, pb)).Articles[0].Slug
		if _, ok := urls[sa]; !ok || sa != sb {
			t.Errorf("try %d: digests list %s and %s; stored %v", try, sa, sb, urls)
		}
		checkConsistent(t, store)
	}
}

// TestOneArticlePerURLGoogleLinks: a Google News link that resolves to a
// page archived from a publisher link under another title, or the other
// way round, in a later run, is that article: no second fetch, one slug in
// both digest records.
func TestOneArticlePerURLGoogleLinks(t *testing.T) {
	sw := newSlugWorld(t, "/birds.html")
	page := "http://" + sw.pub.Host + "/birds.html"
	google := sw.w.Google.NewArticle(page + "?utm_source=gnews")
	direct := archivetest.DigestItem{Title: "Rare birds return to the marsh", Publisher: "Paper", Link: page}
	viaGoogle := archivetest.DigestItem{Title: "Birds", Publisher: "Paper", Link: google}
	for _, tt := range []struct {
		name string
		runs []archivetest.DigestItem
	}{
		{"publisher link, then Google link", []archivetest.DigestItem{direct, viaGoogle}},
		{"Google link, then publisher link", []archivetest.DigestItem{viaGoogle, direct}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := localStore(t)
			dir := t.TempDir()
			var paths []string
			for i, it := range tt.runs {
				path, err := archivetest.WriteDigest(dir, fmt.Sprintf("run%d/d.md", i), "Run", time.Date(2026, 1, 4+i, 0, 0, 0, 0, time.UTC), []archivetest.DigestItem{it})
				if err != nil {
					t.Fatal(err)
				}
				before := sw.pub.Requests()
				rep := sw.run(t, store, path)
				if rep.Counts[record.StatusOK] != 1 {
					t.Fatalf("run %d: %+v", i, rep.Counts)
				}
				if i > 0 && sw.pub.Requests() != before {
					t.Errorf("run %d: %d requests to the publisher", i, sw.pub.Requests()-before)
				}
				paths = append(paths, path)
			}
			urls := storedURLs(t, store)
			if len(urls) != 1 {
				t.Fatalf("stored %v", urls)
			}
			for _, p := range paths {
				if slug := readDigest(t, store, digestKeysOf(t, store, p)).Articles[0].Slug; urls[slug] == "" {
					t.Errorf("digest %s lists %s; stored %v", p, slug, urls)
				}
			}
		})
	}
}
