package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveStoreOutage stops the real MinIO in the middle of `linkarc
// archive`. A short outage is waited out by the retries of the store; a
// lasting one stops the run promptly with the count of unfinished
// articles, leaves nothing half-written, and a re-run after MinIO returns
// finishes every article exactly once.
func TestArchiveStoreOutage(t *testing.T) {
	restart := func(t *testing.T) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := minioServer.Start(ctx); err != nil {
			t.Fatalf("restart MinIO: %v", err)
		}
	}

	t.Run("short outage is retried", func(t *testing.T) {
		w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 4, Articles: 32, Digests: 2, Pages: loadPages(t, 16)})
		spec := "s3://" + minioServer.NewBucket(t) + "/archive"
		t.Cleanup(func() { restart(t) })

		done := startLinkarc(t, minioServer.Env(), archiveArgs(w, spec, 50*time.Millisecond, "--progress", "none")...)
		waitUntil(t, time.Minute, "the run to fetch 10 pages", func() bool { return pageRequests(w) >= 10 })
		minioServer.Stop()
		time.Sleep(time.Second)
		restart(t)
		res := await(t, done, 2*time.Minute, "archive across a MinIO restart")
		if res.code != exitOK {
			t.Fatalf("exit %d, want 0: the outage should have been waited out\n%s", res.code, res.stderr)
		}
		// Which call meets the outage first (a put, or a list of an
		// article's history) is down to timing; each is retried alike.
		// The outage is told once as it starts and once as it ends;
		// each retry only at debug level.
		contains(t, res.stderr, "log", `msg="storage unavailable; retrying"`)
		contains(t, res.stderr, "log", `msg="storage recovered"`)
		if strings.Contains(res.stderr, `msg="storage retrying"`) {
			t.Errorf("every retry was logged at the default level:\n%s", res.stderr)
		}
		checkAllOnce(t, openS3(t, spec), w)
		if n := pageRequests(w); n != len(w.Articles) {
			t.Errorf("publishers served %d pages for %d articles; each should be fetched once", n, len(w.Articles))
		}
	})

	t.Run("lasting outage stops the run", func(t *testing.T) {
		const hosts, storeWorkers = 4, 8 // storeWorkers: archive.Options default
		w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: hosts, Articles: 120, Digests: 4, Pages: loadPages(t, 20)})
		spec := "s3://" + minioServer.NewBucket(t) + "/archive"
		reportPath := filepath.Join(t.TempDir(), "report.json")
		t.Cleanup(func() { restart(t) })

		store := openS3(t, spec)
		start := time.Now()
		done := startLinkarc(t, minioServer.Env(), archiveArgs(w, spec, 30*time.Millisecond,
			"--progress", "plain", "--log-level", "debug", "--store-retry", "2s", "--report", reportPath)...)
		waitUntil(t, time.Minute, "the run to store 5 articles", func() bool { return countMeta(t, store) >= 5 })
		minioServer.Stop()
		atStop := w.PublisherRequests()
		res := await(t, done, time.Minute, "archive with MinIO down")
		t.Logf("the run ended %v after it started (MinIO stopped after %d requests)%s", time.Since(start).Round(time.Millisecond), atStop, summaryOf(res.stderr))

		if res.code != exitSomeFailed {
			t.Fatalf("exit %d, want %d\n%s", res.code, exitSomeFailed, res.stderr)
		}
		rep := readReport(t, reportPath)
		if rep.Stopped == "" || rep.Unfinished == 0 || rep.Interrupted {
			t.Errorf("report: stopped %q, %d unfinished, interrupted %v; want stopped by the store with articles unfinished", rep.Stopped, rep.Unfinished, rep.Interrupted)
		}
		contains(t, res.stderr, "summary", "stopped: the store failed", textnorm.Count(rep.Unfinished, "article", "articles")+" unfinished", "re-run")
		// Every failing S3 call was logged, at debug level, and none of the
		// messages carries the credentials.
		report, _ := os.ReadFile(reportPath)
		if strings.Contains(res.stderr+string(report), minioServer.SecretKey) {
			t.Error("the S3 secret key appears in the log or the report")
		}
		// Stopped, not dragged on: after MinIO went, at most the pages in
		// flight (one per host), those held and queued by the store
		// workers, and robots.txt were requested.
		if extra := w.PublisherRequests() - atStop; extra > hosts+2*storeWorkers+hosts {
			t.Errorf("%d publisher requests after MinIO stopped; the batch should have stopped", extra)
		}

		restart(t)
		c := checkArchive(t, store)
		// A write MinIO completed while going down may have reached the
		// client as an error: the report then counts that article as
		// unfinished although it is stored, and the re-run skips it. So
		// the store may hold a few (at most one per store worker) more
		// articles than the report says ok, never fewer.
		if ok := rep.Counts[record.StatusOK]; c.Articles < ok || c.Articles > ok+storeWorkers ||
			ok+rep.Unfinished != len(w.Articles) {
			t.Errorf("%d articles stored, report: %d ok and %d unfinished, of %d", c.Articles, ok, rep.Unfinished, len(w.Articles))
		}

		before := pageRequests(w)
		res = runLinkarc(t, minioServer.Env(), "", archiveArgs(w, spec, 30*time.Millisecond, "--progress", "none")...)
		if res.code != exitOK {
			t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
		}
		checkAllOnce(t, store, w)
		if got, want := pageRequests(w)-before, len(w.Articles)-c.Articles; got != want {
			t.Errorf("re-run fetched %d pages, want the %d articles not stored", got, want)
		}
		checkNoOrphans(t, store)
	})
}

// checkNoOrphans asserts that every article directory has its meta.json:
// objects a cut-short capture left behind were overwritten by the re-run.
func checkNoOrphans(t *testing.T, s storage.Store) {
	t.Helper()
	dirs, metas := map[string]bool{}, map[string]bool{}
	err := s.List(context.Background(), record.ArticlesPrefix, func(info storage.Info) error {
		rest := strings.TrimPrefix(info.Key, record.ArticlesPrefix)
		slug, name, _ := strings.Cut(rest, "/")
		dirs[slug] = true
		if name == record.MetaFile {
			metas[slug] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for d := range dirs {
		if !metas[d] {
			t.Errorf("articles/%s/ has objects but no meta.json", d)
		}
	}
}
