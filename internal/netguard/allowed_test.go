package netguard

import (
	"net/netip"
	"testing"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		// Public addresses are allowed, in IPv4 and IPv6 forms.
		{"93.184.216.34", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"172.15.255.255", true},   // just below 172.16/12
		{"172.32.0.0", true},       // just above 172.16/12
		{"100.63.255.255", true},   // just below CGNAT
		{"100.128.0.0", true},      // just above CGNAT
		{"11.0.0.0", true},

		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"169.254.0.1", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},

		{"::1", false},
		{"::", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"ff02::1", false},
		{"ff05::1:3", false},
		{"fec0::1", false},
		{"2001:db8::1", false},

		// IPv4 carried in IPv6.
		{"::ffff:127.0.0.1", false},
		{"::ffff:7f00:1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false}, // IPv4-compatible
		{"::10.0.0.1", false},
		{"::169.254.169.254", false},
		{"64:ff9b::127.0.0.1", false},    // NAT64
		{"64:ff9b::a9fe:a9fe", false},    // NAT64 of 169.254.169.254
		{"64:ff9b:1::1", false},          // local-use NAT64
		{"2002:7f00:1::", false},         // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", false},      // 6to4 of 192.168.1.1
		{"2001:0:1:2::80ff:fffe", false}, // Teredo, client 127.0.0.1 inverted
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := Allowed(ip); got != tt.want {
			t.Errorf("Allowed(%s) = %v, want %v (reason %q)", tt.ip, got, tt.want, refusal(ip))
		}
	}
	if Allowed(netip.Addr{}) {
		t.Error("Allowed(zero Addr) = true, want false")
	}
}
