package netguardtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Trap is an HTTP server on a loopback address standing in for an internal
// service an attacker would like linkarc to reach. It counts every TCP
// connection it accepts, so a test can prove that not even a handshake got
// through, not only that no request was answered.
type Trap struct {
	*httptest.Server
	ln   *countingListener
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Secret is the body a Trap serves; it must never show up in an archive.
const Secret = "internal-service-secret-7f3a"

// StartTrap starts a Trap listening on addr, e.g. "127.0.0.1:0" or
// "[::1]:0". It is closed when the test ends.
func StartTrap(tb testing.TB, addr string) *Trap {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatalf("netguardtest: trap listen %s: %v", addr, err)
	}
	return StartTrapOn(tb, ln, nil)
}

// StartTrapOn is StartTrap on a listener the caller opened, for a trap that
// lives in another network namespace. dial is how Settle reaches the trap
// (nil: an ordinary dialer, which works in this process's namespace only).
// The trap owns ln and closes it when the test ends.
func StartTrapOn(tb testing.TB, ln net.Listener, dial func(ctx context.Context, network, address string) (net.Conn, error)) *Trap {
	tb.Helper()
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t := &Trap{ln: &countingListener{Listener: ln, accepted: map[string]bool{}, sentinels: map[string]bool{}}, dial: dial}
	t.Server = &httptest.Server{
		Listener: t.ln,
		Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html><body><h1>Internal</h1><p>"+Secret+"</p></body></html>")
		})},
	}
	t.Start()
	tb.Cleanup(t.Close)
	return t
}

// Accepts is the number of TCP connections accepted so far, not counting
// Settle's own. A connection the kernel has completed but the server not
// yet accepted is not counted: call Settle first when that matters.
func (t *Trap) Accepts() int64 {
	t.ln.mu.Lock()
	defer t.ln.mu.Unlock()
	n := t.ln.n
	for addr := range t.ln.sentinels {
		if t.ln.accepted[addr] {
			n--
		}
	}
	return n
}

// Settle makes sure every connection completed before the call has been
// accepted (and so counted), then returns Accepts. It connects once itself
// and waits for the server to accept that connection: a listener accepts
// in arrival order, so everything that arrived earlier has been counted.
func (t *Trap) Settle(tb testing.TB) int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := t.dial(ctx, "tcp", t.Listener.Addr().String())
	if err != nil {
		tb.Fatalf("netguardtest: settle: %v", err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	t.ln.mu.Lock()
	t.ln.sentinels[local] = true
	t.ln.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		t.ln.mu.Lock()
		seen := t.ln.accepted[local]
		t.ln.mu.Unlock()
		if seen {
			return t.Accepts()
		}
		if time.Now().After(deadline) {
			tb.Fatal("netguardtest: settle: the trap did not accept a connection in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Port is the port the trap listens on.
func (t *Trap) Port() int { return t.Listener.Addr().(*net.TCPAddr).Port }

// PortString is Port as a string, for building URLs.
func (t *Trap) PortString() string { return strconv.Itoa(t.Port()) }

type countingListener struct {
	net.Listener
	mu        sync.Mutex
	n         int64
	accepted  map[string]bool // remote addresses accepted
	sentinels map[string]bool // local addresses of Settle's connections
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.n++
		l.accepted[c.RemoteAddr().String()] = true
		l.mu.Unlock()
	}
	return c, err
}

// Dial is one socket a guarded dialer was about to connect, and the guard's
// verdict (nil: let through).
type Dial struct {
	Network, Addr string
	Err           error
}

func (d Dial) String() string {
	if d.Err == nil {
		return fmt.Sprintf("%s %s allowed", d.Network, d.Addr)
	}
	return fmt.Sprintf("%s %s refused: %v", d.Network, d.Addr, d.Err)
}

// Dials records the decisions of a guarded dialer.
type Dials struct {
	mu   sync.Mutex
	list []Dial
}

// ErrOffLoopback is returned by an observed dialer for a destination off
// loopback that the guard let through: see Observe.
var ErrOffLoopback = errors.New("netguardtest: safety net: the guard let through a destination off loopback; refused so that the test sends no packet out")

// Observe wraps the Control hook of a guarded dialer (one from
// netguard.Policy.Dialer without AllowPrivate) so that every socket it is
// about to connect is recorded with the guard's verdict. Control runs
// before connect(2), so a refused entry is a connection never attempted.
//
// As a safety net, a destination outside 127.0.0.0/8 and ::1 that the guard
// allows is refused anyway (and recorded as allowed): if the guard breaks,
// the test fails instead of sending packets to a real network.
func Observe(tb testing.TB, d *net.Dialer) *Dials {
	tb.Helper()
	inner := d.Control
	if inner == nil {
		tb.Fatal("netguardtest: Observe needs a guarded dialer (with a Control hook)")
	}
	l := &Dials{}
	d.Control = func(network, address string, c syscall.RawConn) error {
		err := inner(network, address, c)
		l.mu.Lock()
		l.list = append(l.list, Dial{Network: network, Addr: address, Err: err})
		l.mu.Unlock()
		if err != nil {
			return err
		}
		if ap, perr := netip.ParseAddrPort(address); perr != nil || !ap.Addr().Unmap().IsLoopback() {
			return ErrOffLoopback
		}
		return nil
	}
	return l
}

// All returns the recorded dials in order.
func (l *Dials) All() []Dial {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Dial(nil), l.list...)
}

// Allowed returns the addresses the guard let through, in order.
func (l *Dials) Allowed() []string {
	var out []string
	for _, d := range l.All() {
		if d.Err == nil {
			out = append(out, d.Addr)
		}
	}
	return out
}
