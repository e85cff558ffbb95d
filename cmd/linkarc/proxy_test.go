package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// forwardProxy is a loopback HTTP proxy that sends every request for
// news.google.test to the fake Google News. With follow set it follows
// redirects itself, as some proxies do, so that Google's redirect to /sorry
// reaches the client as the 200 CAPTCHA page.
type forwardProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // request targets, absolute
}

func newForwardProxy(t *testing.T, g *gnewstest.Server, follow bool) *forwardProxy {
	t.Helper()
	p := &forwardProxy{}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if follow {
		client.CheckRedirect = nil
	}
	news, _ := url.Parse(g.NewsURL())
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.URL.String())
		p.mu.Unlock()
		if r.URL.Host != "news.google.test" {
			http.Error(w, "this proxy only knows news.google.test", http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(r.Body)
		out := *r.URL
		out.Scheme, out.Host = news.Scheme, news.Host
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, out.String(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		req.Header.Del("Proxy-Connection")
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			if k == "Location" {
				for i := range v {
					v[i] = strings.Replace(v[i], g.NewsURL(), "http://news.google.test", 1)
				}
			}
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *forwardProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// Issue 12: the proxy the environment names (HTTP_PROXY for http, and
// HTTPS_PROXY for https, as Go's http.ProxyFromEnvironment reads them)
// carries linkarc's Google traffic; and a proxy that follows Google's
// redirect to /sorry hands over the CAPTCHA page, which stops the run with
// exit status 3. linkarc runs as a child process so that it reads its own
// environment.
func TestResolveGoogleThroughProxy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     gnewstest.Options
		follow   bool
		wantCode int
	}{
		{"resolved through the proxy", gnewstest.Options{}, false, exitOK},
		{"proxy hands over the CAPTCHA", gnewstest.Options{SorryAfter: 1}, true, exitRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, links, urls := fakeGoogle(t, tc.opts, 2)
			proxy := newForwardProxy(t, f, tc.follow)
			cmd := linkarcProcess([]string{"HTTP_PROXY=" + proxy.URL, "http_proxy=" + proxy.URL, "NO_PROXY=", "no_proxy="},
				append([]string{"resolve", "--no-cache", "--gnews-base", "http://news.google.test", "--gnews-interval", "0"}, links...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			_ = cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, stderr.String())
			}
			reqs := proxy.requests()
			if len(reqs) == 0 || f.Count(gnewstest.KindArticle) == 0 {
				t.Fatalf("Google traffic did not go through the proxy: proxy saw %v", reqs)
			}
			for _, r := range reqs {
				if !strings.HasPrefix(r, "http://news.google.test/") {
					t.Errorf("the proxy was asked for %s", r)
				}
			}
			switch tc.wantCode {
			case exitOK:
				if got := lines(stdout.String()); strings.Join(got, "|") != strings.Join(urls, "|") {
					t.Errorf("stdout %q", got)
				}
				if f.Count(gnewstest.KindBatchexecute) != 1 {
					t.Errorf("%d POSTs", f.Count(gnewstest.KindBatchexecute))
				}
			case exitRateLimited:
				// The first GET was answered, the second met the CAPTCHA,
				// then nothing more was asked.
				if n := f.Count(gnewstest.KindArticle); n != 2 {
					t.Errorf("%d article GETs, want 2", n)
				}
				contains(t, stderr.String(), "stderr", "rate-limited")
			}
		})
	}
}
