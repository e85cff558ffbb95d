package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/internal/textscore"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

const extractionPages = "../../testdata/extraction"

// archiveArgs are the flags every end-to-end run uses: the fake Google, a
// short but real politeness interval, loopback allowed.
func archiveArgs(w *archivetest.World, store string, hostInterval time.Duration, extra ...string) []string {
	args := []string{"archive",
		"--store", store,
		"--gnews-base", w.Google.NewsURL(),
		"--gnews-interval", "1ms",
		"--host-interval", hostInterval.String(),
		"--allow-private",
		"--progress", "plain",
		"--timeout", "20s",
	}
	return append(append(args, extra...), w.Dir)
}

func loadPages(t testing.TB, n int) []archivetest.Page {
	t.Helper()
	pages, err := archivetest.LoadPages(extractionPages, n)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func readMeta(t testing.TB, s storage.Store, slug string) record.ArticleMeta {
	t.Helper()
	var m record.ArticleMeta
	readJSON(t, s, record.ArticleKey(slug, record.MetaFile), &m)
	return m
}

func readJSON(t testing.TB, s storage.Store, key string, v any) {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
}

// TestArchiveEndToEnd runs `linkarc archive` over a digest folder against a
// fake Google News and four publisher hosts, storing into a real MinIO.
func TestArchiveEndToEnd(t *testing.T) {
	const interval = 150 * time.Millisecond
	w := archivetest.NewWorld(t, archivetest.WorldOptions{
		Hosts: 4, Articles: 24, Digests: 4, Shared: 3, Pages: loadPages(t, 24),
	})
	bucket := minioServer.NewBucket(t)
	env := minioServer.Env()
	reportPath := filepath.Join(t.TempDir(), "report.json")

	res := runLinkarc(t, env, "", archiveArgs(w, "s3://"+bucket+"/archive", interval, "--report", reportPath, "--log-level", "debug")...)
	if res.code != exitOK {
		t.Fatalf("archive exit %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}

	// Google was asked once per id for a signature, and every id was posted
	// once, in batches of at most 50 (smaller when the oldest signature
	// would wait longer than the batch wait: docs/resolving.md).
	if got, want := w.Google.Count(gnewstest.KindArticle), len(w.Articles); got != want {
		t.Errorf("Google signature GETs = %d, want %d", got, want)
	}
	posted := map[string]int{}
	for _, q := range w.Google.Requests() {
		if q.Kind == gnewstest.KindBatchexecute {
			if len(q.IDs) > 50 {
				t.Errorf("a POST carried %d ids", len(q.IDs))
			}
			for _, id := range q.IDs {
				posted[id]++
			}
		}
	}
	for _, a := range w.Articles {
		if n := posted[googleID(t, a.Link)]; n != 1 {
			t.Errorf("id of %s posted %d times, want once", a.Title, n)
		}
	}

	store, err := storage.Open(context.Background(), "s3://"+bucket+"/archive", minioServer.S3Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range w.Articles {
		slug := record.ArticleSlug(a.Title, a.Publisher)
		m := readMeta(t, store, slug)
		if m.Status != record.StatusOK || m.URL != a.URL || m.GoogleNewsURL != a.Link {
			t.Errorf("%s: status %q url %q link %q; want ok %q %q (error %q)", slug, m.Status, m.URL, m.GoogleNewsURL, a.URL, a.Link, m.Error)
			continue
		}
		if m.SHA256 == "" || m.HTTPStatus != 200 || m.FetchedAt.IsZero() || len(m.Digests) == 0 {
			t.Errorf("%s: meta incomplete: %+v", slug, m)
		}
		raw := string(storagetest.ReadObject(t, store, record.ArticleKey(slug, record.RawFile)))
		if raw != string(a.Page.HTML) {
			t.Errorf("%s: raw.html differs from the page served (%d vs %d bytes)", slug, len(raw), len(a.Page.HTML))
		}
		text := string(storagetest.ReadObject(t, store, record.ArticleKey(slug, record.TextFile)))
		if f1 := textscore.Compare(a.Page.Text, text).F1(); f1 < 0.5 {
			t.Errorf("%s: text.txt F1 against the ground truth = %.2f, want the article's text", slug, f1)
		}
	}

	// Shared articles are archived once and listed by both digests.
	var rec record.DigestRecord
	readJSON(t, store, record.DigestKey("digest-1-test-news"), &rec)
	if len(rec.Articles) == 0 || rec.Counts[record.StatusOK] != len(rec.Articles) {
		t.Errorf("digest record: %d articles, counts %v", len(rec.Articles), rec.Counts)
	}
	shared := rec.Articles[len(rec.Articles)-1]
	if m := readMeta(t, store, shared.Slug); len(m.Digests) != 2 {
		t.Errorf("shared article %s lists digests %v, want 2", shared.Slug, m.Digests)
	}

	// Politeness, proven from what the client did (its debug send log):
	// every request to a publisher, robots.txt included, began at least
	// the interval after the previous one to it had been written. The
	// servers confirm that each logged send is a request they served.
	sends := clientSends(t, res.stderr)
	for _, p := range w.Publishers {
		host, _, _ := net.SplitHostPort(p.Host)
		if n := len(sends[host]); n != p.Requests() || n < 2 {
			t.Errorf("publisher %s: the client logged %d sends, the server saw %d requests", p.Host, n, p.Requests())
			continue
		}
		checkClientSpacing(t, host, sends[host], interval)
	}

	// The report says what happened.
	var rep archive.Report
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Articles != len(w.Articles) || rep.Counts[record.StatusOK] != len(w.Articles) || rep.Digests != 4 {
		t.Errorf("report: %d articles, counts %v, %d digests", rep.Articles, rep.Counts, rep.Digests)
	}

	// A second run asks nobody anything.
	w.Google.ResetLog()
	before := w.PublisherRequests()
	res = runLinkarc(t, env, "", archiveArgs(w, "s3://"+bucket+"/archive", interval)...)
	if res.code != exitOK {
		t.Fatalf("second run exit %d\n%s", res.code, res.stderr)
	}
	if n := w.Google.Total(); n != 0 {
		t.Errorf("second run made %d Google requests, want 0", n)
	}
	if n := w.PublisherRequests() - before; n != 0 {
		t.Errorf("second run made %d publisher requests, want 0", n)
	}
	if !strings.Contains(res.stderr, fmt.Sprintf("%d ok (%d already archived)", len(w.Articles), len(w.Articles))) {
		t.Errorf("second run summary does not say everything was already archived:\n%s", res.stderr)
	}
}

// TestArchiveKilledAndResumed kills a run with SIGKILL half-way and checks
// that a re-run finishes with every article stored exactly once.
func TestArchiveKilledAndResumed(t *testing.T) {
	const interval = 120 * time.Millisecond
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 3, Articles: 30, Digests: 3, Pages: loadPages(t, 30)})
	dir := filepath.Join(t.TempDir(), "store")

	cmd := linkarcProcess(nil, archiveArgs(w, dir, interval, "--progress", "none")...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for countMeta(t, store) < 10 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the first run stored fewer than 10 articles in a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stored := countMeta(t, store)
	if stored >= len(w.Articles) {
		t.Fatalf("the run finished (%d articles) before it was killed; the test proves nothing", stored)
	}
	// What the first run did, article by article: whether its meta.json
	// was stored, and how often its page was requested.
	storedAtKill := map[string]bool{}
	for _, a := range w.Articles {
		_, err := store.Stat(context.Background(), record.ArticleKey(record.ArticleSlug(a.Title, a.Publisher), record.MetaFile))
		storedAtKill[a.URL] = err == nil
	}
	firstRun := pagesByURL(w)

	res := runLinkarc(t, nil, "", archiveArgs(w, dir, interval)...)
	if res.code != exitOK {
		t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
	}
	if n := countMeta(t, store); n != len(w.Articles) {
		t.Errorf("%d articles stored, want %d", n, len(w.Articles))
	}
	for _, a := range w.Articles {
		m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
		if m.Status != record.StatusOK || m.URL != a.URL || len(m.History) != 0 {
			t.Errorf("%s: status %q url %q history %d; want ok, %q, no second capture", m.Slug, m.Status, m.URL, len(m.History), a.URL)
		}
	}
	// Every page was fetched once per run at most; the re-run fetched
	// exactly the articles the first run had not stored (pages fetched
	// but not yet stored when the kill landed are legitimately fetched
	// again, however many the pipeline held), and none it had.
	all := pagesByURL(w)
	for _, a := range w.Articles {
		first, second := firstRun[a.URL], all[a.URL]-firstRun[a.URL]
		want := 1
		if storedAtKill[a.URL] {
			want = 0
		}
		if first > 1 || second != want {
			t.Errorf("%s: requested %d times by the killed run and %d by the re-run (stored at the kill: %v); want at most 1, then %d",
				a.URL, first, second, storedAtKill[a.URL], want)
		}
	}
}

// pagesByURL counts the page requests the publishers of w served, by
// article URL.
func pagesByURL(w *archivetest.World) map[string]int {
	out := map[string]int{}
	for _, p := range w.Publishers {
		for _, a := range p.Arrivals(false) {
			out["http://"+p.Host+a.Path]++
		}
	}
	return out
}

func countMeta(t testing.TB, s storage.Store) int {
	t.Helper()
	n := 0
	err := s.List(context.Background(), record.ArticlesPrefix, func(info storage.Info) error {
		if strings.HasSuffix(info.Key, "/"+record.MetaFile) && !strings.Contains(info.Key, "/"+record.HistoryDir+"/") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestArchiveRateLimitedResumes: Google refuses after some signature pages;
// the run archives what was resolved, exits 3, and the re-run asks Google
// only for the ids it did not resolve.
func TestArchiveRateLimitedResumes(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 12, Digests: 2, Pages: loadPages(t, 12)})
	w.Google.SetRateLimitAfter(5)
	dir := filepath.Join(t.TempDir(), "store")

	res := runLinkarc(t, nil, "", archiveArgs(w, dir, 10*time.Millisecond)...)
	if res.code != exitRateLimited {
		t.Fatalf("exit %d, want %d (rate limited)\n%s", res.code, exitRateLimited, res.stderr)
	}
	if !strings.Contains(res.stderr, "rate-limited") || !strings.Contains(res.stderr, "7 links are still unresolved") {
		t.Errorf("summary does not explain the rate limit:\n%s", res.stderr)
	}
	if got := w.Google.Count(gnewstest.KindArticle); got != 6 {
		t.Errorf("%d signature GETs, want 6 (5 served, then the 429 and nothing more)", got)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, a := range w.Articles {
		m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
		switch {
		case m.Status == record.StatusOK:
			ok++
		case m.Reason != "rate_limited":
			t.Errorf("%s: status %s reason %q, want ok or rate_limited", m.Slug, m.Status, m.Reason)
		}
	}
	if ok != 5 {
		t.Errorf("%d articles archived before the limit, want the 5 resolved", ok)
	}

	w.Google.SetRateLimitAfter(0)
	w.Google.ResetLog()
	res = runLinkarc(t, nil, "", archiveArgs(w, dir, 10*time.Millisecond)...)
	if res.code != exitOK {
		t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
	}
	if got := w.Google.Count(gnewstest.KindArticle); got != 7 {
		t.Errorf("re-run made %d signature GETs, want 7 (only the unresolved ids)", got)
	}
}

// TestArchiveBrokenDigestDoesNotStopBatch: a broken digest is reported with
// its path and reason; the others are archived; exit status 1.
func TestArchiveBrokenDigestDoesNotStopBatch(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 4, Digests: 2, Pages: loadPages(t, 4)})
	bad := filepath.Join(w.Dir, "broken.md")
	if err := os.WriteFile(bad, []byte("---\ntitle: [unclosed\n---\n<ol></ol>"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	res := runLinkarc(t, nil, "", archiveArgs(w, dir, 10*time.Millisecond)...)
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, bad) {
		t.Errorf("stderr does not name the broken digest %s:\n%s", bad, res.stderr)
	}
	store, _ := storage.NewLocal(dir)
	if n := countMeta(t, store); n != len(w.Articles) {
		t.Errorf("%d articles stored, want %d", n, len(w.Articles))
	}
}

func TestArchiveUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"no dir", nil, []string{"archive"}},
		{"bad flag", nil, []string{"archive", "--nope", "x"}},
		{"bad env duration", []string{"LINKARC_HOST_INTERVAL=soon"}, []string{"archive", "x"}},
		{"bad progress", nil, []string{"archive", "--progress", "loud", "x"}},
		{"s3 without endpoint", nil, []string{"archive", "--store", "s3://bucket", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runLinkarc(t, tc.env, "", tc.args...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			if res.stderr == "" {
				t.Error("no message on stderr")
			}
		})
	}
}

// TestArchiveRecaptures: blocked captures are retried by a plain re-run,
// --refresh captures every article again and keeps the earlier capture in
// history, and a good capture is never replaced by a wall: the wall goes to
// history and the good capture stays current.
func TestArchiveRecaptures(t *testing.T) {
	pages := loadPages(t, 3)
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 3, Digests: 1, Pages: pages})
	wall, err := os.ReadFile("../../testdata/junk/cloudflare-challenge.html")
	if err != nil {
		t.Fatal(err)
	}
	changed, walled, fixed := w.Articles[0], w.Articles[1], w.Articles[2]
	serve := func(a archivetest.WorldArticle, html []byte) {
		u, _ := url.Parse(a.URL)
		a.Host.Add(u.Path, html)
	}
	dir := filepath.Join(t.TempDir(), "store")
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	meta := func(a archivetest.WorldArticle) record.ArticleMeta {
		return readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
	}
	archiveRun := func(wantCode int, extra ...string) {
		t.Helper()
		res := runLinkarc(t, nil, "", archiveArgs(w, dir, 10*time.Millisecond, extra...)...)
		if res.code != wantCode {
			t.Fatalf("exit %d, want %d\n%s", res.code, wantCode, res.stderr)
		}
	}

	// Run 1: one article is behind a bot wall.
	serve(fixed, wall)
	archiveRun(exitSomeFailed)
	if m := meta(fixed); m.Status != record.StatusBlocked || m.Reason != "captcha" {
		t.Fatalf("walled page stored as %s/%s, want blocked/captcha", m.Status, m.Reason)
	}
	firstOK := meta(changed)

	// Run 2, no --refresh: only the blocked article is asked for again.
	serve(fixed, fixed.Page.HTML)
	pagesServed := func() int {
		n := 0
		for _, p := range w.Publishers {
			n += len(p.Arrivals(false))
		}
		return n
	}
	before := pagesServed()
	archiveRun(exitOK)
	if n := pagesServed() - before; n != 1 {
		t.Errorf("re-run asked for %d pages, want 1 (the blocked article only)", n)
	}
	if m := meta(fixed); m.Status != record.StatusOK || len(m.History) != 1 || m.History[0].Status != record.StatusBlocked {
		t.Errorf("retried article: status %s, history %+v; want ok with the blocked capture in history", m.Status, m.History)
	}

	// Run 3, --refresh: one page changed, one turned into a wall.
	serve(changed, pages[(0+1)%len(pages)].HTML)
	serve(walled, wall)
	archiveRun(exitSomeFailed, "--refresh")

	m := meta(changed)
	if m.SHA256 == firstOK.SHA256 || len(m.History) != 1 || m.History[0].SHA256 != firstOK.SHA256 {
		t.Errorf("refreshed article: sha %s (was %s), history %+v; want the new capture current and the old one in history", m.SHA256, firstOK.SHA256, m.History)
	} else {
		old := string(storagetest.ReadObject(t, store, record.HistoryKey(m.Slug, m.History[0].CaptureID, record.RawFile)))
		if old != string(changed.Page.HTML) {
			t.Error("the earlier capture's raw.html in history is not the page first archived")
		}
	}
	mw := meta(walled)
	if mw.Status != record.StatusOK || string(storagetest.ReadObject(t, store, record.ArticleKey(mw.Slug, record.RawFile))) != string(walled.Page.HTML) {
		t.Errorf("walled article: status %s; want the earlier good capture kept current", mw.Status)
	}
	if len(mw.History) != 1 || mw.History[0].Status != record.StatusBlocked {
		t.Errorf("walled article history %+v, want the blocked capture recorded", mw.History)
	}
	c, err := archivetest.CheckArchive(context.Background(), store)
	// Earlier captures: changed 1 (its first), walled 1 (the wall), fixed 2
	// (the wall of run 1, then its good capture of run 2 when refreshed).
	if err != nil || len(c.Problems) > 0 || c.Articles != 3 || c.History != 4 {
		t.Errorf("archive check: %d articles, %d earlier captures, problems %v, err %v; want 3, 4, none", c.Articles, c.History, c.Problems, err)
	}
}

// TestArchiveUnwritableDestinations: a read-only store and a --report
// that cannot be written are usage errors found before anything is
// fetched, each said once, with the way out.
func TestArchiveUnwritableDestinations(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: loadPages(t, 1)})
	for _, tc := range []struct {
		name  string
		store string
		extra []string
		want  []string
	}{
		{"read-only store", storagetest.ReadOnlyDir(t), nil,
			[]string{"is read-only (", "pass a writable --store, or use --dry-run"}},
		{"report in a missing directory", t.TempDir(), []string{"--report", "/nonexistent/dir/r.json"},
			[]string{"--report /nonexistent/dir/r.json: no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runLinkarc(t, nil, "", archiveArgs(w, tc.store, time.Millisecond, tc.extra...)...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
			}
			for _, want := range tc.want {
				if n := strings.Count(res.stderr, want); n != 1 {
					t.Errorf("stderr says %q %d times, want once:\n%s", want, n, res.stderr)
				}
			}
			if strings.Contains(res.stderr, "lease") {
				t.Errorf("stderr speaks of leases:\n%s", res.stderr)
			}
			if n := w.PublisherRequests(); n != 0 {
				t.Errorf("%d publisher requests before the error, want none", n)
			}
		})
	}
}
