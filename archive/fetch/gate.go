package fetch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/sendgate"
)

// Each host has a sendgate.Gate: requests to it are spaced from the moment
// each was really sent. One request at a time holds the host's turn, from
// before its connection is made until its request has been written to the
// connection; then the time of that write ends the turn. The next holder
// waits until the interval has passed since that write before it may
// connect and send. A paused process, a slow dial or a late goroutine can
// therefore only make the gaps on the wire longer, never shorter: there is
// no schedule of future slots that a burst of late callers could use up at
// once.

// ticket is one request's turn at its host.
type ticket struct {
	turn     *sendgate.Turn
	host     string
	once     sync.Once
	onSent   func(host, url string, ready, sent time.Time)
	interval time.Duration
}

// gate returns host's gate, creating it. A host serving both pages and
// requisites has one gate; each turn waits the interval of its own kind
// (see interval).
func (f *Fetcher) gate(host string) *sendgate.Gate {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.gates[host]
	if !ok {
		g = sendgate.New(f.opts.HostInterval, sendgate.Clock{})
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
	turn, err := f.gate(host).AcquireEvery(ctx, iv)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("waiting for %s's turn (interval %s): %w", host, iv, err)
		}
		return nil, err
	}
	return &ticket{turn: turn, host: host, interval: iv, onSent: f.logSent}, nil
}

// sent ends the turn: the request for url was written to the connection
// at the time given, from which the next request's interval counts.
func (t *ticket) sent(at time.Time, url string) {
	t.once.Do(func() {
		if t.onSent != nil {
			t.onSent(t.host, url, t.turn.Ready(), at)
		}
		t.turn.End(at)
	})
}

// release ends a turn whose request was not seen being written (a failed
// dial, a request refused before sending). used says whether a connection
// may have been attempted: then the interval counts from now, as if it had
// been sent.
func (t *ticket) release(used bool) {
	t.once.Do(func() {
		if used {
			t.turn.End(time.Now())
		} else {
			t.turn.Cancel()
		}
	})
}

// logSent logs each request's turn at debug level: its URL (credentials
// redacted), when the turn began
// (ready) and when the request was written (sent). A request's bytes are
// on the wire between the two, so the gap between one request and the
// next to the same host is at least next.ready - previous.sent; the
// politeness tests read these lines to prove the spacing from what the
// client did.
func (f *Fetcher) logSent(host, url string, ready, sent time.Time) {
	f.log.Debug("fetch: request sent", "host", host,
		"ready", ready.Format(time.RFC3339Nano), "sent", sent.Format(time.RFC3339Nano), "url", url)
}
