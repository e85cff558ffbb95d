package netguard

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/weburl"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		raw       string
		forbidden bool // with allowPrivate=false
		private   bool // still forbidden with allowPrivate=true
	}{
		{"https://www.nytimes.com/2026/01/04/world/europe/ukraine.html", false, false},
		{"http://example.com:8080/a?b=c", false, false},
		{"https://93.184.216.34/", false, false},
		{"http://[2606:4700:4700::1111]/", false, false},
		{"http://8.8.8.8./", false, false},
		{"http://1.2.3.4.5/", false, false}, // not an address: left to DNS and the dialer
		{"HTTPS://EXAMPLE.COM/", false, false},

		// Schemes and hosts refused whatever allowPrivate says.
		{"ftp://example.com/file", true, true},
		{"file:///etc/passwd", true, true},
		{"gopher://127.0.0.1:70/", true, true},
		{"javascript:alert(1)", true, true},
		{"data:text/html,hi", true, true},
		{"/relative/path", true, true},
		{"http:///nohost", true, true},

		// Literal non-public addresses, standard notation.
		{"http://127.0.0.1/", true, false},
		{"http://127.0.0.1:8080/admin", true, false},
		{"http://10.1.2.3/", true, false},
		{"http://172.16.5.4/", true, false},
		{"http://192.168.0.1/", true, false},
		{"http://169.254.169.254/latest/meta-data/", true, false},
		{"http://0.0.0.0/", true, false},
		{"http://100.64.1.1/", true, false},
		{"http://255.255.255.255/", true, false},
		{"http://224.0.0.251/", true, false},
		{"http://[::1]/", true, false},
		{"http://[::]/", true, false},
		{"http://[fe80::1%25eth0]/", true, false},
		{"http://[fd00::1]/", true, false},
		{"http://[::ffff:127.0.0.1]/", true, false},
		{"http://[::ffff:7f00:1]/", true, false},
		{"http://[0:0:0:0:0:ffff:a9fe:a9fe]/", true, false},
		{"http://[::127.0.0.1]/", true, false},
		{"http://[64:ff9b::10.0.0.1]/", true, false},
		{"http://[2002:7f00:1::]/", true, false},
		{"http://127.0.0.1./", true, false},

		// Legacy notations accepted by inet_aton and browsers.
		{"http://2130706433/", true, false}, // decimal 127.0.0.1
		{"http://3232235521/", true, false}, // decimal 192.168.0.1
		{"http://2852039166/", true, false}, // decimal 169.254.169.254
		{"http://0177.0.0.1/", true, false}, // octal first part
		{"http://0177.0000.0000.0001/", true, false},
		{"http://017700000001/", true, false}, // octal whole
		{"http://0x7f000001/", true, false},   // hex whole
		{"http://0X7F.0.0.1/", true, false},   // hex part, upper case
		{"http://0x7f.0x0.0x0.0x1/", true, false},
		{"http://0xa9.0xfe.0xa9.0xfe/", true, false},
		{"http://127.1/", true, false},   // short form a.b
		{"http://127.0.1/", true, false}, // short form a.b.c
		{"http://10.1/", true, false},
		{"http://192.168.257/", true, false}, // a.b.c with 16-bit c: 192.168.1.1
		{"http://0/", true, false},           // 0.0.0.0
		{"http://0x/", true, false},          // browsers read "0x" as 0
		{"http://0xa9fea9fe./", true, false},
		{"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/", true, false}, // full-width "127"
		{"http://１２７。０。０。１/", true, false},                         // full-width with ideographic full stops

		// Loopback names.
		{"http://localhost/", true, false},
		{"http://LOCALHOST:9000/", true, false},
		{"http://localhost./", true, false},
		{"http://api.localhost/", true, false},

		// Values that overflow are not addresses, so they are left to DNS.
		{"http://4294967296/", false, false},
		{"http://256.0.0.1/", false, false},
		{"http://0x1ffffffff/", false, false},
		{"http://08.0.0.1/", false, false}, // 8 is not an octal digit
		{"http://notlocalhost/", false, false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", tt.raw, err)
		}
		err = CheckURL(u, false)
		if got := err != nil; got != tt.forbidden {
			t.Errorf("CheckURL(%q, false) = %v, want forbidden=%v", tt.raw, err, tt.forbidden)
		}
		if err != nil && !IsForbidden(err) {
			t.Errorf("CheckURL(%q, false) = %v, not a ForbiddenError", tt.raw, err)
		}
		err = CheckURL(u, true)
		if got := err != nil; got != tt.private {
			t.Errorf("CheckURL(%q, true) = %v, want forbidden=%v", tt.raw, err, tt.private)
		}
	}
	if err := CheckURL(nil, true); !IsForbidden(err) {
		t.Errorf("CheckURL(nil) = %v, want ForbiddenError", err)
	}
}

func TestParseLegacyIPv4(t *testing.T) {
	tests := []struct {
		in, want string // want "" means not an address
	}{
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"1.2.3.4", "1.2.3.4"},
		{"1.2.65535", "1.2.255.255"},
		{"1.16777215", "1.255.255.255"},
		{"4294967295", "255.255.255.255"},
		{"0", "0.0.0.0"},
		{"00", "0.0.0.0"},
		{"4294967296", ""},
		{"1.2.65536", ""},
		{"1.16777216", ""},
		{"256.1", ""},
		{"1.2.3.4.5", ""},
		{"1..2", ""},
		{"", ""},
		{"0x", "0.0.0.0"},
		{"0xg", ""},
		{"09", ""},
		{"example", ""},
		{"1e3", ""},
		{"+1", ""},
		{"-1", ""},
		{"1_000", ""},
	}
	for _, tt := range tests {
		got, ok := parseLegacyIPv4(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseLegacyIPv4(%q) = %s, want not an address", tt.in, got)
		case tt.want != "" && (!ok || got.String() != tt.want):
			t.Errorf("parseLegacyIPv4(%q) = %s, %v, want %s", tt.in, got, ok, tt.want)
		}
	}
}

// FuzzCheckURL checks that CheckURL never panics, that allowPrivate never
// makes it stricter, that an accepted URL is http(s) with a host that is not
// a refused literal address, and that the early check agrees with the
// dial-time one: a literal host is refused by CheckURL exactly when the
// dialer would refuse its address, and an exact AllowAddrs exception lets
// it through both.
//
//	go test ./internal/netguard -run '^$' -fuzz '^FuzzCheckURL$' -fuzztime 60s
//
// Seeds: testdata/fuzz/FuzzCheckURL (every notation of the SSRF targets).
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/",
		"http://127.1/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1%25eth0]/",
		"https://example.com/a", "ftp://x/", "http://localhost./", "http://１２７。０。０。１/",
		"http://[64:ff9b::a9fe:a9fe]:80/", "http://0x/", "http://user:pass@10.0.0.1:8080/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		strict := CheckURL(u, false)
		lax := CheckURL(u, true)
		if lax != nil && strict == nil {
			t.Fatalf("%q: allowed without allowPrivate but refused with it: %v", raw, lax)
		}
		for _, err := range []error{strict, lax} {
			if err != nil && !IsForbidden(err) {
				t.Fatalf("%q: error %v is not a ForbiddenError", raw, err)
			}
		}
		if lax != nil {
			return
		}
		if !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
			t.Fatalf("%q: scheme %q accepted", raw, u.Scheme)
		}
		if u.Hostname() == "" {
			t.Fatalf("%q: empty host accepted", raw)
		}
		h := weburl.Host(u)
		ip, literal := literalIP(h)
		if strict == nil && literal && !Allowed(ip) {
			t.Fatalf("%q: literal %s accepted", raw, ip)
		}
		port, portOK := urlPort(u)
		if !literal || !portOK || h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return
		}
		ap := netip.AddrPortFrom(ip, port)
		dial := Policy{}.CheckAddr(ap)
		if (strict == nil) != (dial == nil) {
			t.Fatalf("%q: CheckURL says %v but the dialer says %v for %s", raw, strict, dial, ap)
		}
		exempt := Policy{AllowAddrs: []netip.AddrPort{ap}}
		if err := exempt.CheckURL(u); err != nil {
			t.Fatalf("%q: refused although %s is allowed exactly: %v", raw, ap, err)
		}
		if err := exempt.CheckAddr(ap); err != nil {
			t.Fatalf("%q: dialer refuses %s although it is allowed exactly: %v", raw, ap, err)
		}
		if other := netip.AddrPortFrom(ip, port^1); dial != nil && exempt.CheckAddr(other) == nil {
			t.Fatalf("%q: allowing %s also let through %s", raw, ap, other)
		}
	})
}
