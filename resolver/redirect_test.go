package resolver

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// shortener is a loopback site with the redirect shapes found in feeds.
func shortener(t *testing.T, googleLink string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusMovedPermanently) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/c?x=1#frag", http.StatusFound) })
	mux.HandleFunc("/c", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html><title>article</title></html>") })
	mux.HandleFunc("/meta", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><!-- <meta http-equiv="refresh" content="0;url=/decoy"> --><META HTTP-EQUIV="Refresh" CONTENT="0; URL='/c?from=meta'"></head><body>redirecting</body></html>`)
	})
	mux.HandleFunc("/header", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Refresh", "0;url=/c?from=header")
		fmt.Fprint(w, "redirecting")
	})
	// The noscript form (Google Alerts, trackers) is followed from a hop
	// page, not from an article that points script-less readers to a notice.
	mux.HandleFunc("/noscript", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><script>location.replace("/c?from=noscript")</script><noscript><meta http-equiv="refresh" content="0;url='/c?from=noscript'"></noscript></head><body></body></html>`)
	})
	mux.HandleFunc("/article-nojs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><noscript><meta http-equiv="refresh" content="0;url=/c?from=notice"></noscript></head><body><article><p>`+
			strings.Repeat("The council approved the harbour plan after a long debate. ", 8)+`</p></article></body></html>`)
	})
	mux.HandleFunc("/feedproxy", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/meta", http.StatusSeeOther) })
	mux.HandleFunc("/loop1", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop2", http.StatusFound) })
	mux.HandleFunc("/loop2", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop1", http.StatusFound) })
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("seen"); err == nil {
			fmt.Fprint(w, "<html><title>article behind a cookie check</title></html>")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: "1"})
		http.Redirect(w, r, "/cookie", http.StatusFound)
	})
	mux.HandleFunc("/self", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/self", http.StatusFound) })
	mux.HandleFunc("/endless/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		http.Redirect(w, r, fmt.Sprintf("/endless/%d", n+1), http.StatusFound)
	})
	mux.HandleFunc("/nolocation", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusFound) })
	mux.HandleFunc("/js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "javascript:alert(1)")
		w.WriteHeader(302)
	})
	mux.HandleFunc("/dead", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/gone", http.StatusFound) })
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/walled", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/forbidden", http.StatusFound) })
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bots not welcome", http.StatusForbidden) })
	mux.HandleFunc("/toomany", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "slow down", http.StatusTooManyRequests) })
	mux.HandleFunc("/google", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, googleLink, http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Spec issue item 7: generic redirects, followed through the SSRF guard.
func TestGenericRedirects(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	gLink := f.NewArticle("https://publisher.example/via-shortener")
	s, _ := shortener(t, gLink)
	u := func(p string) string { return s.URL + p }
	r := newTestResolver(t, f, func(o *Options) { o.AllowPrivate = true })
	tests := []struct {
		in, url string
		chain   []string
		kind    record.Reason
		method  string
	}{
		{in: u("/a"), url: u("/c?x=1"), chain: []string{u("/a"), u("/b"), u("/c?x=1")}},
		{in: u("/feedproxy"), url: u("/c?from=meta"), chain: []string{u("/feedproxy"), u("/meta"), u("/c?from=meta")}},
		{in: u("/header"), url: u("/c?from=header"), chain: []string{u("/header"), u("/c?from=header")}},
		{in: u("/noscript"), url: u("/c?from=noscript"), chain: []string{u("/noscript"), u("/c?from=noscript")}},
		{in: u("/article-nojs"), url: u("/article-nojs"), chain: []string{u("/article-nojs")}},
		{in: u("/c"), url: u("/c"), chain: []string{u("/c")}},
		{in: u("/walled"), url: u("/forbidden"), chain: []string{u("/walled"), u("/forbidden")}},
		{in: u("/google"), url: "https://publisher.example/via-shortener", chain: []string{u("/google"), gLink}, method: MethodBatchexecute},
		// One redirect policy with the fetcher: a URL may come back once
		// (a page setting a cookie), the third visit is a loop.
		{in: u("/loop1"), kind: record.ReasonRedirectLoop, chain: []string{u("/loop1"), u("/loop2"), u("/loop1"), u("/loop2"), u("/loop1")}},
		{in: u("/self"), kind: record.ReasonRedirectLoop, chain: []string{u("/self"), u("/self"), u("/self")}},
		{in: u("/cookie"), url: u("/cookie"), chain: []string{u("/cookie"), u("/cookie")}},
		{in: u("/endless/0"), kind: record.ReasonTooManyRedirects},
		{in: u("/nolocation"), kind: record.ReasonBadRedirect},
		{in: u("/js"), kind: record.ReasonBadRedirect},
		{in: u("/dead"), kind: "http_404", chain: []string{u("/dead"), u("/gone")}},
		{in: u("/toomany"), kind: "http_429"},
		{in: "http://127.0.0.1:1/closed", kind: record.ReasonNetwork},
	}
	inputs := make([]string, len(tests))
	for i, tt := range tests {
		inputs[i] = tt.in
	}
	res := r.Resolve(bg(), inputs)
	for i, tt := range tests {
		got := res[i]
		if tt.kind != "" {
			wantKind(t, got, tt.kind)
		} else {
			wantURL(t, got, tt.url, cmp.Or(tt.method, MethodRedirect))
		}
		if tt.chain != nil && strings.Join(got.Chain, " ") != strings.Join(tt.chain, " ") {
			t.Errorf("%s: chain %q, want %q", tt.in, got.Chain, tt.chain)
		}
		if tt.kind == record.ReasonTooManyRedirects && len(got.Chain) != MaxRedirects+1 {
			t.Errorf("%s: chain of %d, want %d", tt.in, len(got.Chain), MaxRedirects+1)
		}
	}
	// The Google News hop went to the fake, never through the shortener's transport.
	counts(t, f, 1, 1)
	if r.RateLimited() {
		t.Error("a publisher's 429 stopped the Google resolver")
	}
}

// Without AllowPrivate, a loopback target is refused at dial time and never
// contacted, whether it is the link itself or a redirect hop.
func TestGenericRedirectSSRFGuard(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	s, hits := shortener(t, "")
	r := newTestResolver(t, f, nil) // AllowPrivate false
	res := r.Resolve(bg(), []string{s.URL + "/a", "http://localhost:1/x", "http://[::1]:1/x", "http://0x7f.1/x"})
	for _, rr := range res {
		wantKind(t, rr, record.ReasonForbiddenAddress)
	}
	if hits.Load() != 0 {
		t.Errorf("the loopback server was contacted %d times", hits.Load())
	}

	for _, rr := range res {
		if !strings.Contains(rr.Err.Message, "--allow-private") {
			t.Errorf("%s: message %q does not say how to allow it", rr.Input, rr.Err.Message)
		}
	}
}

// Duplicate generic links cost one chain; many links are followed with
// bounded concurrency and come back in order.
func TestGenericRedirectDedupAndOrder(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	s, hits := shortener(t, "")
	var inputs []string
	for i := range 20 {
		inputs = append(inputs, fmt.Sprintf("%s/a?n=%d", s.URL, i%10))
	}
	r := newTestResolver(t, f, func(o *Options) { o.AllowPrivate = true; o.Concurrency = 3 })
	for i, res := range r.Resolve(bg(), inputs) {
		if res.Input != inputs[i] || res.URL != s.URL+"/c?x=1" {
			t.Errorf("%d: %+v", i, res)
		}
	}
	if hits.Load() != 30 { // 10 distinct links × 3 hops
		t.Errorf("%d requests, want 30", hits.Load())
	}
}
