package fetch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/linkarc/linkarc/archive/fetch/robotstxt"
	"github.com/linkarc/linkarc/storage/record"
)

// TestFetchRobotsRFC9309 puts the fetcher (not only the matcher) in front
// of robots.txt files as RFC 9309 reads them (issue 12): each case is a
// robots.txt, a path requested through Fetch, and whether the page is
// requested. Paths with raw UTF-8 are sent percent-encoded on the request
// line, as Go (and every browser) sends them.
func TestFetchRobotsRFC9309(t *testing.T) {
	big := strings.Repeat("# padding to push the next line past the 500 KiB the RFC asks to parse\n", robotstxt.MaxBytes/70+1)
	tests := []struct {
		name   string
		why    string
		robots string
		path   string
		allow  bool
	}{
		{"raw UTF-8 rule, percent-encoded request", "§2.2.2: both sides normalised (issue 12: /новости/ was fetched)",
			"User-agent: *\nDisallow: /новости/\n", "/новости/2026/story.html", false},
		{"raw UTF-8 rule, request of another path", "§2.2.2", "User-agent: *\nDisallow: /новости/\n", "/sport/story.html", true},
		{"percent-encoded rule, raw request", "§2.2.2", "User-agent: *\nDisallow: /%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/\n", "/новости/a", false},
		{"lower-case percent-encoding in the rule", "§2.2.2: %xx case is not significant", "User-agent: *\nDisallow: /%d0%bd/\n", "/н/a", false},
		{"equal Allow and Disallow: Allow wins", "§2.2.2: the least restrictive rule wins a tie (issue 12)",
			"User-agent: *\nDisallow: /test.html\nAllow: /test.html\n", "/test.html", true},
		{"equal rules the other way round", "§2.2.2", "User-agent: *\nAllow: /test.html\nDisallow: /test.html\n", "/test.html", true},
		{"longest match wins", "§2.2.2", "User-agent: *\nAllow: /news/\nDisallow: /news/private/\n", "/news/private/a", false},
		{"$ anchors the end", "§2.2.3", "User-agent: *\nDisallow: /*.php$\n", "/index.php", false},
		{"$ does not match a longer path", "§2.2.3", "User-agent: *\nDisallow: /*.php$\n", "/index.php5", true},
		{"* matches any run", "§2.2.3", "User-agent: *\nDisallow: /*/amp/\n", "/2026/amp/story", false},
		{"query is part of the path", "§2.2.2", "User-agent: *\nDisallow: /*?print=1\n", "/story?print=1", false},
		{"our group by its product token, any case", "§2.2.1", "User-agent: LINKARC-TEST\nDisallow: /mine/\n\nUser-agent: *\nDisallow: /\n", "/other", true},
		{"our group's rules, not *'s", "§2.2.1", "User-agent: linkarc-test\nDisallow: /mine/\n\nUser-agent: *\nDisallow: /\n", "/mine/a", false},
		{"groups for one agent are merged", "§2.2.1", "User-agent: linkarc-test\nDisallow: /a/\n\nUser-agent: other\nDisallow: /\n\nUser-agent: linkarc-test\nDisallow: /b/\n", "/b/x", false},
		{"byte order mark", "§2.2: Google's parser skips it", "\xef\xbb\xbfUser-agent: *\nDisallow: /bom/\n", "/bom/x", false},
		{"CRLF and CR line ends", "§2.2", "User-agent: *\r\nDisallow: /crlf/\rDisallow: /cr/\r\n", "/cr/x", false},
		{"a rule past 500 KiB is not read", "§2.5", "User-agent: *\n" + big + "Disallow: /late/\n", "/late/x", true},
		{"a rule before 500 KiB is", "§2.5", "User-agent: *\nDisallow: /early/\n" + big, "/early/x", false},
		{"empty Disallow allows", "§2.2.2", "User-agent: *\nDisallow:\n", "/a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.robots) })
			mux.HandleFunc("GET /", htmlHandler(testPage))
			pub := newPublisher(t, "127.0.0.1:0", mux)
			opts := testOptions()
			opts.IgnoreRobots = false
			f := newTestFetcher(t, opts)
			_, err := f.Fetch(context.Background(), pub.URL+tt.path)
			hits := pub.hits("") - pub.hits("/robots.txt")
			switch {
			case tt.allow && (err != nil || hits != 1):
				t.Errorf("want fetched (%s); err %v, %d requests", tt.why, err, hits)
			case !tt.allow:
				fetchErr(t, err, record.ReasonRobots)
				if hits != 0 {
					t.Errorf("disallowed page requested %d times (%s)", hits, tt.why)
				}
			}
		})
	}
}

// TestFetchRobotsRedirects: robots.txt redirects are followed up to
// robotstxt.MaxRedirects hops, across hosts, and the rules found apply to
// the origin first asked (RFC 9309 §2.3.1.2); past the limit, at a loop
// or at a hop the SSRF guard refuses, robots.txt counts as unavailable:
// no rules.
func TestFetchRobotsRedirects(t *testing.T) {
	rules := "User-agent: *\nDisallow: /private/\n"
	elsewhere := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rules.txt" {
			io.WriteString(w, rules)
			return
		}
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/hop/%d", &n); err == nil {
			if n <= 1 {
				http.Redirect(w, r, "/rules.txt", http.StatusMovedPermanently)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
			return
		}
		http.NotFound(w, r)
	}))
	tests := []struct {
		name     string
		location string // where the origin's /robots.txt redirects
		private  bool   // page under /private/
		allowed  bool
	}{
		{"one hop to another host: its rules apply here", elsewhere.URL + "/rules.txt", true, false},
		{"one hop, an allowed path", elsewhere.URL + "/rules.txt", false, true},
		{"five hops: still followed", elsewhere.URL + "/hop/4", true, false},
		{"six hops: unavailable, no rules", elsewhere.URL + "/hop/5", true, true},
		{"a loop: unavailable, no rules", "/robots.txt", true, true},
		{"no Location: no rules", "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
				if tt.location == "" {
					w.WriteHeader(http.StatusFound)
					return
				}
				http.Redirect(w, r, tt.location, http.StatusMovedPermanently)
			})
			mux.HandleFunc("GET /", htmlHandler(testPage))
			pub := newPublisher(t, "127.0.0.1:0", mux)
			opts := testOptions()
			opts.IgnoreRobots = false
			f := newTestFetcher(t, opts)
			path := "/public/a"
			if tt.private {
				path = "/private/a"
			}
			_, err := f.Fetch(context.Background(), pub.URL+path)
			if tt.allowed && err != nil {
				t.Fatalf("want allowed: %v", err)
			}
			if !tt.allowed {
				fetchErr(t, err, record.ReasonRobots)
			}
			if n := pub.hits("/robots.txt"); n > 2 {
				t.Errorf("robots.txt requested %d times", n)
			}
		})
	}

	t.Run("a hop to an internal address is not followed", func(t *testing.T) {
		// A "public" origin whose robots.txt redirects to loopback: the
		// guard refuses the hop, and robots.txt counts as unavailable.
		inside := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "User-agent: *\nDisallow: /\n") }))
		mux := http.NewServeMux()
		mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, inside.URL+"/robots.txt", http.StatusFound)
		})
		mux.HandleFunc("GET /", htmlHandler(testPage))
		public := newPublisher(t, "127.0.0.2:0", mux)
		ap := netip.MustParseAddrPort(public.Listener.Addr().String())
		opts := testOptions()
		opts.IgnoreRobots, opts.AllowPrivate, opts.AllowAddrs = false, false, []netip.AddrPort{ap}
		f := newTestFetcher(t, opts)
		if _, err := f.Fetch(context.Background(), public.URL+"/a"); err != nil {
			t.Fatal(err)
		}
		if n := inside.hits(""); n != 0 {
			t.Errorf("the internal server got %d requests", n)
		}
	})
}

// TestFetchRobotsUnreachable: a robots.txt that cannot be fetched at all
// (the connection is reset) means "disallow all" for now (RFC 9309
// §2.3.1.4): the page is not requested, the error is retryable and names
// what happened, and the next attempt asks again.
func TestFetchRobotsUnreachable(t *testing.T) {
	var pages atomic.Int32
	url := rawServer(t, func(n int, c net.Conn) {
		buf := make([]byte, 4096)
		k, _ := c.Read(buf)
		if strings.HasPrefix(string(buf[:k]), "GET /robots.txt") {
			c.(*net.TCPConn).SetLinger(0)
			return
		}
		pages.Add(1)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(testPage), testPage)
	})
	opts := testOptions()
	opts.IgnoreRobots = false
	opts.MaxRetries = 1
	f := newTestFetcher(t, opts)
	_, err := f.Fetch(context.Background(), url+"/a")
	fe := fetchErr(t, err, record.ReasonNetwork)
	if !fe.Retryable() || !strings.Contains(err.Error(), "robots.txt could not be fetched") || !strings.Contains(err.Error(), "RFC 9309") {
		t.Errorf("retryable %v, message %q", fe.Retryable(), err)
	}
	if n := pages.Load(); n != 0 {
		t.Errorf("the page was requested %d times while robots.txt was unreachable", n)
	}
	if fe.Attempts != 2 {
		t.Errorf("%d attempts, want 2: unreachable is not cached", fe.Attempts)
	}
}

// TestFetchHostUnreachable: a host that refuses connections is reported
// as unreachable, not as a robots.txt problem, and once a fetch has given
// up on it, later pages and requisites of the host fail without a dial.
// The proof is the dial count, not the time.
func TestFetchHostUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every connection is refused

	var dials atomic.Int32
	opts := testOptions()
	opts.IgnoreRobots = false
	opts.MaxRetries = 2
	opts.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == addr {
			dials.Add(1)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, a)
	}
	f := newTestFetcher(t, opts)
	ctx := context.Background()

	_, err = f.Fetch(ctx, "http://"+addr+"/first")
	fe := fetchErr(t, err, record.ReasonNetwork)
	msg := err.Error()
	if !strings.Contains(msg, "the host "+addr+" is unreachable (connection refused") || strings.Contains(msg, "RFC 9309") {
		t.Errorf("message %q: want the host named unreachable, not robots.txt blamed", msg)
	}
	if fe.Attempts != 3 || dials.Load() != 3 {
		t.Errorf("first page: %d attempts, %d dials; want 3 of each (retried as usual)", fe.Attempts, dials.Load())
	}

	_, err = f.Fetch(ctx, "http://"+addr+"/second")
	fe = fetchErr(t, err, record.ReasonNetwork)
	if fe.Attempts != 1 || !strings.Contains(err.Error(), "unreachable earlier in this run (connection refused)") {
		t.Errorf("second page: %d attempts, %q", fe.Attempts, err)
	}
	_, err = f.FetchAsset(ctx, "http://"+addr+"/tracker.js", AssetRequest{})
	fe = fetchErr(t, err, record.ReasonNetwork)
	if fe.Attempts != 1 {
		t.Errorf("requisite: %d attempts, want 1", fe.Attempts)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("%d dials in all, want the first page's 3: the host down was not remembered", n)
	}
}
