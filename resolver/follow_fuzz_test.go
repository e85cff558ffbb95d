package resolver

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// redirectStatuses are what the fuzzed first response answers with.
var redirectStatuses = []int{301, 302, 303, 307, 308, 200, 200, 404, 500, 300, 304}

// FuzzFollow drives the generic redirect follower against a real server on
// loopback that answers its first request with a fuzzed status, Location,
// Refresh header and body (any other path ends the chain with a plain
// page). Invariants: the follower never returns anything but a clean
// http(s) URL or a kinded error; every chain entry is http(s) with a host;
// and the SSRF guard lets no socket through to a non-public address other
// than the server's own. DNS goes to a server on loopback that knows no
// name, and the dial observer refuses anything off loopback, so whatever
// the input, nothing leaves this machine.
//
//	go test ./resolver -run '^$' -fuzz '^FuzzFollow$' -fuzztime 60s
//
// Seeds: testdata/fuzz/FuzzFollow (schemes, notations of internal
// addresses, relative and protocol-relative targets, refresh syntaxes).
func FuzzFollow(f *testing.F) {
	var (
		mu  sync.Mutex
		cur struct {
			status            int
			location, refresh string
			body              []byte
		}
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c := cur
		mu.Unlock()
		if c.location != "" {
			w.Header()["Location"] = []string{c.location}
		}
		if c.refresh != "" {
			w.Header()["Refresh"] = []string{c.refresh}
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(c.status)
		w.Write(c.body)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html><p>end</p></html>") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	f.Cleanup(srv.Close)
	self := netip.MustParseAddrPort(ln.Addr().String())

	fake := gnewstest.NewServer(gnewstest.Options{})
	f.Cleanup(fake.Close)
	r := newTestResolver(f, fake, func(o *Options) { o.AllowAddrs = []netip.AddrPort{self} })
	dns := netguardtest.StartDNS(f, nil)
	d := r.opts.guard().Dialer(r.opts.Timeout)
	d.Resolver = dns.Resolver()
	dials := netguardtest.Observe(f, d)
	r.web.Transport.(*http.Transport).DialContext = d.DialContext
	start := srv.URL + "/start"

	f.Add(uint8(1), "http://10.0.0.1/", "", []byte(nil))
	f.Add(uint8(5), "", "0; url=/next", []byte(`<meta http-equiv="refresh" content="0;url=//169.254.169.254/">`))
	f.Fuzz(func(t *testing.T, status uint8, location, refresh string, body []byte) {
		if !httpguts.ValidHeaderFieldValue(location) || !httpguts.ValidHeaderFieldValue(refresh) || len(body) > 64<<10 {
			return // not something a server can send
		}
		mu.Lock()
		cur.status, cur.location, cur.refresh, cur.body = redirectStatuses[int(status)%len(redirectStatuses)], location, refresh, body
		mu.Unlock()
		before := len(dials.All())

		res := r.follow(bg(), start, true)
		defer res.Provenance.Release()
		if res.Provenance != nil {
			// One exchange per URL requested, in chain order.
			for i, ex := range res.Provenance.Exchanges {
				if i >= len(res.Chain) || ex.URL != res.Chain[i] {
					t.Fatalf("exchange %d is of %s, chain %q", i, ex.URL, res.Chain)
				}
			}
		}

		if (res.URL == "") == (res.Err == nil) {
			t.Fatalf("URL %q and error %v", res.URL, res.Err)
		}
		if res.Err != nil && (res.Err.Kind == "" || res.Err.Message == "") {
			t.Fatalf("error without kind or message: %+v", res.Err)
		}
		if res.URL != "" {
			mustBeCleanURL(t, res.URL)
		}
		for _, c := range res.Chain {
			u, err := url.Parse(c)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("chain entry %q is not an http(s) URL", c)
			}
		}
		for _, dl := range dials.All()[before:] {
			ap, err := netip.ParseAddrPort(dl.Addr)
			if dl.Err == nil && (err != nil || (ap != self && !netguard.Allowed(ap.Addr()))) {
				t.Fatalf("the guard let through %s (location %q, refresh %q)", dl.Addr, location, refresh)
			}
		}
	})
}
