package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ForbiddenError is returned when the guard refuses a destination.
// It survives wrapping by net.OpError and url.Error; test for it with
// IsForbidden.
type ForbiddenError struct {
	Addr   string // the address, host or URL refused, as seen by the guard
	Reason string // why, e.g. "loopback address"
}

// Error implements error.
func (e *ForbiddenError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("netguard: refusing %s", e.Addr)
	}
	return fmt.Sprintf("netguard: refusing %s: %s", e.Addr, e.Reason)
}

// IsForbidden reports whether err, or any error it wraps, is a
// *ForbiddenError.
func IsForbidden(err error) bool {
	var fe *ForbiddenError
	return errors.As(err, &fe)
}

// NewDialer returns a dialer with the given connect timeout. Unless
// allowPrivate is set, its Control hook refuses, just before connecting,
// any socket whose destination address is not Allowed; the dial then fails
// with an error for which IsForbidden is true. Because the check sees the
// resolved address actually dialed, it covers hostnames, DNS rebinding and
// redirects alike. DNS lookups themselves are not affected.
func NewDialer(allowPrivate bool, timeout time.Duration) *net.Dialer {
	return Policy{AllowPrivate: allowPrivate}.Dialer(timeout)
}

// newDialer builds a guarded dialer around a refusal policy, which returns
// why a destination is refused or "" to allow it.
func newDialer(timeout time.Duration, refuse func(netip.AddrPort) string) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		// Control runs after the socket is created and before connect(2)
		// (net/sock_posix.go); an error here closes the socket unconnected,
		// so a refused destination never sees a packet.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				// Not an IP socket (e.g. unix): nothing linkarc fetches should
				// dial one, so refuse rather than guess.
				return &ForbiddenError{Addr: address, Reason: "not an IP " + network + " address"}
			}
			if r := refuse(ap); r != "" {
				return &ForbiddenError{Addr: address, Reason: r}
			}
			return nil
		},
	}
}
