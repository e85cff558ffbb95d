package netguard

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// registryCases gives, for every row of the tables in registry.go, an
// address inside it and, where the verdict changes there, the addresses
// just before and just after it. The expectations are written by hand
// from the IANA registries' "Globally Reachable" column (see registry.go),
// not derived from the table.
var registryCases = []struct {
	row   string // the prefix of the row the case is about
	addrs []string
	want  bool // allowed
}{
	// IANA IPv4 Special-Purpose Address Registry.
	{"0.0.0.0/8", []string{"0.0.0.1", "0.1.2.3", "0.255.255.255"}, false},
	{"0.0.0.0/32", []string{"0.0.0.0"}, false},
	{"10.0.0.0/8", []string{"10.0.0.0", "10.255.255.255"}, false},
	{"100.64.0.0/10", []string{"100.64.0.0", "100.127.255.255"}, false},
	{"127.0.0.0/8", []string{"127.0.0.0", "127.0.0.1", "127.255.255.255"}, false},
	{"169.254.0.0/16", []string{"169.254.0.0", "169.254.169.254", "169.254.255.255"}, false},
	{"172.16.0.0/12", []string{"172.16.0.0", "172.31.255.255"}, false},
	{"192.0.0.0/24", []string{"192.0.0.11", "192.0.0.169", "192.0.0.172", "192.0.0.255"}, false},
	{"192.0.0.0/29", []string{"192.0.0.0", "192.0.0.7"}, false},
	{"192.0.0.8/32", []string{"192.0.0.8"}, false},
	{"192.0.0.9/32", []string{"192.0.0.9"}, false},   // registry True; anycast refused
	{"192.0.0.10/32", []string{"192.0.0.10"}, false}, // registry True; anycast refused
	{"192.0.0.170/32", []string{"192.0.0.170"}, false},
	{"192.0.0.171/32", []string{"192.0.0.171"}, false},
	{"192.0.2.0/24", []string{"192.0.2.0", "192.0.2.255"}, false},
	{"192.31.196.0/24", []string{"192.31.196.0", "192.31.196.255"}, false}, // registry True; anycast refused
	{"192.52.193.0/24", []string{"192.52.193.0", "192.52.193.255"}, false}, // registry True; anycast refused
	{"192.88.99.0/24", []string{"192.88.99.0", "192.88.99.1", "192.88.99.255"}, false},
	{"192.88.99.2/32", []string{"192.88.99.2"}, false}, // registry True; anycast refused
	{"192.168.0.0/16", []string{"192.168.0.0", "192.168.255.255"}, false},
	{"192.175.48.0/24", []string{"192.175.48.0", "192.175.48.255"}, false}, // registry True; anycast refused
	{"198.18.0.0/15", []string{"198.18.0.0", "198.19.255.255"}, false},
	{"198.51.100.0/24", []string{"198.51.100.0", "198.51.100.255"}, false},
	{"203.0.113.0/24", []string{"203.0.113.0", "203.0.113.255"}, false},
	{"240.0.0.0/4", []string{"240.0.0.0", "250.1.2.3", "255.255.255.254"}, false},
	{"255.255.255.255/32", []string{"255.255.255.255"}, false},
	// Rows linkarc adds for IPv4.
	{"224.0.0.0/4", []string{"224.0.0.0", "224.0.0.251", "239.255.255.250", "239.255.255.255"}, false},
	{"0.0.0.0/0", []string{
		"1.0.0.0", "8.8.8.8", "93.184.216.34",
		"9.255.255.255", "11.0.0.0", // around 10/8
		"100.63.255.255", "100.128.0.0", // around 100.64/10
		"126.255.255.255", "128.0.0.0", // around 127/8
		"169.253.255.255", "169.255.0.0", // around 169.254/16
		"172.15.255.255", "172.32.0.0", // around 172.16/12
		"191.255.255.255", "192.0.1.0", "192.0.1.255", "192.0.3.0", // around 192.0.0/24 and 192.0.2/24
		"192.31.195.255", "192.31.197.0", "192.52.192.255", "192.52.194.0",
		"192.88.98.255", "192.88.100.0", "192.167.255.255", "192.169.0.0",
		"192.175.47.255", "192.175.49.0", "198.17.255.255", "198.20.0.0",
		"198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0",
		"223.255.255.255", // below multicast
	}, true},

	// IANA IPv6 Special-Purpose Address Registry.
	{"::1/128", []string{"::1", "0:0:0:0:0:0:0:1"}, false},
	{"::/128", []string{"::"}, false},
	{"::ffff:0:0/96", []string{"::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::ffff:192.0.0.9"}, false},
	{"::ffff:0:0/96", []string{"::ffff:8.8.8.8", "::ffff:93.184.216.34"}, true},
	{"64:ff9b::/96", []string{"64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b::", "64:ff9b::ffff:ffff"}, false},
	{"64:ff9b::/96", []string{"64:ff9b::808:808", "64:ff9b::8.8.8.8"}, true},
	{"64:ff9b:1::/48", []string{"64:ff9b:1::1", "64:ff9b:1::8.8.8.8", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"}, false},
	{"100::/64", []string{"100::", "100::ffff:ffff:ffff:ffff"}, false},
	{"100:0:0:1::/64", []string{"100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff"}, false},
	{"2001::/23", []string{"2001:1::", "2001:1::4", "2001:2:1::", "2001:4::", "2001:100::", "2001:1ff:ffff:ffff::"}, false},
	{"2001::/32", []string{
		"2001:0:4136:e378::80ff:fffe",          // Teredo, client 127.0.0.1 (inverted)
		"2001:0:1:2::80ff:fffe",                // client 127.0.0.1, server 0.1.0.2
		"2001:0:a00:1:8000:63bf:f7f7:f7f7",     // server 10.0.0.1, client public
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", // client 192.0.2.45 (RFC 4380's example)
		"2001::",
	}, false},
	{"2001::/32", []string{"2001:0:4136:e378:8000:63bf:f7f7:f7f7"}, true}, // server 65.54.227.120, client 8.8.8.8
	{"2001:1::1/128", []string{"2001:1::1"}, false},
	{"2001:1::2/128", []string{"2001:1::2"}, false},
	{"2001:1::3/128", []string{"2001:1::3"}, false},
	{"2001:2::/48", []string{"2001:2::", "2001:2::1", "2001:2:0:ffff:ffff:ffff:ffff:ffff"}, false}, // issue 10 item 9
	{"2001:3::/32", []string{"2001:3::", "2001:3:ffff::1"}, false},
	{"2001:4:112::/48", []string{"2001:4:112::", "2001:4:112:ffff::1"}, false},
	{"2001:10::/28", []string{"2001:10::", "2001:1f:ffff::1"}, false},
	{"2001:20::/28", []string{"2001:20::1", "2001:2f:ffff::1"}, true},
	{"2001:30::/28", []string{"2001:30::1", "2001:3f:ffff::1"}, true},
	{"2001:db8::/32", []string{"2001:db8::", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"}, false},
	{"2002::/16", []string{"2002:7f00:1::", "2002:a00:1::1", "2002:c0a8:101::1", "2002::", "2002:a9fe:a9fe::", "2002:c000:209::"}, false},
	{"2002::/16", []string{"2002:808:808::1", "2002:5db8:d822::"}, true},
	{"2620:4f:8000::/48", []string{"2620:4f:8000::", "2620:4f:8000:ffff::1"}, false},
	{"3fff::/20", []string{"3fff::", "3fff::1", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"}, false}, // issue 10 item 9
	{"5f00::/16", []string{"5f00::", "5f00:ffff::1"}, false},
	{"fc00::/7", []string{"fc00::", "fd12:3456:789a::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, false},
	{"fe80::/10", []string{"fe80::", "fe80::1", "fe80::1%eth0", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, false},
	// Rows linkarc adds for IPv6.
	{"2000::/3", []string{
		"2000::", "2606:4700:4700::1111", "2a00:1450:4001::200e", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:200::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", // around 2001::/23 and 2001:db8::/32
		"2003::", "2001:ffff::1", // around 2002::/16
		"2620:4f:7fff:ffff::", "2620:4f:8001::", // around 2620:4f:8000::/48
		"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::", // around 3fff::/20
	}, true},
	{"::/0", []string{"::1:0:0:0", "1::", "4000::", "5eff:ffff::1", "5f01::", "e000::", "fbff:ffff::1", "fe00::"}, false},
	{"ff00::/8", []string{"ff00::", "ff02::1", "ff05::1:3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, false},
	{"fec0::/10", []string{"fec0::", "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, false},
	{"::ffff:0:0:0/96", []string{"::ffff:0:7f00:1", "::ffff:0:127.0.0.1", "::ffff:0:10.0.0.1", "::ffff:0:0:0", "0:0:0:0:ffff:0:a9fe:a9fe"}, false}, // issue 10 item 9
	{"::ffff:0:0:0/96", []string{"::ffff:0:808:808"}, true},
	{"::/96", []string{"::127.0.0.1", "::10.0.0.1", "::169.254.169.254", "::2", "::ffff"}, false},
	{"::/96", []string{"::8.8.8.8"}, true},
}

func TestRegistryEntries(t *testing.T) {
	covered := map[netip.Prefix]bool{}
	for _, tc := range registryCases {
		want := netip.MustParsePrefix(tc.row)
		for _, s := range tc.addrs {
			ip := netip.MustParseAddr(s)
			r := lookup(ip.WithZone(""))
			if r.prefix != want {
				t.Errorf("%s: most specific row is %s (%s), want %s", s, r.prefix, r.name, want)
				continue
			}
			covered[r.prefix] = true
			if got := Allowed(ip); got != tc.want {
				t.Errorf("Allowed(%s) = %v, want %v (row %s %q, %s; refusal %q)", s, got, tc.want, r.prefix, r.name, r.ref, refusal(ip))
			}
			if !tc.want && refusal(ip) == "" {
				t.Errorf("%s refused without a reason", s)
			}
		}
	}
	for _, rows := range [][]specialRow{ipv4Special, ipv6Special} {
		for _, r := range rows {
			if !covered[r.prefix] {
				t.Errorf("row %s (%s) has no test address", r.prefix, r.name)
			}
		}
	}
}

// TestRegistryTable checks the table against the rules registry.go states.
func TestRegistryTable(t *testing.T) {
	seen := map[netip.Prefix]bool{}
	for _, rows := range [][]specialRow{ipv4Special, ipv6Special} {
		for _, r := range rows {
			if seen[r.prefix] {
				t.Errorf("row %s listed twice", r.prefix)
			}
			seen[r.prefix] = true
			if r.prefix != r.prefix.Masked() {
				t.Errorf("row %s is not a network prefix", r.prefix)
			}
			switch {
			case r.global == reachFalse && r.act == allow:
				t.Errorf("row %s (%s) is not globally reachable but allowed", r.prefix, r.name)
			case r.global == reachTrue && r.act == refuse && !strings.Contains(r.reason, "anycast"):
				t.Errorf("row %s (%s) is globally reachable and refused without being an anycast service", r.prefix, r.name)
			case r.act == refuse && r.reason == "":
				t.Errorf("row %s refuses without a reason", r.prefix)
			case r.act == embedded && r.prefix.Addr().Is4():
				t.Errorf("row %s embeds IPv4 in IPv4", r.prefix)
			}
			if r.name == "" || r.ref == "" {
				t.Errorf("row %s lacks its name or reference", r.prefix)
			}
		}
	}
}

// TestIssue10Spellings: the three ranges issue 10 found counted public,
// in every notation the checker accepts, at the URL check and the dialer.
func TestIssue10Spellings(t *testing.T) {
	hosts := []string{
		// IPv4-translated 127.0.0.1 (what the binary dialed)
		"::ffff:0:7f00:1", "::ffff:0:127.0.0.1", "0:0:0:0:ffff:0:7f00:1", "0000:0000:0000:0000:ffff:0000:7f00:0001",
		"::FFFF:0:7F00:1", "0::ffff:0:7f00:1", "::ffff:0:7f00:0001", "0:0:0:0:ffff:0:127.0.0.1",
		// IPv4-translated private and metadata addresses
		"::ffff:0:a00:1", "::ffff:0:169.254.169.254",
		// benchmarking
		"2001:2::1", "2001:2:0:0:0:0:0:1", "2001:0002::0001", "2001:2::", "2001:2:0:ffff::", "2001:2::10.0.0.1",
		// RFC 9637 documentation
		"3fff::", "3fff::1", "3FFF::1", "3fff:0:0:0:0:0:0:1", "3fff:0fff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff::8.8.8.8",
	}
	for _, h := range hosts {
		for _, raw := range []string{"http://[" + h + "]/", "https://[" + h + "]:8443/x", "http://[" + h + "%25eth0]/"} {
			u, err := url.Parse(raw)
			if err != nil {
				if strings.Contains(raw, "%25") {
					continue // a zone on a non-link-local address may be rejected by the URL parser; fine
				}
				t.Fatalf("url.Parse(%q): %v", raw, err)
			}
			if err := CheckURL(u, false); !IsForbidden(err) {
				t.Errorf("CheckURL(%s) = %v, want forbidden", raw, err)
			}
			if err := CheckURL(u, true); err != nil {
				t.Errorf("CheckURL(%s, allowPrivate) = %v", raw, err)
			}
		}
		ip := netip.MustParseAddr(h)
		if err := (Policy{}).CheckAddr(netip.AddrPortFrom(ip, 443)); !IsForbidden(err) {
			t.Errorf("dialer CheckAddr(%s) = %v, want forbidden", h, err)
		}
		if err := (Policy{}).CheckAddr(netip.AddrPortFrom(ip.WithZone("eth0"), 443)); !IsForbidden(err) {
			t.Errorf("dialer CheckAddr(%s%%eth0) = %v, want forbidden", h, err)
		}
	}
}

func TestRefusalReasons(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"127.0.0.1", "loopback address"},
		{"::1", "loopback address"},
		{"::ffff:0:7f00:1", "IPv4-translated form of loopback address"},
		{"::ffff:127.0.0.1", "IPv4-mapped form of loopback address"},
		{"64:ff9b::a9fe:a9fe", "NAT64 form of link-local address"},
		{"2002:c0a8:101::1", "6to4 form of private address"},
		{"2001:0:4136:e378::80ff:fffe", "Teredo form of loopback address"},
		{"2001:2::1", "benchmarking address"},
		{"3fff::1", "documentation address"},
		{"192.0.0.9", "PCP anycast address (answered by the nearest, usually local, PCP server)"},
		{"4000::1", "address outside IPv6 global unicast space"},
		{"8.8.8.8", ""},
	}
	for _, tt := range tests {
		if got := refusal(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("refusal(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
	if refusal(netip.Addr{}) != "invalid address" {
		t.Error("the zero Addr is not refused as invalid")
	}
}
