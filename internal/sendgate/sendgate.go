// Package sendgate spaces requests to one destination by what really
// happened on the wire, not by a schedule.
//
// One request at a time holds the gate's turn. The holder ends its turn at
// an instant it chooses — when its request was written to the connection
// (the archive's fetcher), or when its answer was over (the Google News
// resolver) — and the next holder may not go before that instant plus the
// interval. Because the instant is observed, never predicted, a paused
// process, a slow dial or a goroutine scheduled late can only make the gaps
// longer: there is no schedule of future slots (as a token bucket such as
// golang.org/x/time/rate keeps) that a burst of late callers could use up
// at once.
package sendgate

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock is the gate's time. The zero value is the real clock; tests of
// callers may pass a fake one, whose Sleep advances Now.
type Clock struct {
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error // returns ctx.Err() if ctx ends first
}

// Gate is one destination's turn. Create it with New; it is safe for
// concurrent use.
type Gate struct {
	interval time.Duration
	clock    Clock
	turn     chan struct{} // holds a token while a request has the turn
	last     time.Time     // when the previous turn ended; guarded by turn
}

// New returns a gate spacing turns by interval. interval <= 0 means no
// spacing at all: Acquire waits for nothing, not even another turn.
func New(interval time.Duration, clock Clock) *Gate {
	if clock.Now == nil {
		clock.Now = time.Now
	}
	if clock.Sleep == nil {
		clock.Sleep = sleep
	}
	return &Gate{interval: interval, clock: clock, turn: make(chan struct{}, 1)}
}

// Interval is the gate's spacing (<= 0: none).
func (g *Gate) Interval() time.Duration { return g.interval }

// Turn is one request's turn. It must be ended exactly once with End or
// Cancel; later calls do nothing.
type Turn struct {
	g     *Gate // nil: a gate without spacing
	ready time.Time
	once  sync.Once
}

// Acquire waits until the previous turn has ended and the interval has
// passed since the instant it ended at, then returns the caller's turn. It
// fails, holding nothing, when ctx ends first, or at once when ctx's
// deadline comes before the turn could begin (the error then wraps
// context.DeadlineExceeded).
func (g *Gate) Acquire(ctx context.Context) (*Turn, error) {
	return g.AcquireEvery(ctx, g.interval)
}

// AcquireEvery is Acquire with the spacing of this one turn given: a host
// that serves both pages and page requisites is one gate, whose turns
// each wait the interval of their own kind since the previous turn ended.
// interval <= 0 waits for nothing and holds nothing.
func (g *Gate) AcquireEvery(ctx context.Context, interval time.Duration) (*Turn, error) {
	if interval <= 0 {
		return &Turn{ready: g.clock.Now()}, ctx.Err()
	}
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if !g.last.IsZero() {
		at := g.last.Add(interval)
		if dl, ok := ctx.Deadline(); ok && dl.Before(at) {
			<-g.turn
			return nil, fmt.Errorf("waiting %v for the turn: %w", at.Sub(g.clock.Now()).Round(time.Millisecond), context.DeadlineExceeded)
		}
		for {
			d := at.Sub(g.clock.Now())
			if d <= 0 {
				break
			}
			if err := g.clock.Sleep(ctx, d); err != nil {
				<-g.turn
				return nil, err
			}
		}
	}
	return &Turn{g: g, ready: g.clock.Now()}, nil
}

// Ready is when the turn began: not before the previous turn's end plus
// the interval.
func (t *Turn) Ready() time.Time { return t.ready }

// End ends the turn at the instant given (when the request was written,
// or when it was over), from which the next turn's interval counts.
func (t *Turn) End(at time.Time) {
	t.once.Do(func() {
		if t.g != nil {
			t.g.last = at
			<-t.g.turn
		}
	})
}

// Cancel ends a turn whose request never left: no connection was made and
// nothing was sent, so the previous end still counts for the next turn.
func (t *Turn) Cancel() {
	t.once.Do(func() {
		if t.g != nil {
			<-t.g.turn
		}
	})
}

// Now is the gate's clock.
func (g *Gate) Now() time.Time { return g.clock.Now() }

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
