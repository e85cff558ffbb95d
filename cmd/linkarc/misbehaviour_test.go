package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// Limits of the misbehaviour run, small so that every bad host ends in
// seconds; the flags are the user's own.
const (
	mbReadTimeout = 1500 * time.Millisecond
	mbTimeout     = 3 * time.Second
	mbMaxBody     = 2 << 20
	mbRetries     = 1
)

// misbehaviour is one badly behaved publisher: its handler, and what the
// article it serves must end as.
type misbehaviour struct {
	name    string
	handler func(tb testing.TB) http.HandlerFunc
	status  string // in meta.json and the report
	reason  record.Reason
	// requests is how many page requests the host must see; 0: not checked.
	requests int
	// check, if set, looks further at the stored article.
	check func(t *testing.T, s storage.Store, m record.ArticleMeta, p *archivetest.Publisher)
	// retryWait, if set, is the least time the client must have waited
	// between its last two requests to the host (a honoured Retry-After),
	// proven from its send log: the retry's turn began at least this long
	// after the first request was written.
	retryWait time.Duration
}

var misbehaviours = []misbehaviour{
	{
		name: "429 then Retry-After seconds",
		handler: func(testing.TB) http.HandlerFunc {
			return refuseOnce(func(h http.Header) { h.Set("Retry-After", "1") })
		},
		status: record.StatusOK, requests: 2,
		retryWait: time.Second,
	},
	{
		name: "429 then Retry-After HTTP date",
		handler: func(testing.TB) http.HandlerFunc {
			return refuseOnce(func(h http.Header) { h.Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat)) })
		},
		status: record.StatusOK, requests: 2,
		retryWait: time.Second, // the date has whole seconds: 1 to 2s
	},
	{
		name: "429 with Retry-After over --max-retry-after",
		handler: func(testing.TB) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "slow down", http.StatusTooManyRequests)
			}
		},
		status: record.StatusFailed, reason: "http_429", requests: 1,
		check: errorSays("--max-retry-after"),
	},
	{
		name: "503 storm",
		handler: func(testing.TB) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) }
		},
		status: record.StatusFailed, reason: "http_503", requests: 1 + mbRetries,
	},
	{
		name:    "connection reset",
		handler: func(tb testing.TB) http.HandlerFunc { return hijack(tb, func(c *net.TCPConn) { c.SetLinger(0) }) },
		status:  record.StatusFailed, reason: record.ReasonNetwork,
		check: func(t *testing.T, _ storage.Store, _ record.ArticleMeta, p *archivetest.Publisher) {
			// net/http itself resends a GET once when a kept-alive
			// connection fails before any answer, so an attempt may
			// arrive twice.
			if n := len(p.Arrivals(false)); n < 1+mbRetries || n > 2*(1+mbRetries) {
				t.Errorf("the publisher saw %d page requests, want %d attempts", n, 1+mbRetries)
			}
		},
	},
	{
		name: "accepts and never answers",
		handler: func(testing.TB) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
		},
		status: record.StatusFailed, reason: record.ReasonTimeout, requests: 1 + mbRetries,
		check: errorSays("--read-timeout"),
	},
	{
		name: "trickles a byte at a time",
		handler: func(testing.TB) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				// Far faster than --read-timeout (even on a loaded
				// machine), so only --timeout can end it.
				for i := 0; r.Context().Err() == nil; i++ {
					w.Write([]byte{"<p>trickle</p>"[i%14]})
					w.(http.Flusher).Flush()
					time.Sleep(mbReadTimeout / 14)
				}
			}
		},
		status: record.StatusFailed, reason: record.ReasonTimeout, requests: 1 + mbRetries,
		check: errorSays("--timeout"),
	},
	{
		name: "redirect loop",
		handler: func(testing.TB) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				next := "/loop/a"
				if r.URL.Path == next {
					next = "/loop/b"
				}
				http.Redirect(w, r, next, http.StatusFound)
			}
		},
		status: record.StatusFailed, reason: record.ReasonRedirectLoop,
		check: func(t *testing.T, _ storage.Store, m record.ArticleMeta, _ *archivetest.Publisher) {
			if len(m.RedirectChain) < 3 {
				t.Errorf("redirect chain %v not recorded", m.RedirectChain)
			}
		},
	},
	{
		name: "endless redirects",
		handler: func(testing.TB) http.HandlerFunc {
			var n atomic.Int64
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, fmt.Sprintf("/next/%d", n.Add(1)), http.StatusFound)
			}
		},
		status: record.StatusFailed, reason: record.ReasonTooManyRedirects, requests: 1 + 5,
	},
	{
		name:    "2 GB body with its Content-Length",
		handler: func(testing.TB) http.HandlerFunc { return hugeBody(true) },
		status:  record.StatusFailed, reason: record.ReasonTooLarge, requests: 1,
	},
	{
		name:    "2 GB body, chunked",
		handler: func(testing.TB) http.HandlerFunc { return hugeBody(false) },
		status:  record.StatusFailed, reason: record.ReasonTooLarge, requests: 1,
		check: errorSays("--max-body"),
	},
	{
		name: "gzip bomb",
		handler: func(tb testing.TB) http.HandlerFunc {
			bomb := gzipBomb(tb, 1<<30)
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(bomb)
			}
		},
		status: record.StatusFailed, reason: record.ReasonTooLarge, requests: 1,
	},
	{
		name: "Content-Length longer than the body",
		handler: func(tb testing.TB) http.HandlerFunc {
			return hijack(tb, func(c *net.TCPConn) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body><p>only the start")
			})
		},
		status: record.StatusFailed, reason: record.ReasonTruncated, requests: 1 + mbRetries,
	},
	{
		name: "windows-1251 page labelled UTF-8",
		handler: func(tb testing.TB) http.HandlerFunc {
			page := readFile(tb, "../../testdata/fetch/ru.windows-1251.html")
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(page)
			}
		},
		status: record.StatusOK, requests: 1,
		check: func(t *testing.T, s storage.Store, m record.ArticleMeta, _ *archivetest.Publisher) {
			text := string(storagetest.ReadObject(t, s, record.ArticleKey(m.Slug, record.TextFile)))
			raw := string(storagetest.ReadObject(t, s, record.ArticleKey(m.Slug, record.RawFile)))
			if m.Charset != "windows-1251" || !strings.Contains(text, "Городской совет") ||
				raw != string(readFile(t, "../../testdata/fetch/ru.windows-1251.html")) {
				t.Errorf("charset %q, text %.80q: want windows-1251 decoded, raw bytes kept as received", m.Charset, text)
			}
		},
	},
	{
		name: "PDF",
		handler: func(testing.TB) http.HandlerFunc {
			return serve("application/pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
		},
		status: record.StatusFailed, reason: record.ReasonNotHTML, requests: 1,
	},
	{
		name:    "PDF labelled text/html",
		handler: func(testing.TB) http.HandlerFunc { return serve("text/html", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") },
		status:  record.StatusFailed, reason: record.ReasonNotHTML, requests: 1,
	},
	{
		name:    "image",
		handler: func(testing.TB) http.HandlerFunc { return serve("image/png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") },
		status:  record.StatusFailed, reason: record.ReasonNotHTML, requests: 1,
	},
	{
		name:    "image labelled text/html",
		handler: func(testing.TB) http.HandlerFunc { return serve("text/html", "GIF89a\x01\x00\x01\x00\x80\x00\x00") },
		status:  record.StatusFailed, reason: record.ReasonNotHTML, requests: 1,
	},
}

// TestArchivePublisherMisbehaviour runs one `linkarc archive` over a world
// where each misbehaving publisher has a host of its own beside good ones.
// Every bad article ends within the configured limits with a clear status
// and reason, in meta.json and in the --report JSON; the process's memory
// stays bounded (a 2 GB body and a 1 GB gzip bomb are among them); and
// every good article is archived. (Redirects to private addresses, which
// need the SSRF guard on, are in archive.TestRunRedirectToPrivateAddress
// and TestArchiveSSRF.)
func TestArchivePublisherMisbehaviour(t *testing.T) {
	const goodHosts, goodPerHost = 3, 3
	n := len(misbehaviours)
	pages := loadPages(t, 9)
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: n + goodHosts, Articles: n + goodHosts, Digests: 2, Pages: pages})
	for i, mb := range misbehaviours {
		w.Publishers[i].SetHandler(mb.handler(t))
	}
	addGoodArticles(t, w, w.Publishers[n:], goodPerHost-1, pages)

	dir := filepath.Join(t.TempDir(), "store")
	reportPath := filepath.Join(t.TempDir(), "report.json")
	hwm := filepath.Join(t.TempDir(), "status")
	cmd := linkarcProcess([]string{hwmFileEnv + "=" + hwm}, archiveArgs(w, dir, 10*time.Millisecond,
		"--progress", "plain", "--report", reportPath,
		"--read-timeout", mbReadTimeout.String(), "--timeout", mbTimeout.String(), "--connect-timeout", "1s",
		"--max-body", fmt.Sprint(mbMaxBody), "--max-retries", fmt.Sprint(mbRetries),
		"--max-retry-after", "3s", "--max-redirects", "5", "--log-level", "debug")...)
	stderr, took := runWithin(t, cmd, 2*time.Minute)
	t.Logf("run took %v; peak RSS %d MiB", took.Round(time.Millisecond), peakRSS(t, hwm)>>20)
	if code := cmd.ProcessState.ExitCode(); code != exitSomeFailed {
		t.Fatalf("exit %d, want %d (some articles failed)\n%s", code, exitSomeFailed, stderr.String())
	}
	// A 2 GB body or a 1 GB bomb held in memory would show here; the
	// pipeline holds at most a few --max-body pages at a time.
	if peak := peakRSS(t, hwm); peak > 400<<20 {
		t.Errorf("peak RSS %d MiB: bodies are not bounded by --max-body", peak>>20)
	}

	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, store)
	rep := readReport(t, reportPath)
	sends := clientSends(t, stderr.String())
	retries := clientRetries(stderr.String())
	reported := map[string]archive.ArticleFailure{}
	for _, f := range rep.Failures {
		reported[f.Slug] = f
	}
	for i, mb := range misbehaviours {
		t.Run(mb.name, func(t *testing.T) {
			a := w.Articles[i]
			m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
			if m.Status != mb.status || m.Reason != mb.reason {
				t.Errorf("meta.json: status %q reason %q (%s); want %q %q", m.Status, m.Reason, m.Error, mb.status, mb.reason)
			}
			f, inReport := reported[m.Slug]
			switch {
			case mb.status == record.StatusOK && inReport:
				t.Errorf("report lists it as failed: %+v", f)
			case mb.status != record.StatusOK && (!inReport || f.Status != mb.status || f.Reason != mb.reason || f.Error == "" || m.Error == ""):
				t.Errorf("report entry %+v (present %v), meta error %q; want %s/%s with the error", f, inReport, m.Error, mb.status, mb.reason)
			}
			if got := len(a.Host.Arrivals(false)); mb.requests != 0 && got != mb.requests {
				// On a loaded machine an attempt may legitimately time out
				// (--read-timeout is short here) and be retried. Accept
				// that only as the client logged it: each extra request
				// is a retry of a timed-out attempt, within --max-retries.
				why := retries[a.URL]
				extra := got - mb.requests
				if extra < 0 || got > 1+mbRetries || timeouts(why) < extra {
					t.Errorf("the publisher saw %d page requests, want %d (retries the client logged: %v)", got, mb.requests, why)
				}
			}
			if mb.check != nil {
				mb.check(t, store, m, a.Host)
			}
			if mb.retryWait > 0 {
				host, _, _ := net.SplitHostPort(a.Host.Host)
				ss := sends[host]
				if len(ss) < 2 {
					t.Fatalf("%d sends logged for %s", len(ss), host)
				}
				if wait := ss[len(ss)-1].ready.Sub(ss[len(ss)-2].sent); wait < mb.retryWait {
					t.Errorf("retried %v after the 429 was asked for, want Retry-After honoured (>= %v)", wait, mb.retryWait)
				}
			}
		})
	}
	good := 0
	for _, a := range w.Articles[n:] {
		m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
		if m.Status != record.StatusOK {
			t.Errorf("good article %s on %s: %s %s (%s)", m.Slug, a.Host.Host, m.Status, m.Reason, m.Error)
		}
		good++
	}
	if want := goodHosts * goodPerHost; good != want || rep.Counts[record.StatusOK] != want+countOK() {
		t.Errorf("%d good articles checked, report counts %v; want %d good ok", good, rep.Counts, want)
	}
}

// countOK is how many misbehaviours end ok (they recover).
func countOK() int {
	n := 0
	for _, mb := range misbehaviours {
		if mb.status == record.StatusOK {
			n++
		}
	}
	return n
}

// addGoodArticles serves more pages on each of hosts and lists them in a
// digest of their own, appending them to w.Articles.
func addGoodArticles(t *testing.T, w *archivetest.World, hosts []*archivetest.Publisher, perHost int, pages []archivetest.Page) {
	t.Helper()
	var items []archivetest.DigestItem
	for h, pub := range hosts {
		for i := 0; i < perHost; i++ {
			page := pages[(h*perHost+i)%len(pages)]
			u := pub.Add(fmt.Sprintf("/more/%d.html", i), page.HTML)
			a := archivetest.WorldArticle{Title: fmt.Sprintf("More %d-%d", h, i), Publisher: "Good " + pub.Host, Link: w.Google.NewArticle(u), URL: u, Host: pub, Page: page}
			w.Articles = append(w.Articles, a)
			items = append(items, archivetest.DigestItem{Title: a.Title, Publisher: a.Publisher, Link: a.Link})
		}
	}
	if _, err := archivetest.WriteDigest(w.Dir, "zz_more.md", "More good news", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
}

// refuseOnce answers the first request for each path with 429 and the
// header set, and serves the page afterwards.
func refuseOnce(set func(http.Header)) http.HandlerFunc {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !seen[r.URL.Path]
		seen[r.URL.Path] = true
		mu.Unlock()
		if first {
			set(w.Header())
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		serveTestArticle(w)
	}
}

// serveTestArticle serves a real article page (the handler replaces the
// publisher's own pages).
func serveTestArticle(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(recoveredPage)
}

// recoveredPage is what hosts that recover serve.
var recoveredPage = []byte(`<!DOCTYPE html><html><head><title>Council approves the harbour plan</title></head><body><article><h1>Council approves the harbour plan</h1>` +
	strings.Repeat(`<p>The city council approved the long-debated harbour redevelopment plan on Tuesday evening, after a session in which residents, shop owners and dock workers spoke for and against the proposal, which promises new housing, a ferry terminal and a public park along the old quays.</p>`, 6) +
	`</article></body></html>`)

var retryLine = regexp.MustCompile(`msg="fetch: retrying" url=(\S+) reason=(\S+)`)

// clientRetries reads the fetcher's retry log from a run's stderr (run at
// --log-level info or lower): the reason of each retried attempt, by URL.
func clientRetries(stderr string) map[string][]string {
	out := map[string][]string{}
	for _, m := range retryLine.FindAllStringSubmatch(stderr, -1) {
		out[m[1]] = append(out[m[1]], m[2])
	}
	return out
}

// timeouts counts the retries of attempts that timed out.
func timeouts(reasons []string) int {
	n := 0
	for _, r := range reasons {
		if r == string(record.ReasonTimeout) {
			n++
		}
	}
	return n
}

func errorSays(want string) func(*testing.T, storage.Store, record.ArticleMeta, *archivetest.Publisher) {
	return func(t *testing.T, _ storage.Store, m record.ArticleMeta, _ *archivetest.Publisher) {
		if !strings.Contains(m.Error, want) {
			t.Errorf("error %q does not mention %s", m.Error, want)
		}
	}
}

func serve(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	}
}

// hijack takes the connection from net/http and hands it to f, then closes
// it: for answers net/http would not send.
func hijack(tb testing.TB, f func(*net.TCPConn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			tb.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		f(conn.(*net.TCPConn))
	}
}

// hugeBody streams 2 GB of HTML-looking bytes, announced in Content-Length
// or chunked, until the client goes away.
func hugeBody(withLength bool) http.HandlerFunc {
	const size = 2 << 30
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if withLength {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		chunk := bytes.Repeat([]byte("<p>all work and no play makes a big page</p>\n"), 1<<10)
		bw := bufio.NewWriter(w)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := bw.Write(chunk); err != nil {
				return
			}
		}
		bw.Flush()
	}
}

// gzipBomb is size bytes of HTML-looking zeros, gzipped (about 1000:1).
func gzipBomb(tb testing.TB, size int64) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write([]byte("<!DOCTYPE html><html><body>"))
	zeros := make([]byte, 1<<20)
	for i := int64(0); i < size; i += int64(len(zeros)) {
		zw.Write(zeros)
	}
	zw.Close()
	return buf.Bytes()
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// peakRSS reads the VmHWM the child wrote at exit.
func peakRSS(tb testing.TB, statusFile string) int64 {
	tb.Helper()
	status, err := os.ReadFile(statusFile)
	if err != nil {
		tb.Fatalf("child wrote no status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				tb.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kib << 10
		}
	}
	tb.Fatal("no VmHWM in the child's status")
	return 0
}
