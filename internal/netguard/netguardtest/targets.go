package netguardtest

import (
	"net/netip"
	"testing"
)

// Target is one internal destination a hostile link may point at.
type Target struct {
	Name string // short label for test names
	URL  string
	// Trap is set when the URL reaches a loopback trap (by its port) if the
	// guard fails; the others point at addresses no test may ever contact.
	Trap bool
}

// Targets lists the internal destinations of linkarc's SSRF promise, each
// in the notations a resolver or browser accepts: loopback, the three
// RFC 1918 ranges, the cloud metadata address, IPv6 loopback, IPv4-mapped
// IPv6, decimal, octal and hexadecimal IPv4, the unspecified address, the
// IPv4-translated form, IPv6 benchmarking and documentation addresses and
// the name localhost. Those that would reach this machine use the ports of
// the traps (v4 on 127.0.0.1, v6 on ::1), so a broken guard shows up as an
// accepted connection.
func Targets(v4, v6 *Trap) []Target {
	p4, p6 := v4.PortString(), v6.PortString()
	return []Target{
		{"loopback", "http://127.0.0.1:" + p4 + "/admin", true},
		{"loopback-other", "http://127.0.0.2:" + p4 + "/", false},
		{"ten", "http://10.0.0.1/", false},
		{"ten-port", "http://10.20.30.40:8080/internal", false},
		{"172.16", "http://172.16.0.1/", false},
		{"172.31", "https://172.31.255.254/", false},
		{"192.168", "http://192.168.0.1/", false},
		{"192.168-router", "http://192.168.1.1:8443/cgi-bin/", false},
		{"metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", false},
		{"ipv6-loopback", "http://[::1]:" + p6 + "/", true},
		{"ipv4-mapped", "http://[::ffff:127.0.0.1]:" + p4 + "/", true},
		{"ipv4-mapped-metadata", "http://[::ffff:169.254.169.254]/latest/meta-data/", false},
		{"decimal", "http://2130706433:" + p4 + "/", true},
		{"decimal-metadata", "http://2852039166/latest/meta-data/", false},
		{"octal", "http://0177.0.0.1:" + p4 + "/", true},
		{"hex", "http://0x7f.1:" + p4 + "/", true},
		{"unspecified", "http://0.0.0.0:" + p4 + "/", true},
		// Issue 10: counted public before the IANA registries became the
		// source of truth. None can reach a trap on Linux, which routes
		// them as plain IPv6.
		{"ipv4-translated", "http://[::ffff:0:7f00:1]:" + p4 + "/", false},
		{"benchmarking-v6", "http://[2001:2::1]/", false},
		{"documentation-v6", "http://[3fff::1]/", false},
		{"localhost", "http://localhost:" + p4 + "/", true},
	}
}

// InternalAddrs maps hostnames under .example to internal addresses, for
// StartDNS: the same destinations reached by a name, which only the dialer
// can refuse.
func InternalAddrs() map[string][]netip.Addr {
	a := netip.MustParseAddr
	return map[string][]netip.Addr{
		"loopback.example": {a("127.0.0.1")},
		"v6.example":       {a("::1")},
		"mapped.example":   {a("::ffff:127.0.0.1")},
		"ten.example":      {a("10.0.0.1")},
		"corp.example":     {a("172.16.0.1")},
		"home.example":     {a("192.168.1.1")},
		"metadata.example": {a("169.254.169.254")},
		"mixed.example":    {a("10.0.0.1"), a("127.0.0.1"), a("::1")},
	}
}

// Traps starts a trap on 127.0.0.1 and one on ::1.
func Traps(tb testing.TB) (v4, v6 *Trap) {
	tb.Helper()
	return StartTrap(tb, "127.0.0.1:0"), StartTrap(tb, "[::1]:0")
}
