package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Issue 13, "Work that starts at once and shows itself": fetching starts
// with the first known link, Google's answers are planned as they arrive,
// the stages show from the first second, an interrupt keeps every answer,
// and an unreachable Google is given up after a few failures.

// mixedWorld is a World whose Google News links (new-format ids, resolved
// by Google) sit beside publisher links and offline ids (decoded from the
// id) to the same hosts: known links per host, spread round-robin.
func mixedWorld(t *testing.T, hosts, google, known int, opts gnewstest.Options) *archivetest.World {
	t.Helper()
	pages := plainPages(10)
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: hosts, Articles: google, Digests: 2, Pages: pages, Google: opts})
	var items []archivetest.DigestItem
	for i := range known {
		h := i % hosts
		pub := w.Publishers[h]
		page := pages[i%len(pages)]
		u := pub.Add(fmt.Sprintf("/known/%d.html", i), page.HTML)
		link := u
		if i%2 == 1 {
			link = gnewstest.ArticleURL(gnewstest.EncodeOldID(u, ""))
		}
		a := archivetest.WorldArticle{Title: fmt.Sprintf("Known %d", i), Publisher: fmt.Sprintf("Publisher %d", h), Link: link, URL: u, Host: pub, Page: page}
		w.Articles = append(w.Articles, a)
		items = append(items, archivetest.DigestItem{Title: a.Title, Publisher: a.Publisher, Link: a.Link})
	}
	if known > 0 {
		if _, err := archivetest.WriteDigest(w.Dir, "zz_known.md", "Known links", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), items); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// plainPages are n plain article pages: a headline and a few paragraphs,
// so that extraction costs next to nothing in tests about scheduling (on
// a loaded machine the benchmark pages would make extraction the pace).
func plainPages(n int) []archivetest.Page {
	words := strings.Fields("the council met on tuesday to discuss the new budget for schools roads and parks " +
		"residents asked questions about the timing of the works and the mayor promised an answer within weeks")
	var pages []archivetest.Page
	for i := range n {
		var text []string
		for p := range 8 {
			var sent []string
			for k := range 40 {
				sent = append(sent, words[(i*7+p*13+k)%len(words)])
			}
			text = append(text, strings.Join(sent, " ")+".")
		}
		title := fmt.Sprintf("Council budget report number %d", i)
		html := "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body><main><article><h1>" +
			title + "</h1><p>" + strings.Join(text, "</p>\n<p>") + "</p></article></main></body></html>"
		pages = append(pages, archivetest.Page{ID: fmt.Sprintf("plainpage%03d", i), HTML: []byte(html), Text: strings.Join(text, "\n\n")})
	}
	return pages
}

// googleProxy stands between linkarc and the fake Google (as --gnews-base):
// before forwarding a request it calls hook, which may hold it.
type googleProxy struct {
	*httptest.Server
	mu   sync.Mutex
	hook func(r *http.Request)
}

func newGoogleProxy(t *testing.T, g *gnewstest.Server) *googleProxy {
	t.Helper()
	target, err := url.Parse(g.NewsURL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	p := &googleProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		hook := p.hook
		p.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *googleProxy) setHook(h func(r *http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = h
}

// argsVia are archiveArgs with Google reached through base, at interval.
func argsVia(w *archivetest.World, store, base string, gnews, host time.Duration, extra ...string) []string {
	args := archiveArgs(w, store, host, extra...)
	for i, a := range args {
		switch a {
		case "--gnews-base":
			args[i+1] = base
		case "--gnews-interval":
			args[i+1] = gnews.String()
		}
	}
	return args
}

// firstLineWriter is a stderr that notes when a line containing want was
// first written.
type firstLineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  string
	first time.Time
}

func (w *firstLineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.first.IsZero() && strings.Contains(w.buf.String(), w.want) {
		w.first = time.Now()
	}
	return len(p), nil
}

func (w *firstLineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestArchiveFirstArticleBeforeFirstPost: the first Google POST is held
// until an article is in the store; the run gets there only because
// fetching starts with the links known without Google (publisher links,
// offline ids). The stages line is the first thing the run prints.
func TestArchiveFirstArticleBeforeFirstPost(t *testing.T) {
	w := mixedWorld(t, 3, 6, 4, gnewstest.Options{})
	proxy := newGoogleProxy(t, w.Google)
	dir := filepath.Join(t.TempDir(), "store")
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	var held, storedFirst atomic.Bool
	proxy.setHook(func(r *http.Request) {
		if r.Method != http.MethodPost || held.Swap(true) {
			return
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if countMeta(t, store) > 0 {
				storedFirst.Store(true)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	stderr := &firstLineWriter{want: "linkarc: resolving"}
	start := time.Now()
	code := run(context.Background(), argsVia(w, dir, proxy.URL, 50*time.Millisecond, 10*time.Millisecond), stdio{
		in: strings.NewReader(""), out: io.Discard, err: stderr, getenv: envLookup(nil)})
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !held.Load() || !storedFirst.Load() {
		t.Fatalf("no article was stored while the first POST was held (held %v): fetching waited for Google\n%s", held.Load(), stderr.String())
	}
	checkAllOnce(t, store, w)

	// The stages line comes first (after the store line), at once.
	if stderr.first.IsZero() {
		t.Fatalf("no stages line:\n%s", stderr.String())
	}
	if d := stderr.first.Sub(start); d > time.Second {
		t.Errorf("the stages line came %v after the start, want within a second", d)
	}
	out := stderr.String()
	firstLines := strings.SplitN(out, "\n", 3)
	if !strings.HasPrefix(firstLines[1], "linkarc: resolving 0/") || !strings.Contains(firstLines[1], "left at the Google spacing") {
		t.Errorf("second line %q, want the stages with the Google estimate", firstLines[1])
	}
}

// medianExtra is the median of how much longer than interval the gaps
// between consecutive times were: what each request cost beyond the
// spacing on this machine at this moment (its answer's latency, a busy
// scheduler). The median leaves out a host's idle gaps.
func medianExtra(times []time.Time, interval time.Duration) time.Duration {
	var extra []time.Duration
	for i := 1; i < len(times); i++ {
		extra = append(extra, max(times[i].Sub(times[i-1])-interval, 0))
	}
	if len(extra) == 0 {
		return 0
	}
	slices.Sort(extra)
	return extra[len(extra)/2]
}

// TestArchiveWallTimeNearFloor: a mixed batch takes about the longer of
// Google's part and the publishers' part, not their sum, whichever is the
// longer. The time is taken from what the servers saw (the run's first
// request to its last page request). Each floor is the least time its
// part can take: Google's one GET per id and one POST, the busiest host's
// robots.txt and pages, each request spaced by its configured interval
// plus what a request was seen to cost beyond it in this run (from the
// same logs: Google's mean gap, a host's median gap, which leaves out its
// idle waits): on a loaded machine every request takes longer, whoever
// schedules them. The proportions are those of the default 2 s
// Google spacing, scaled down.
func TestArchiveWallTimeNearFloor(t *testing.T) {
	for _, tc := range []struct {
		name                string
		hosts, google, know int
		gnews, host         time.Duration
		// overlap only: when the two parts take about as long, fetching
		// idles between batches (about 1.15× here), so the check is that
		// the parts overlap: well under their sum.
		overlap bool
	}{
		// Google sets the pace: 24 ids at 300 ms (7.2 s) against 8 pages a
		// host at 150 ms (1.2 s); the default spacings are 2 s and 1 s.
		{"google-bound", 4, 24, 8, 300 * time.Millisecond, 150 * time.Millisecond, false},
		// Both take about as long: 24 ids at 300 ms (7.2 s), 12 pages a
		// host at 600 ms (7.2 s); their sum would be twice either.
		{"balanced", 4, 24, 24, 300 * time.Millisecond, 600 * time.Millisecond, true},
		// The publishers set it: 16 pages a host at 400 ms (6.4 s)
		// against 24 ids at 100 ms (2.4 s).
		{"publisher-bound", 2, 24, 8, 100 * time.Millisecond, 400 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mixedWorld(t, tc.hosts, tc.google, tc.know, gnewstest.Options{})
			dir := filepath.Join(t.TempDir(), "store")
			start := time.Now()
			res := runLinkarc(t, nil, "", argsVia(w, dir, w.Google.NewsURL(), tc.gnews, tc.host, "--progress", "none")...)
			took := time.Since(start)
			if res.code != exitOK {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			var google []time.Time
			for _, q := range w.Google.Requests() {
				google = append(google, q.Time)
			}
			first, last := google[0], time.Time{}
			var hostExtra []time.Duration
			for _, p := range w.Publishers {
				var times []time.Time
				for _, a := range p.Arrivals(true) {
					times = append(times, a.At)
					if a.At.Before(first) {
						first = a.At
					}
					if a.Path != "/robots.txt" && a.At.After(last) {
						last = a.At
					}
				}
				hostExtra = append(hostExtra, medianExtra(times, tc.host))
			}
			slices.Sort(hostExtra)
			wall := last.Sub(first)
			busiest := int(w.PolitenessFloor(time.Nanosecond)) // pages on the busiest host
			// Google's requests follow one another without idle gaps, so
			// their mean gap is the pace this machine allowed.
			gx := max(google[len(google)-1].Sub(google[0])/time.Duration(len(google)-1)-tc.gnews, 0)
			px := hostExtra[len(hostExtra)/2]
			gf := time.Duration(tc.google) * (tc.gnews + gx)
			pf := time.Duration(busiest) * (tc.host + px)
			floor := max(gf, pf)
			t.Logf("requests spanned %v (the run %v); Google floor %v (+%v a request), publisher floor %v (+%v a request): %.2f× the larger, their sum would be %v",
				wall.Round(time.Millisecond), took.Round(time.Millisecond), gf.Round(time.Millisecond), gx, pf.Round(time.Millisecond), px,
				float64(wall)/float64(floor), (gf + pf).Round(time.Millisecond))
			switch {
			case tc.overlap && wall > (gf+pf)*3/4:
				t.Errorf("requests spanned %v, more than 3/4 of the floors' sum %v: the parts hardly overlap", wall, gf+pf)
			case !tc.overlap && wall > floor*12/10:
				t.Errorf("requests spanned %v, more than 1.2× max(Google floor %v, publisher floor %v)", wall, gf, pf)
			}
		})
	}
}

// cacheHas reports whether the store's resolution cache holds id.
func cacheHas(t *testing.T, s storage.Store, id string) bool {
	t.Helper()
	_, err := s.Stat(context.Background(), record.GNewsCacheKey(id))
	if err != nil && !storage.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// answered is every id a POST carried that Google answered (200).
func answered(g *gnewstest.Server) []string {
	var ids []string
	for _, q := range g.Requests() {
		if q.Kind == gnewstest.KindBatchexecute && q.Status == http.StatusOK {
			ids = append(ids, q.IDs...)
		}
	}
	return ids
}

// digestRecords counts the digest records in s.
func digestRecords(t *testing.T, s storage.Store) int {
	t.Helper()
	n := 0
	err := s.List(context.Background(), "digests/", func(info storage.Info) error {
		if strings.HasSuffix(info.Key, ".json") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkInterrupted checks what an interrupted run left: every answer
// Google gave is cached, every digest has its record, every page whose
// fetch had finished is stored (at most one fetch per host was in flight),
// and a re-run finishes the rest without asking Google for what it
// answered.
func checkInterrupted(t *testing.T, w *archivetest.World, dir string, digests int) {
	t.Helper()
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := answered(w.Google)
	for _, id := range ids {
		if !cacheHas(t, store, id) {
			t.Errorf("Google's answer for %.20s… is not cached", id)
		}
	}
	if n := digestRecords(t, store); n != digests {
		t.Errorf("%d digest records, want %d (written on interrupt too)", n, digests)
	}
	c := checkArchive(t, store)
	if served := pageRequests(w); c.Articles < served-len(w.Publishers) {
		t.Errorf("%d pages served but only %d articles stored (at most %d fetches were in flight)", served, c.Articles, len(w.Publishers))
	}
	w.Google.ResetLog()
	res := runLinkarc(t, nil, "", archiveArgs(w, dir, 5*time.Millisecond, "--progress", "none")...)
	if res.code != exitOK {
		t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
	}
	for _, q := range w.Google.Requests() {
		for _, id := range ids {
			if strings.HasSuffix(q.Path, "/"+id) {
				t.Errorf("the re-run asked Google again for an id it had answered")
			}
		}
	}
	checkAllOnce(t, store, w)
	t.Logf("interrupted run: %d answers cached, %d articles stored", len(ids), c.Articles)
}

// TestArchiveInterruptKeepsAnswers: the run's context ends at several
// moments (after a few signature GETs, while a POST is in flight, late in
// the Google work); every answer already received is kept.
func TestArchiveInterruptKeepsAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   func(gets int, r *http.Request) bool
	}{
		{"after 2 GETs", func(gets int, r *http.Request) bool { return r.Method == http.MethodGet && gets == 3 }},
		{"POST in flight", func(gets int, r *http.Request) bool { return r.Method == http.MethodPost }},
		{"after 14 GETs", func(gets int, r *http.Request) bool { return r.Method == http.MethodGet && gets == 15 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mixedWorld(t, 3, 20, 6, gnewstest.Options{})
			proxy := newGoogleProxy(t, w.Google)
			dir := filepath.Join(t.TempDir(), "store")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var gets atomic.Int32
			var once sync.Once
			proxy.setHook(func(r *http.Request) {
				n := int(gets.Load())
				if r.Method == http.MethodGet {
					n = int(gets.Add(1))
				}
				if tc.at(n, r) {
					once.Do(cancel)
				}
			})
			// BatchWait 10 × 40 ms: batches of about 11.
			var errb bytes.Buffer
			code := run(ctx, argsVia(w, dir, proxy.URL, 40*time.Millisecond, 60*time.Millisecond, "--progress", "plain"), stdio{
				in: strings.NewReader(""), out: io.Discard, err: &errb, getenv: envLookup(nil)})
			if code != exitInterrupted {
				t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, errb.String())
			}
			if tc.name == "POST in flight" && len(answered(w.Google)) == 0 {
				t.Errorf("the POST in flight at the interrupt was not answered")
			}
			checkInterrupted(t, w, dir, 3)
		})
	}
}

// TestArchiveSIGINTKeepsAnswers: the same with SIGINT to the linkarc
// process, while a POST is in flight and later among the GETs.
func TestArchiveSIGINTKeepsAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		post bool // signal when the first POST arrives; else at GET 15
	}{{"POST in flight", true}, {"after 14 GETs", false}} {
		t.Run(tc.name, func(t *testing.T) {
			w := mixedWorld(t, 3, 20, 6, gnewstest.Options{})
			proxy := newGoogleProxy(t, w.Google)
			dir := filepath.Join(t.TempDir(), "store")
			cmd := linkarcProcess(nil, argsVia(w, dir, proxy.URL, 40*time.Millisecond, 60*time.Millisecond, "--progress", "plain")...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			var gets atomic.Int32
			var once sync.Once
			signaled := make(chan struct{})
			proxy.setHook(func(r *http.Request) {
				hit := r.Method == http.MethodPost && tc.post
				if r.Method == http.MethodGet && gets.Add(1) == 15 && !tc.post {
					hit = true
				}
				if hit {
					once.Do(func() {
						cmd.Process.Signal(syscall.SIGINT)
						close(signaled)
					})
					if r.Method == http.MethodPost {
						// Hold the POST a little, so the signal lands while
						// it is in flight.
						time.Sleep(100 * time.Millisecond)
					}
				}
			})
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Fatalf("%v, want exit status %d\n%s", err, exitInterrupted, stderr.String())
			}
			select {
			case <-signaled:
			default:
				t.Fatal("the run ended before the signal")
			}
			if tc.post && len(answered(w.Google)) == 0 {
				t.Errorf("the POST in flight at SIGINT was not answered")
			}
			checkInterrupted(t, w, dir, 3)
		})
	}
}

// TestArchiveGoogleUnreachable: Google News cannot be reached (every
// connection is closed at once). After resolver.UnreachableAfter failures
// linkarc asks Google nothing more, says so once with what to check, and
// archives every link that needs no Google; each failure is one short
// line, the whole error going to the report.
func TestArchiveGoogleUnreachable(t *testing.T) {
	w := mixedWorld(t, 2, 10, 6, gnewstest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	dir := filepath.Join(t.TempDir(), "store")
	reportPath := filepath.Join(t.TempDir(), "report.json")
	res := runLinkarc(t, nil, "", argsVia(w, dir, "http://"+ln.Addr().String(), 20*time.Millisecond, 5*time.Millisecond, "--report", reportPath)...)
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitSomeFailed, res.stderr)
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("Google was tried %d times, want 3", n)
	}
	notice := "cannot reach " + ln.Addr().String() + ": check the network, a proxy (HTTPS_PROXY) or --gnews-base"
	if n := strings.Count(res.stderr, "linkarc: "+notice); n != 1 {
		t.Errorf("the notice is said %d times, want once:\n%s", n, res.stderr)
	}
	// Plain output is never cut, so the 3 requests made print their whole
	// error; the links not asked get the short line, not the URL again.
	sc := bufio.NewScanner(strings.NewReader(res.stderr))
	withURL := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "/rss/articles/") {
			withURL++
		}
	}
	if withURL != 3 {
		t.Errorf("%d lines name a Google URL, want the 3 requests made:\n%s", withURL, res.stderr)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range w.Articles {
		m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
		switch {
		case i >= 10 && m.Status != record.StatusOK:
			t.Errorf("%s needs no Google but is %s (%s)", a.Title, m.Status, m.Error)
		case i < 10 && (m.Status != record.StatusFailed || m.Reason != record.ReasonNetwork):
			t.Errorf("%s: %s %s, want failed network", a.Title, m.Status, m.Reason)
		}
	}
	rep := readReport(t, reportPath)
	if rep.GoogleUnreachable != notice {
		t.Errorf("report google_unreachable %q", rep.GoogleUnreachable)
	}
	full := 0
	for _, f := range rep.Failures {
		if strings.Contains(f.Error, "http://"+ln.Addr().String()+"/rss/articles/") {
			full++
		}
	}
	if full != 3 {
		t.Errorf("%d report failures carry the whole URL, want the 3 requests made", full)
	}
	if pages := pageRequests(w); pages != 6 {
		t.Errorf("%d pages fetched, want the 6 that need no Google", pages)
	}
}

// TestArchiveDryRun: --dry-run says what would be resolved, fetched and
// skipped, with the expected time, and sends no request to Google or any
// publisher.
func TestArchiveDryRun(t *testing.T) {
	w := mixedWorld(t, 2, 8, 4, gnewstest.Options{})
	dir := filepath.Join(t.TempDir(), "store")
	// A first run archives the first digest: 4 of the Google ids are then
	// in the cache (and their articles stored).
	first := filepath.Join(t.TempDir(), "first")
	if _, err := archivetest.WriteDigest(first, "a.md", "First", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), []archivetest.DigestItem{
		{Title: w.Articles[0].Title, Publisher: w.Articles[0].Publisher, Link: w.Articles[0].Link},
		{Title: w.Articles[1].Title, Publisher: w.Articles[1].Publisher, Link: w.Articles[1].Link},
		{Title: w.Articles[8].Title, Publisher: w.Articles[8].Publisher, Link: w.Articles[8].Link},
	}); err != nil {
		t.Fatal(err)
	}
	args := archiveArgs(w, dir, 500*time.Millisecond, "--progress", "none")
	args[len(args)-1] = first
	if res := runLinkarc(t, nil, "", args...); res.code != exitOK {
		t.Fatalf("first run exit %d\n%s", res.code, res.stderr)
	}
	w.Google.ResetLog()
	before := w.PublisherRequests()

	res := runLinkarc(t, nil, "", argsVia(w, dir, w.Google.NewsURL(), 2*time.Second, 500*time.Millisecond, "--dry-run")...)
	if res.code != exitOK {
		t.Fatalf("dry run exit %d\n%s", res.code, res.stderr)
	}
	if n := w.Google.Total(); n != 0 {
		t.Errorf("the dry run made %d Google requests", n)
	}
	if n := w.PublisherRequests() - before; n != 0 {
		t.Errorf("the dry run made %d publisher requests", n)
	}
	// 12 links: 2 publisher links (1 stored), 2 offline, 2 from the store,
	// 6 for Google (6 GETs and a POST: 14 s at 2 s).
	contains(t, res.stdout, "dry-run output",
		"nothing was requested: 3 digests, 12 links",
		"2 publisher links need none; Google News links: 2 offline (from the id), 2 from the cache or the store, 6 with Google",
		"Google: ~14s at its spacing",
		"fetch:    9 articles (6 of them once Google has resolved them) on 2 known hosts",
		"skip:     3 already archived ok",
		"expected: ~14s")
}

// TestDryRunExpectedTimeCountsWorkers: the expected time of the pages is
// not the busiest host's alone: every page costs archive.ExpectedFetchTime,
// shared among --concurrency workers (no more than there are hosts), and
// among hosts with as many pages the busiest named is the first by name,
// whatever the order of the links.
func TestDryRunExpectedTimeCountsWorkers(t *testing.T) {
	const hosts, perHost = 100, 20 // 2,000 links, 20 a host: 20 s for the busiest at 1 s
	dir := t.TempDir()
	var items []archivetest.DigestItem
	for i := range perHost {
		for h := hosts - 1; h >= 0; h-- { // the last host by name first
			items = append(items, archivetest.DigestItem{Title: fmt.Sprintf("Story %d of %d", i, h), Publisher: "P",
				Link: fmt.Sprintf("https://h%03d.example/story-%d", h, i)})
		}
	}
	if _, err := archivetest.WriteDigest(dir, "many.md", "Many", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		concurrency string
		want        string
	}{
		{"1", "expected: ~33m20s"}, // 2,000 pages at 1 s, one at a time
		{"32", "expected: ~1m3s"},  // 2,000 s over 32 workers
		{"500", "expected: ~20s"},  // 100 workers at most: the busiest host's 20 pages
	} {
		res := runLinkarc(t, nil, "", "archive", "--store", t.TempDir(), "--dry-run", "--host-interval", "1s",
			"--concurrency", tc.concurrency, dir)
		if res.code != exitOK {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		contains(t, res.stdout, "--concurrency "+tc.concurrency, tc.want, "the busiest, h000.example, has 20 (~20s at its spacing)")
	}
}

// TestDryRunSaysRequisitesAreNotCounted: the dry run's expected time
// counts pages only. With requisites on (the default) each page costs
// more requests than that, at its host's spacing, so the summary says the
// estimate leaves them out; with --requisites=false it has nothing to add.
// The link is never requested (the port is closed).
func TestDryRunSaysRequisitesAreNotCounted(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  bool
	}{
		{[]string{"--requisites"}, true}, // the default, which the tests' environment turns off
		{[]string{"--requisites=false"}, false},
	} {
		args := append([]string{"archive", "--store", t.TempDir(), "--dry-run", "--allow-private"}, tc.flags...)
		res := runLinkarc(t, nil, "", append(args, "http://127.0.0.1:9/story")...)
		if res.code != exitOK {
			t.Fatalf("%q: exit %d\n%s", tc.flags, res.code, res.stderr)
		}
		if got := strings.Contains(res.stdout, "requisites: not counted"); got != tc.want {
			t.Errorf("%q: the summary says requisites are not counted: %v, want %v\n%s", tc.flags, got, tc.want, res.stdout)
		}
	}
}

// syncBuffer is a stdout that tests may read while the run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestResolvePrintsAsKnown: `linkarc resolve` prints each result as soon
// as it is known. When the first Google POST arrives, the lines that
// needed no Google (text mode: those before the first Google link, in
// input order; --json: all of them, each with its index) are already out.
func TestResolvePrintsAsKnown(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{}, 4)
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/x", ""))
	old2 := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/y", ""))
	inputs := []string{old, links[0], old2, links[1], links[2], links[3]}
	for _, tc := range []struct {
		name      string
		json      bool
		wantFirst []string // what stdout holds when the first POST arrives
	}{
		{"text", false, []string{"https://old.example/x\n"}},
		{"json", true, []string{`"index":0,`, `"https://old.example/x"`, `"index":2,`, `"https://old.example/y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetLog()
			proxy := newGoogleProxy(t, f)
			out := &syncBuffer{}
			var atPost atomic.Value
			proxy.setHook(func(r *http.Request) {
				if r.Method == http.MethodPost && atPost.Load() == nil {
					atPost.Store(out.String())
				}
			})
			args := []string{"resolve", "--no-cache", "--gnews-base", proxy.URL, "--gnews-interval", "20ms"}
			if tc.json {
				args = append(args, "--json")
			}
			var errb bytes.Buffer
			code := run(context.Background(), append(args, inputs...), stdio{in: strings.NewReader(""), out: out, err: &errb, getenv: envLookup(nil)})
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			seen, _ := atPost.Load().(string)
			for _, w := range tc.wantFirst {
				if !strings.Contains(seen, w) {
					t.Errorf("when the first POST arrived stdout held %q, want %q in it", seen, w)
				}
			}
			if strings.Contains(seen, "publisher.example") {
				t.Errorf("a Google answer was printed before any POST: %q", seen)
			}
			want := []string{"https://old.example/x", urls[0], "https://old.example/y", urls[1], urls[2], urls[3]}
			got := lines(out.String())
			if tc.json {
				got = nil
				for _, l := range jsonLines(t, out.String()) {
					var j struct{ URL string }
					json.Unmarshal([]byte(l), &j)
					got = append(got, j.URL)
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("results %v, want %v", got, want)
			}
		})
	}
}

// openPTY opens a pseudo-terminal pair (Linux): what a user's terminal is.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestResolveSaysItReadsStdin: `linkarc resolve` with no argument on a
// terminal says that it reads standard input (and how to end it) before
// waiting for the user; from a pipe it says nothing.
func TestResolveSaysItReadsStdin(t *testing.T) {
	master, tty := openPTY(t)
	master.Write([]byte("\x04")) // Ctrl-D: the user ends the input at once
	var errb bytes.Buffer
	code := run(context.Background(), []string{"resolve", "--no-cache"}, stdio{in: tty, out: io.Discard, err: &errb, getenv: envLookup(nil)})
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "reading links from standard input, one per line; end with Ctrl-D") {
		t.Errorf("on a terminal, stderr %q does not say it reads standard input", errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"resolve", "--no-cache"}, stdio{in: strings.NewReader(""), out: io.Discard, err: &errb, getenv: envLookup(nil)}); code != exitOK || errb.Len() != 0 {
		t.Errorf("from a pipe: exit %d, stderr %q; want 0 and nothing", code, errb.String())
	}
}

// TestArchiveLateAnswerMerges: a Google News link whose answer arrives
// after a publisher link to the same page was queued (or already fetched)
// is merged into that article: the page is fetched once, and the article
// is listed by both digests.
func TestArchiveLateAnswerMerges(t *testing.T) {
	w := mixedWorld(t, 2, 4, 2, gnewstest.Options{})
	direct := w.Articles[4] // "Known 0", a publisher link in zz_known.md
	link := w.Google.NewArticle(direct.URL)
	if _, err := archivetest.WriteDigest(w.Dir, "zzz_late.md", "Late", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), []archivetest.DigestItem{
		{Title: "The same story under another headline", Publisher: "Aggregator", Link: link},
	}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	res := runLinkarc(t, nil, "", argsVia(w, dir, w.Google.NewsURL(), 30*time.Millisecond, 50*time.Millisecond)...)
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	path := strings.TrimPrefix(direct.URL, "http://"+direct.Host.Host)
	n := 0
	for _, a := range direct.Host.Arrivals(false) {
		if a.Path == path {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the page was fetched %d times, want once", n)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := readMeta(t, store, record.ArticleSlug(direct.Title, direct.Publisher))
	if len(m.Digests) != 2 {
		t.Errorf("the article lists digests %v, want both", m.Digests)
	}
	var rec record.DigestRecord
	readJSON(t, store, record.DigestKey("late"), &rec)
	if len(rec.Articles) != 1 || rec.Articles[0].Slug != m.Slug || rec.Articles[0].Status != record.StatusOK {
		t.Errorf("the late digest's record: %+v, want the article %s", rec.Articles, m.Slug)
	}
	if c := checkArchive(t, store); c.Articles != len(w.Articles) {
		t.Errorf("%d articles stored, want %d (the late link adds none)", c.Articles, len(w.Articles))
	}
}
