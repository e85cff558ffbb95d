package resolver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// collect is a Sink that records results in the order they came, with
// what the fake Google had served at that moment.
type collect struct {
	mu      sync.Mutex
	f       *gnewstest.Server
	order   []int
	res     map[int]Result
	served  map[int]int // input index -> requests the fake had logged when it came
	asking  int
	lastLog map[int]gnewstest.Request
}

func newCollect(f *gnewstest.Server) *collect {
	return &collect{f: f, res: map[int]Result{}, served: map[int]int{}, lastLog: map[int]gnewstest.Request{}}
}

func (c *collect) sink() Sink {
	return Sink{
		Result: func(i int, res Result) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if _, dup := c.res[i]; dup {
				panic("two results for one input")
			}
			c.order = append(c.order, i)
			c.res[i] = res
			if c.f != nil {
				log := c.f.Requests()
				c.served[i] = len(log)
				if len(log) > 0 {
					c.lastLog[i] = log[len(log)-1]
				}
			}
		},
		Asking: func(n int) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.asking += n
		},
	}
}

// TestStreamEmitsAsKnown: results that need no request come first, before
// Google has been asked anything; every Google result comes right after
// the POST that carried it returned, before the next signature GET; the
// batches are posted by the BatchWait rule.
func TestStreamEmitsAsKnown(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, urls := mint(f, nil, 12, "s")
	cache := NewMemoryCache()
	cached := f.NewID("https://publisher.example/cached")
	cache.Put(bg(), cached, "https://publisher.example/cached")
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/x", ""))
	inputs := append([]string{links[0], old, "not a link", gnewstest.ArticleURL(cached)}, links[1:]...)
	inputs = append(inputs, links[3]) // a duplicate: one resolution, two results

	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := newTestResolver(t, f, func(o *Options) {
		o.Interval = time.Second
		o.BatchWait = 4 * time.Second
		o.Cache = cache
	})
	r.now, r.sleep = clock.now, clock.sleep
	c := newCollect(f)
	r.Stream(bg(), inputs, c.sink())

	if len(c.order) != len(inputs) {
		t.Fatalf("%d results for %d inputs", len(c.order), len(inputs))
	}
	// No request was needed for the first three results.
	if got := c.order[:3]; !slices.Equal(got, []int{2, 1, 3}) {
		t.Errorf("first results are for inputs %v, want 2, 1, 3 (invalid, offline, cache)", got)
	}
	for _, i := range c.order[:3] {
		if c.served[i] != 0 {
			t.Errorf("input %d came after %d Google requests, want before any", i, c.served[i])
		}
	}
	if c.asking != 12 {
		t.Errorf("Asking said %d ids, want 12", c.asking)
	}
	wantURL(t, c.res[1], "https://old.example/x", MethodOffline)
	wantKind(t, c.res[2], record.ReasonInvalidURL)
	wantURL(t, c.res[3], "https://publisher.example/cached", MethodCache)
	// Every Google result came when the last request Google had served was
	// the POST carrying its id.
	for i, in := range inputs {
		if i >= 1 && i <= 3 {
			continue
		}
		want := urls[0]
		switch {
		case i == len(inputs)-1:
			want = urls[3]
		case i > 3:
			want = urls[i-3]
		}
		wantURL(t, c.res[i], want, MethodBatchexecute)
		last := c.lastLog[i]
		if last.Kind != gnewstest.KindBatchexecute || !slices.Contains(last.IDs, parseInput(in).id) {
			t.Errorf("input %d came after a %s request, not right after the POST carrying it", i, last.Kind)
		}
	}
	// Each GET takes a turn of 1 s: the oldest signature of a batch may
	// wait 4 s, so batches hold 5 ids (the first GET has no wait).
	var sizes []int
	for _, q := range f.Requests() {
		if q.Kind == gnewstest.KindBatchexecute {
			sizes = append(sizes, len(q.IDs))
		}
	}
	if !slices.Equal(sizes, []int{5, 5, 2}) {
		t.Errorf("batches of %v, want [5 5 2]", sizes)
	}
	if got, want := r.ExpectedTime(12), 15*time.Second; got != want {
		t.Errorf("ExpectedTime(12) = %v, want %v (12 GETs and 3 POSTs)", got, want)
	}
	// Told not to ask Google, it expects no time with Google at all.
	ng, err := New(Options{GNewsBase: f.NewsURL(), Interval: time.Second, NoGoogle: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ng.ExpectedTime(12); got != 0 {
		t.Errorf("NoGoogle: ExpectedTime(12) = %v, want 0", got)
	}
}

// TestStreamBatchWaitDefault: at the default, a batch holds
// DefaultBatchWaitTurns+1 signatures, and ExpectedTime says so.
func TestStreamBatchWaitDefault(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, _ := mint(f, nil, 25, "d")
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	var starts []time.Time
	var mu sync.Mutex
	r := newTestResolver(t, f, func(o *Options) {
		o.Interval = 2 * time.Second
		o.BatchWait = 0
		o.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			starts = append(starts, clock.now())
			mu.Unlock()
			return http.DefaultTransport.RoundTrip(req)
		})
	})
	r.now, r.sleep = clock.now, clock.sleep
	for _, res := range r.Resolve(bg(), links) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	var sizes []int
	for _, q := range f.Requests() {
		if q.Kind == gnewstest.KindBatchexecute {
			sizes = append(sizes, len(q.IDs))
		}
	}
	if !slices.Equal(sizes, []int{11, 11, 3}) {
		t.Errorf("batches of %v, want [11 11 3]", sizes)
	}
	// 28 requests, the first at once: 27 intervals.
	if took := starts[len(starts)-1].Sub(starts[0]); took != 27*2*time.Second {
		t.Errorf("the last request started %v after the first, want 54s", took)
	}
	if got := r.ExpectedTime(25); got != 56*time.Second {
		t.Errorf("ExpectedTime(25) = %v, want 56s", got)
	}
}

// TestStreamInterruptPostsCollected: an interrupt stops the signature
// GETs, but the signatures already collected are posted, their answers
// handed on and cached; the rest are canceled.
func TestStreamInterruptPostsCollected(t *testing.T) {
	// after: the interrupt comes once that many GETs have answered; 0:
	// while the POST is in flight.
	for _, after := range []int{1, 3, 5, 0} {
		f := newFake(t, gnewstest.Options{})
		links, urls := mint(f, nil, 8, "i")
		ctx, cancel := context.WithCancel(bg())
		defer cancel()
		var gets atomic.Int32
		cache := NewMemoryCache()
		r := newTestResolver(t, f, func(o *Options) {
			o.Cache = cache
			o.Interval = 5 * time.Millisecond
			o.BatchWait = -1 // one batch, posted at the end or at the interrupt
			o.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if req.Method == http.MethodPost && after == 0 {
					cancel()
				}
				resp, err := http.DefaultTransport.RoundTrip(req)
				if req.Method == http.MethodGet && gets.Add(1) == int32(after) {
					cancel() // the interrupt, right after this signature page arrived
				}
				return resp, err
			})
		})
		c := newCollect(nil)
		r.Stream(ctx, links, c.sink())
		if len(c.res) != len(links) {
			t.Fatalf("after %d: %d results for %d inputs", after, len(c.res), len(links))
		}
		posted := 0
		for _, q := range f.Requests() {
			if q.Kind == gnewstest.KindBatchexecute {
				posted += len(q.IDs)
			}
		}
		// The GET that saw the interrupt may still have delivered its
		// signature; either way every signature collected was posted.
		if after == 0 {
			after = len(links)
		}
		if posted < after-1 || posted > after {
			t.Errorf("after %d GETs: %d ids posted", after, posted)
		}
		for i := range links {
			res := c.res[i]
			if i < posted {
				wantURL(t, res, urls[i], MethodBatchexecute)
				if u, ok, _ := cache.Get(bg(), parseInput(links[i]).id); !ok || u != urls[i] {
					t.Errorf("after %d: answer %d not cached", after, i)
				}
				continue
			}
			wantKind(t, res, record.ReasonCanceled)
		}
	}
}

// closingListener accepts connections and closes them at once, counting
// them: a Google that cannot be reached.
func closingListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int32{}
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
	return ln.Addr().String(), accepted
}

// TestStreamGoogleUnreachable: after UnreachableAfter network failures in
// a row the Resolver asks Google nothing more; what needs no Google still
// resolves, and the rest say why in one short line.
func TestStreamGoogleUnreachable(t *testing.T) {
	addr, accepted := closingListener(t)
	f := newFake(t, gnewstest.Options{})
	links, _ := mint(f, nil, 10, "u")
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/y", ""))
	r, err := New(Options{GNewsBase: "http://" + addr, Interval: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	results := r.Resolve(bg(), append(links, old))
	if n := accepted.Load(); n != UnreachableAfter {
		t.Errorf("Google was tried %d times, want %d", n, UnreachableAfter)
	}
	wantURL(t, results[len(links)], "https://old.example/y", MethodOffline)
	for i, res := range results[:len(links)] {
		wantKind(t, res, record.ReasonNetwork)
		var ue *UnreachableError
		if got := errors.As(res.Err, &ue); got != (i >= UnreachableAfter) {
			t.Errorf("result %d: UnreachableError %v", i, got)
		}
		if short := res.Err.Short(); len(short) > 160 || strings.Contains(short, "://") {
			t.Errorf("result %d: short error %q", i, short)
		}
	}
	ue := r.Unreachable()
	if ue == nil || ue.Error() != "cannot reach "+addr+": check the network, a proxy (HTTPS_PROXY) or --gnews-base" {
		t.Errorf("Unreachable() = %v", ue)
	}
	// A later batch asks nothing either.
	r.Resolve(bg(), links[:2])
	if n := accepted.Load(); n != UnreachableAfter {
		t.Errorf("a later batch reached Google: %d connections", n)
	}
}

// TestStreamFailuresNotInARow: failures that are not the network's (an
// id without signature) do not count towards UnreachableAfter, and a
// success resets the count.
func TestStreamFailuresNotInARow(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, _ := mint(f, nil, 6, "n")
	for _, i := range []int{0, 1, 3, 4} {
		f.Register(parseInput(links[i]).id, gnewstest.Article{Interstitial: true})
	}
	r := newTestResolver(t, f, nil)
	r.Resolve(bg(), links)
	if r.Unreachable() != nil || f.Count(gnewstest.KindArticle) != 6 {
		t.Errorf("unreachable %v after %d GETs", r.Unreachable(), f.Count(gnewstest.KindArticle))
	}
}
