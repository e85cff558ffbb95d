package resolver

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// site is a loopback server on its own 127.0.0.n address that logs when
// each request arrived.
type site struct {
	*httptest.Server
	host string // "127.0.0.n"
	mu   sync.Mutex
	log  []arrival
}

type arrival struct {
	path, cookie string
	at           time.Time
}

func startSite(t *testing.T, n int, h http.HandlerFunc) *site {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", n))
	if err != nil {
		t.Fatal(err)
	}
	s := &site{host: fmt.Sprintf("127.0.0.%d", n)}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, arrival{r.URL.RequestURI(), r.Header.Get("Cookie"), time.Now()})
		s.mu.Unlock()
		h(w, r)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *site) arrivals() []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func (s *site) addrPort() netip.AddrPort { return netip.MustParseAddrPort(s.Listener.Addr().String()) }

// TestShortLinks: a short link resolves to the first URL off the
// shorteners' hosts, which is never requested; each hop before it, 3xx or
// refresh page, comes back as an exchange (with the body as received,
// spilled when large, the Cookie the chain sent, the address and the time
// the server logged); the answer is cached, so the next run makes no
// request and says so; a short link into an internal address is refused
// without requesting it; a chain that ends on a Google News link carries
// its own hops and then Google's.
func TestShortLinks(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	pub := startSite(t, 5, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>the article</html>") })
	gLink := f.NewArticle(pub.URL + "/via-google")
	padding := strings.Repeat("<!-- padding -->", 1024) // 16 KiB: spilled
	var second *site
	first := startSite(t, 3, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/two":
			http.Redirect(w, r, second.URL+"/hop", http.StatusMovedPermanently)
		case "/refresh":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><head><meta http-equiv="refresh" content="0;url=%s/refreshed"></head><body>%s</body></html>`, pub.URL, padding)
		case "/cookie":
			if _, err := r.Cookie("seen"); err == nil {
				http.Redirect(w, r, pub.URL+"/cookied", http.StatusFound)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "seen", Value: "1"})
			http.Redirect(w, r, "/cookie", http.StatusFound)
		case "/internal":
			http.Redirect(w, r, "http://10.0.0.1/x", http.StatusFound)
		case "/google":
			http.Redirect(w, r, gLink, http.StatusMovedPermanently)
		}
	})
	second = startSite(t, 4, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, pub.URL+"/story", http.StatusFound)
	})
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := newTestResolver(t, f, func(o *Options) {
		o.ShortenerHosts = []string{first.host, second.host}
		o.AllowAddrs = []netip.AddrPort{first.addrPort(), second.addrPort(), pub.addrPort()}
		o.Cache, o.TempDir, o.HostInterval = NewStoreCache(st), dir, -1
	})
	inputs := []string{first.URL + "/two", first.URL + "/refresh", first.URL + "/cookie", first.URL + "/internal", first.URL + "/google"}
	begin := time.Now()
	c := newCollect(nil)
	sink := c.sink()
	sink.Provenance = true
	r.Stream(bg(), inputs, sink)

	type hop struct {
		url    string
		status int
		loc    string
		cookie string
	}
	for i, want := range []struct {
		url  string
		hops []hop
	}{
		{pub.URL + "/story", []hop{{first.URL + "/two", 301, second.URL + "/hop", ""}, {second.URL + "/hop", 302, pub.URL + "/story", ""}}},
		{pub.URL + "/refreshed", []hop{{first.URL + "/refresh", 200, "", ""}}},
		{pub.URL + "/cookied", []hop{{first.URL + "/cookie", 302, "/cookie", ""}, {first.URL + "/cookie", 302, pub.URL + "/cookied", "seen=1"}}},
	} {
		res := c.res[i]
		wantURL(t, res, want.url, MethodRedirect)
		if res.Provenance == nil || len(res.Provenance.Exchanges) != len(want.hops) {
			t.Fatalf("%s: provenance %+v, want %d exchanges", inputs[i], res.Provenance, len(want.hops))
		}
		if last := res.Chain[len(res.Chain)-1]; last != want.url {
			t.Errorf("%s: chain %q does not end at the answer", inputs[i], res.Chain)
		}
		after := begin
		for k, h := range want.hops {
			ex := res.Provenance.Exchanges[k]
			if ex.Method != http.MethodGet || ex.URL != h.url || ex.StatusCode != h.status || ex.ResponseHeader.Get("Location") != h.loc ||
				ex.RequestHeader.Get("Cookie") != h.cookie || !strings.HasPrefix(ex.RemoteIP, "127.0.0.") || ex.Truncated != "" {
				t.Errorf("%s: hop %d: %s %s %d Location %q Cookie %q ip %q truncated %q; want %+v", inputs[i], k,
					ex.Method, ex.URL, ex.StatusCode, ex.ResponseHeader.Get("Location"), ex.RequestHeader.Get("Cookie"), ex.RemoteIP, ex.Truncated, h)
			}
			after = checkSent(t, ex, []*site{first, second}, after)
		}
		if last := res.Provenance.Exchanges[len(want.hops)-1]; !res.ResolvedAt.Equal(last.Sent) {
			t.Errorf("%s: ResolvedAt %v, want when the last hop was sent (%v)", inputs[i], res.ResolvedAt, last.Sent)
		}
	}
	page := c.res[1].Provenance.Exchanges[0]
	if body := exchangeBody(t, page); !bytes.Contains(body, []byte(padding)) || page.BodySize() <= MemoryBodyBytes {
		t.Errorf("the refresh page's body was not kept whole (%d bytes)", page.BodySize())
	}
	wantKind(t, c.res[3], record.ReasonForbiddenAddress)
	if c.res[3].Provenance != nil {
		t.Error("a refused short link has a provenance")
	}
	g := c.res[4]
	wantURL(t, g, pub.URL+"/via-google", MethodBatchexecute)
	if g.Provenance == nil || len(g.Provenance.Exchanges) != 3 || g.Provenance.Exchanges[0].URL != first.URL+"/google" ||
		!strings.Contains(g.Provenance.Exchanges[1].URL, "/rss/articles/") || g.Provenance.Exchanges[2].Method != http.MethodPost {
		t.Errorf("short link to Google News: provenance %+v, want its hop, then the signature GET and the POST", g.Provenance)
	}
	if n := len(pub.arrivals()); n != 0 {
		t.Errorf("the publisher was asked %d times while resolving", n)
	}
	if len(spoolFiles(t, dir)) == 0 {
		t.Fatal("no body spilled")
	}
	for _, res := range c.res {
		res.Provenance.Release()
	}
	if files := spoolFiles(t, dir); len(files) != 0 {
		t.Errorf("spilled bodies left once released: %v", files)
	}

	// A second run (a new Resolver on the same store): every short link
	// that resolved comes from the cache, with when it was resolved, and
	// no request is made.
	served := len(first.arrivals()) + len(second.arrivals())
	r2 := newTestResolver(t, f, func(o *Options) {
		o.ShortenerHosts = []string{first.host, second.host}
		o.AllowAddrs = []netip.AddrPort{first.addrPort(), second.addrPort(), pub.addrPort()}
		o.Cache, o.TempDir = NewStoreCache(st), dir
	})
	for i, route := range r2.Classify(bg(), inputs) {
		if want := map[bool]Route{true: RouteCache, false: RouteRedirect}[i != 3]; route.Route != want {
			t.Errorf("Classify(%s) = %s, want %s", inputs[i], route.Route, want)
		}
	}
	c2 := newCollect(nil)
	sink2 := c2.sink()
	sink2.Provenance = true
	r2.Stream(bg(), slices.Delete(slices.Clone(inputs), 3, 4), sink2)
	for i, res := range c2.res {
		if res.Err != nil || res.Method != MethodCache || res.URL != c.res[map[bool]int{true: i, false: 4}[i < 3]].URL || res.Provenance != nil {
			t.Errorf("second run, input %d: %+v, want the first run's URL from the cache", i, res)
		}
		if res.ResolvedAt.Before(begin) || res.ResolvedAt.After(time.Now()) {
			t.Errorf("second run, input %d: ResolvedAt %v, want the first run's time", i, res.ResolvedAt)
		}
	}
	if n := len(first.arrivals()) + len(second.arrivals()); n != served {
		t.Errorf("second run: %d requests to the shorteners, want none", n-served)
	}
}

// checkSent asserts that an exchange's Sent is when its server logged its
// request: after the chain's request before it arrived (the client waited
// for its answer), and within a loopback round trip of its own arrival. It
// returns that arrival.
func checkSent(t *testing.T, ex *Exchange, sites []*site, after time.Time) time.Time {
	t.Helper()
	for _, s := range sites {
		for _, a := range s.arrivals() {
			if s.URL+a.path != ex.URL || ex.RequestHeader.Get("Cookie") != a.cookie {
				continue
			}
			if ex.Sent.Before(after) || ex.Sent.After(a.at.Add(time.Second)) {
				t.Errorf("%s: sent %v; its server logged it at %v, the request before at %v", ex.URL, ex.Sent, a.at, after)
			}
			return a.at
		}
	}
	t.Errorf("%s: an exchange no server logged", ex.URL)
	return after
}

// TestShortLinkHostSpacing: requests to one shortener host wait its turn,
// HostInterval from the end of one to the moment the next is sent; the
// gaps between their arrivals at the server can only be longer.
func TestShortLinkHostSpacing(t *testing.T) {
	const interval = 80 * time.Millisecond
	f := newFake(t, gnewstest.Options{})
	pub := startSite(t, 5, func(w http.ResponseWriter, r *http.Request) {})
	short := startSite(t, 3, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, pub.URL+r.URL.Path, http.StatusMovedPermanently)
	})
	r := newTestResolver(t, f, func(o *Options) {
		o.ShortenerHosts = []string{short.host}
		o.AllowPrivate, o.HostInterval, o.Concurrency = true, interval, 4
	})
	var inputs []string
	for i := range 6 {
		inputs = append(inputs, fmt.Sprintf("%s/s/%d", short.URL, i))
	}
	for i, res := range r.Resolve(bg(), inputs) {
		wantURL(t, res, fmt.Sprintf("%s/s/%d", pub.URL, i), MethodRedirect)
	}
	arr := short.arrivals()
	if len(arr) != len(inputs) {
		t.Fatalf("%d requests, want %d", len(arr), len(inputs))
	}
	for i := 1; i < len(arr); i++ {
		if gap := arr[i].at.Sub(arr[i-1].at); gap < interval {
			t.Errorf("requests %d and %d to one shortener %v apart, want at least %v", i-1, i, gap, interval)
		}
	}
}

// TestIsShortLink: the well-known shorteners and the configured hosts, as
// the resolver reads links; nothing else.
func TestIsShortLink(t *testing.T) {
	r, err := New(Options{ShortenerHosts: []string{"Lnk.Example.com."}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		link string
		want bool
	}{
		{"https://t.co/AbC", true},
		{"t.co/AbC", true},
		{"HTTPS://BIT.LY/x", true},
		{"https://www.bit.ly/x", true},
		{"http://nyti.ms/3xyz", true},
		{"https://lnk.example.com/go", true},
		{"https://sub.t.co/x", false},
		{"https://example.com/t.co", false},
		{"https://www.nytimes.com/2026/story.html", false},
		{"https://news.google.com/rss/articles/CBMiXYZ", false},
		{"https://www.google.com/url?q=https://bit.ly/x", false},
		{"not a link", false},
	} {
		if got := r.IsShortLink(tc.link); got != tc.want {
			t.Errorf("IsShortLink(%q) = %v, want %v", tc.link, got, tc.want)
		}
	}
	for _, bad := range []string{"https://lnk.example.com", "lnk.example.com:8080", "lnk.example.com/go", ""} {
		if _, err := New(Options{ShortenerHosts: []string{bad}}); err == nil || !strings.Contains(err.Error(), "ShortenerHosts") {
			t.Errorf("ShortenerHosts %q: error %v, want one naming the option", bad, err)
		}
	}
}
