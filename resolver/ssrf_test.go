package resolver

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// observeWeb makes the resolver's generic-redirect transport dial through
// an observed copy of its own guarded dialer that resolves names with dns
// (a DNS server on loopback): the guard's verdicts are recorded, and no DNS
// query or connection leaves loopback even if the guard breaks.
func observeWeb(t *testing.T, r *Resolver, dns *netguardtest.DNS) *netguardtest.Dials {
	t.Helper()
	d := r.opts.guard().Dialer(r.opts.Timeout)
	d.Resolver = dns.Resolver()
	dials := netguardtest.Observe(t, d)
	r.web.Transport.(*http.Transport).DialContext = d.DialContext
	return dials
}

// TestGenericLinksToInternalTargets: `linkarc resolve` on a non-Google link
// at any internal address, in any notation, or on a name resolving inside,
// is refused; literal addresses before any socket, names in the dialer
// before connect(2).
func TestGenericLinksToInternalTargets(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	v4, v6 := netguardtest.Traps(t)
	dns := netguardtest.StartDNS(t, netguardtest.InternalAddrs())
	r := newTestResolver(t, f, nil) // AllowPrivate false
	dials := observeWeb(t, r, dns)

	var literal, names []string
	for _, tg := range netguardtest.Targets(v4, v6) {
		literal = append(literal, tg.URL)
	}
	for name := range netguardtest.InternalAddrs() {
		names = append(names, "http://"+net.JoinHostPort(name, v4.PortString())+"/r/abc")
	}

	for i, res := range r.Resolve(bg(), literal) {
		wantKind(t, res, record.ReasonForbiddenAddress)
		if res.Err != nil && !strings.Contains(res.Err.Message, "--allow-private") {
			t.Errorf("%s: message %q does not say how to allow it", literal[i], res.Err.Message)
		}
	}
	if all := dials.All(); len(all) != 0 {
		t.Errorf("literal internal hosts reached the dialer: %v", all)
	}
	for _, res := range r.Resolve(bg(), names) {
		wantKind(t, res, record.ReasonForbiddenAddress)
	}
	for name := range netguardtest.InternalAddrs() {
		if dns.Queries(name) == 0 {
			t.Errorf("%s was never looked up: the dial-time guard was not exercised", name)
		}
	}
	if ok := dials.Allowed(); len(ok) != 0 {
		t.Errorf("the guard let through %v", ok)
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
	if f.Total() != 0 {
		t.Errorf("Google was asked %d times about generic links", f.Total())
	}
}

// TestGenericRedirectsToInternalTargets stands up a public-looking
// shortener: a loopback server whose exact address and port
// Options.AllowAddrs allows, reached by name. It sends each internal target
// by a 3xx Location, a Refresh header and a <meta http-equiv=refresh>; every
// hop into the inside is refused, with the chain recorded up to it.
func TestGenericRedirectsToInternalTargets(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	v4, v6 := netguardtest.Traps(t)
	targets := map[string]string{}
	for _, tg := range netguardtest.Targets(v4, v6) {
		targets[tg.Name] = tg.URL
	}
	for name := range netguardtest.InternalAddrs() {
		targets[name] = "http://" + net.JoinHostPort(name, v4.PortString()) + "/"
	}
	targets["own-other-port"] = v4.URL + "/"

	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{how}/{name}", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		target, ok := targets[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch r.PathValue("how") {
		case "location":
			http.Redirect(w, r, target, http.StatusMovedPermanently)
		case "refresh":
			w.Header().Set("Refresh", "0; url="+target)
			fmt.Fprint(w, "moved")
		case "meta":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><head><meta http-equiv="refresh" content="0;URL='%s'"></head></html>`, target)
		case "hop": // one harmless hop on the shortener first
			http.Redirect(w, r, "/location/"+r.PathValue("name"), http.StatusFound)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	short := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	short.Start()
	t.Cleanup(short.Close)
	shortAddr := netip.MustParseAddrPort(ln.Addr().String())

	records := netguardtest.InternalAddrs()
	records["short.example"] = []netip.Addr{shortAddr.Addr()}
	dns := netguardtest.StartDNS(t, records)
	r := newTestResolver(t, f, func(o *Options) { o.AllowAddrs = []netip.AddrPort{shortAddr} })
	dials := observeWeb(t, r, dns)

	base := fmt.Sprintf("http://short.example:%d", shortAddr.Port())
	var inputs []string
	for name := range targets {
		for _, how := range []string{"location", "refresh", "meta", "hop"} {
			inputs = append(inputs, base+"/"+how+"/"+name)
		}
	}
	for _, res := range r.Resolve(bg(), inputs) {
		wantKind(t, res, record.ReasonForbiddenAddress)
		name := res.Input[strings.LastIndex(res.Input, "/")+1:]
		if len(res.Chain) < 2 || res.Chain[0] != res.Input || !sameURL(res.Chain[len(res.Chain)-1], targets[name]) {
			t.Errorf("%s: chain %q, want it to end at the refused %s", res.Input, res.Chain, targets[name])
		}
	}
	if want := int64(len(inputs) + len(targets)); hits.Load() != want { // "hop" costs two requests
		t.Errorf("the shortener served %d requests, want %d", hits.Load(), want)
	}
	allowed := dials.Allowed()
	if len(allowed) == 0 || slices.ContainsFunc(allowed, func(a string) bool { return a != shortAddr.String() }) {
		t.Errorf("the guard let through %v; want only the shortener %s", allowed, shortAddr)
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
}

// sameURL compares a chain entry with the target it came from, which the
// resolver may have normalised (the fragment dropped, the host lowered).
func sameURL(got, want string) bool {
	return strings.EqualFold(strings.TrimSuffix(got, "/"), strings.TrimSuffix(want, "/"))
}
