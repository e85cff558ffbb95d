// Package netguardtest provides real loopback servers for testing the SSRF
// guard end to end: a DNS server that answers from a fixed table (so a
// hostname can resolve to a private address without any real DNS) and
// records every question, a trap server that counts every TCP connection it
// accepts, and a recorder of the guard's dial-time decisions.
package netguardtest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is a DNS server on 127.0.0.1 (UDP) answering A and AAAA questions
// from a fixed table; other names get NXDOMAIN. Use it through Resolver.
type DNS struct {
	conn net.PacketConn

	mu        sync.Mutex
	records   map[string][]netip.Addr // fully qualified, lower case
	queries   map[string]int
	questions []Question
}

// Question is one question a DNS server was asked.
type Question struct {
	Name string // fully qualified, lower case: "a.trap.example."
	Type dnsmessage.Type
}

func (q Question) String() string { return q.Type.String() + " " + q.Name }

// StartDNS starts a DNS server answering for records (name -> addresses;
// names are matched without case, with or without the trailing dot). It is
// stopped when the test ends.
func StartDNS(tb testing.TB, records map[string][]netip.Addr) *DNS {
	tb.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("netguardtest: DNS listen: %v", err)
	}
	return StartDNSOn(tb, conn, records)
}

// StartDNSOn is StartDNS on a socket the caller opened, for a server that
// must listen at a given address (port 53 inside a network namespace whose
// resolv.conf names it). A name "*.zone" answers for every name under zone.
// The server owns conn and closes it when the test ends.
func StartDNSOn(tb testing.TB, conn net.PacketConn, records map[string][]netip.Addr) *DNS {
	tb.Helper()
	d := &DNS{conn: conn, records: map[string][]netip.Addr{}, queries: map[string]int{}}
	for name, addrs := range records {
		d.records[fqdn(name)] = addrs
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.serve()
	}()
	tb.Cleanup(func() {
		conn.Close()
		<-done
	})
	return d
}

func fqdn(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// Resolver returns a pure-Go resolver that sends every query to this
// server, whatever /etc/resolv.conf says. (/etc/hosts is still read first,
// so use names it does not list, such as ones under .example.)
func (d *DNS) Resolver() *net.Resolver {
	addr := d.conn.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "udp", addr)
		},
	}
}

// Set changes the answer for name from now on (DNS rebinding: the same
// name pointing elsewhere a moment later). Answers have a TTL of 0.
func (d *DNS) Set(name string, addrs ...netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records[fqdn(name)] = addrs
}

// Queries reports how many questions (A and AAAA) were asked about name.
func (d *DNS) Queries(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[fqdn(name)]
}

// Questions returns every question asked so far, of any type, in the order
// they arrived.
func (d *DNS) Questions() []Question {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Question(nil), d.questions...)
}

// lookup returns the addresses of name (fully qualified, lower case): its own
// record, else that of the nearest "*." wildcard above it.
func (d *DNS) lookup(name string) ([]netip.Addr, bool) {
	if addrs, ok := d.records[name]; ok {
		return addrs, true
	}
	for rest := name; ; {
		_, parent, ok := strings.Cut(rest, ".")
		if !ok || parent == "" {
			return nil, false
		}
		if addrs, ok := d.records["*."+parent]; ok {
			return addrs, true
		}
		rest = parent
	}
}

func (d *DNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := d.answer(buf[:n]); ok {
			d.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query message.
func (d *DNS) answer(msg []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(q.Name.String())
	d.mu.Lock()
	d.queries[name]++
	d.questions = append(d.questions, Question{Name: name, Type: q.Type})
	addrs, known := d.lookup(name)
	d.mu.Unlock()

	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	for _, a := range addrs {
		res := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			if b.AResource(res, dnsmessage.AResource{A: a.As4()}) != nil {
				return nil, false
			}
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			if b.AAAAResource(res, dnsmessage.AAAAResource{AAAA: a.As16()}) != nil {
				return nil, false
			}
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
