package main

import (
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveGoogleRefusesLaterChunk: Google refuses (429, or a redirect to
// /sorry) in the second chunk of 50 ids. linkarc stops asking Google at
// once, still archives every article already resolved (the first chunk and
// the start of the second), stores the others as failed/rate_limited,
// exits 3, and the re-run asks Google only for the ids it never resolved.
func TestArchiveGoogleRefusesLaterChunk(t *testing.T) {
	const articles, served = 120, 70 // Google answers 70 signature pages, then refuses
	for _, tc := range []struct {
		name    string
		opts    gnewstest.Options
		recover func(*gnewstest.Server)
	}{
		{"429", gnewstest.Options{RateLimitAfter: served}, func(g *gnewstest.Server) { g.SetRateLimitAfter(0) }},
		// The /sorry budget counts from the last ResetLog, and the re-run
		// needs fewer than 70 pages.
		{"sorry", gnewstest.Options{SorryAfter: served}, func(*gnewstest.Server) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 6, Articles: articles, Digests: 3, Pages: smallPages(t, 10), Google: tc.opts})
			dir := filepath.Join(t.TempDir(), "store")
			res := runLinkarc(t, nil, "", archiveArgs(w, dir, 5*time.Millisecond, "--progress", "none")...)
			if res.code != exitRateLimited {
				t.Fatalf("exit %d, want %d (rate limited)\n%s", res.code, exitRateLimited, res.stderr)
			}
			contains(t, summaryOf(res.stderr), "summary", "rate-limited", textnorm.Count(articles-served, "link is", "links are")+" still unresolved", "Re-run")

			// Google traffic stopped at the refusal: the refused page was the
			// last signature GET, and the one POST after it carried the
			// signatures already collected.
			reqs := w.Google.Requests()
			if got := w.Google.Count(gnewstest.KindArticle); got != served+1 {
				t.Errorf("%d signature GETs, want %d (then the refusal, then nothing)", got, served+1)
			}
			gets, refused := 0, len(reqs)
			for i, r := range reqs {
				if r.Kind == gnewstest.KindArticle {
					if gets++; gets == served+1 {
						refused = i
					}
				}
			}
			for _, r := range reqs[min(refused+1, len(reqs)):] {
				if r.Kind != gnewstest.KindBatchexecute && r.Kind != gnewstest.KindSorry {
					t.Errorf("after the refusal linkarc still asked Google %s %s", r.Method, r.Path)
				}
			}

			store, err := storage.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			resolved := map[string]bool{}
			for i, a := range w.Articles {
				m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
				want, reason := record.StatusOK, record.Reason("")
				if i >= served {
					want, reason = record.StatusFailed, record.ReasonRateLimited
				} else {
					resolved[googleID(t, a.Link)] = true
				}
				if m.Status != want || m.Reason != reason {
					t.Errorf("article %d: %s %q (%s), want %s %q", i, m.Status, m.Reason, m.Error, want, reason)
				}
			}

			tc.recover(w.Google)
			w.Google.ResetLog()
			res = runLinkarc(t, nil, "", archiveArgs(w, dir, 5*time.Millisecond, "--progress", "none")...)
			if res.code != exitOK {
				t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
			}
			if got := w.Google.Count(gnewstest.KindArticle); got != articles-served {
				t.Errorf("re-run: %d signature GETs, want %d (only the ids never resolved)", got, articles-served)
			}
			for _, r := range w.Google.Requests() {
				if r.Kind == gnewstest.KindArticle && resolved[path.Base(r.Path)] {
					t.Errorf("re-run asked Google again for resolved id %s", path.Base(r.Path))
				}
				for _, id := range r.IDs {
					if resolved[id] {
						t.Errorf("re-run posted resolved id %s", id)
					}
				}
			}
			checkAllOnce(t, store, w)
		})
	}
}

// googleID is the id of a Google News article link.
func googleID(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return path.Base(u.Path)
}

// smallPages returns the n smallest benchmark pages, to keep extraction
// cheap in tests about something else.
func smallPages(t *testing.T, n int) []archivetest.Page {
	pages := loadPages(t, 0)
	slices.SortFunc(pages, func(a, b archivetest.Page) int { return len(a.HTML) - len(b.HTML) })
	return pages[:n]
}
