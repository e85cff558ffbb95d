package resolver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// The recorded real decode end to end: the fake serves the recorded page
// verbatim and accepts only Google's recorded signature for it.
func TestResolveRecordedDecode(t *testing.T) {
	rec, err := gnewstest.LoadRecording(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(t, gnewstest.Options{Recording: rec, Framing: gnewstest.FramingA})
	r := newTestResolver(t, f, nil)
	res := r.ResolveOne(bg(), rec.SourceURL)
	wantURL(t, res, rec.PublisherURL, MethodBatchexecute)
	counts(t, f, 1, 1)
	for _, q := range f.Requests() {
		if q.Kind == gnewstest.KindArticle && q.RawQuery != "ceid=US%3Aen&gl=US&hl=en-US" {
			t.Errorf("Step-1 query %q, want the default locale up front", q.RawQuery)
		}
		if q.Kind == gnewstest.KindBatchexecute && (len(q.IDs) != 1 || q.IDs[0] != rec.ID || !strings.HasPrefix(q.ContentType, "application/x-www-form-urlencoded")) {
			t.Errorf("POST carried %v as %q", q.IDs, q.ContentType)
		}
		if !strings.Contains(q.AcceptEncoding, "gzip") {
			t.Errorf("%s did not ask for gzip", q.Path)
		}
	}
}

// Spec §7 cases 15, 21 and 24: N ids cost N GETs and ⌈N/50⌉ POSTs, results
// come back in input order mapped by tag (the fake shuffles rows),
// duplicates and old ids cost nothing, Google sees one request at a time,
// and the publishers are never contacted.
func TestResolveBatchRequestCounts(t *testing.T) {
	for _, n := range []int{1, 2, 50, 51, 120} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newFake(t, gnewstest.Options{Seed: uint64(n)})
			pub := newPublisher(t)
			links, urls := mint(f, pub, n, "story")
			old := "https://news.google.com/rss/articles/" + gnewstest.EncodeOldID("https://old.example/a?b=c", "") + "?oc=5"
			inputs := append([]string{old}, links...)
			inputs = append(inputs, links[0], strings.Replace(links[n-1], "/rss/articles/", "/read/", 1), old)
			r := newTestResolver(t, f, nil)
			res := r.Resolve(bg(), inputs)
			if len(res) != len(inputs) {
				t.Fatalf("%d results for %d inputs", len(res), len(inputs))
			}
			wantURL(t, res[0], "https://old.example/a?b=c", MethodOffline)
			for i := range n {
				wantURL(t, res[i+1], urls[i], MethodBatchexecute)
			}
			wantURL(t, res[n+1], urls[0], MethodBatchexecute)
			wantURL(t, res[n+2], urls[n-1], MethodBatchexecute)
			wantURL(t, res[n+3], "https://old.example/a?b=c", MethodOffline)
			for i, rr := range res {
				if rr.Input != inputs[i] {
					t.Errorf("result %d is for input %q, want %q", i, rr.Input, inputs[i])
				}
			}
			posts := (n + DefaultBatchSize - 1) / DefaultBatchSize
			counts(t, f, n, posts)
			carried := 0
			for _, q := range f.Requests() {
				if q.Kind == gnewstest.KindBatchexecute {
					if len(q.IDs) > DefaultBatchSize {
						t.Errorf("a POST carried %d ids", len(q.IDs))
					}
					carried += len(q.IDs)
				}
			}
			if carried != n {
				t.Errorf("POSTs carried %d ids, want %d", carried, n)
			}
			if f.MaxInFlight() != 1 {
				t.Errorf("Google saw %d requests at once, want 1", f.MaxInFlight())
			}
			if pub.hits.Load() != 0 {
				t.Errorf("the publisher was contacted %d times", pub.hits.Load())
			}
			// Same Resolver again: its cache answers, Google sees nothing.
			f.ResetLog()
			for i, rr := range r.Resolve(bg(), links) {
				wantURL(t, rr, urls[i], MethodCache)
			}
			if f.Total() != 0 {
				t.Errorf("re-run made %d requests", f.Total())
			}
		})
	}
}

// POSTs go out as soon as BatchSize signatures are collected, so a
// signature never waits for the rest of the run.
func TestBatchSizeFlushesEarly(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, urls := mint(f, nil, 7, "b")
	r := newTestResolver(t, f, func(o *Options) { o.BatchSize = 3 })
	for i, res := range r.Resolve(bg(), links) {
		wantURL(t, res, urls[i], MethodBatchexecute)
	}
	var seq []string
	for _, q := range f.Requests() {
		if q.Kind == gnewstest.KindBatchexecute {
			seq = append(seq, fmt.Sprintf("P%d", len(q.IDs)))
		} else {
			seq = append(seq, "G")
		}
	}
	if got := strings.Join(seq, " "); got != "G G G P3 G G G P3 G P1" {
		t.Errorf("request sequence %q", got)
	}
}

// Spec §7 case 6: the locale goes up front (no hop); a same-host redirect
// is followed; the link's own locale is kept.
func TestLocale(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	id := f.NewID("https://p.example/de")
	hop := f.NewID("https://p.example/hop")
	f.Register(hop, gnewstest.Article{PublisherURL: "https://p.example/hop", Hops: 1})
	r := newTestResolver(t, f, func(o *Options) { o.HL, o.GL, o.CEID = "fr", "FR", "FR:fr" })
	res := r.Resolve(bg(), []string{
		"https://news.google.com/articles/" + id + "?hl=de&gl=DE&ceid=DE%3Ade",
		"https://news.google.com/rss/articles/" + hop,
	})
	wantURL(t, res[0], "https://p.example/de", MethodBatchexecute)
	wantURL(t, res[1], "https://p.example/hop", MethodBatchexecute)
	var queries []string
	for _, q := range f.Requests() {
		if q.Kind == gnewstest.KindArticle {
			queries = append(queries, q.RawQuery)
		}
	}
	want := []string{"ceid=DE%3Ade&gl=DE&hl=de", "ceid=FR%3Afr&gl=FR&hl=fr", "ceid=FR%3Afr&gl=FR&hl=fr&hop=1"}
	if strings.Join(queries, " ") != strings.Join(want, " ") {
		t.Errorf("Step-1 queries %q, want %q", queries, want)
	}
	counts(t, f, 3, 1)
}

// Spec §7 case 7: a page without signature is its own error, and the id is
// left out of the POST.
func TestNoSignature(t *testing.T) {
	f := newFake(t, gnewstest.Options{InterstitialUA: []string{"JS-Only-Browser"}})
	links, urls := mint(f, nil, 3, "x")
	bad := f.NewID("https://p.example/bad")
	f.Register(bad, gnewstest.Article{PublisherURL: "https://p.example/bad", Interstitial: true})

	r := newTestResolver(t, f, nil)
	res := r.Resolve(bg(), append(links, gnewstest.ArticleURL(bad)))
	for i := range links {
		wantURL(t, res[i], urls[i], MethodBatchexecute)
	}
	wantKind(t, res[3], record.ReasonNoSignature)
	counts(t, f, 4, 1)
	for _, q := range f.Requests() {
		if q.Kind == gnewstest.KindBatchexecute && len(q.IDs) != 3 {
			t.Errorf("POST carried %d ids, want 3", len(q.IDs))
		}
	}

	f.ResetLog()
	r = newTestResolver(t, f, func(o *Options) { o.UserAgent = "Mozilla/5.0 JS-Only-Browser/1.0" })
	for _, res := range r.Resolve(bg(), links) {
		wantKind(t, res, record.ReasonNoSignature)
	}
	counts(t, f, 3, 0)
}

// Spec §7 cases 8 and 9: the first 429 or /sorry stops every further Google
// signature page for the life of the Resolver; /sorry is never requested;
// the signatures already collected are still posted (Google's budget counts
// only the GETs), so the ids they cost are resolved, not wasted.
func TestRateLimitStopsEverything(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts gnewstest.Options
	}{
		{"429", gnewstest.Options{RateLimitAfter: 3}},
		{"sorry", gnewstest.Options{SorryAfter: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.opts)
			links, urls := mint(f, nil, 7, "rl")
			r := newTestResolver(t, f, func(o *Options) { o.BatchSize = 2 })
			res := r.Resolve(bg(), links)
			for i := range 3 {
				wantURL(t, res[i], urls[i], MethodBatchexecute)
			}
			for _, rr := range res[3:] {
				wantKind(t, rr, record.ReasonRateLimited)
			}
			if !r.RateLimited() {
				t.Error("RateLimited() = false")
			}
			counts(t, f, 4, 2) // ids 1–2 posted; id 3 signed, then posted after id 4's GET was refused
			if f.Count(gnewstest.KindSorry) != 0 {
				t.Error("the /sorry page was requested")
			}

			// Later calls: new ids make no request; offline and cached ones still resolve.
			f.ResetLog()
			more, _ := mint(f, nil, 2, "more")
			old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/", ""))
			res = r.Resolve(bg(), append(more, links[0], old))
			wantKind(t, res[0], record.ReasonRateLimited)
			wantKind(t, res[1], record.ReasonRateLimited)
			wantURL(t, res[2], urls[0], MethodCache)
			wantURL(t, res[3], "https://old.example/", MethodOffline)
			if f.Total() != 0 {
				t.Errorf("%d requests after the rate limit", f.Total())
			}
		})
	}
}

// A 429 on the POST stops the Resolver too.
func TestRateLimitOnPost(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, _ := mint(f, nil, 4, "p")
	f.SetPostOverride(&gnewstest.PostOverride{Status: 429, ContentType: "text/html", Body: "<title>Error 429 (Too Many Requests)!!1</title>"})
	r := newTestResolver(t, f, func(o *Options) { o.BatchSize = 2 })
	for _, res := range r.Resolve(bg(), links) {
		wantKind(t, res, record.ReasonRateLimited)
	}
	counts(t, f, 2, 1)
}

// Spec §7 case 10: the EU consent detour works for a cookieless client and
// never sends a Cookie; a consent wall is its own error.
func TestConsent(t *testing.T) {
	f := newFake(t, gnewstest.Options{Consent: true})
	links, urls := mint(f, nil, 2, "eu")
	r := newTestResolver(t, f, nil)
	for i, res := range r.Resolve(bg(), links) {
		wantURL(t, res, urls[i], MethodBatchexecute)
	}
	counts(t, f, 4, 1) // each id: article → consent → article
	if n := f.Count(gnewstest.KindConsent); n != 2 {
		t.Errorf("%d consent requests, want 2", n)
	}

	wall := newFake(t, gnewstest.Options{Consent: true, ConsentWall: true})
	links, _ = mint(wall, nil, 2, "eu")
	r = newTestResolver(t, wall, nil)
	for _, res := range r.Resolve(bg(), links) {
		wantKind(t, res, record.ReasonConsent)
	}
	counts(t, wall, 2, 0)
}

// Spec §7 case 11: loops, too many hops and off-host redirects end the
// resolution; the off-host target is never contacted.
func TestGoogleRedirectLimits(t *testing.T) {
	var offHost atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { offHost.Add(1) }))
	defer elsewhere.Close()

	f := newFake(t, gnewstest.Options{})
	loop := f.NewID("https://p.example/loop")
	f.Register(loop, gnewstest.Article{PublisherURL: "https://p.example/loop", RedirectLoop: true})
	many := f.NewID("https://p.example/many")
	f.Register(many, gnewstest.Article{PublisherURL: "https://p.example/many", Hops: 20})
	five := f.NewID("https://p.example/five")
	f.Register(five, gnewstest.Article{PublisherURL: "https://p.example/five", Hops: MaxGoogleRedirects})
	away := f.NewID("https://p.example/away")
	f.Register(away, gnewstest.Article{PublisherURL: "https://p.example/away", RedirectTo: elsewhere.URL + "/article"})

	r := newTestResolver(t, f, nil)
	res := r.Resolve(bg(), []string{gnewstest.ArticleURL(loop), gnewstest.ArticleURL(many), gnewstest.ArticleURL(away), gnewstest.ArticleURL(five)})
	wantKind(t, res[0], record.ReasonRedirectLoop)
	wantKind(t, res[1], record.ReasonTooManyRedirects)
	wantKind(t, res[2], record.ReasonBadRedirect)
	wantURL(t, res[3], "https://p.example/five", MethodBatchexecute)
	// loop: 1 GET; many: 1 + 5 hops; away: 1; five: 1 + 5 hops.
	counts(t, f, 1+6+1+6, 1)
	if offHost.Load() != 0 {
		t.Errorf("the off-host redirect target was contacted")
	}
}

// Spec §7 case 12: /articles/ and /read/ links are resolved through
// /rss/articles/, never through the paths that 302 to /sorry.
func TestLegacyPathsNeverRequested(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	id := f.NewID("https://p.example/r")
	id2 := f.NewID("https://p.example/a")
	r := newTestResolver(t, f, nil)
	res := r.Resolve(bg(), []string{
		"https://news.google.com/read/" + id + "?hl=en-US&gl=US&ceid=US%3Aen",
		"https://news.google.com/articles/" + id2,
	})
	wantURL(t, res[0], "https://p.example/r", MethodBatchexecute)
	wantURL(t, res[1], "https://p.example/a", MethodBatchexecute)
	counts(t, f, 2, 1)
	if r.RateLimited() {
		t.Error("rate limited")
	}
}

// Spec §7 case 13: gzip is asked for and decoded (real-sized pages), and an
// oversize body is refused rather than parsed in part.
func TestGzipAndBodyCap(t *testing.T) {
	for _, noGzip := range []bool{false, true} {
		f := newFake(t, gnewstest.Options{PagePadding: 700 << 10, NoGzip: noGzip})
		links, urls := mint(f, nil, 2, "gz")
		r := newTestResolver(t, f, nil)
		for i, res := range r.Resolve(bg(), links) {
			wantURL(t, res, urls[i], MethodBatchexecute)
		}
		r = newTestResolver(t, f, func(o *Options) { o.MaxBody = 256 << 10 })
		for _, res := range r.Resolve(bg(), links[:1]) {
			wantKind(t, res, record.ReasonTooLarge)
		}
		counts(t, f, 3, 1)
	}
}

// Spec §7 cases 14 and 22: a signature the server no longer accepts fails
// that id with rpc_error; the failure is not cached, and a re-run fetches a
// fresh signature rather than reusing the old one.
func TestExpiredSignature(t *testing.T) {
	var skew atomic.Int64 // seconds added to the fake's clock
	f := newFake(t, gnewstest.Options{TTL: time.Minute, Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load()) * time.Second) }})
	links, urls := mint(f, nil, 1, "ttl")
	cache := NewMemoryCache()
	r := newTestResolver(t, f, func(o *Options) {
		o.Cache = cache
		o.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPost {
				skew.Store(120) // the page is two minutes old by the time it is posted
			}
			return http.DefaultTransport.RoundTrip(req)
		})
	})
	wantKind(t, r.ResolveOne(bg(), links[0]), record.ReasonRPCError)
	if _, ok, _ := cache.Get(bg(), parseInput(links[0]).id); ok {
		t.Error("a failure was cached")
	}
	skew.Store(0)
	r = newTestResolver(t, f, func(o *Options) { o.Cache = cache })
	wantURL(t, r.ResolveOne(bg(), links[0]), urls[0], MethodBatchexecute)
	counts(t, f, 2, 2)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Spec §7 cases 16 and 17: both framings, B also without rt=c, and URLs
// with escaped = and & come back unescaped.
func TestFramingsEndToEnd(t *testing.T) {
	for _, fr := range []gnewstest.Framing{gnewstest.FramingAuto, gnewstest.FramingA, gnewstest.FramingB} {
		f := newFake(t, gnewstest.Options{Framing: fr})
		links, urls := mint(f, nil, 3, "fr")
		one, u1 := mint(f, nil, 1, "one")
		r := newTestResolver(t, f, nil)
		for i, res := range r.Resolve(bg(), links) {
			wantURL(t, res, urls[i], MethodBatchexecute)
		}
		wantURL(t, r.ResolveOne(bg(), one[0]), u1[0], MethodBatchexecute)
		if !strings.Contains(urls[0], "?src=gn&i=0") {
			t.Fatal("test URLs lost their = and &")
		}
	}
}

// Spec §7 cases 18 and 20: per-id failures inside a batch hit only their id.
func TestPartialBatch(t *testing.T) {
	f := newFake(t, gnewstest.Options{Seed: 7})
	links, urls := mint(f, nil, 3, "ok")
	reg := func(a gnewstest.Article) string {
		id := f.NewID(a.PublisherURL)
		f.Register(id, a)
		return gnewstest.ArticleURL(id)
	}
	inputs := []string{
		links[0],
		reg(gnewstest.Article{PublisherURL: "https://p.example/e", RPCError: 3}),
		links[1],
		reg(gnewstest.Article{PublisherURL: "https://p.example/m", OmitRow: true}),
		reg(gnewstest.Article{PublisherURL: "https://p.example/c1", ConflictURL: "https://p.example/c2"}),
		reg(gnewstest.Article{PublisherURL: "javascript:alert(document.cookie)"}),
		reg(gnewstest.Article{PublisherURL: "https://p.example/\r\nSet-Cookie: a=b"}),
		reg(gnewstest.Article{PublisherURL: "https://news.google.com/rss/articles/CBMiAAA"}),
		links[2],
		gnewstest.ArticleURL(gnewstest.EncodeNewID("AU_yqLneverRegisteredWithTheFake")),
	}
	res := newTestResolver(t, f, nil).Resolve(bg(), inputs)
	wantURL(t, res[0], urls[0], MethodBatchexecute)
	wantKind(t, res[1], record.ReasonRPCError)
	wantURL(t, res[2], urls[1], MethodBatchexecute)
	wantKind(t, res[3], record.ReasonMissingInBatch)
	wantKind(t, res[4], record.ReasonParse)
	wantKind(t, res[5], record.ReasonParse)
	wantKind(t, res[6], record.ReasonParse)
	wantKind(t, res[7], record.ReasonParse)
	wantURL(t, res[8], urls[2], MethodBatchexecute)
	wantKind(t, res[9], record.ReasonRPCError)
	counts(t, f, len(inputs), 1)
}

// Spec §7 case 19: whole-POST failures are clean errors for every id of the
// batch, never a crash or a wrong URL.
func TestPostFailures(t *testing.T) {
	tests := []struct {
		name string
		o    gnewstest.PostOverride
		kind record.Reason
	}{
		{"400 er", gnewstest.PostOverride{Status: 400, ContentType: "application/json", Body: ")]}'\n\n103\n[[\"er\",null,null,null,null,400,null,null,null,3],[\"di\",11],[\"af.httprm\",10,\"1\",16]]\n25\n[[\"e\",4,null,null,139]]\n"}, "http_400"},
		{"500", gnewstest.PostOverride{Status: 500, ContentType: "text/html", Body: "<h1>Server Error</h1>"}, "http_500"},
		{"503", gnewstest.PostOverride{Status: 503, ContentType: "text/html", Body: ""}, "http_503"},
		{"empty 200", gnewstest.PostOverride{Status: 200, ContentType: "application/json"}, record.ReasonParse},
		{"garbage 200", gnewstest.PostOverride{Status: 200, ContentType: "application/json", Body: ")]}'\n\n{{{{not json"}, record.ReasonParse},
		{"no guard", gnewstest.PostOverride{Status: 200, ContentType: "application/json", Body: `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://evil.example/\",1]",null,null,null,"1"]]`}, record.ReasonParse},
		{"html 200", gnewstest.PostOverride{Status: 200, ContentType: "text/html", Body: "<html><body>Sign in</body></html>"}, record.ReasonParse},
		{"redirect", gnewstest.PostOverride{Status: 302, ContentType: "text/html"}, "http_302"},
		{"rows for nobody", gnewstest.PostOverride{Status: 200, ContentType: "application/json", Body: ")]}'\n\n[[\"di\",1]]"}, record.ReasonMissingInBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, gnewstest.Options{})
			links, _ := mint(f, nil, 3, "pf")
			f.SetPostOverride(&tt.o)
			r := newTestResolver(t, f, nil)
			for _, res := range r.Resolve(bg(), links) {
				wantKind(t, res, tt.kind)
			}
			counts(t, f, 3, 1)
			if r.RateLimited() {
				t.Error("a non-429 failure stopped the resolver")
			}
		})
	}
}
