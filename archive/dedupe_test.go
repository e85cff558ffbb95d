package archive

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/dedupe"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// forgetURLIndex makes st what a version before the URL index left:
// articles, and no entry naming them (the marker stays, so the next run
// does not index them again and archives a page listed under another
// title a second time, as those versions did).
func forgetURLIndex(t *testing.T, st storage.Store) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if err := st.List(ctx, record.URLIndexPrefix, func(info storage.Info) error { keys = append(keys, info.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
}

// currentURLs maps each current article's slug to its URL.
func currentURLs(t *testing.T, st storage.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	err := st.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		slug, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/"+record.MetaFile)
		if !ok || strings.Contains(slug, "/") {
			return nil
		}
		m, err := record.ReadMeta(ctx, st, slug)
		if err != nil {
			return err
		}
		out[slug] = m.URL
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runDedupe(t *testing.T, st storage.Store) *dedupe.Report {
	t.Helper()
	rep, err := dedupe.Run(context.Background(), dedupe.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// mergedStore checks a store after merges: consistent (every meta.json,
// current or in history, merged articles' own included, describes its
// objects), one current article per canonical URL, named by the URL
// index, every digest item naming a current article, and every alias
// ending at one. It returns the articles by canonical URL.
func mergedStore(t *testing.T, st storage.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	checkConsistent(t, st)
	byURL := map[string]string{}
	for slug, u := range currentURLs(t, st) {
		c := weburl.Canonical(u)
		if other, dup := byURL[c]; dup {
			t.Errorf("%s and %s both hold %s", other, slug, c)
		}
		byURL[c] = slug
		if got, err := record.ReadURLIndex(ctx, st, c); err != nil || got != slug {
			t.Errorf("URL index names %q for %s, held by %s (%v)", got, c, slug, err)
		}
	}
	err := st.List(ctx, record.DigestsPrefix, func(info storage.Info) error {
		s, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.DigestsPrefix), ".json")
		if !ok || strings.Contains(s, "/") {
			return nil
		}
		d, err := record.ReadDigestAll(ctx, st, s)
		if err != nil {
			return err
		}
		for _, e := range d.Articles {
			if e.Slug == "" {
				continue
			}
			if _, err := record.ReadMeta(ctx, st, e.Slug); err != nil {
				t.Errorf("digest %s lists %s: %v", s, e.Slug, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = record.ListAliases(ctx, st, func(slug string) error {
		if _, err := record.ReadMeta(ctx, st, slug); err == nil {
			t.Errorf("%s has an alias and a meta.json", slug)
		}
		end, _, err := record.ResolveAlias(ctx, st, slug)
		if err == nil {
			_, err = record.ReadMeta(ctx, st, end)
		}
		if err != nil {
			t.Errorf("alias %s: %v", slug, err)
		}
		problems, err := record.Verify(ctx, st, slug)
		if err != nil {
			return err
		}
		for _, p := range problems {
			t.Errorf("merged article %s: %s", slug, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return byURL
}

// TestDedupeOlderStore merges one page archived three times by runs that
// had no URL index (three digests, three titles), with the real pipeline:
// the first capture failed (the page was gone for a while), the second
// fetched the page's stylesheet and image, the third and another story
// recorded them as revisits of the second's WARC. The merge keeps the
// first slug with the newest good capture as its current one; the
// revisits still find their originals (now in a merged article's history,
// through its alias) for the resolver and a WACZ export; and later runs
// of every digest, the old titles included, archive nothing twice and
// list the kept article.
func TestDedupeOlderStore(t *testing.T) {
	w := newRevisitWorld(t)
	ctx := context.Background()
	st := w.store
	pub := w.pubs[0]
	digestAs := func(name, title string) string {
		path, err := archivetest.WriteDigest(t.TempDir(), name+".md", title, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			[]archivetest.DigestItem{{Title: title, Publisher: "Publisher", Link: w.url["a"]}})
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	archiveDigest := func(path string, refresh bool) *Report {
		t.Helper()
		rep, err := w.archiver(t, st, &sendTimes{}, CaptureOptions{}, refresh).Run(ctx, []string{path})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// The page is gone at first: a failed capture under the first title.
	pub.mu.Lock()
	page := pub.files["/story/a.html"]
	delete(pub.files, "/story/a.html")
	pub.mu.Unlock()
	first := digestAs("first", "Story a")
	if rep := archiveDigest(first, false); rep.Counts[record.StatusFailed] != 1 {
		t.Fatalf("first run: %v", rep.Counts)
	}
	pub.put("/story/a.html", page.ctype, page.body)
	forgetURLIndex(t, st)
	second := digestAs("second", "Story a, again")
	if rep := archiveDigest(second, false); rep.Counts[record.StatusOK] != 1 {
		t.Fatalf("second run: %v %+v", rep.Counts, rep.Failures)
	}
	forgetURLIndex(t, st)
	third := digestAs("third", "Marsh story a")
	if rep := archiveDigest(third, false); rep.Counts[record.StatusOK] != 1 {
		t.Fatalf("third run: %v", rep.Counts)
	}
	w.run(t, "b", false, CaptureOptions{})
	if urls := currentURLs(t, st); len(urls) != 4 {
		t.Fatalf("an older store should hold story a three times, and b: %v", urls)
	}
	revisits := revisitsOf(t, st, record.ArticleKey(w.meta(t, "b").Slug, record.WARCFile))
	if len(revisits) != 2 {
		t.Fatalf("story b records %d revisits, want the stylesheet and the image", len(revisits))
	}

	rep := runDedupe(t, st)
	if rep.Merged != 2 || len(rep.Merges) != 1 || rep.Skipped != 0 {
		t.Fatalf("dedupe: %+v", rep)
	}
	m := rep.Merges[0]
	if m.Keeper.Slug != "story-a-publisher" || m.Promoted != "marsh-story-a-publisher" {
		t.Errorf("kept %s with %s's capture; want story-a-publisher with the newest good one, marsh-story-a-publisher's", m.Keeper.Slug, m.Promoted)
	}
	byURL := mergedStore(t, st)
	if len(byURL) != 2 {
		t.Fatalf("articles after the merge: %v", byURL)
	}
	keeper, err := record.ReadMeta(ctx, st, "story-a-publisher")
	if err != nil {
		t.Fatal(err)
	}
	if keeper.Status != record.StatusOK || len(keeper.History) != 2 || len(keeper.Digests) != 3 {
		t.Errorf("the kept article: %s, history %+v, digests %v", keeper.Status, keeper.History, keeper.Digests)
	}
	// The originals are in the second article's WARC, now in its own
	// history (and a copy in the keeper's).
	for _, rv := range revisits {
		ref, err := stored.FindOriginal(ctx, st, rv)
		if err != nil {
			t.Fatal(err)
		}
		key, err := stored.LocateOriginal(ctx, st, ref)
		if err != nil {
			t.Errorf("%s: %v", rv.URL, err)
		} else if !strings.HasPrefix(key, record.ArticleKey("story-a-again-publisher", record.HistoryDir)) {
			t.Errorf("%s's original is at %s", rv.URL, key)
		}
	}
	exportStory(t, st, w.meta(t, "b").Slug, 1)
	exportStory(t, st, "story-a-publisher", 1)

	// Every digest again, the old titles too: nothing fetched, nothing
	// archived twice, each lists the kept article.
	before := pub.hitsOf("/story/a.html")
	for _, p := range []string{first, second, third} {
		if rep := archiveDigest(p, false); rep.Counts[record.StatusOK] != 1 || rep.Unchanged != 1 {
			t.Errorf("re-run of %s: %v, %d unchanged", p, rep.Counts, rep.Unchanged)
		}
	}
	if n := pub.hitsOf("/story/a.html") - before; n != 0 {
		t.Errorf("the re-runs fetched the page %d times", n)
	}
	// And with --refresh, under an old title: captured again under the
	// kept slug.
	if rep := archiveDigest(second, true); rep.Counts[record.StatusOK] != 1 {
		t.Errorf("refresh: %v", rep.Counts)
	}
	if byURL := mergedStore(t, st); len(byURL) != 2 {
		t.Errorf("articles after the re-runs: %v", byURL)
	}
	for _, p := range []string{first, second, third} {
		if slug := readDigest(t, st, digestKeysOf(t, st, p)).Articles[0].Slug; slug != "story-a-publisher" {
			t.Errorf("digest %s lists %s", p, slug)
		}
	}
	if again, _ := record.ReadMeta(ctx, st, "story-a-publisher"); len(again.History) != 3 {
		t.Errorf("the refresh should have moved the current capture to history: %+v", again.History)
	}
	if rep := runDedupe(t, st); rep.Merged != 0 || rep.Digests != 0 {
		t.Errorf("dedupe again: %+v", rep)
	}
}

// TestDedupeWhileArchiving runs linkarc dedupe and linkarc archive on one
// store at once, a directory and MinIO, several rounds: the archive run
// lists every page under its old titles and the new ones, and captures
// them again (--refresh), while the merge moves those very articles. The
// two take turns through the articles' and the digests' leases: after
// both, every record matches its objects, each page is one article named
// by the URL index, every digest record names only articles, and every
// alias ends at one.
func TestDedupeWhileArchiving(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline and the merge at once, many times")
	}
	paths := []string{"/birds.html", "/fish.html", "/moths.html", "/newts.html"}
	rounds := map[string]int{"local": 6, "minio": 3}
	for _, sto := range sharedStores(t) {
		t.Run(sto.name, func(t *testing.T) {
			sw := newSlugWorld(t, paths...)
			for round := range rounds[sto.name] {
				st := sto.open(t)
				dir := t.TempDir()
				// Each page under two titles, by two runs without the URL
				// index; the run at the same time as the merge lists the
				// second titles, the articles the merge moves away.
				var root string
				for set, prefix := range []string{"", "The story of "} {
					var items []slugItem
					for _, p := range paths {
						items = append(items, slugItem{prefix + strings.TrimSuffix(strings.TrimPrefix(p, "/"), ".html") + " return", "Paper", p})
					}
					root = writeSlugDigest(t, dir, fmt.Sprintf("set%d/d.md", set), "", fmt.Sprintf("2026-01-0%d", set+4), sw.pub, items)
					sw.run(t, st, root)
					forgetURLIndex(t, st)
				}
				if urls := currentURLs(t, st); len(urls) != 2*len(paths) {
					t.Fatalf("round %d: the older store holds %d articles, want each page twice", round, len(urls))
				}
				var wg sync.WaitGroup
				var rep *Report
				var drep *dedupe.Report
				// The merge starts once the run has finished `after`
				// articles: a different point of the run each round.
				after := round % len(paths)
				started := &startAfter{after: after, start: make(chan struct{})}
				if after == 0 {
					close(started.start)
				}
				logs := &says{what: "linkarc dedupe"}
				wg.Go(func() {
					a := newWorldArchiver(t, sw.w, st, Options{Refresh: round%2 == 0, HostConcurrency: 2, Progress: started, Logger: slog.New(logs)}, nil, nil)
					var err error
					if rep, err = a.Run(context.Background(), []string{root}); err != nil {
						t.Error(err)
					}
				})
				wg.Go(func() {
					<-started.start
					var err error
					if drep, err = dedupe.Run(context.Background(), dedupe.Options{Store: st}); err != nil {
						t.Error(err)
					}
				})
				wg.Wait()
				if t.Failed() {
					return
				}
				if rep.Unfinished != 0 || len(rep.Leased) != 0 || rep.Counts[record.StatusOK] != len(paths) {
					t.Errorf("round %d: archive: %v, %d unfinished, leased %v", round, rep.Counts, rep.Unfinished, rep.Leased)
				}
				if drep.Skipped != 0 || drep.Merged != len(paths) {
					t.Errorf("round %d: dedupe merged %d, left %d: %+v", round, drep.Merged, drep.Skipped, drep.Merges)
				}
				if byURL := mergedStore(t, st); len(byURL) != len(paths) {
					t.Errorf("round %d: articles after: %v", round, byURL)
				}
				again := runDedupe(t, st)
				if again.Merged != 0 {
					t.Errorf("round %d: a second dedupe merged %d more", round, again.Merged)
				}
				mergedStore(t, st)
				t.Logf("round %d (refresh %v): %d merged while a run of %d articles was at article %d; the run followed %d aliases; %d digest records repointed by the merge, %d after",
					round, round%2 == 0, drep.Merged, len(paths), after, logs.n.Load(), drep.Digests, again.Digests)
			}
		})
	}
}

// startAfter is a run's Progress that closes start once the run has
// finished after links.
type startAfter struct {
	noProgress
	after int
	done  atomic.Int64
	start chan struct{}
}

func (s *startAfter) Done(Event) {
	if s.after > 0 && s.done.Add(1) == int64(s.after) {
		close(s.start)
	}
}

func (s *startAfter) Finish() {
	if s.after > 0 && s.done.Load() < int64(s.after) {
		close(s.start) // fewer links than after: start at the end
	}
}

// mergeAt is a store that runs a merge (dedupe.Run, on the store it
// wraps) once, just before the first conditional write to a key with the
// prefix at: the archiver taking a lease, at a chosen point of its run.
type mergeAt struct {
	storage.Store
	cond storage.Conditional
	at   string
	once sync.Once
	rep  *dedupe.Report
	err  error
}

func (m *mergeAt) GetVersion(ctx context.Context, key string) (io.ReadCloser, string, error) {
	return m.cond.GetVersion(ctx, key)
}

func (m *mergeAt) PutIf(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, o storage.PutOptions) (string, error) {
	if strings.HasPrefix(key, m.at) {
		m.once.Do(func() { m.rep, m.err = dedupe.Run(ctx, dedupe.Options{Store: m.Store}) })
	}
	return m.cond.PutIf(ctx, key, r, size, ifMatch, o)
}

// TestArchiveMeetsMergeMeanwhile: a merge that happens while a run is at
// an article it planned under an old slug is followed, whichever step of
// the run meets it. The run planned the article under its second title
// (the merge moves that slug away), and the merge happens just before the
// run takes the article's lease to capture it again (--refresh: it is
// captured under the kept slug instead), to add a new digest to its
// meta.json (added to the kept article's), or to write the digest record
// (which names the kept article). Afterwards the store is one article per
// page, and the run reports nothing unfinished.
func TestArchiveMeetsMergeMeanwhile(t *testing.T) {
	sw := newSlugWorld(t, "/birds.html")
	for _, tt := range []struct {
		name    string
		at      string // the lease before which the merge happens
		refresh bool
		says    string // what the run logs when it meets the merge
	}{
		{"capturing again", record.ArticleLeaseKey("birds-again-paper"), true, "archiving it there"},
		{"adding a digest", record.ArticleLeaseKey("birds-again-paper"), false, "adding the digests there"},
		{"writing the digest record", record.LeasesPrefix + "digests/", false, "listing that one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := localStore(t)
			dir := t.TempDir()
			first := writeSlugDigest(t, dir, "one/d.md", "", "2026-01-04", sw.pub, []slugItem{{"Rare birds return", "Paper", "/birds.html"}})
			sw.run(t, st, first)
			forgetURLIndex(t, st)
			second := writeSlugDigest(t, dir, "two/d.md", "", "2026-01-05", sw.pub, []slugItem{{"Birds again", "Paper", "/birds.html"}})
			sw.run(t, st, second)
			forgetURLIndex(t, st)
			// A third digest, new to the store, gives the old title again.
			third := writeSlugDigest(t, dir, "three/d.md", "", "2026-01-06", sw.pub, []slugItem{{"Birds again", "Paper", "/birds.html"}})
			ms := &mergeAt{Store: st, cond: storagetest.MustConditional(t, st), at: tt.at}
			logs := &says{what: tt.says}
			a := newWorldArchiver(t, sw.w, ms, Options{Refresh: tt.refresh, Logger: slog.New(logs)}, nil, nil)
			rep, err := a.Run(context.Background(), []string{third})
			if err != nil {
				t.Fatal(err)
			}
			if ms.err != nil || ms.rep == nil || ms.rep.Merged != 1 {
				t.Fatalf("the merge did not happen: %+v %v", ms.rep, ms.err)
			}
			if rep.Counts[record.StatusOK] != 1 || rep.Unfinished != 0 || len(rep.Leased) != 0 {
				t.Errorf("run: %v, %d unfinished, leased %v", rep.Counts, rep.Unfinished, rep.Leased)
			}
			if logs.n.Load() == 0 {
				t.Errorf("the run never said %q: it did not meet the merge", tt.says)
			}
			byURL := mergedStore(t, st)
			if len(byURL) != 1 {
				t.Fatalf("articles: %v", byURL)
			}
			keeper, err := record.ReadMeta(context.Background(), st, "rare-birds-return-paper")
			if err != nil {
				t.Fatal(err)
			}
			if len(keeper.Digests) != 3 {
				t.Errorf("the kept article lists digests %v, want all three", keeper.Digests)
			}
			for _, p := range []string{first, second, third} {
				if slug := readDigest(t, st, digestKeysOf(t, st, p)).Articles[0].Slug; slug != "rare-birds-return-paper" {
					t.Errorf("digest %s lists %s", p, slug)
				}
			}
			wantHistory := 1
			if tt.refresh {
				wantHistory = 2
			}
			if len(keeper.History) != wantHistory {
				t.Errorf("the kept article's history: %+v, want %d", keeper.History, wantHistory)
			}
		})
	}
}

// says counts the log lines containing what.
type says struct {
	what string
	n    atomic.Int64
}

func (s *says) Enabled(context.Context, slog.Level) bool { return true }
func (s *says) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *says) WithGroup(string) slog.Handler            { return s }
func (s *says) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, s.what) {
		s.n.Add(1)
	}
	return nil
}
