package netguard

import "net/netip"

// Allowed reports whether ip is an address linkarc may connect to when
// private addresses are not allowed: one the IANA special-purpose address
// registries call globally reachable (see registry.go for the table, the
// revision it follows and the few anycast rows refused beyond it), in IPv4
// form and in every IPv6 form that carries an IPv4 address (IPv4-mapped,
// IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96, 6to4, Teredo),
// which is judged by the address it carries. Multicast, and IPv6 outside
// global unicast space, are refused too.
func Allowed(ip netip.Addr) bool {
	return refusal(ip) == ""
}
