package archive

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// TestConcurrentRuns is issue 10 item 6: two and three runs at once on one
// store, local and MinIO, without and with --refresh, repeated. After every
// round every meta.json, current and in history, matches its objects
// (record.Verify: raw.html's sha256, the sums of readable.html, text.txt
// and the WARC and page listed), every article has one current capture
// that is its own, no run leaves an article unfinished, and without
// --refresh each article is fetched once in all (a run that finds an
// article leased by another comes back to it at the end and counts the
// other's capture).
func TestConcurrentRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline 24 times against two stores")
	}
	stores := sharedStores(t)
	pages := worldPages(t, 8)
	for _, st := range stores {
		for _, runs := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d runs", st.name, runs), func(t *testing.T) {
				w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 3, Articles: 12, Digests: 2, Shared: 3, Pages: pages})
				numberCaptures(w)
				store := st.open(t)
				for round, refresh := range []bool{false, true, true} {
					before := pageRequests(w)
					reps := runAtOnce(t, w, store, runs, refresh)
					fetched := pageRequests(w) - before
					for i, rep := range reps {
						if rep.Unfinished != 0 || len(rep.Leased) != 0 || rep.Counts[record.StatusOK] != len(w.Articles) {
							t.Errorf("round %d run %d: %d ok, %d unfinished, leased %v, failures %+v", round, i, rep.Counts[record.StatusOK], rep.Unfinished, rep.Leased, rep.Failures)
						}
					}
					switch {
					case round == 0 && fetched != len(w.Articles):
						t.Errorf("round %d: %d pages fetched for %d articles by %d runs at once: want each once", round, fetched, len(w.Articles), runs)
					case refresh && (fetched < len(w.Articles) || fetched > runs*len(w.Articles)):
						t.Errorf("round %d (--refresh): %d pages fetched, want %d to %d", round, fetched, len(w.Articles), runs*len(w.Articles))
					}
					history := verifyStore(t, store, w)
					t.Logf("round %d (refresh %v): %d runs at once, %d pages fetched, %d captures in history, every record matches its objects", round, refresh, runs, fetched, history)
				}
			})
		}
	}
}

// sharedStore is a kind of store the tests of runs at once share: a
// directory, or a bucket of a real MinIO behind the retrying wrapper, as
// linkarc opens an s3:// store.
type sharedStore struct {
	name string
	open func(t *testing.T) storage.Store
}

// sharedStores starts a MinIO for the test (stopped when it ends) and
// returns both kinds, the directory first.
func sharedStores(t *testing.T) []sharedStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	m, err := storagetest.StartMinIO(ctx, storagetest.MinIOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return []sharedStore{
		{"local", func(t *testing.T) storage.Store { return localStore(t) }},
		{"minio", func(t *testing.T) storage.Store {
			return storage.NewRetrying(m.NewBucketStore(t), storage.RetryOptions{})
		}},
	}
}

// numberCaptures makes every page served differ from the last: its first
// paragraph starts "Capture N.", so each capture's raw.html and text are
// its own, and objects of two captures mixed under one meta.json show.
func numberCaptures(w *archivetest.World) {
	var n atomic.Int64
	for _, pub := range w.Publishers {
		pages := map[string]string{}
		for _, a := range w.Articles {
			if a.Host == pub {
				u, _ := url.Parse(a.URL)
				pages[u.Path] = string(a.Page.HTML)
			}
		}
		pub.SetHandler(func(rw http.ResponseWriter, r *http.Request) {
			page, ok := pages[r.URL.Path]
			if !ok {
				http.NotFound(rw, r)
				return
			}
			page = strings.Replace(page, "<p>", fmt.Sprintf("<p>Capture %d. ", n.Add(1)), 1)
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(rw, page)
		})
	}
}

func pageRequests(w *archivetest.World) int {
	n := 0
	for _, p := range w.Publishers {
		n += len(p.Arrivals(false))
	}
	return n
}

// runAtOnce runs n archivers over w's digests on store at the same time.
func runAtOnce(t *testing.T, w *archivetest.World, store storage.Store, n int, refresh bool) []*Report {
	t.Helper()
	archivers := make([]*Archiver, n)
	for i := range archivers {
		archivers[i] = newWorldArchiver(t, w, store, Options{Refresh: refresh, HostConcurrency: 2}, nil, nil)
	}
	reps := make([]*Report, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, a := range archivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			reps[i], errs[i] = a.Run(context.Background(), []string{w.Dir})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	return reps
}

// verifyStore checks every article with record.Verify and that each of w's
// articles has exactly one current meta.json, its own; it returns the
// number of captures in history.
func verifyStore(t *testing.T, store storage.Store, w *archivetest.World) int {
	t.Helper()
	ctx := context.Background()
	c, err := archivetest.CheckArchive(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Problems {
		t.Error(p)
	}
	byURL := map[string]int{}
	err = store.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		slug, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/"+record.MetaFile)
		if !ok || strings.Contains(slug, "/") {
			return nil
		}
		problems, err := record.Verify(ctx, store, slug)
		if err != nil {
			return err
		}
		for _, p := range problems {
			t.Error(p)
		}
		m, err := record.ReadMeta(ctx, store, slug)
		if err != nil {
			return err
		}
		byURL[m.URL]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range w.Articles {
		if byURL[a.URL] != 1 {
			t.Errorf("%s has %d current captures, want 1", a.URL, byURL[a.URL])
		}
	}
	if c.Articles != len(w.Articles) {
		t.Errorf("%d current captures, want %d", c.Articles, len(w.Articles))
	}
	return c.History
}
