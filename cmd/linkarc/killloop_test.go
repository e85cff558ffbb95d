package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Environment of TestArchiveKillLoop, for longer runs (scripts/reliability.sh
// --long sets them):
//
//	LINKARC_KILL_SEEDS  comma-separated seeds of the kill delays (default "1")
//	LINKARC_KILLS       SIGKILLs per seed before the final run (default 3)
const (
	killSeedsEnv = "LINKARC_KILL_SEEDS"
	killsEnv     = "LINKARC_KILLS"
)

// TestArchiveKillLoop kills `linkarc archive` with SIGKILL at random points
// (seeded delays, several times in a row), then lets a last run finish, and
// compares the archive with one an uninterrupted run made of the same
// digests: the same slugs (collisions included), the same objects with the
// same contents, the same digest records, and no second capture of
// anything. Values that depend on when a page was fetched (fetched_at,
// archived_at, resolved_at) and how the publisher URL was found this time
// (resolve_method: a resumed run finds it in the cache) are left out of
// the comparison.
func TestArchiveKillLoop(t *testing.T) {
	seeds := killSeeds(t)
	kills := 3
	if v := os.Getenv(killsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", killsEnv, v)
		}
		kills = n
	}
	const interval = 30 * time.Millisecond
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 4, Articles: 48, Digests: 3, Shared: 4, Pages: loadPages(t, 24)})
	addSlugCollisions(t, w)

	// The reference: one uninterrupted run, as a child process like the
	// runs that are killed, so its duration spans the same startup.
	refDir := filepath.Join(t.TempDir(), "reference")
	start := time.Now()
	cmd := linkarcProcess(nil, archiveArgs(w, refDir, interval, "--progress", "none")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	took := time.Since(start)
	ref := archiveContents(t, refDir, w.Google.NewsURL())
	refStore, err := storage.NewLocal(refDir)
	if err != nil {
		t.Fatal(err)
	}
	articles := countMeta(t, refStore)
	// What a run costs before it stores anything (start, digests, the
	// store's meta.json reads): a run over the complete reference store.
	start = time.Now()
	if out, err := linkarcProcess(nil, archiveArgs(w, refDir, interval, "--progress", "none")...).CombinedOutput(); err != nil {
		t.Fatalf("re-run of the reference: %v\n%s", err, out)
	}
	idle := time.Since(start)
	t.Logf("reference: %d objects in %v (a run with nothing to do: %v)", len(ref), took.Round(time.Millisecond), idle.Round(time.Millisecond))

	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x6c696e6b617263))
			dir := filepath.Join(t.TempDir(), "store")
			store, err := storage.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			var log []string
			for k := 0; k < kills; k++ {
				// Anywhere from the start to the end of what is left of the
				// work, so that later kills land inside a run too.
				left := 1 - float64(countMeta(t, store))/float64(articles)
				delay := time.Duration(rng.Float64() * (float64(idle) + left*float64(max(took-idle, 0))))
				cmd := linkarcProcess(nil, archiveArgs(w, dir, interval, "--progress", "none")...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				select {
				case err := <-exited:
					// It finished before its kill: fine, the next run has
					// nothing left to do, which is also worth checking.
					log = append(log, fmt.Sprintf("run %d finished before %v (%v)", k+1, delay.Round(time.Millisecond), err))
					continue
				case <-time.After(delay):
				}
				cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				log = append(log, fmt.Sprintf("killed at %v with %d articles stored", delay.Round(time.Millisecond), countMeta(t, store)))
			}
			res := runLinkarc(t, nil, "", archiveArgs(w, dir, interval, "--progress", "none")...)
			if res.code != exitOK {
				t.Fatalf("final run exit %d\n%s", res.code, res.stderr)
			}
			t.Logf("%s; final run: %s", strings.Join(log, "; "), strings.TrimSpace(strings.SplitN(summaryOf(res.stderr), "\n", 3)[1]))
			checkArchive(t, store)
			compareArchives(t, ref, archiveContents(t, dir, w.Google.NewsURL()))
		})
	}
}

func killSeeds(t *testing.T) []uint64 {
	v := os.Getenv(killSeedsEnv)
	if v == "" {
		return []uint64{1}
	}
	var seeds []uint64
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want comma-separated numbers", killSeedsEnv, v)
		}
		seeds = append(seeds, n)
	}
	return seeds
}

// addSlugCollisions adds a digest whose items give two different pages the
// same title and publisher (so one of them must take a collision slug, the
// same in every run), and a second Google link to a page already listed
// (one article, listed twice).
func addSlugCollisions(t *testing.T, w *archivetest.World) {
	t.Helper()
	pub := w.Publishers[0]
	pages := loadPages(t, 2)
	a := pub.Add("/dup/a.html", pages[0].HTML)
	b := pub.Add("/dup/b.html", pages[1].HTML)
	items := []archivetest.DigestItem{
		{Title: "Same headline", Publisher: "Same paper", Link: w.Google.NewArticle(a)},
		{Title: "Same headline", Publisher: "Same paper", Link: w.Google.NewArticle(b)},
		{Title: w.Articles[1].Title, Publisher: w.Articles[1].Publisher, Link: w.Google.NewArticle(w.Articles[1].URL)},
	}
	if _, err := archivetest.WriteDigest(w.Dir, "zz_collisions.md", "Collisions", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
}

// archiveContents lists every object of the store in dir with a digest of
// its content, leaving out the values that legitimately differ between two
// runs that archive the same pages (see TestArchiveKillLoop), among them
// the WARC records of the exchanges with Google at google (the fake's
// address): a link resolved from the cache has none, and a signature page
// differs on every fetch.
func archiveContents(t *testing.T, dir, google string) map[string]string {
	t.Helper()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := map[string]string{}
	err = s.List(ctx, "", func(info storage.Info) error {
		rc, err := s.Get(ctx, info.Key)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		var v any
		switch {
		case strings.HasPrefix(info.Key, record.LeasesPrefix):
			return nil // which run wrote what: differs by design
		case info.Key == record.URLIndexMarker:
			v = record.URLIndexState{} // when the index was built: differs by design
		case strings.HasSuffix(info.Key, "/"+record.MetaFile):
			var m record.ArticleMeta
			err = json.Unmarshal(data, &m)
			m.FetchedAt, m.ResolveMethod = time.Time{}, ""
			delete(m.Sums, record.WARCFile) // record ids and dates: see below
			for i := range m.History {
				m.History[i].CaptureID, m.History[i].FetchedAt = "", time.Time{}
			}
			v = m
		case strings.HasPrefix(info.Key, record.DigestsPrefix):
			var d record.DigestRecord
			err = json.Unmarshal(data, &d)
			d.ArchivedAt, d.UpdatedAt = time.Time{}, time.Time{}
			v = d
		case strings.HasPrefix(info.Key, record.CachePrefix):
			var e map[string]any
			err = json.Unmarshal(data, &e)
			delete(e, "resolved_at")
			v = e
		case strings.HasSuffix(info.Key, "/"+record.WARCFile):
			// Record ids and dates differ from run to run: the WARC is
			// the same when it holds the same records of the same
			// payloads, in the same order.
			v, err = warcShape(data, google)
		default:
			sum := sha256.Sum256(data)
			out[info.Key] = hex.EncodeToString(sum[:])
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", info.Key, err)
		}
		norm, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out[info.Key] = string(norm)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareArchives reports every object that is missing, extra or
// different in got compared with want.
func compareArchives(t *testing.T, want, got map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+k)
		case g != v:
			diffs = append(diffs, fmt.Sprintf("differs %s:\n  want %.300s\n  got  %.300s", k, v, g))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "extra "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("the archive differs from the uninterrupted run's in %d objects (of %d):\n%s",
			len(diffs), len(want), strings.Join(diffs[:min(len(diffs), 12)], "\n"))
	}
}

// warcShape is what a capture's WARC holds, without what differs between
// two captures of the same pages (record ids, dates, addresses): each
// record's type (a revisit counted as the response it stands for), target
// URI and payload digest; records of exchanges with Google (target URIs
// under google) are left out.
func warcShape(data []byte, google string) ([]string, error) {
	rd := warc.NewReader(bytes.NewReader(data), warc.ReaderOptions{})
	var out []string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(rec.TargetURI(), google) {
			continue
		}
		typ := rec.Type
		if typ == "revisit" {
			// Which capture fetched a shared payload (robots.txt) and
			// which refers to it depends on the order the run took.
			typ = "response"
		}
		out = append(out, typ+" "+rec.TargetURI()+" "+rec.Header.Get("WARC-Payload-Digest"))
	}
}
