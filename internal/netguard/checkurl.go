package netguard

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckURL refuses, before any request is made, a URL that linkarc must not
// fetch: a scheme other than http or https, a missing host, and, unless
// allowPrivate is set, a host that is a non-public IP address written in any
// notation a resolver or browser accepts (dotted quad, IPv6 and its IPv4
// forms, decimal "2130706433", octal "0177.0.0.1", hex "0x7f.1", short
// "127.1", full-width digits, a trailing dot) or the name "localhost" or a
// name under it. The error is a *ForbiddenError.
//
// CheckURL does not resolve names; hostnames that resolve to private
// addresses are refused by the dialer from NewDialer.
func CheckURL(u *url.URL, allowPrivate bool) error {
	return Policy{AllowPrivate: allowPrivate}.CheckURL(u)
}

// checkScheme refuses what no policy lets through: no URL, a scheme other
// than http or https, no host.
func checkScheme(u *url.URL) error {
	if u == nil {
		return &ForbiddenError{Addr: "<nil URL>", Reason: "no URL"}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return &ForbiddenError{Addr: u.Redacted(), Reason: "scheme " + strconv.Quote(u.Scheme) + " is not http or https"}
	}
	if u.Hostname() == "" {
		return &ForbiddenError{Addr: u.Redacted(), Reason: "no host"}
	}
	return nil
}

// literalIP parses h as an IP address: standard IPv4/IPv6 first, then the
// legacy inet_aton forms that glibc's resolver and the WHATWG URL parser
// accept.
func literalIP(h string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip, true
	}
	return parseLegacyIPv4(h)
}

// parseLegacyIPv4 parses the inet_aton notations: one to four parts separated
// by dots, each decimal, octal (leading 0) or hexadecimal (leading 0x); the
// last part fills all remaining bytes ("127.1" is 127.0.0.1, "2130706433"
// is 127.0.0.1).
func parseLegacyIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for i := 0; i < last; i++ {
		if nums[i] > 0xff {
			return netip.Addr{}, false
		}
	}
	// The last part fills the remaining 4-last bytes.
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	v := nums[last]
	for i := 0; i < last; i++ {
		v |= nums[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Part parses one part of a legacy IPv4 address. Values above 32
// bits are rejected, as both glibc and browsers do.
func parseIPv4Part(p string) (uint64, bool) {
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
		if p == "" { // "0x" alone is 0 for browsers
			return 0, true
		}
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" || len(p) > 32 {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil || n > 0xffffffff {
		return 0, false
	}
	return n, true
}
