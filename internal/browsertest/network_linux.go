package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Network is a Linux network namespace of its own with nothing in it but a
// loopback interface, for a browser whose every DNS question and TCP
// connection a test must see.
//
// A browser's own HTTP traffic can be watched through a proxy, but a proxy
// sees neither the DNS lookups of <link rel=dns-prefetch> nor the bare
// connections of <link rel=preconnect>: the browser makes those itself. In a
// Network the browser (started through Command) has no route off the
// machine's loopback, and its /etc/resolv.conf names 127.0.0.1 alone, so a
// DNS server the test starts there on port 53 (with ListenPacket) is asked
// every question, whether the browser resolves with its built-in client or
// through the C library, and a trap listening on ports 80 and 443 accepts
// every connection to a name that server answers with a loopback address.
//
// The servers the browser may reach (the application under test, the DNS
// server, traps) must listen inside the namespace: open their sockets with
// Listen and ListenPacket. Net/http and the other servers then serve them
// as usual, from any goroutine; a socket stays in the namespace it was
// created in.
//
// Creating a namespace needs CAP_SYS_ADMIN (root, as the browser tests run
// in containers and CI); NewNetwork fails the test with what to do when it
// is missing. Command also needs nsenter, unshare, mount and sh (util-linux
// and a shell, on every Linux system).
type Network struct {
	path string      // /proc/<pid>/task/<tid>/ns/net of the thread that holds the namespace
	ops  chan func() // run on that thread
	dir  string      // the files bind-mounted over /etc in the browser's mount namespace
}

// NewNetwork creates a network namespace with its loopback interface up.
// It lives until the test ends.
func NewNetwork(tb testing.TB) *Network {
	tb.Helper()
	n := &Network{ops: make(chan func()), dir: tb.TempDir()}
	ready := make(chan error, 1)
	go n.hold(ready)
	if err := <-ready; err != nil {
		tb.Fatalf("browsertest: a network namespace for the browser: %v (the browser tests watch DNS and TCP in a namespace of their own: run them as root, or with CAP_SYS_ADMIN)", err)
	}
	tb.Cleanup(func() { close(n.ops) })
	if err := n.writeEtc(); err != nil {
		tb.Fatalf("browsertest: %v", err)
	}
	for _, tool := range []string{"nsenter", "unshare", "mount", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("browsertest: %s is needed to start the browser in its namespace (install util-linux): %v", tool, err)
		}
	}
	return n
}

// hold runs on a thread of its own that leaves this process's network
// namespace for a new one and serves ops there until Cleanup. The thread
// is never unlocked, so when hold returns the Go runtime ends it rather than
// reuse a thread in the wrong namespace.
func (n *Network) hold(ready chan<- error) {
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		ready <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		return
	}
	if err := loopbackUp(); err != nil {
		ready <- err
		return
	}
	n.path = fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	ready <- nil
	for op := range n.ops {
		op()
	}
}

// loopbackUp sets the IFF_UP flag of lo, which a new namespace has down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("read the flags of lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// do runs f on the namespace's thread.
func (n *Network) do(f func()) {
	done := make(chan struct{})
	n.ops <- func() { defer close(done); f() }
	<-done
}

// Listen is net.Listen inside the namespace.
func (n *Network) Listen(network, address string) (ln net.Listener, err error) {
	n.do(func() { ln, err = net.Listen(network, address) })
	return ln, err
}

// ListenPacket is net.ListenPacket inside the namespace.
func (n *Network) ListenPacket(network, address string) (c net.PacketConn, err error) {
	n.do(func() { c, err = net.ListenPacket(network, address) })
	return c, err
}

// DialContext connects from inside the namespace, to an address literal
// (a name would be resolved outside it). Dials are made one at a time.
func (n *Network) DialContext(ctx context.Context, network, address string) (c net.Conn, err error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		return nil, errors.New("browsertest: Network.DialContext takes an IP address, not a name: " + address)
	}
	n.do(func() {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, address)
	})
	return c, err
}

// The files the browser sees in place of the machine's: a resolver that
// asks 127.0.0.1 only, once, with a short timeout; hosts that know
// localhost alone; and name service switch rules that resolve host names
// from those two files only (no mDNS, no systemd-resolved, which would
// answer from outside the namespace).
const (
	resolvConf = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
	hostsFile  = "127.0.0.1 localhost\n::1 localhost\n"
)

func (n *Network) writeEtc() error {
	nss, err := os.ReadFile("/etc/nsswitch.conf")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var lines []string
	for l := range strings.SplitSeq(string(nss), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "hosts:" {
			continue
		}
		lines = append(lines, l)
	}
	lines = append(lines, "hosts: files dns", "")
	for name, body := range map[string]string{
		"resolv.conf":   resolvConf,
		"hosts":         hostsFile,
		"nsswitch.conf": strings.Join(lines, "\n"),
	} {
		if err := os.WriteFile(filepath.Join(n.dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Command changes cmd, which is not started yet, so that it runs inside the
// namespace and sees the namespace's resolv.conf, hosts and nsswitch.conf
// (bind-mounted over the machine's in a mount namespace of its own, as
// `ip netns exec` does). Its arguments, environment and extra files are
// kept. Use it with chromedp.ModifyCmdFunc; the browser must talk to the
// test over a pipe (chromedp's default), as its debugging port would be
// inside the namespace.
func (n *Network) Command(cmd *exec.Cmd) {
	nsenter, _ := exec.LookPath("nsenter")
	script := `set -e
for f in resolv.conf hosts nsswitch.conf; do mount --bind "$1/$f" "/etc/$f"; done
shift
exec "$@"`
	args := []string{"nsenter", "--net=" + n.path, "--",
		"unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", script, "sh", n.dir, cmd.Path}
	cmd.Path = nsenter
	cmd.Args = append(args, cmd.Args[1:]...)
	cmd.Err = nil // exec.Command's lookup error, if any, was about the old path
}
