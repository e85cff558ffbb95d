package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Helpers shared by the fault tests (outage, signals, kill loop,
// misbehaving publishers and Google).

// startLinkarc runs linkarc in-process on a goroutine; the result arrives
// on the channel.
func startLinkarc(t testing.TB, env []string, args ...string) <-chan result {
	done := make(chan result, 1)
	go func() { done <- runLinkarc(t, env, "", args...) }()
	return done
}

// await returns the result of a run started with startLinkarc, failing the
// test if it takes longer than limit (a hang guard, not a measurement).
func await(t testing.TB, done <-chan result, limit time.Duration, what string) result {
	t.Helper()
	select {
	case res := <-done:
		return res
	case <-time.After(limit):
		t.Fatalf("%s: still running after %v", what, limit)
		return result{}
	}
}

// waitUntil polls cond until it holds, failing the test after limit.
func waitUntil(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pageRequests counts the page requests (robots.txt excluded) all
// publishers of w have served.
func pageRequests(w *archivetest.World) int {
	n := 0
	for _, p := range w.Publishers {
		n += len(p.Arrivals(false))
	}
	return n
}

// checkArchive asserts that every meta.json in s describes the objects
// beside it and returns what it counted.
func checkArchive(t testing.TB, s storage.Store) archivetest.Consistency {
	t.Helper()
	c, err := archivetest.CheckArchive(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Problems {
		t.Errorf("half-written capture visible: %s", p)
	}
	return c
}

// checkAllOnce asserts that every article of w is in s exactly once: ok,
// with its publisher URL, and no second capture in history.
func checkAllOnce(t testing.TB, s storage.Store, w *archivetest.World) {
	t.Helper()
	c := checkArchive(t, s)
	if c.Articles != len(w.Articles) || c.History != 0 {
		t.Errorf("store holds %d articles and %d earlier captures, want %d and 0", c.Articles, c.History, len(w.Articles))
	}
	for _, a := range w.Articles {
		m := readMeta(t, s, record.ArticleSlug(a.Title, a.Publisher))
		if m.Status != record.StatusOK || m.URL != a.URL || len(m.History) != 0 {
			t.Errorf("%s: status %q (%s) url %q history %d; want ok, %q, one capture", m.Slug, m.Status, m.Error, m.URL, len(m.History), a.URL)
		}
	}
}

// readReport reads a --report file.
func readReport(t testing.TB, path string) *archive.Report {
	t.Helper()
	rep := &archive.Report{}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, rep); err != nil {
		t.Fatalf("report %s: %v", path, err)
	}
	return rep
}

// openS3 opens an s3:// store on the test MinIO.
func openS3(t testing.TB, spec string) storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), spec, minioServer.S3Config())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// contains fails the test unless every want is in s.
func contains(t testing.TB, s, what string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, s)
		}
	}
}

// summaryOf is the summary at the end of linkarc archive's stderr.
func summaryOf(stderr string) string {
	if i := strings.LastIndex(stderr, "\nlinkarc: "); i >= 0 {
		return stderr[i:]
	}
	return stderr
}

// runWithin starts cmd (stderr captured), waits at most limit for it to
// exit, and fails the test, killing it, when it runs longer: a run that
// hangs is the failure these tests exist to catch. It returns stderr and
// how long the run took.
func runWithin(t *testing.T, cmd *exec.Cmd, limit time.Duration) (*bytes.Buffer, time.Duration) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("linkarc still running after %v:\n%s", limit, stderr.String())
	}
	return &stderr, time.Since(start)
}
