package netguard

import (
	"encoding/binary"
	"net/netip"
)

// blockedPrefixes are the ranges that are not reachable public unicast
// destinations, beyond what netip's Is* predicates already cover. They are
// refused because each either reaches the local host or network (CGNAT,
// 0.0.0.0/8, site-local), or is never a legitimate publisher (documentation,
// benchmarking, reserved, broadcast).
var blockedPrefixes = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast address"},
	{netip.MustParsePrefix("100::/64"), "discard-only address"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address"},
}

// Prefixes whose addresses embed an IPv4 address that is what the packets
// finally reach; the embedded address is checked too.
var (
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	compatPrefix = netip.MustParsePrefix("::/96") // deprecated IPv4-compatible ::a.b.c.d
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredo       = netip.MustParsePrefix("2001::/32")
)

// Allowed reports whether ip is a public unicast address that linkarc may
// connect to when private addresses are not allowed. Loopback, private,
// link-local, multicast, unspecified, CGNAT, broadcast and reserved
// addresses are refused, in IPv4 form and in every IPv6 form that carries an
// IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
func Allowed(ip netip.Addr) bool {
	return refusal(ip) == ""
}

// refusal returns why ip is refused, or "" when it is allowed.
func refusal(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("").Unmap()
	switch {
	case ip.IsUnspecified():
		return "unspecified address"
	case ip.IsLoopback():
		return "loopback address"
	case ip.IsPrivate():
		return "private address"
	case ip.IsLinkLocalUnicast():
		return "link-local address"
	case ip.IsMulticast():
		return "multicast address"
	}
	for _, b := range blockedPrefixes {
		if b.prefix.Contains(ip) {
			return b.reason
		}
	}
	if ip.Is6() {
		if v4, kind, ok := embeddedIPv4(ip); ok {
			if r := refusal(v4); r != "" {
				return kind + " form of " + r
			}
		}
	}
	return ""
}

// embeddedIPv4 extracts the IPv4 address carried by the IPv6 transition
// forms that route to it.
func embeddedIPv4(ip netip.Addr) (netip.Addr, string, bool) {
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), "NAT64", true
	case compatPrefix.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), "IPv4-compatible", true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), "6to4", true
	case teredo.Contains(ip):
		// The Teredo client address is stored bit-inverted in the last 32 bits.
		var v4 [4]byte
		binary.BigEndian.PutUint32(v4[:], ^binary.BigEndian.Uint32(b[12:16]))
		return netip.AddrFrom4(v4), "Teredo", true
	}
	return netip.Addr{}, "", false
}
