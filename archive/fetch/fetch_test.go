package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/linkarc/linkarc/archive/charset/charsettest"
	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/storage/record"
)

const testPage = `<!DOCTYPE html><html><head><title>Test page</title></head><body><article><p>Hello from the test publisher.</p></article></body></html>`

// publisher is a loopback HTTP server that records every request it gets.
type publisher struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []arrival
}

type arrival struct {
	at   time.Time
	path string
	ua   string
}

// newPublisher starts h on addr (e.g. "127.0.0.2:0"), recording arrivals.
func newPublisher(t *testing.T, addr string, h http.Handler) *publisher {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	p := &publisher{}
	p.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.arrivals = append(p.arrivals, arrival{at: time.Now(), path: r.URL.RequestURI(), ua: r.UserAgent()})
		p.mu.Unlock()
		h.ServeHTTP(w, r)
	})}}
	p.Start()
	t.Cleanup(p.Close)
	return p
}

func (p *publisher) hits(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, a := range p.arrivals {
		if path == "" || a.path == path {
			n++
		}
	}
	return n
}

func (p *publisher) hitsPrefix(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, a := range p.arrivals {
		if strings.HasPrefix(a.path, prefix) {
			n++
		}
	}
	return n
}

func (p *publisher) times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ts []time.Time
	for _, a := range p.arrivals {
		ts = append(ts, a.at)
	}
	return ts
}

// testOptions are fast settings for loopback tests: private addresses
// allowed, no host interval, short backoff.
func testOptions() Options {
	return Options{
		UserAgent:      "linkarc-test/1.0 (+https://example.org/linkarc)",
		HostInterval:   -1,
		IgnoreRobots:   true,
		AllowPrivate:   true,
		ConnectTimeout: 2 * time.Second,
		ReadTimeout:    2 * time.Second,
		Timeout:        5 * time.Second,
		Backoff:        10 * time.Millisecond,
		MaxBackoff:     40 * time.Millisecond,
	}
}

func newTestFetcher(t *testing.T, opts Options) *Fetcher {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func htmlHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	}
}

// fetchErr asserts that err is a *Error with the given reason.
func fetchErr(t *testing.T, err error, reason record.Reason) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want a *Error with reason %q", err, err, reason)
	}
	if fe.Reason != reason {
		t.Fatalf("reason = %q, want %q (error: %v)", fe.Reason, reason, err)
	}
	return fe
}

func TestFetchOK(t *testing.T) {
	pub := newPublisher(t, "127.0.0.1:0", htmlHandler(testPage))
	opts := testOptions()
	f := newTestFetcher(t, opts)
	c, err := f.Fetch(context.Background(), pub.URL+"/news/1")
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Body) != testPage || string(c.Raw) != testPage {
		t.Errorf("Body = %q, Raw = %q, want the page", c.Body, c.Raw)
	}
	if c.StatusCode != 200 || c.ContentType != "text/html" || c.Charset != "utf-8" || c.Attempts != 1 {
		t.Errorf("capture = status %d, type %q, charset %q, attempts %d", c.StatusCode, c.ContentType, c.Charset, c.Attempts)
	}
	if c.URL != pub.URL+"/news/1" || c.FinalURL != c.URL || !slices.Equal(c.Chain, []string{c.URL}) {
		t.Errorf("URL %q, FinalURL %q, Chain %q", c.URL, c.FinalURL, c.Chain)
	}
	if c.FetchedAt.IsZero() || c.Header.Get("Content-Type") == "" {
		t.Errorf("FetchedAt %v, Header %v", c.FetchedAt, c.Header)
	}
	if got := pub.arrivals[0].ua; got != opts.UserAgent {
		t.Errorf("User-Agent = %q, want %q", got, opts.UserAgent)
	}
}

func TestFetchRobots(t *testing.T) {
	robots := "User-agent: linkarc-test\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, robots) })
	mux.HandleFunc("GET /", htmlHandler(testPage))
	pub := newPublisher(t, "127.0.0.1:0", mux)

	opts := testOptions()
	opts.IgnoreRobots = false
	f := newTestFetcher(t, opts)
	ctx := context.Background()

	// Concurrent first requests still fetch robots.txt once.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if _, err := f.Fetch(ctx, fmt.Sprintf("%s/public/%d", pub.URL, i)); err != nil {
				t.Errorf("allowed page: %v", err)
			}
		})
	}
	wg.Wait()
	_, err := f.Fetch(ctx, pub.URL+"/private/secret")
	fe := fetchErr(t, err, record.ReasonRobots)
	if fe.Retryable() || !strings.Contains(err.Error(), "--ignore-robots") {
		t.Errorf("robots error should be permanent and say how to override: %v", err)
	}
	if n := pub.hits("/private/secret"); n != 0 {
		t.Errorf("disallowed page requested %d times", n)
	}
	if n := pub.hits("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times, want once", n)
	}

	// A redirect into a disallowed path is refused too.
	mux.HandleFunc("GET /go", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/private/x", http.StatusFound) })
	_, err = f.Fetch(ctx, pub.URL+"/go")
	fetchErr(t, err, record.ReasonRobots)

	// --ignore-robots overrides.
	opts.IgnoreRobots = true
	g := newTestFetcher(t, opts)
	c, err := g.Fetch(ctx, pub.URL+"/private/secret")
	if err != nil || string(c.Body) != testPage {
		t.Fatalf("with IgnoreRobots: %v", err)
	}
	if n := pub.hits("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched again with IgnoreRobots (%d)", n)
	}
}

func TestFetchRobotsUnavailable(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantErr   record.Reason // reason, "" for allowed
		retryable bool
	}{
		{"404 means no rules", http.StatusNotFound, "", false},
		{"403 means no rules", http.StatusForbidden, "", false},
		{"503 means disallowed for now", http.StatusServiceUnavailable, record.ReasonRobots, true},
		{"429 means disallowed for now", http.StatusTooManyRequests, record.ReasonRobots, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) })
			mux.HandleFunc("GET /", htmlHandler(testPage))
			pub := newPublisher(t, "127.0.0.1:0", mux)
			opts := testOptions()
			opts.IgnoreRobots = false
			opts.MaxRetries = 1
			f := newTestFetcher(t, opts)
			_, err := f.Fetch(context.Background(), pub.URL+"/a")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe := fetchErr(t, err, tt.wantErr)
			if fe.Retryable() != tt.retryable || fe.StatusCode != tt.status {
				t.Errorf("retryable %v status %d, want %v %d", fe.Retryable(), fe.StatusCode, tt.retryable, tt.status)
			}
			if n := pub.hits("/a"); n != 0 {
				t.Errorf("page requested %d times while robots.txt was unavailable", n)
			}
			// Unavailable robots.txt is not cached: the retry asked again.
			if n := pub.hits("/robots.txt"); n != 2 {
				t.Errorf("robots.txt requested %d times, want 2 (first try and one retry)", n)
			}
		})
	}
}

// listenOn starts a publisher on a given loopback address, skipping hosts
// where 127.0.0.x beyond .1 is not routable (not Linux).
func listenOn(t *testing.T, addr string, h http.Handler) *publisher {
	t.Helper()
	if runtime.GOOS != "linux" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s on %s: %v", addr, runtime.GOOS, err)
		}
		ln.Close()
	}
	return newPublisher(t, addr, h)
}

// TestFetchHostInterval: requests to one host (robots.txt, pages, a retry)
// are spaced by HostInterval on the wire, while two hosts are worked side by
// side. The spacing is proven from what the client did — each request's
// turn began at least the interval after the previous request to the host
// had been written — not from arrival times a busy server takes late.
func TestFetchHostInterval(t *testing.T) {
	const interval = 200 * time.Millisecond
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "User-agent: *\nAllow: /\n") })
	var failed sync.Map
	mux.HandleFunc("GET /p/{i}", func(w http.ResponseWriter, r *http.Request) {
		// Page 1 of each host fails once, so that a retry is part of the schedule.
		if _, seen := failed.LoadOrStore(r.Host+r.URL.Path, true); !seen && r.PathValue("i") == "1" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		htmlHandler(testPage)(w, r)
	})
	mux.HandleFunc("GET /", htmlHandler(testPage))
	a := listenOn(t, "127.0.0.2:0", mux)
	b := listenOn(t, "127.0.0.3:0", mux)

	logs := &sendLog{}
	opts := testOptions()
	opts.HostInterval = interval
	opts.IgnoreRobots = false
	opts.Backoff = time.Millisecond
	opts.MaxBackoff = time.Millisecond
	opts.Logger = slog.New(logs)
	f := newTestFetcher(t, opts)

	var wg sync.WaitGroup
	for _, pub := range []*publisher{a, b} {
		for i := range 5 {
			wg.Go(func() {
				if _, err := f.Fetch(context.Background(), fmt.Sprintf("%s/p/%d", pub.URL, i)); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()

	sends := logs.byHost()
	for name, pub := range map[string]*publisher{"A": a, "B": b} {
		host := pub.Listener.Addr().(*net.TCPAddr).IP.String()
		if n, m := pub.hits(""), len(sends[host]); n != 7 || m != 7 { // robots.txt + 5 pages + 1 retry
			t.Fatalf("host %s: the server saw %d requests and the client logged %d sends, want 7", name, n, m)
		}
		checkSpacing(t, sends[host], interval)
		// Each line names the request it times.
		urls := map[string]bool{}
		for _, s := range sends[host] {
			urls[s.url] = true
		}
		for _, want := range []string{pub.URL + "/robots.txt", pub.URL + "/p/0", pub.URL + "/p/4"} {
			if !urls[want] {
				t.Errorf("host %s: no send logged for %s (logged %v)", name, want, urls)
			}
		}
	}
	// The hosts were worked side by side: most of B's requests began while
	// A's were still going out, rather than after them.
	sa, sb := sends["127.0.0.2"], sends["127.0.0.3"]
	overlap := 0
	for _, s := range sb {
		if !s.ready.Before(sa[0].ready) && !s.ready.After(sa[len(sa)-1].sent) {
			overlap++
		}
	}
	if overlap < 4 {
		t.Errorf("only %d of host B's requests began while host A was being fetched; hosts slowed each other", overlap)
	}
}

func TestFetchRetryAfter(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  func() string
		minWait time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }, 950 * time.Millisecond},
		{"503 seconds", http.StatusServiceUnavailable, func() string { return "1" }, 950 * time.Millisecond},
		{"429 HTTP-date", http.StatusTooManyRequests, func() string {
			return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		}, 950 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.header())
					w.WriteHeader(tt.status)
					return
				}
				htmlHandler(testPage)(w, r)
			}))
			opts := testOptions()
			opts.Backoff = time.Millisecond // so only Retry-After can explain the wait
			opts.MaxBackoff = time.Millisecond
			opts.MaxRetryAfter = 5 * time.Second
			f := newTestFetcher(t, opts)
			c, err := f.Fetch(context.Background(), pub.URL+"/a")
			if err != nil {
				t.Fatal(err)
			}
			ts := pub.times()
			if len(ts) != 2 || c.Attempts != 2 {
				t.Fatalf("%d requests, %d attempts, want 2", len(ts), c.Attempts)
			}
			if gap := ts[1].Sub(ts[0]); gap < tt.minWait {
				t.Errorf("retried after %v, want >= %v (Retry-After ignored)", gap, tt.minWait)
			}
		})
	}

	t.Run("over the cap fails at once", func(t *testing.T) {
		pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		opts := testOptions()
		opts.MaxRetryAfter = 2 * time.Second
		f := newTestFetcher(t, opts)
		c, err := f.Fetch(context.Background(), pub.URL+"/a")
		fe := fetchErr(t, err, "http_429")
		if fe.RetryAfter != time.Hour || fe.Attempts != 1 || !strings.Contains(err.Error(), "--max-retry-after") {
			t.Errorf("RetryAfter %v, attempts %d, message %q", fe.RetryAfter, fe.Attempts, err)
		}
		if c == nil || c.StatusCode != 429 {
			t.Errorf("capture = %+v, want the 429 response's status", c)
		}
		if n := pub.hits(""); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	t.Run("none honoured", func(t *testing.T) {
		pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		opts := testOptions()
		opts.MaxRetryAfter = -1 // --max-retry-after 0
		f := newTestFetcher(t, opts)
		_, err := f.Fetch(context.Background(), pub.URL+"/a")
		if fe := fetchErr(t, err, "http_503"); fe.Attempts != 1 || pub.hits("") != 1 {
			t.Errorf("attempts %d, requests %d; want the first answer to end it", fe.Attempts, pub.hits(""))
		}
	})

	t.Run("cancel during the wait", func(t *testing.T) {
		pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		opts := testOptions()
		opts.MaxRetryAfter = time.Minute
		f := newTestFetcher(t, opts)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.Fetch(ctx, pub.URL+"/a")
		fetchErr(t, err, record.ReasonCanceled)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v does not wrap the context's error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Fetch returned %v after its context ended", d)
		}
	})
}

func TestFetch5xxStorm(t *testing.T) {
	pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	opts := testOptions()
	opts.MaxRetries = 2
	f := newTestFetcher(t, opts)
	c, err := f.Fetch(context.Background(), pub.URL+"/a")
	fe := fetchErr(t, err, "http_503")
	if fe.Attempts != 3 || fe.StatusCode != 503 || !fe.Retryable() {
		t.Errorf("attempts %d status %d retryable %v", fe.Attempts, fe.StatusCode, fe.Retryable())
	}
	if n := pub.hits(""); n != 3 {
		t.Errorf("server saw %d requests, want 3 (1 + MaxRetries)", n)
	}
	if c == nil || c.StatusCode != 503 {
		t.Errorf("capture %+v, want status 503", c)
	}
}

func TestFetchHTTPStatus(t *testing.T) {
	tests := []struct {
		status    int
		header    http.Header
		reason    record.Reason
		retryable bool
		hits      int
	}{
		{404, nil, "http_404", false, 1},
		{410, nil, "http_410", false, 1},
		{500, nil, "http_500", true, 2},
		{403, http.Header{"Cf-Mitigated": {"challenge"}}, record.ReasonCaptcha, false, 1},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, "<html><title>error</title></html>")
			}))
			opts := testOptions()
			opts.MaxRetries = 1
			f := newTestFetcher(t, opts)
			_, err := f.Fetch(context.Background(), pub.URL+"/a")
			fe := fetchErr(t, err, tt.reason)
			if fe.Retryable() != tt.retryable || fe.StatusCode != tt.status {
				t.Errorf("retryable %v status %d", fe.Retryable(), fe.StatusCode)
			}
			if n := pub.hits(""); n != tt.hits {
				t.Errorf("%d requests, want %d", n, tt.hits)
			}
		})
	}
}

// rawServer accepts connections on loopback and hands each to serve.
func rawServer(t *testing.T, serve func(n int, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(n, c)
			})
		}
	})
	return "http://" + ln.Addr().String()
}

// readRequest reads one request's header from c.
func readRequest(c net.Conn) {
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 1024)
	for !bytes.Contains(buf, []byte("\r\n\r\n")) {
		n, err := c.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
	}
}

func TestFetchConnectionReset(t *testing.T) {
	var conns atomic.Int32
	url := rawServer(t, func(n int, c net.Conn) {
		conns.Add(1)
		readRequest(c)
		if n == 1 {
			c.(*net.TCPConn).SetLinger(0) // close with RST
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(testPage), testPage)
	})
	f := newTestFetcher(t, testOptions())
	c, err := f.Fetch(context.Background(), url+"/a")
	if err != nil {
		t.Fatal(err)
	}
	if c.Attempts != 2 || string(c.Body) != testPage {
		t.Errorf("attempts %d body %q, want a successful second attempt", c.Attempts, c.Body)
	}

	// Without retries the reset is reported as a connection failure.
	opts := testOptions()
	opts.MaxRetries = -1
	g := newTestFetcher(t, opts)
	url2 := rawServer(t, func(n int, c net.Conn) {
		readRequest(c)
		c.(*net.TCPConn).SetLinger(0)
	})
	_, err = g.Fetch(context.Background(), url2+"/a")
	if fe := fetchErr(t, err, record.ReasonNetwork); !fe.Retryable() {
		t.Error("a reset should be retryable")
	}
}

func TestFetchSlowServers(t *testing.T) {
	tests := []struct {
		name    string
		serve   func(n int, c net.Conn)
		read    time.Duration
		total   time.Duration
		retries int
		bound   time.Duration
		message string
	}{
		{
			name:    "accepts and never answers",
			serve:   func(n int, c net.Conn) { readRequest(c); time.Sleep(5 * time.Second) },
			read:    300 * time.Millisecond,
			total:   10 * time.Second,
			retries: 1,
			bound:   3 * time.Second,
			message: "--read-timeout",
		},
		{
			name: "stops in the middle of the body",
			serve: func(n int, c net.Conn) {
				readRequest(c)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body>")
				time.Sleep(5 * time.Second)
			},
			read:    300 * time.Millisecond,
			total:   10 * time.Second,
			retries: -1,
			bound:   2 * time.Second,
			message: "--read-timeout",
		},
		{
			name: "trickles a byte at a time",
			serve: func(n int, c net.Conn) {
				readRequest(c)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
				for i := 0; i < 100; i++ {
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			},
			read:    time.Second,
			total:   600 * time.Millisecond,
			retries: -1,
			bound:   2 * time.Second,
			message: "--timeout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, tt.serve)
			opts := testOptions()
			opts.ReadTimeout, opts.Timeout, opts.MaxRetries = tt.read, tt.total, tt.retries
			f := newTestFetcher(t, opts)
			start := time.Now()
			_, err := f.Fetch(context.Background(), url+"/a")
			elapsed := time.Since(start)
			fe := fetchErr(t, err, record.ReasonTimeout)
			if !fe.Retryable() || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("retryable %v, message %q should mention %q", fe.Retryable(), err, tt.message)
			}
			if elapsed > tt.bound {
				t.Errorf("gave up after %v, want within %v", elapsed, tt.bound)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	mux := http.NewServeMux()
	hop := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusMovedPermanently) }
	}
	mux.HandleFunc("GET /a", hop("/b"))
	mux.HandleFunc("GET /b", hop("/c"))
	mux.HandleFunc("GET /c", htmlHandler(testPage))
	mux.HandleFunc("GET /x", hop("/y"))
	mux.HandleFunc("GET /y", hop("/x"))
	mux.HandleFunc("GET /n/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.PathValue("i"))
		http.Redirect(w, r, fmt.Sprintf("/n/%d", i+1), http.StatusFound)
	})
	var selfHits atomic.Int32
	mux.HandleFunc("GET /self", func(w http.ResponseWriter, r *http.Request) {
		if selfHits.Add(1) == 1 {
			http.SetCookie(w, &http.Cookie{Name: "seen", Value: "1"})
			http.Redirect(w, r, "/self", http.StatusFound)
			return
		}
		htmlHandler(testPage)(w, r)
	})
	pub := newPublisher(t, "127.0.0.1:0", mux)
	opts := testOptions()
	opts.MaxRedirects = 5
	f := newTestFetcher(t, opts)
	ctx := context.Background()

	c, err := f.Fetch(ctx, pub.URL+"/a")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{pub.URL + "/a", pub.URL + "/b", pub.URL + "/c"}
	if !slices.Equal(c.Chain, want) || c.FinalURL != pub.URL+"/c" || c.URL != pub.URL+"/a" {
		t.Errorf("chain %q final %q, want %q", c.Chain, c.FinalURL, want)
	}

	c, err = f.Fetch(ctx, pub.URL+"/self")
	if err != nil || len(c.Chain) != 2 {
		t.Errorf("redirect to self to set a cookie: chain %v, err %v", c, err)
	}

	c, err = f.Fetch(ctx, pub.URL+"/x")
	fetchErr(t, err, record.ReasonRedirectLoop)
	if c == nil || len(c.Chain) < 3 {
		t.Errorf("loop capture should record the chain: %+v", c)
	}
	if n := pub.hits("/x") + pub.hits("/y"); n != 4 {
		t.Errorf("loop followed for %d requests, want 4 (x, y, x, y)", n)
	}

	_, err = f.Fetch(ctx, pub.URL+"/n/0")
	fe := fetchErr(t, err, record.ReasonTooManyRedirects)
	if fe.Retryable() || !strings.Contains(err.Error(), "--max-redirects") {
		t.Errorf("retryable %v message %q", fe.Retryable(), err)
	}
	if n := pub.hitsPrefix("/n/"); n != 6 {
		t.Errorf("server saw %d requests, want 6 (the first and 5 redirects)", n)
	}
}

func TestFetchSSRF(t *testing.T) {
	target := newPublisher(t, "127.0.0.1:0", htmlHandler("internal secrets"))
	ctx := context.Background()

	t.Run("private address refused", func(t *testing.T) {
		opts := testOptions()
		opts.AllowPrivate = false
		f := newTestFetcher(t, opts)
		for _, u := range []string{target.URL + "/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://localhost/", "http://2130706433/"} {
			_, err := f.Fetch(ctx, u)
			fe := fetchErr(t, err, record.ReasonForbiddenAddress)
			if !strings.Contains(err.Error(), "--allow-private") || fe.Retryable() {
				t.Errorf("%s: message %q, retryable %v", u, err, fe.Retryable())
			}
		}
		if n := target.hits(""); n != 0 {
			t.Errorf("private server got %d requests", n)
		}
	})

	t.Run("redirect to private address refused", func(t *testing.T) {
		// A "public" publisher: the test dialer sends public.example to a
		// loopback server and every other address through netguard.
		mux := http.NewServeMux()
		mux.HandleFunc("GET /literal", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/", http.StatusFound)
		})
		mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		})
		mux.HandleFunc("GET /loopname", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://localhost:"+target.URL[strings.LastIndex(target.URL, ":")+1:]+"/", http.StatusFound)
		})
		public := newPublisher(t, "127.0.0.1:0", mux)
		opts := testOptions()
		opts.AllowPrivate = false
		guarded := netguard.NewDialer(false, time.Second)
		f, err := newFetcher(opts, func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, _ := net.SplitHostPort(addr); host == "public.example" {
				var d net.Dialer
				return d.DialContext(ctx, network, public.Listener.Addr().String())
			}
			return guarded.DialContext(ctx, network, addr)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		base := "http://public.example:" + strings.Split(public.Listener.Addr().String(), ":")[1]
		for _, path := range []string{"/literal", "/metadata", "/loopname"} {
			c, err := f.Fetch(ctx, base+path)
			fetchErr(t, err, record.ReasonForbiddenAddress)
			if c == nil || len(c.Chain) != 2 {
				t.Errorf("%s: chain not recorded: %+v", path, c)
			}
		}
		if n := public.hits(""); n != 3 {
			t.Errorf("public server got %d requests, want 3", n)
		}
		if n := target.hits(""); n != 0 {
			t.Errorf("private server got %d requests through redirects", n)
		}
	})
}

// zeros streams n bytes of an HTML-looking body without holding them.
func zeros(w io.Writer, n int64) (int64, error) {
	chunk := bytes.Repeat([]byte("<p>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</p>\n"), 512)
	var sent int64
	for sent < n {
		k := min(int64(len(chunk)), n-sent)
		m, err := w.Write(chunk[:k])
		sent += int64(m)
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func gzipBomb(t *testing.T, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zeros(zw, size); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func TestFetchTooLarge(t *testing.T) {
	const maxBody = 1 << 20
	bomb := gzipBomb(t, 256<<20)
	tests := []struct {
		name  string
		serve http.HandlerFunc
	}{
		{"2 GB streamed body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			zeros(w, 2<<30)
		}},
		{"2 GB declared length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", strconv.Itoa(2<<30))
			zeros(w, 2<<30)
		}},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := newPublisher(t, "127.0.0.1:0", tt.serve)
			opts := testOptions()
			opts.MaxBody = maxBody
			f := newTestFetcher(t, opts)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := f.Fetch(context.Background(), pub.URL+"/big")
			runtime.ReadMemStats(&after)
			fe := fetchErr(t, err, record.ReasonTooLarge)
			if fe.Retryable() || !strings.Contains(err.Error(), "--max-body") {
				t.Errorf("retryable %v message %q", fe.Retryable(), err)
			}
			// Memory stays bounded by the cap, not by the body.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*maxBody {
				t.Errorf("allocated %d MiB for a %d MiB cap", alloc>>20, maxBody>>20)
			}
		})
	}
}

func TestFetchLyingContentLength(t *testing.T) {
	t.Run("shorter than declared", func(t *testing.T) {
		url := rawServer(t, func(n int, c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html><body>short")
		})
		opts := testOptions()
		opts.MaxRetries = -1
		f := newTestFetcher(t, opts)
		_, err := f.Fetch(context.Background(), url+"/a")
		if fe := fetchErr(t, err, record.ReasonTruncated); !fe.Retryable() {
			t.Error("a truncated body should be retryable")
		}
	})
	t.Run("longer than declared", func(t *testing.T) {
		url := rawServer(t, func(n int, c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\nConnection: close\r\n\r\n<html><body>and a lot more than twelve bytes")
		})
		f := newTestFetcher(t, testOptions())
		c, err := f.Fetch(context.Background(), url+"/a")
		if err != nil {
			t.Fatal(err)
		}
		if string(c.Raw) != "<html><body>" {
			t.Errorf("Raw = %q, want the declared 12 bytes", c.Raw)
		}
	})
}

func TestFetchNotHTML(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	tests := []struct {
		name    string
		ctype   string
		body    []byte
		stream  int64 // bytes streamed after body
		wantErr bool
		want    string // content type in the message
	}{
		{"pdf", "application/pdf", []byte("%PDF-1.7\n"), 256 << 20, true, "application/pdf"},
		{"video with a length over the cap", "video/mp4", []byte("\x00\x00\x00\x18ftypmp42"), 64 << 20, true, "video/mp4"},
		{"image", "image/jpeg", []byte("\xff\xd8\xff\xe0"), 64 << 20, true, "image/jpeg"},
		{"json", "application/json", []byte(`{"a":1}`), 0, true, "application/json"},
		{"png labelled html", "text/html", png, 0, true, "image/png"},
		{"pdf with no type", "", []byte("%PDF-1.7\n%âãÏÓ\n"), 0, true, "application/pdf"},
		{"plain text", "text/plain; charset=utf-8", []byte("just some words, no markup at all"), 0, true, "text/plain"},
		{"html as octet-stream", "application/octet-stream", []byte(testPage), 0, false, ""},
		{"html with no type", "", []byte(testPage), 0, false, ""},
		{"xhtml behind an xml declaration", "application/xml", []byte(`<?xml version="1.0"?>` + "\n" + testPage), 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int64
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.ctype}
				if strings.Contains(tt.name, "length") {
					w.Header().Set("Content-Length", strconv.FormatInt(int64(len(tt.body))+tt.stream, 10))
				}
				n, _ := w.Write(tt.body)
				sent.Add(int64(n))
				if tt.stream > 0 {
					m, _ := zeros(w, tt.stream)
					sent.Add(m)
				}
			}))
			f := newTestFetcher(t, testOptions())
			c, err := f.Fetch(context.Background(), pub.URL+"/doc")
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(c.Raw, tt.body) {
					t.Errorf("Raw = %q", c.Raw)
				}
				return
			}
			fe := fetchErr(t, err, record.ReasonNotHTML)
			if fe.Retryable() || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("retryable %v, message %q should name %q", fe.Retryable(), err, tt.want)
			}
			if tt.stream > 0 {
				// The client hung up early; only socket buffers' worth was sent.
				pub.Close()
				if s := sent.Load(); s > 32<<20 {
					t.Errorf("server sent %d MiB of a %d MiB document", s>>20, tt.stream>>20)
				}
			}
		})
	}
}

func TestFetchCharsets(t *testing.T) {
	for _, tt := range charsettest.Cases(t) {
		t.Run(tt.Name, func(t *testing.T) {
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.ContentType}
				w.Write(tt.Raw)
			}))
			f := newTestFetcher(t, testOptions())
			c, err := f.Fetch(context.Background(), pub.URL+"/a")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Raw, tt.Raw) {
				t.Errorf("Raw is not the bytes as sent:\n%q\nwant\n%q", c.Raw, tt.Raw)
			}
			if !bytes.Equal(c.Body, tt.Want) || c.Charset != tt.Charset {
				t.Errorf("charset %q, Body\n%s\nwant %q,\n%s", c.Charset, c.Body, tt.Charset, tt.Want)
			}
		})
	}
}

// encode applies content codings in order, as a server would.
func encode(t *testing.T, b []byte, codings ...string) []byte {
	t.Helper()
	for _, c := range codings {
		var buf bytes.Buffer
		var w io.WriteCloser
		switch c {
		case "gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			w = zlib.NewWriter(&buf)
		case "raw-deflate":
			w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
		case "br":
			w = brotli.NewWriter(&buf)
		default:
			t.Fatalf("unknown coding %q", c)
		}
		w.Write(b)
		w.Close()
		b = buf.Bytes()
	}
	return b
}

func TestFetchContentEncoding(t *testing.T) {
	cp1251 := charsettest.Fixture(t, "ru.windows-1251.html")
	ru := charsettest.Fixture(t, "ru.utf8.html")
	page := []byte(testPage)
	tests := []struct {
		name     string
		header   string // Content-Encoding
		body     []byte
		ctype    string
		wantRaw  []byte
		wantBody []byte
		reason   record.Reason
	}{
		{"gzip", "gzip", encode(t, page, "gzip"), "text/html", page, page, ""},
		{"x-gzip", "x-gzip", encode(t, page, "gzip"), "text/html", page, page, ""},
		{"deflate (zlib)", "deflate", encode(t, page, "deflate"), "text/html", page, page, ""},
		{"deflate (raw)", "deflate", encode(t, page, "raw-deflate"), "text/html", page, page, ""},
		{"brotli", "br", encode(t, page, "br"), "text/html", page, page, ""},
		{"gzip then brotli", "gzip, br", encode(t, page, "gzip", "br"), "text/html", page, page, ""},
		{"brotli windows-1251", "br", encode(t, cp1251, "br"), "text/html; charset=windows-1251", cp1251, ru, ""},
		{"gzip windows-1251", "gzip", encode(t, cp1251, "gzip"), "text/html; charset=windows-1251", cp1251, ru, ""},
		{"corrupt gzip", "gzip", append([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xff}, 64)...), "text/html", nil, nil, record.ReasonDecode},
		{"not gzip at all", "gzip", page, "text/html", nil, nil, record.ReasonDecode},
		{"unasked coding", "zstd", page, "text/html", nil, nil, record.ReasonDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ae := r.Header.Get("Accept-Encoding"); !strings.Contains(ae, "br") || !strings.Contains(ae, "gzip") {
					t.Errorf("Accept-Encoding = %q", ae)
				}
				w.Header().Set("Content-Type", tt.ctype)
				w.Header().Set("Content-Encoding", tt.header)
				w.Write(tt.body)
			}))
			opts := testOptions()
			opts.MaxRetries = -1
			f := newTestFetcher(t, opts)
			c, err := f.Fetch(context.Background(), pub.URL+"/a")
			if tt.reason != "" {
				fetchErr(t, err, tt.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Raw, tt.wantRaw) || !bytes.Equal(c.Body, tt.wantBody) {
				t.Errorf("Raw %q\nBody %q", c.Raw, c.Body)
			}
			if c.Header.Get("Content-Encoding") != tt.header {
				t.Errorf("Header lost Content-Encoding: %v", c.Header)
			}
		})
	}
}

func TestFetchBadURL(t *testing.T) {
	f := newTestFetcher(t, testOptions())
	for _, u := range []string{"", "not a url", "ftp://example.com/file", "http://", "mailto:someone@example.com", "http://[::1"} {
		_, err := f.Fetch(context.Background(), u)
		if fe := fetchErr(t, err, record.ReasonBadURL); fe.Retryable() || fe.URL != u {
			t.Errorf("%q: retryable %v, URL %q", u, fe.Retryable(), fe.URL)
		}
	}
}

func TestFetchTLSFailure(t *testing.T) {
	// A self-signed certificate the fetcher has no reason to trust.
	srv := httptest.NewTLSServer(htmlHandler(testPage))
	t.Cleanup(srv.Close)
	f := newTestFetcher(t, testOptions())
	_, err := f.Fetch(context.Background(), srv.URL+"/a")
	if fe := fetchErr(t, err, record.ReasonTLS); fe.Retryable() {
		t.Error("a certificate failure should not be retried")
	}
}

func TestFetchOptions(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.HostInterval != DefaultHostInterval || o.MaxBody != DefaultMaxBody || o.Timeout != DefaultTimeout ||
		o.MaxRetries != DefaultMaxRetries || o.MaxRedirects != DefaultMaxRedirects || o.UserAgent != buildinfo.UserAgent() || o.Logger == nil {
		t.Errorf("defaults not applied: %+v", o)
	}
	for name, bad := range map[string]Options{
		"header injection in UA": {UserAgent: "linkarc\r\nX-Evil: 1"},
		"negative timeout":       {Timeout: -time.Second},
		"negative body cap":      {MaxBody: -1},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("%s: New accepted %+v", name, bad)
		}
	}
	if f := newTestFetcher(t, Options{UserAgent: "Linkarc/1.2 (+https://x)"}); f.robotsAgent != "Linkarc" {
		t.Errorf("robots.txt product token = %q", f.robotsAgent)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 3, 5, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Tue, 05 Mar 2024 08:31:30 GMT", 90 * time.Second, true},
		{"Tue, 05 Mar 2024 08:00:00 GMT", 0, true}, // in the past: now
		{"99999999999999999999", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	f := newTestFetcher(t, Options{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for n, hi := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 80: time.Second} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := f.backoff(n)
			if d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, hi/2, hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) has no jitter: %d distinct values in 50", n, len(seen))
		}
	}
}

// BenchmarkFetch measures the fetcher's cost per page against a plain
// net/http client fetching the same loopback page in the same run.
func BenchmarkFetch(b *testing.B) {
	page := bytes.Repeat([]byte("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n"), 1600) // ~100 KB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	b.Cleanup(srv.Close)
	b.Run("linkarc", func(b *testing.B) {
		f, err := New(testOptions())
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Fetch(context.Background(), srv.URL+"/a"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(srv.URL + "/a")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}
