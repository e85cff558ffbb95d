package fetch

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
	"github.com/linkarc/linkarc/storage/record"
)

// ssrfFetcher builds a fetcher without AllowPrivate exactly as New
// does, except that the guarded dialer is observed and resolves names with
// a DNS server on loopback (dns, or one that knows no name): every socket
// it is about to connect is recorded with the guard's verdict, and neither
// a DNS query nor, thanks to the observer's safety net, a connection leaves
// loopback even if the guard is broken. Robots.txt is obeyed, so its
// requests are guarded too.
func ssrfFetcher(t *testing.T, allow []netip.AddrPort, dns *netguardtest.DNS) (*Fetcher, *netguardtest.Dials) {
	t.Helper()
	opts := testOptions()
	opts.AllowPrivate = false
	opts.IgnoreRobots = false
	opts.AllowAddrs = allow
	d := opts.policy().Dialer(opts.ConnectTimeout)
	if dns == nil {
		dns = netguardtest.StartDNS(t, nil)
	}
	d.Resolver = dns.Resolver()
	dials := netguardtest.Observe(t, d)
	f, err := newFetcher(opts, d.DialContext)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, dials
}

// TestFetchRefusesInternalTargets: a publisher URL at any internal address,
// in any notation, is refused before a socket is even opened.
func TestFetchRefusesInternalTargets(t *testing.T) {
	v4, v6 := netguardtest.Traps(t)
	f, dials := ssrfFetcher(t, nil, nil)
	for _, tg := range netguardtest.Targets(v4, v6) {
		c, err := f.Fetch(context.Background(), tg.URL)
		fe := fetchErr(t, err, record.ReasonForbiddenAddress)
		if fe.Retryable() || fe.Attempts > 1 || c != nil {
			t.Errorf("%s: retryable %v, attempts %d, capture %+v; want a final refusal without a response", tg.Name, fe.Retryable(), fe.Attempts, c)
		}
		if !strings.Contains(err.Error(), "--allow-private") {
			t.Errorf("%s: message %q does not say how to allow it", tg.Name, err)
		}
	}
	if all := dials.All(); len(all) != 0 {
		t.Errorf("the dialer was asked for sockets (robots.txt or page): %v; literal internal hosts must be refused before any dial", all)
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
}

// TestFetchRefusesNamesResolvingInside: hostnames that a real DNS server
// (on loopback) resolves to internal addresses are refused in the dialer's
// Control hook, before connect(2), for robots.txt and page alike.
func TestFetchRefusesNamesResolvingInside(t *testing.T) {
	v4, v6 := netguardtest.Traps(t)
	dns := netguardtest.StartDNS(t, netguardtest.InternalAddrs())
	f, dials := ssrfFetcher(t, nil, dns)
	for name := range netguardtest.InternalAddrs() {
		port := v4.PortString()
		if name == "v6.example" {
			port = v6.PortString()
		}
		_, err := f.Fetch(context.Background(), "http://"+net.JoinHostPort(name, port)+"/article")
		fetchErr(t, err, record.ReasonForbiddenAddress)
		if dns.Queries(name) == 0 {
			t.Errorf("%s was never looked up: the dial-time guard was not exercised", name)
		}
	}
	all := dials.All()
	if len(all) < len(netguardtest.InternalAddrs()) {
		t.Errorf("the guard saw %d sockets, want one or more per name: %v", len(all), all)
	}
	if ok := dials.Allowed(); len(ok) != 0 {
		t.Errorf("the guard let through %v", ok)
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
}

// TestFetchRefusesRedirectsInside stands up a public-looking publisher:
// a loopback server whose exact address and port the policy allows
// (Options.AllowAddrs), reached by name through DNS. It redirects,
// with every redirect status, to each internal target, to hostnames
// resolving inside, and to another port of its own address: each hop is
// refused, the chain is recorded, and only the publisher is ever connected.
func TestFetchRefusesRedirectsInside(t *testing.T) {
	v4, v6 := netguardtest.Traps(t)
	targets := map[string]string{} // path -> redirect target
	for _, tg := range netguardtest.Targets(v4, v6) {
		targets["/to/"+tg.Name] = tg.URL
	}
	for name := range netguardtest.InternalAddrs() {
		targets["/to/"+name] = "http://" + net.JoinHostPort(name, v4.PortString()) + "/"
	}
	targets["/to/own-other-port"] = v4.URL + "/" // v4 shares the publisher's address
	targets["/to/relative-then-inside"] = "/hop?next=" + url.QueryEscape("http://10.0.0.1/")

	statuses := []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}
	mux := http.NewServeMux()
	n := 0
	for path, target := range targets {
		status := statuses[n%len(statuses)]
		n++
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, status) })
	}
	mux.HandleFunc("GET /hop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusFound)
	})
	mux.Handle("GET /page", htmlHandler(testPage))
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("User-agent: *\nAllow: /\n")) })
	pub := newPublisher(t, "127.0.0.1:0", mux)
	pubAddr := netip.MustParseAddrPort(pub.Listener.Addr().String())

	records := netguardtest.InternalAddrs()
	records["news.example"] = []netip.Addr{pubAddr.Addr()}
	dns := netguardtest.StartDNS(t, records)
	f, dials := ssrfFetcher(t, []netip.AddrPort{pubAddr}, dns)

	base := "http://" + net.JoinHostPort("news.example", strings.TrimPrefix(pub.URL[strings.LastIndex(pub.URL, ":"):], ":"))
	for path, target := range targets {
		c, err := f.Fetch(context.Background(), base+path)
		fetchErr(t, err, record.ReasonForbiddenAddress)
		if c == nil || len(c.Chain) < 2 || c.Chain[0] != base+path {
			t.Errorf("%s -> %s: chain not recorded: %+v", path, target, c)
			continue
		}
		if last := c.Chain[len(c.Chain)-1]; !strings.HasPrefix(path, "/to/relative") && last != resolveRef(t, base+path, target) {
			t.Errorf("%s: chain ends at %s, want the refused target %s", path, last, target)
		}
	}
	if got := pub.hitsPrefix("/to/"); got != len(targets) {
		t.Errorf("the publisher served %d redirects, want %d", got, len(targets))
	}
	for _, d := range dials.All() {
		if d.Err == nil && d.Addr != pubAddr.String() {
			t.Errorf("the guard let through %s, which is not the publisher", d.Addr)
		}
	}
	if len(dials.Allowed()) == 0 {
		t.Error("the publisher was never dialed; the test proves nothing")
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}

	// The option is wired into New itself: the same publisher,
	// addressed by its literal address, is fetched through the production
	// dialer, and its redirects inside are still refused.
	opts := testOptions()
	opts.AllowPrivate = false
	opts.AllowAddrs = []netip.AddrPort{pubAddr}
	prod := newTestFetcher(t, opts)
	if c, err := prod.Fetch(context.Background(), pub.URL+"/page"); err != nil || c.StatusCode != http.StatusOK {
		t.Fatalf("New with AllowAddrs could not fetch the allowed publisher: %v", err)
	}
	// Only loopback targets here: this dialer has no safety net.
	for _, path := range []string{"/to/loopback", "/to/ipv6-loopback", "/to/localhost", "/to/own-other-port"} {
		_, err := prod.Fetch(context.Background(), pub.URL+path)
		fetchErr(t, err, record.ReasonForbiddenAddress)
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
}

func resolveRef(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r.String()
}
