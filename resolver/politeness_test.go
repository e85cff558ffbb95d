package resolver

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// fakeClock drives the limiter: sleeping advances it instantly.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return ctx.Err()
}

// Spec §7 case 21, with a fake clock: every Google request (GETs, redirect
// hops and POSTs alike) starts at least Interval after the previous one.
func TestIntervalFakeClock(t *testing.T) {
	const interval = 2 * time.Second
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	var mu sync.Mutex
	var starts []time.Time
	f := newFake(t, gnewstest.Options{Consent: true})
	links, urls := mint(f, nil, 5, "iv")
	r := newTestResolver(t, f, func(o *Options) {
		o.Interval = interval
		o.BatchSize = 2
		o.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			starts = append(starts, clock.now())
			mu.Unlock()
			return http.DefaultTransport.RoundTrip(req)
		})
	})
	r.now, r.sleep = clock.now, clock.sleep
	for i, res := range r.Resolve(bg(), links) {
		wantURL(t, res, urls[i], MethodBatchexecute)
	}
	// 5 ids × (article, consent, article) + 3 POSTs.
	if len(starts) != 18 {
		t.Fatalf("%d Google requests, want 18", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < interval {
			t.Errorf("request %d started %v after the previous one, want >= %v", i, gap, interval)
		}
	}
	if total := starts[len(starts)-1].Sub(starts[0]); total != 17*interval {
		t.Errorf("18 requests spread over %v of fake time, want exactly %v (no needless waiting)", total, 17*interval)
	}
}

// Spec §7 case 21, measured where it matters, at the server: consecutive
// article GETs arrive at least Interval apart. (Real clock; the assertion is
// a lower bound on spacing, never an upper bound on speed.)
func TestIntervalMeasuredAtServer(t *testing.T) {
	const interval = 40 * time.Millisecond
	f := newFake(t, gnewstest.Options{})
	links, urls := mint(f, nil, 4, "srv")
	r := newTestResolver(t, f, func(o *Options) { o.Interval = interval })
	for i, res := range r.Resolve(bg(), links) {
		wantURL(t, res, urls[i], MethodBatchexecute)
	}
	var gets []time.Time
	for _, q := range f.Requests() {
		gets = append(gets, q.Time)
	}
	if len(gets) != 5 {
		t.Fatalf("%d requests, want 4 GETs and a POST", len(gets))
	}
	for i := 1; i < len(gets); i++ {
		if gap := gets[i].Sub(gets[i-1]); gap < interval {
			t.Errorf("request %d arrived %v after the previous one, want >= %v", i, gap, interval)
		}
	}
}

// Spec §7 case 22 with the store cache: a second Resolver sharing the store
// (another machine, a later run) makes zero requests; failures are not
// cached; a corrupt entry is a miss, not a failure.
func TestStoreCache(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(t, gnewstest.Options{})
	links, urls := mint(f, nil, 60, "c")
	failing := f.NewID("https://p.example/fail")
	f.Register(failing, gnewstest.Article{PublisherURL: "https://p.example/fail", RPCError: 3})
	inputs := append(links, gnewstest.ArticleURL(failing))

	r := newTestResolver(t, f, func(o *Options) { o.Cache = NewStoreCache(st) })
	res := r.Resolve(bg(), inputs)
	for i := range links {
		wantURL(t, res[i], urls[i], MethodBatchexecute)
	}
	wantKind(t, res[60], record.ReasonRPCError)
	counts(t, f, 61, 2)

	// The entries are small JSON objects at documented keys.
	id0 := parseInput(links[0]).id
	b, err := os.ReadFile(dir + "/" + record.GNewsCacheKey(id0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"url":"`+strings.ReplaceAll(urls[0], "&", `\u0026`)+`"`) || !strings.Contains(string(b), `"id":"`+id0+`"`) {
		t.Errorf("cache entry %s", b)
	}
	if !strings.HasPrefix(record.GNewsCacheKey(id0), "cache/gnews/") || len(record.GNewsCacheKey(id0)) != len("cache/gnews/")+64+len(".json") {
		t.Errorf("GNewsCacheKey = %s", record.GNewsCacheKey(id0))
	}
	if _, err := os.Stat(dir + "/" + record.GNewsCacheKey(failing)); !os.IsNotExist(err) {
		t.Errorf("the failure was cached (stat err %v)", err)
	}
	n := 0
	_ = st.List(bg(), "cache/gnews/", func(storage.Info) error { n++; return nil })
	if n != 60 {
		t.Errorf("%d cache objects, want 60", n)
	}

	// A second store handle on the same directory: another process.
	st2, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.ResetLog()
	r2 := newTestResolver(t, f, func(o *Options) { o.Cache = NewStoreCache(st2) })
	res = r2.Resolve(bg(), links)
	for i := range links {
		wantURL(t, res[i], urls[i], MethodCache)
	}
	if f.Total() != 0 {
		t.Errorf("re-run with the store cache made %d requests", f.Total())
	}

	// The failure is retried with a fresh signature; a corrupt entry is a miss.
	if err := os.WriteFile(dir+"/"+record.GNewsCacheKey(parseInput(links[1]).id), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Register(failing, gnewstest.Article{PublisherURL: "https://p.example/fail"})
	res = r2.Resolve(bg(), []string{gnewstest.ArticleURL(failing), links[1]})
	wantURL(t, res[0], "https://p.example/fail", MethodBatchexecute)
	wantURL(t, res[1], urls[1], MethodBatchexecute)
	counts(t, f, 2, 1)
}

func TestMemoryCache(t *testing.T) {
	c := NewMemoryCache()
	if _, ok, err := c.Get(bg(), "x"); ok || err != nil {
		t.Fatalf("empty cache: ok %v err %v", ok, err)
	}
	if err := c.Put(bg(), "x", "https://a.example/"); err != nil {
		t.Fatal(err)
	}
	if u, ok, _ := c.Get(bg(), "x"); !ok || u != "https://a.example/" {
		t.Fatalf("Get = %q %v", u, ok)
	}
}

// Spec §7 case 23: a stalled answer (no headers, or a body that stops)
// ends within the per-request timeout, and only that id fails. If the
// timeout did not work, the fake would hold the request until the test
// binary's own deadline. The timeout is long enough for a loaded machine
// to answer the other ids (it only bounds the stalled one), so the test
// holds under .ci/run's CPU hog.
func TestTimeouts(t *testing.T) {
	for _, stall := range []gnewstest.Stall{gnewstest.StallHeaders, gnewstest.StallBody} {
		f := newFake(t, gnewstest.Options{})
		links, urls := mint(f, nil, 2, "to")
		slow := f.NewID("https://p.example/slow")
		f.Register(slow, gnewstest.Article{PublisherURL: "https://p.example/slow", Stall: stall})
		r := newTestResolver(t, f, func(o *Options) { o.Timeout = time.Second })
		res := r.Resolve(bg(), []string{links[0], gnewstest.ArticleURL(slow), links[1]})
		wantURL(t, res[0], urls[0], MethodBatchexecute)
		wantKind(t, res[1], record.ReasonTimeout)
		wantURL(t, res[2], urls[1], MethodBatchexecute)
	}
}

// Cancellation is reported as such, not as a timeout, and stops requests.
func TestCanceled(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, _ := mint(f, nil, 3, "cx")
	ctx, cancel := context.WithCancel(bg())
	cancel()
	for _, res := range newTestResolver(t, f, nil).Resolve(ctx, links) {
		wantKind(t, res, record.ReasonCanceled)
	}
	if f.Total() != 0 {
		t.Errorf("%d requests after cancellation", f.Total())
	}
}

// Look-alikes and garbage never cause a request (spec §7 case 1).
func TestInvalidInputsMakeNoRequest(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	r := newTestResolver(t, f, nil)
	id := briefIDs[0]
	res := r.Resolve(bg(), []string{
		"https://news.google.com.evil.example/rss/articles/" + id,
		"https://foo.news.google.com/rss/articles/" + id,
		"https://news.google.com/topics/CAAq",
		"https://news.google.com/rss/articles/CAIiEP3mC0iuRNhH9bQgc8yLWKsqFggEKg4IACoGCAowl6p7MN-zCTCOvRU",
		"garbage",
		"",
	})
	for i, rr := range res[:3] {
		wantKind(t, rr, record.ReasonInvalidURL)
		_ = i
	}
	wantKind(t, res[3], record.ReasonUnknownFormat)
	wantKind(t, res[4], record.ReasonInvalidURL)
	wantKind(t, res[5], record.ReasonInvalidURL)
	if f.Total() != 0 {
		t.Errorf("%d requests for invalid inputs", f.Total())
	}
}

func TestNewValidatesOptions(t *testing.T) {
	for _, o := range []Options{
		{GNewsBase: "news.google.com"},
		{GNewsBase: "ftp://news.google.com"},
		{ConsentBase: "https://consent.google.com?x=1"},
		{Timeout: -1},
		{BatchSize: -5},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.opts.Interval != DefaultInterval || r.opts.BatchSize != 50 || r.news.String() != DefaultGNewsBase || r.opts.MaxBody != 32<<20 {
		t.Errorf("defaults: %+v", r.opts)
	}
}
