// Package netguardtest provides real loopback servers for testing the SSRF
// guard end to end: a DNS server that answers from a fixed table (so a
// hostname can resolve to a private address without any real DNS), a trap
// server that counts every TCP connection it accepts, and a recorder of the
// guard's dial-time decisions.
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

	mu      sync.Mutex
	records map[string][]netip.Addr // fully qualified, lower case
	queries map[string]int
}

// StartDNS starts a DNS server answering for records (name -> addresses;
// names are matched without case, with or without the trailing dot). It is
// stopped when the test ends.
func StartDNS(tb testing.TB, records map[string][]netip.Addr) *DNS {
	tb.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("netguardtest: DNS listen: %v", err)
	}
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
	addrs, known := d.records[name]
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
