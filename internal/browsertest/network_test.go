package browsertest

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
)

// TestNetwork checks what the browser tests rely on: a program started
// through Command resolves names by asking the DNS server on 127.0.0.1:53
// of the namespace (through the C library, as a browser may), reads the
// namespace's own resolver files, reaches a trap listening there, and
// cannot reach this process's loopback servers, nor they it.
func TestNetwork(t *testing.T) {
	n := NewNetwork(t)
	pc, err := n.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	dns := netguardtest.StartDNSOn(t, pc, map[string][]netip.Addr{"*.trap.example": {netip.MustParseAddr("127.0.0.1")}})
	ln, err := n.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		t.Fatal(err)
	}
	trap := netguardtest.StartTrapOn(t, ln, n.DialContext)

	run := func(name string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(name, args...)
		n.Command(cmd)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	out, err := run("cat", "/etc/resolv.conf", "/etc/hosts")
	if err != nil || out != resolvConf+hostsFile {
		t.Errorf("the namespace's resolver files: %v\n%s", err, out)
	}
	// getent hosts, not ahosts: with only a loopback interface,
	// getaddrinfo's AI_ADDRCONFIG would skip the question.
	out, err = run("getent", "hosts", "probe.trap.example")
	if err != nil || !strings.Contains(out, "127.0.0.1") {
		t.Errorf("getent in the namespace: %v\n%s", err, out)
	}
	want := netguardtest.Question{Name: "probe.trap.example.", Type: dnsmessage.TypeA}
	if qs := dns.Questions(); !slices.Contains(qs, want) {
		t.Errorf("DNS questions %v, want %v among them", qs, want)
	}
	// A TCP connection from a program in the namespace reaches the trap.
	if _, err := exec.LookPath("bash"); err == nil {
		if out, err := run("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/80"); err != nil {
			t.Errorf("connect from the namespace: %v %s", err, out)
		}
		if got := trap.Settle(t); got != 1 {
			t.Errorf("trap accepted %d connections from the namespace, want 1", got)
		}
	}

	// This process's loopback is another network: neither side reaches
	// the other.
	outside, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := n.DialContext(ctx, "tcp", outside.Addr().String()); err == nil {
		c.Close()
		t.Error("a dial inside the namespace reached a listener outside it")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second); err == nil {
		c.Close()
		t.Error("a dial outside the namespace reached the trap inside it")
	}
	if _, err := n.DialContext(ctx, "tcp", "localhost:80"); err == nil {
		t.Error("DialContext accepted a name")
	}
}
