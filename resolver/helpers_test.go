package resolver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// newFake starts a fake Google News for one test.
func newFake(t testing.TB, opts gnewstest.Options) *gnewstest.Server {
	t.Helper()
	f := gnewstest.NewServer(opts)
	t.Cleanup(f.Close)
	return f
}

// newTestResolver points every Google host at the fake, without spacing.
func newTestResolver(t testing.TB, f *gnewstest.Server, mod func(*Options)) *Resolver {
	t.Helper()
	opts := Options{
		GNewsBase:   f.NewsURL(),
		ConsentBase: f.ConsentURL(),
		Interval:    -1,
		Timeout:     5 * time.Second,
		Logger:      testLogger(t),
	}
	if mod != nil {
		mod(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testLogger(t testing.TB) *slog.Logger {
	if tt, ok := t.(*testing.T); ok && testing.Verbose() {
		return slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// publisher is a loopback site standing in for the publishers; the
// resolver must never contact it while resolving Google News links.
type publisher struct {
	*httptest.Server
	hits atomic.Int64
}

func newPublisher(t testing.TB) *publisher {
	t.Helper()
	p := &publisher{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		fmt.Fprintf(w, "<html><title>%s</title></html>", r.URL.Path)
	}))
	t.Cleanup(p.Close)
	return p
}

// mint registers n articles whose publisher URLs are on p (or a fixed
// host when p is nil) and returns their links and URLs.
func mint(f *gnewstest.Server, p *publisher, n int, prefix string) (links, urls []string) {
	base := "https://publisher.example"
	if p != nil {
		base = p.URL
	}
	for i := range n {
		u := fmt.Sprintf("%s/%s/%03d?src=gn&i=%d", base, prefix, i, i)
		links = append(links, f.NewArticle(u))
		urls = append(urls, u)
	}
	return links, urls
}

// want checks one result.
func wantURL(t testing.TB, res Result, url, method string) {
	t.Helper()
	if res.Err != nil || res.URL != url || res.Method != method {
		t.Errorf("%.60s: got URL %q method %q err %v; want %q via %s", res.Input, res.URL, res.Method, res.Err, url, method)
	}
}

func wantKind(t testing.TB, res Result, kind record.Reason) {
	t.Helper()
	if res.Err == nil || res.Err.Kind != kind || res.URL != "" {
		t.Errorf("%.60s: got URL %q err %v; want error kind %s", res.Input, res.URL, res.Err, kind)
		return
	}
	if res.Err.Message == "" || res.Err.Error() == "" {
		t.Errorf("%.60s: error without a message", res.Input)
	}
}

// counts asserts the fake's request counts.
func counts(t testing.TB, f *gnewstest.Server, articles, posts int) {
	t.Helper()
	if a, p := f.Count(gnewstest.KindArticle), f.Count(gnewstest.KindBatchexecute); a != articles || p != posts {
		t.Errorf("requests: %d article GETs and %d POSTs, want %d and %d", a, p, articles, posts)
	}
	for _, k := range []gnewstest.Kind{gnewstest.KindSorry, gnewstest.KindLegacy, gnewstest.KindOther} {
		if n := f.Count(k); n != 0 {
			t.Errorf("%d requests of kind %s, want none", n, k)
		}
	}
	for _, r := range f.Requests() {
		if r.Cookie != "" {
			t.Errorf("request %s %s sent Cookie %q", r.Method, r.Path, r.Cookie)
		}
	}
}

func bg() context.Context { return context.Background() }
