package netguard_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
)

func TestPolicyCheckAddr(t *testing.T) {
	exact := netip.MustParseAddrPort("127.0.0.1:8080")
	p := netguard.Policy{AllowAddrs: []netip.AddrPort{exact, netip.MustParseAddrPort("[::ffff:10.1.2.3]:443")}}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1:8080", true},
		{"[::ffff:127.0.0.1]:8080", true}, // the mapped form of an allowed address
		{"10.1.2.3:443", true},            // an allowed mapped address in IPv4 form
		{"127.0.0.1:8081", false},         // same address, another port
		{"127.0.0.2:8080", false},         // another loopback address
		{"[::1]:8080", false},
		{"10.1.2.3:80", false},
		{"169.254.169.254:80", false},
		{"93.184.216.34:80", true}, // public addresses need no exception
	}
	for _, tt := range tests {
		err := p.CheckAddr(netip.MustParseAddrPort(tt.addr))
		if (err == nil) != tt.allowed {
			t.Errorf("CheckAddr(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
		}
		if err != nil && !netguard.IsForbidden(err) {
			t.Errorf("CheckAddr(%s) = %v, not a ForbiddenError", tt.addr, err)
		}
		if err := (netguard.Policy{AllowPrivate: true}).CheckAddr(netip.MustParseAddrPort(tt.addr)); err != nil {
			t.Errorf("AllowPrivate: CheckAddr(%s) = %v", tt.addr, err)
		}
	}
	if err := (netguard.Policy{}).CheckAddr(exact); !netguard.IsForbidden(err) {
		t.Errorf("zero Policy: CheckAddr(%s) = %v, want forbidden", exact, err)
	}
}

func TestPolicyCheckURL(t *testing.T) {
	p := netguard.Policy{AllowAddrs: []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:8080"),
		netip.MustParseAddrPort("10.0.0.5:80"),
		netip.MustParseAddrPort("[::1]:443"),
	}}
	tests := []struct {
		raw     string
		allowed bool
	}{
		{"http://127.0.0.1:8080/a", true},
		{"http://0x7f.1:8080/a", true}, // another notation of the same address
		{"http://10.0.0.5/", true},     // default port 80
		{"http://10.0.0.5:80/", true},
		{"https://[::1]/", true}, // default port 443
		{"http://[::1]/", false}, // port 80 is not the allowed one
		{"https://10.0.0.5/", false},
		{"http://127.0.0.1:8081/", false},
		{"http://127.0.0.1/", false},
		{"http://localhost:8080/", false}, // names are never exempted before dialing
		{"http://169.254.169.254/", false},
		{"ftp://127.0.0.1:8080/", false},
		{"http://127.0.0.1:99999/", false}, // not a port
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		err = p.CheckURL(u)
		if (err == nil) != tt.allowed {
			t.Errorf("CheckURL(%s) = %v, want allowed=%v", tt.raw, err, tt.allowed)
		}
		if err != nil && !netguard.IsForbidden(err) {
			t.Errorf("CheckURL(%s) = %v, not a ForbiddenError", tt.raw, err)
		}
	}
}

// TestDialerRefusesNamesResolvingInside resolves hostnames through a real
// DNS server on loopback to loopback, private, link-local and mapped
// addresses: every socket must be refused in the dialer's Control hook,
// before connect(2), so no packet is sent to any of them.
func TestDialerRefusesNamesResolvingInside(t *testing.T) {
	trap := netguardtest.StartTrap(t, "127.0.0.1:0")
	trap6 := netguardtest.StartTrap(t, "[::1]:0")
	dns := netguardtest.StartDNS(t, map[string][]netip.Addr{
		"intranet.example": {netip.MustParseAddr("127.0.0.1")},
		"v6.example":       {netip.MustParseAddr("::1")},
		"mapped.example":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"ten.example":      {netip.MustParseAddr("10.0.0.1")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
		"home.example":     {netip.MustParseAddr("192.168.1.1")},
		"corp.example":     {netip.MustParseAddr("172.16.0.1")},
		"mixed.example":    {netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	})
	d := netguard.Policy{}.Dialer(2 * time.Second)
	d.Resolver = dns.Resolver()
	dials := netguardtest.Observe(t, d)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true}}

	for _, host := range []string{"intranet.example", "v6.example", "mapped.example", "ten.example", "metadata.example", "home.example", "corp.example", "mixed.example"} {
		port := trap.PortString()
		if host == "v6.example" {
			port = trap6.PortString()
		}
		_, err := client.Get("http://" + net.JoinHostPort(host, port) + "/")
		if !netguard.IsForbidden(err) {
			t.Errorf("%s: err = %v, want a ForbiddenError", host, err)
		}
		if dns.Queries(host) == 0 {
			t.Errorf("%s: the name was never looked up; the test did not exercise the dialer", host)
		}
	}
	all := dials.All()
	if len(all) < 8 {
		t.Errorf("the guard saw %d sockets, want at least one per host: %v", len(all), all)
	}
	if ok := dials.Allowed(); len(ok) != 0 {
		t.Errorf("the guard let through %v", ok)
	}
	if n := trap.Settle(t) + trap6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}

	// Once its exact address and port are allowed, a name connects, and
	// with several addresses only the allowed one is let through: the
	// refusals above were the policy's, not a broken DNS server or dialer.
	ap := netip.MustParseAddrPort(trap.Listener.Addr().String())
	d = netguard.Policy{AllowAddrs: []netip.AddrPort{ap}}.Dialer(2 * time.Second)
	d.Resolver = dns.Resolver()
	dials = netguardtest.Observe(t, d)
	for _, host := range []string{"intranet.example", "mixed.example"} {
		conn, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(host, trap.PortString()))
		if err != nil {
			t.Fatalf("dial %s with its address allowed: %v", host, err)
		}
		conn.Close()
	}
	if got := dials.Allowed(); len(got) != 2 || got[0] != ap.String() || got[1] != ap.String() {
		t.Errorf("let through %v, want %s twice; all dials: %v", got, ap, dials.All())
	}
	if n := trap.Settle(t); n != 2 {
		t.Errorf("trap accepted %d connections, want 2", n)
	}
}

// TestDialerRefusesRebinding: a name that first resolves to an allowed
// address and then, a moment later, to a private one (DNS rebinding) is
// refused on the second connection, since the guard judges the address
// actually dialed each time, not the name.
func TestDialerRefusesRebinding(t *testing.T) {
	trap := netguardtest.StartTrap(t, "127.0.0.1:0")
	ap := netip.MustParseAddrPort(trap.Listener.Addr().String())
	dns := netguardtest.StartDNS(t, map[string][]netip.Addr{"rebind.example": {ap.Addr()}})
	d := netguard.Policy{AllowAddrs: []netip.AddrPort{ap}}.Dialer(2 * time.Second)
	d.Resolver = dns.Resolver()
	dials := netguardtest.Observe(t, d)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true}}
	u := "http://" + net.JoinHostPort("rebind.example", trap.PortString()) + "/"

	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("first GET, name on the allowed address: %v", err)
	}
	resp.Body.Close()
	for _, inside := range []string{"10.0.0.1", "169.254.169.254", "127.0.0.2", "::1"} {
		dns.Set("rebind.example", netip.MustParseAddr(inside))
		if _, err := client.Get(u); !netguard.IsForbidden(err) {
			t.Errorf("after rebinding to %s: err = %v, want a ForbiddenError", inside, err)
		}
	}
	if got := dials.Allowed(); len(got) != 1 || got[0] != ap.String() {
		t.Errorf("let through %v, want only the first connection to %s", got, ap)
	}
	if n := trap.Settle(t); n != 1 {
		t.Errorf("trap accepted %d connections, want 1", n)
	}
}
