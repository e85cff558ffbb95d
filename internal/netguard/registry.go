package netguard

import (
	"encoding/binary"
	"net/netip"
)

// The IANA special-purpose address registries are the source of truth for
// which destinations linkarc refuses:
//
//	https://www.iana.org/assignments/iana-ipv4-special-registry/
//	https://www.iana.org/assignments/iana-ipv6-special-registry/
//
// Revision followed: the registries as published in 2025 — the IPv4
// registry with its 192.88.99.2/32 (6a44, RFC 6751) and 192.0.0.170-171
// (RFC 8880) rows, the IPv6 registry through 5f00::/16 (RFC 9602),
// 3fff::/20 (RFC 9637), 2001:1::3/128 (RFC 9665) and 100:0:0:1::/64
// (RFC 9780). The table was written from the registries' published text
// (this build cannot download them); when they change, add the rows here
// and an address for each to registry_test.go.
//
// Each row keeps the registry's Name, Reference and "Globally Reachable"
// column as published. linkarc's action follows from that column:
//
//	False             refused
//	blank (deprecated) refused
//	N/A               judged by the IPv4 address the form carries (6to4, Teredo)
//	True              allowed, except anycast service addresses (see below)
//
// and rows that carry an IPv4 address (IPv4-mapped, the well-known NAT64
// prefix) are judged by that address, since that is where packets go.
//
// Refused although the registry says True: the anycast service addresses
// (PCP, TURN, DNS-SD SRP, AMT, AS112, the 6a44 relay). An anycast address
// is answered by the nearest instance, which for these services is
// commonly run by the local network or its provider (the CPE for PCP,
// enterprise AS112 sinks); no publisher lives there.
//
// Rows not in the special-purpose registries, each with its source: the
// multicast blocks (not unicast), the IPv4-translated and IPv4-compatible
// forms and the old site-local block (judged or refused as below), and the
// IPv6 address space outside 2000::/3, which the IANA IPv6 Address Space
// registry keeps "Reserved by IETF" (not global unicast; everything outside
// it that is reachable is listed more specifically).

// action is what the guard does with an address that a row is the most
// specific match for.
type action int

const (
	refuse   action = iota
	allow           // public unicast
	embedded        // judge the IPv4 address carried inside
)

// reach is the registry's "Globally Reachable" column, verbatim.
type reach string

const (
	reachTrue  reach = "True"
	reachFalse reach = "False"
	reachNA    reach = "N/A"
	reachNone  reach = "" // deprecated rows leave the column blank; rows not in a registry
)

type specialRow struct {
	prefix netip.Prefix
	name   string // the registry's Name
	ref    string // the registry's Reference (or the source, for rows not in it)
	global reach  // the registry's Globally Reachable column
	act    action
	reason string // what a refusal says
}

func row(prefix, name, ref string, global reach, act action, reason string) specialRow {
	return specialRow{netip.MustParsePrefix(prefix), name, ref, global, act, reason}
}

// ipv4Special is the IANA IPv4 Special-Purpose Address Registry, one row per
// entry, then the rows linkarc adds.
var ipv4Special = []specialRow{
	row("0.0.0.0/8", `"This network"`, "RFC 791 §3.2", reachFalse, refuse, `"this network" address`),
	row("0.0.0.0/32", `"This host on this network"`, "RFC 1122 §3.2.1.3", reachFalse, refuse, "unspecified address"),
	row("10.0.0.0/8", "Private-Use", "RFC 1918", reachFalse, refuse, "private address"),
	row("100.64.0.0/10", "Shared Address Space", "RFC 6598", reachFalse, refuse, "shared (CGNAT) address"),
	row("127.0.0.0/8", "Loopback", "RFC 1122 §3.2.1.3", reachFalse, refuse, "loopback address"),
	row("169.254.0.0/16", "Link Local", "RFC 3927", reachFalse, refuse, "link-local address"),
	row("172.16.0.0/12", "Private-Use", "RFC 1918", reachFalse, refuse, "private address"),
	row("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 §2.1", reachFalse, refuse, "IETF protocol assignment"),
	row("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", reachFalse, refuse, "IPv4 service continuity address"),
	row("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", reachFalse, refuse, "IPv4 dummy address"),
	row("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", reachTrue, refuse, "PCP anycast address (answered by the nearest, usually local, PCP server)"),
	row("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", reachTrue, refuse, "TURN anycast address (answered by the nearest, usually local, TURN server)"),
	row("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2", reachFalse, refuse, "NAT64/DNS64 discovery address"),
	row("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2", reachFalse, refuse, "NAT64/DNS64 discovery address"),
	row("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", reachFalse, refuse, "documentation address"),
	row("192.31.196.0/24", "AS112-v4", "RFC 7535", reachTrue, refuse, "AS112 anycast address (answered by the nearest sink, often local)"),
	row("192.52.193.0/24", "AMT", "RFC 7450", reachTrue, refuse, "AMT relay anycast address (answered by the nearest relay)"),
	row("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", reachNone, refuse, "deprecated 6to4 relay anycast address"),
	row("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", reachTrue, refuse, "6a44 relay anycast address (answered by the nearest relay)"),
	row("192.168.0.0/16", "Private-Use", "RFC 1918", reachFalse, refuse, "private address"),
	row("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", reachTrue, refuse, "AS112 anycast address (answered by the nearest sink, often local)"),
	row("198.18.0.0/15", "Benchmarking", "RFC 2544", reachFalse, refuse, "benchmarking address"),
	row("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", reachFalse, refuse, "documentation address"),
	row("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", reachFalse, refuse, "documentation address"),
	row("240.0.0.0/4", "Reserved", "RFC 1112 §4", reachFalse, refuse, "reserved address"),
	row("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 §7", reachFalse, refuse, "broadcast address"),

	// Not in the special-purpose registry.
	row("0.0.0.0/0", "IPv4 unicast", "IANA IPv4 Address Space", reachNone, allow, ""),
	row("224.0.0.0/4", "Multicast", "RFC 5771 (IANA IPv4 Multicast Address Space)", reachNone, refuse, "multicast address"),
}

// ipv6Special is the IANA IPv6 Special-Purpose Address Registry, one row per
// entry, then the rows linkarc adds.
var ipv6Special = []specialRow{
	row("::1/128", "Loopback Address", "RFC 4291", reachFalse, refuse, "loopback address"),
	row("::/128", "Unspecified Address", "RFC 4291", reachFalse, refuse, "unspecified address"),
	row("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", reachFalse, embedded, "IPv4-mapped"),
	row("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", reachTrue, embedded, "NAT64"),
	// The IPv4 address sits where the local operator's prefix length
	// (RFC 6052 §2.2: /48 to /96) puts it, which the guard cannot know: an
	// address that reads public at /96 can reach a private one through a
	// /64 translator. Refused whole, as the registry's False says.
	row("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", reachFalse, refuse, "local-use NAT64 address"),
	row("100::/64", "Discard-Only Address Block", "RFC 6666", reachFalse, refuse, "discard-only address"),
	row("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", reachFalse, refuse, "dummy address"),
	row("2001::/23", "IETF Protocol Assignments", "RFC 2928", reachFalse, refuse, "IETF protocol assignment"),
	row("2001::/32", "TEREDO", "RFC 4380, RFC 8190", reachNA, embedded, "Teredo"),
	row("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", reachTrue, refuse, "PCP anycast address (answered by the nearest, usually local, PCP server)"),
	row("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", reachTrue, refuse, "TURN anycast address (answered by the nearest, usually local, TURN server)"),
	row("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", reachTrue, refuse, "DNS-SD SRP anycast address (answered by the nearest, local, registrar)"),
	row("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", reachFalse, refuse, "benchmarking address"),
	row("2001:3::/32", "AMT", "RFC 7450", reachTrue, refuse, "AMT relay anycast address (answered by the nearest relay)"),
	row("2001:4:112::/48", "AS112-v6", "RFC 7535", reachTrue, refuse, "AS112 anycast address (answered by the nearest sink, often local)"),
	row("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", reachNone, refuse, "deprecated ORCHID address"),
	row("2001:20::/28", "ORCHIDv2", "RFC 7343", reachTrue, allow, ""),
	row("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", reachTrue, allow, ""),
	row("2001:db8::/32", "Documentation", "RFC 3849", reachFalse, refuse, "documentation address"),
	row("2002::/16", "6to4", "RFC 3056", reachNA, embedded, "6to4"),
	row("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", reachTrue, refuse, "AS112 anycast address (answered by the nearest sink, often local)"),
	row("3fff::/20", "Documentation", "RFC 9637", reachFalse, refuse, "documentation address"),
	row("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", reachFalse, refuse, "SRv6 SID address"),
	row("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", reachFalse, refuse, "unique-local (private) address"),
	row("fe80::/10", "Link-Local Unicast", "RFC 4291", reachFalse, refuse, "link-local address"),

	// Not in the special-purpose registry.
	row("::/0", "Reserved by IETF", "IANA IPv6 Address Space", reachNone, refuse, "address outside IPv6 global unicast space"),
	row("2000::/3", "Global Unicast", "IANA IPv6 Address Space, RFC 4291 §2.4", reachNone, allow, ""),
	row("ff00::/8", "Multicast", "RFC 4291 §2.7", reachNone, refuse, "multicast address"),
	row("fec0::/10", "Site-Local (deprecated)", "RFC 3879", reachNone, refuse, "site-local address"),
	// SIIT's IPv4-translated addresses, ::ffff:0:a.b.c.d (RFC 2765 §2.1;
	// not the IPv4-mapped ::ffff:a.b.c.d above): a translator on the path
	// delivers them to the IPv4 address.
	row("::ffff:0:0:0/96", "IPv4-translated Address", "RFC 2765 §2.1", reachNone, embedded, "IPv4-translated"),
	// The deprecated IPv4-compatible form ::a.b.c.d (RFC 4291 §2.5.5.1).
	row("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291 §2.5.5.1", reachNone, embedded, "IPv4-compatible"),
}

// lookup returns the most specific row containing ip (a valid address
// without zone; IPv4 in 4-byte form).
func lookup(ip netip.Addr) *specialRow {
	rows := ipv6Special
	if ip.Is4() {
		rows = ipv4Special
	}
	var best *specialRow
	for i := range rows {
		r := &rows[i]
		if r.prefix.Contains(ip) && (best == nil || r.prefix.Bits() > best.prefix.Bits()) {
			best = r
		}
	}
	return best
}

// refusal returns why ip is refused, or "" when it is allowed.
func refusal(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("")
	r := lookup(ip)
	switch r.act {
	case allow:
		return ""
	case refuse:
		return r.reason
	}
	for _, v4 := range embeddedIPv4(ip, r) {
		if why := refusal(v4); why != "" {
			return r.reason + " form of " + why
		}
	}
	return ""
}

// embeddedIPv4 extracts the IPv4 addresses an embedding form carries.
func embeddedIPv4(ip netip.Addr, r *specialRow) []netip.Addr {
	b := ip.As16()
	last32 := netip.AddrFrom4([4]byte(b[12:16]))
	switch r.prefix.Addr() {
	case teredoPrefix:
		// RFC 4380 §4: the Teredo server's address in bits 32-63, the
		// client's external address bit-inverted in bits 96-127. Packets
		// go to the client; the server must not be an internal one either.
		var client [4]byte
		binary.BigEndian.PutUint32(client[:], ^binary.BigEndian.Uint32(b[12:16]))
		return []netip.Addr{netip.AddrFrom4(client), netip.AddrFrom4([4]byte(b[4:8]))}
	case sixToFourPrefix:
		return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))} // RFC 3056 §2
	}
	return []netip.Addr{last32} // mapped, translated, compatible, NAT64 /96
}

var (
	teredoPrefix    = netip.MustParseAddr("2001::")
	sixToFourPrefix = netip.MustParseAddr("2002::")
)
