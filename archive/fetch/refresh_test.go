package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// articlePage is a page with content of its own.
var articlePage = `<!DOCTYPE html><html><head><title>Harbour plan</title></head><body><article><h1>Harbour plan approved</h1><p>` +
	strings.Repeat("The council approved the harbour plan after a long debate. ", 10) + `</p></article></body></html>`

func refreshPage(content string) string {
	return `<html><head><meta http-equiv="refresh" content="` + content + `"></head><body></body></html>`
}

// TestFetchRefresh: the fetcher follows the refreshes that redirect
// (issue 12: a meta-refresh hop page was stored as blocked/empty), by the
// rule it shares with the resolver (redirect.FindRefresh) and under the
// rules of 3xx redirects: one hop limit for both kinds, the loop rule,
// robots.txt, the chain recorded.
func TestFetchRefresh(t *testing.T) {
	mux := http.NewServeMux()
	serve := func(path, body string) {
		mux.HandleFunc("GET "+path, htmlHandler(body))
	}
	serve("/article", articlePage)
	serve("/hop", refreshPage("0; url=/article"))
	serve("/notice", refreshPage("3; url=/article"))
	serve("/reload", refreshPage("300; url=/article"))
	serve("/bare", refreshPage("0"))
	serve("/alerts", `<html><head><script>window.location.replace("/article")</script><noscript><meta http-equiv="refresh" content="0;url='/article'"></noscript></head><body></body></html>`)
	serve("/article-nojs", strings.Replace(articlePage, "<head>", `<head><noscript><meta http-equiv="refresh" content="0; url=/nojs"></noscript>`, 1))
	serve("/nojs", `<html><body><p>Please enable JavaScript.</p></body></html>`)
	serve("/loop-a", refreshPage("0; url=/loop-b"))
	serve("/loop-b", refreshPage("0; url=/loop-a"))
	serve("/private-hop", refreshPage("0; url=/private/a"))
	serve("/ftp", refreshPage("0; url=ftp://files.example/a"))
	serve("/mixed", refreshPage("0; url=/mixed-3xx"))
	mux.HandleFunc("GET /mixed-3xx", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hop", http.StatusFound) })
	mux.HandleFunc("GET /header", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Refresh", "0; url=/article")
		htmlHandler("<p>moved</p>")(w, r)
	})
	mux.HandleFunc("GET /r/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		htmlHandler(refreshPage(fmt.Sprintf("0; url=/r/%d", n+1)))(w, r)
	})
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "User-agent: *\nDisallow: /private/\n")
	})
	pub := newPublisher(t, "127.0.0.1:0", mux)
	u := func(p string) string { return pub.URL + p }
	// The absolute-URL hop names this server.
	mux.HandleFunc("GET /abs", htmlHandler(refreshPage("0;URL='"+u("/article")+"'")))

	tests := []struct {
		path   string
		final  string   // FinalURL when it succeeds
		chain  []string // when set
		reason record.Reason
	}{
		{path: "/hop", final: "/article", chain: []string{"/hop", "/article"}},
		{path: "/abs", final: "/article", chain: []string{"/abs", "/article"}},
		{path: "/header", final: "/article", chain: []string{"/header", "/article"}},
		{path: "/notice", final: "/article"},
		{path: "/alerts", final: "/article", chain: []string{"/alerts", "/article"}},
		{path: "/mixed", final: "/article", chain: []string{"/mixed", "/mixed-3xx", "/hop", "/article"}},
		{path: "/reload", final: "/reload", chain: []string{"/reload"}},
		{path: "/bare", final: "/bare", chain: []string{"/bare"}},
		{path: "/article-nojs", final: "/article-nojs", chain: []string{"/article-nojs"}},
		{path: "/loop-a", reason: record.ReasonRedirectLoop},
		{path: "/r/0", reason: record.ReasonTooManyRedirects},
		{path: "/private-hop", reason: record.ReasonRobots},
		{path: "/ftp", reason: record.ReasonBadRedirect},
	}
	opts := testOptions()
	opts.IgnoreRobots = false
	opts.MaxRedirects = 5
	f := newTestFetcher(t, opts)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c, err := f.Fetch(context.Background(), u(tt.path))
			if tt.reason != "" {
				fetchErr(t, err, tt.reason)
				if c == nil || len(c.Chain) == 0 {
					t.Errorf("no chain recorded: %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.FinalURL != u(tt.final) || c.URL != u(tt.path) {
				t.Errorf("URL %q final %q, want %q", c.URL, c.FinalURL, u(tt.final))
			}
			if tt.chain != nil {
				var want []string
				for _, p := range tt.chain {
					want = append(want, u(p))
				}
				if !slices.Equal(c.Chain, want) {
					t.Errorf("chain %q, want %q", c.Chain, want)
				}
			}
			if tt.final == "/article" && string(c.Body) != articlePage {
				t.Errorf("body is not the article: %.80q", c.Body)
			}
		})
	}
	if n := pub.hits("/private/a"); n != 0 {
		t.Errorf("a refresh into a disallowed path was requested %d times", n)
	}
	if n := pub.hitsPrefix("/r/"); n != 6 {
		t.Errorf("refresh chain followed for %d requests, want 6 (the first and 5 hops)", n)
	}
	if n := pub.hits("/nojs"); n != 0 {
		t.Errorf("the no-JavaScript notice of an article page was requested %d times", n)
	}
}

// TestFetchRefreshSSRF: a refresh to an internal address is refused like
// a 3xx redirect there, before any connection.
func TestFetchRefreshSSRF(t *testing.T) {
	inside := newPublisher(t, "127.0.0.1:0", htmlHandler("internal secrets"))
	public := newPublisher(t, "127.0.0.2:0", htmlHandler(refreshPage("0; url="+inside.URL+"/")))
	opts := testOptions()
	opts.AllowPrivate = false
	opts.AllowAddrs = []netip.AddrPort{netip.MustParseAddrPort(public.Listener.Addr().String())}
	f := newTestFetcher(t, opts)
	c, err := f.Fetch(context.Background(), public.URL+"/hop")
	fetchErr(t, err, record.ReasonForbiddenAddress)
	if c == nil || len(c.Chain) != 1 {
		t.Errorf("capture %+v, want the hop page's chain", c)
	}
	if n := inside.hits(""); n != 0 {
		t.Errorf("the internal server got %d requests", n)
	}
}
