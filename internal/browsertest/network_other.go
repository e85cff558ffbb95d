//go:build !linux

package browsertest

import (
	"context"
	"net"
	"os/exec"
	"testing"
)

// Network is a network namespace for the browser; only Linux has them.
type Network struct{}

// NewNetwork fails the test: the browser tests watch DNS and TCP in a
// network namespace of their own, which needs Linux.
func NewNetwork(tb testing.TB) *Network {
	tb.Helper()
	tb.Fatal("browsertest: the browser tests need a Linux network namespace; run them on Linux")
	return nil
}

func (n *Network) Listen(network, address string) (net.Listener, error)         { panic("unreachable") }
func (n *Network) ListenPacket(network, address string) (net.PacketConn, error) { panic("unreachable") }
func (n *Network) DialContext(context.Context, string, string) (net.Conn, error) {
	panic("unreachable")
}
func (n *Network) Command(*exec.Cmd) { panic("unreachable") }
