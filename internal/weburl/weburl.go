// Package weburl is linkarc's one idea of a web URL's host and canonical
// form, so that everything keyed by host (the archive's host queues, the
// fetcher's politeness gate, robots.txt) and everything keyed by URL (an
// article's identity) agree on which spellings are the same.
//
// A host is normalised as a browser would before it looks the name up:
// lower case, internationalised names in their ASCII (A-label, "xn--")
// form per IDNA2008 / UTS #46 lookup, and the trailing dot of a
// fully-qualified name dropped. "https://Example.com./a",
// "https://example.com/a" and "https://EXAMPLE.COM/a#top" are one host and
// one page.
package weburl

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// Host returns u's normalised host name, without port or IPv6 brackets:
// lower case, ASCII (A-label) form, no trailing dot. A name IDNA refuses
// (one with an underscore, say) is kept as it is, lower-cased; an IP
// address stays an address.
func Host(u *url.URL) string { return NormalizeHost(u.Hostname()) }

// HostOf is Host of a URL string; "" when raw does not parse.
func HostOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return Host(u)
}

// NormalizeHost normalises a host name (without port or brackets) as Host
// does. The SSRF guard reads literal addresses from it too, so that a host
// is judged in the form it will be looked up in (full-width digits and
// ideographic full stops become ASCII, "127.0.0.1." is 127.0.0.1).
func NormalizeHost(h string) string {
	if h == "" {
		return ""
	}
	if ascii, err := idna.Lookup.ToASCII(h); err == nil {
		h = ascii
	} else {
		h = strings.ToLower(h)
	}
	return strings.TrimRight(h, ".")
}

// hostPort joins a normalised host and a port as a URL's host part,
// bracketing IPv6 addresses.
func hostPort(host, port string) string {
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// Origin returns u's origin as robots.txt rules are scoped (RFC 9309 §2.3):
// the lower-case scheme, "://", the normalised host and the port if one is
// given, e.g. "https://example.com" or "http://127.0.0.1:8080".
func Origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + hostPort(Host(u), u.Port())
}

// Canonical returns raw in the form that names its page once: the fragment
// dropped (it never reaches the server), tracking parameters dropped
// (StripTracking: utm_source and the like say how a reader came, not which
// page it is), the scheme lower-cased and the host normalised as Host
// does, the port, path and other parameters kept as they are. Two links to
// one article that differ only in these ways have one Canonical form; the
// archive merges them into one article. A string that does not parse is
// returned trimmed.
func Canonical(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(StripTracking(raw))
	if err != nil {
		return raw
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Host != "" {
		u.Host = hostPort(Host(u), u.Port())
	}
	return u.String()
}
