package archive

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// otherRun takes the lease of an article's slug as another run of this
// machine would (a live process), and returns its release.
func otherRun(t *testing.T, store storage.Store, slug string) func() {
	t.Helper()
	c, _ := storage.AsConditional(store)
	l := &record.Leaser{Store: c, Holder: record.LeaseHolder{Host: "other-host", PID: os.Getpid(), RunID: "other"}}
	lease, err := l.Acquire(context.Background(), record.ArticleLeaseKey(slug), "url:x")
	if err != nil {
		t.Fatal(err)
	}
	return func() { lease.Release(context.Background()) }
}

func pathRequests(a archivetest.WorldArticle) int {
	u, _ := url.Parse(a.URL)
	n := 0
	for _, r := range a.Host.Arrivals(false) {
		if r.Path == u.Path {
			n++
		}
	}
	return n
}

// TestLeasedArticle: an article whose lease another run holds is not
// fetched while it is held. When the other run releases it before this
// run's end, this run comes back to it and archives it; when it does not,
// within LeaseWait, the article is reported as left to the other run,
// counts as unfinished, and a re-run archives it.
func TestLeasedArticle(t *testing.T) {
	for _, released := range []bool{true, false} {
		name := map[bool]string{true: "released meanwhile", false: "held to the end"}[released]
		t.Run(name, func(t *testing.T) {
			w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 4, Digests: 1, Pages: worldPages(t, 4)})
			store := localStore(t)
			held := w.Articles[0]
			release := otherRun(t, store, record.ArticleSlug(held.Title, held.Publisher))
			if released {
				// Released once the rest of the batch is under way.
				go func() {
					for pathRequests(w.Articles[1])+pathRequests(w.Articles[2])+pathRequests(w.Articles[3]) < 3 {
						time.Sleep(5 * time.Millisecond)
					}
					release()
				}()
			}
			a := newWorldArchiver(t, w, store, Options{LeaseWait: 500 * time.Millisecond}, nil, nil)
			rep, err := a.Run(context.Background(), []string{w.Dir})
			if err != nil {
				t.Fatal(err)
			}
			if released {
				if rep.Counts[record.StatusOK] != 4 || rep.Unfinished != 0 || len(rep.Leased) != 0 || pathRequests(held) != 1 {
					t.Fatalf("ok %d, unfinished %d, leased %v, held article fetched %d times; want all 4 ok, it once",
						rep.Counts[record.StatusOK], rep.Unfinished, rep.Leased, pathRequests(held))
				}
				return
			}
			if rep.Counts[record.StatusOK] != 3 || rep.Unfinished != 1 || len(rep.Leased) != 1 || pathRequests(held) != 0 ||
				!strings.Contains(rep.Leased[0], "being archived by run other (pid") {
				t.Fatalf("ok %d, unfinished %d, leased %q, held article fetched %d times; want 3 ok, it left to the other run and not fetched",
					rep.Counts[record.StatusOK], rep.Unfinished, rep.Leased, pathRequests(held))
			}
			var sum strings.Builder
			rep.WriteSummary(&sum)
			if !strings.Contains(sum.String(), "left to another run archiving into the same store") {
				t.Errorf("summary does not say it:\n%s", sum.String())
			}
			release()
			rep, err = a.Run(context.Background(), []string{w.Dir})
			if err != nil || rep.Counts[record.StatusOK] != 4 || rep.Unchanged != 3 || pathRequests(held) != 1 {
				t.Fatalf("re-run: %v, ok %d, unchanged %d, fetched %d", err, rep.Counts[record.StatusOK], rep.Unchanged, pathRequests(held))
			}
			checkConsistent(t, store)
		})
	}
}
