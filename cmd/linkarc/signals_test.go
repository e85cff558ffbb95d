package main

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
)

// TestArchiveSignals sends SIGINT and SIGTERM to a running `linkarc
// archive` while one publisher holds a request open (it accepts and never
// answers, and the read timeout is long): the process stops at once,
// abandoning what is in flight, prints the summary with the number of
// unfinished articles, exits 130, and leaves nothing half-written; a
// re-run finishes every article exactly once.
func TestArchiveSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 4, Articles: 40, Digests: 2, Pages: loadPages(t, 20)})
			stuck := w.Publishers[3]
			stuck.SetHandler(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
			dir := filepath.Join(t.TempDir(), "store")
			store, err := storage.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}

			var stderr bytes.Buffer
			cmd := linkarcProcess(nil, archiveArgs(w, dir, 80*time.Millisecond,
				"--progress", "plain", "--read-timeout", "5m", "--timeout", "10m")...)
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			waitUntil(t, time.Minute, "5 articles stored", func() bool { return countMeta(t, store) >= 5 })
			if len(stuck.Arrivals(false)) == 0 {
				t.Fatal("the stuck publisher has no request in flight; the test proves nothing")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			signaled := time.Now()
			select {
			case err := <-exited:
				t.Logf("exited %v after %v", time.Since(signaled).Round(time.Millisecond), sig)
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
					t.Fatalf("after %v: %v, want exit status %d\n%s", sig, err, exitInterrupted, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("still running 15s after %v (a request was held open for 5m)", sig)
			}

			summary := summaryOf(stderr.String())
			m := regexp.MustCompile(`interrupted: (\d+) articles? unfinished; re-run`).FindStringSubmatch(summary)
			if m == nil {
				t.Fatalf("no interrupted line in the summary:\n%s", summary)
			}
			unfinished, _ := strconv.Atoi(m[1])
			c := checkArchive(t, store)
			if c.Articles+unfinished != len(w.Articles) {
				t.Errorf("%d articles stored and %d unfinished, of %d", c.Articles, unfinished, len(w.Articles))
			}

			stuck.SetHandler(nil)
			before := pageRequests(w)
			res := runLinkarc(t, nil, "", archiveArgs(w, dir, 10*time.Millisecond)...)
			if res.code != exitOK {
				t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
			}
			checkAllOnce(t, store, w)
			if got := pageRequests(w) - before; got != unfinished {
				t.Errorf("re-run fetched %d pages, want the %d unfinished", got, unfinished)
			}
		})
	}
}
