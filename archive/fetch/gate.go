package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// hostGate spaces the requests to one host from the moment each was really
// sent. One request at a time holds the host's turn, from before its
// connection is made until its request has been written to the connection;
// then the time of that write is noted and the turn passed on. The next
// holder waits until the interval has passed since that write before it may
// connect and send. A paused process, a slow dial or a late goroutine can
// therefore only make the gaps on the wire longer, never shorter: there is
// no schedule of future slots that a burst of late callers could use up at
// once.
type hostGate struct {
	turn chan struct{} // holds a token while a request has the turn
	last time.Time     // when the previous request was written; guarded by turn
}

func newHostGate() *hostGate { return &hostGate{turn: make(chan struct{}, 1)} }

// ticket is one request's turn at its host.
type ticket struct {
	g        *hostGate
	host     string
	ready    time.Time // when the turn began: not before last + interval
	once     sync.Once
	onSent   func(host string, ready, sent time.Time)
	interval time.Duration
}

// gate returns host's gate, creating it.
func (f *Fetcher) gate(host string) *hostGate {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.gates[host]
	if !ok {
		g = newHostGate()
		f.gates[host] = g
	}
	return g
}

// interval is the spacing for host: HostIntervals' entry for it, else
// AssetInterval for a requisite (ctx of FetchAsset) from a host that served
// no page, else HostInterval. Zero or negative: none.
func (f *Fetcher) interval(ctx context.Context, host string) time.Duration {
	if d, ok := f.opts.HostIntervals[host]; ok {
		return d
	}
	if isAsset(ctx) && !f.isPageHost(host) {
		return f.opts.AssetInterval
	}
	return f.opts.HostInterval
}

// acquire waits for host's turn: for the previous request to have been
// sent, and for the interval to have passed since. The ticket must be
// ended with sent or release. With no interval for host the ticket is
// free and waits for nothing.
func (f *Fetcher) acquire(ctx context.Context, host string) (*ticket, error) {
	iv := f.interval(ctx, host)
	t := &ticket{host: host, interval: iv, onSent: f.logSent}
	if iv <= 0 {
		t.ready = time.Now()
		return t, nil
	}
	g := f.gate(host)
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t.g = g
	if !g.last.IsZero() {
		at := g.last.Add(iv)
		if dl, ok := ctx.Deadline(); ok && dl.Before(at) {
			<-g.turn
			return nil, fmt.Errorf("waiting for %s's turn (--host-interval %s): %w", host, iv, context.DeadlineExceeded)
		}
		if d := time.Until(at); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				<-g.turn
				return nil, ctx.Err()
			case <-timer.C:
			}
		}
	}
	t.ready = time.Now()
	return t, nil
}

// sent ends the turn: the request was written to the connection at the
// time given, from which the next request's interval counts.
func (t *ticket) sent(at time.Time) {
	t.once.Do(func() {
		if t.onSent != nil {
			t.onSent(t.host, t.ready, at)
		}
		if t.g != nil {
			t.g.last = at
			<-t.g.turn
		}
	})
}

// release ends a turn whose request was not seen being written (a failed
// dial, a request refused before sending). used says whether a connection
// may have been attempted: then the interval counts from now, as if it had
// been sent.
func (t *ticket) release(used bool) {
	t.once.Do(func() {
		if t.g != nil {
			if used {
				t.g.last = time.Now()
			}
			<-t.g.turn
		}
	})
}

// logSent logs each request's turn at debug level: when the turn began
// (ready) and when the request was written (sent). A request's bytes are
// on the wire between the two, so the gap between one request and the
// next to the same host is at least next.ready - previous.sent; the
// politeness tests read these lines to prove the spacing from what the
// client did.
func (f *Fetcher) logSent(host string, ready, sent time.Time) {
	f.log.Debug("fetch: request sent", "host", host,
		"ready", ready.Format(time.RFC3339Nano), "sent", sent.Format(time.RFC3339Nano))
}
