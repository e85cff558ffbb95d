package netguard

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
)

// Policy decides which destinations linkarc may connect to. The zero
// Policy is linkarc's default: public unicast addresses only.
//
// CheckURL and NewDialer are shorthands for a Policy with only AllowPrivate
// set; the Policy itself is for callers that need an exception.
type Policy struct {
	// AllowPrivate permits every IP destination (--allow-private).
	AllowPrivate bool
	// AllowAddrs are exact destinations, address and port, permitted even
	// when AllowPrivate is false: one intranet server, without opening the
	// whole private network to links from untrusted feeds, or a test server
	// on loopback standing in for a public host. An IPv4-mapped IPv6 address
	// matches its IPv4 form; nothing else is widened (another port of the
	// same address, or another address of the same host, stays refused).
	AllowAddrs []netip.AddrPort
}

// allows reports whether ap is one of the exact exceptions.
func (p Policy) allows(ap netip.AddrPort) bool {
	ap = normalizeAddrPort(ap)
	return slices.ContainsFunc(p.AllowAddrs, func(a netip.AddrPort) bool {
		return normalizeAddrPort(a) == ap
	})
}

func normalizeAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().WithZone("").Unmap(), ap.Port())
}

// CheckAddr is the decision the dialer makes just before connecting: nil
// when a connection to ap may be made, otherwise a *ForbiddenError saying
// why not.
func (p Policy) CheckAddr(ap netip.AddrPort) error {
	if r := p.refusal(ap); r != "" {
		return &ForbiddenError{Addr: ap.String(), Reason: r}
	}
	return nil
}

func (p Policy) refusal(ap netip.AddrPort) string {
	if p.AllowPrivate || p.allows(ap) {
		return ""
	}
	return refusal(ap.Addr())
}

// CheckURL refuses, before any request is made, a URL that must not be
// fetched under this policy; see the package-level CheckURL for the rules.
// A literal address in AllowAddrs passes when the URL's port (explicit, or
// the scheme's default) is the allowed one; a hostname is never exempted
// here, since only the dialer sees what it resolves to.
func (p Policy) CheckURL(u *url.URL) error {
	if err := checkScheme(u); err != nil {
		return err
	}
	if p.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	h := weburl.NormalizeHost(host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return &ForbiddenError{Addr: host, Reason: "loopback name"}
	}
	ip, ok := literalIP(h)
	if !ok {
		return nil
	}
	if port, ok := urlPort(u); ok && p.allows(netip.AddrPortFrom(ip, port)) {
		return nil
	}
	if r := refusal(ip); r != "" {
		return &ForbiddenError{Addr: host, Reason: r}
	}
	return nil
}

// urlPort is the port a request for u goes to.
func urlPort(u *url.URL) (uint16, bool) {
	if s := u.Port(); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		return uint16(n), err == nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return 80, true
	case "https":
		return 443, true
	}
	return 0, false
}

// Dialer returns a dialer with the given connect timeout whose Control hook
// applies CheckAddr to every socket just before it connects; a refused dial
// fails with an error for which IsForbidden is true, and no packet is sent
// to the refused address. With AllowPrivate the dialer has no hook at all.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	if p.AllowPrivate {
		return &net.Dialer{Timeout: timeout}
	}
	return newDialer(timeout, p.refusal)
}
