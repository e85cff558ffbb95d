package fetch

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// send is one request's turn as the fetcher logged it: its bytes went out
// between ready and sent.
type send struct {
	host, url   string
	ready, sent time.Time
}

// sendLog is a slog.Handler that keeps the fetcher's "request sent" lines:
// what the client did, timed by the client, whatever the servers' own
// clocks saw on a busy machine.
type sendLog struct {
	mu    sync.Mutex
	sends []send
}

func (l *sendLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *sendLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *sendLog) WithGroup(string) slog.Handler            { return l }
func (l *sendLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "fetch: request sent" {
		return nil
	}
	var s send
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "host":
			s.host = a.Value.String()
		case "url":
			s.url = a.Value.String()
		case "ready":
			s.ready, _ = time.Parse(time.RFC3339Nano, a.Value.String())
		case "sent":
			s.sent, _ = time.Parse(time.RFC3339Nano, a.Value.String())
		}
		return true
	})
	l.mu.Lock()
	l.sends = append(l.sends, s)
	l.mu.Unlock()
	return nil
}

// byHost returns each host's sends in the order they went out.
func (l *sendLog) byHost() map[string][]send {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]send{}
	for _, s := range l.sends {
		out[s.host] = append(out[s.host], s)
	}
	for _, ss := range out {
		slices.SortFunc(ss, func(a, b send) int { return a.ready.Compare(b.ready) })
	}
	return out
}

// checkSpacing proves from the client's own record that consecutive
// requests to each host were at least interval apart on the wire: the
// next one's turn began (ready) at least interval after the previous one
// had been written (sent), and a request is written after its turn begins.
func checkSpacing(t *testing.T, sends []send, interval time.Duration) {
	t.Helper()
	for i, s := range sends {
		if s.ready.IsZero() || s.sent.Before(s.ready) {
			t.Errorf("%s: send %d logged ready %v sent %v", s.host, i, s.ready, s.sent)
		}
		if i == 0 {
			continue
		}
		if gap := s.ready.Sub(sends[i-1].sent); gap < interval {
			t.Errorf("%s: request %d began %v after request %d was sent, want >= %v", s.host, i, gap, i-1, interval)
		}
	}
}

// TestGateLoadOnlyLengthensGaps: a goroutine that gets its turn late (the
// process was paused) does not make the next request leave early: the
// interval counts from the previous request's real send, so two delayed
// requests never go out together.
func TestGateLoadOnlyLengthensGaps(t *testing.T) {
	logs := &sendLog{}
	opts := testOptions()
	opts.HostInterval = 50 * time.Millisecond
	opts.Logger = slog.New(logs)
	f := newTestFetcher(t, opts)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			turn, err := f.acquire(ctx, "example.com")
			if err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				time.Sleep(30 * time.Millisecond) // a late goroutine: a slow dial, a paused process
			}
			turn.sent(time.Now(), "")
		})
	}
	wg.Wait()
	sends := logs.byHost()["example.com"]
	if len(sends) != 6 {
		t.Fatalf("%d sends logged, want 6", len(sends))
	}
	checkSpacing(t, sends, opts.HostInterval)
}

// TestGateDeadline: a turn that would come after the caller's deadline is
// refused at once, naming the interval.
func TestGateDeadline(t *testing.T) {
	opts := testOptions()
	opts.HostInterval = time.Hour
	f := newTestFetcher(t, opts)
	turn, err := f.acquire(context.Background(), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	turn.sent(time.Now(), "")
	// The next turn is an hour away and the deadline a minute: the gate
	// must refuse at once rather than wait out the minute. Half the
	// deadline tells the two apart on however busy a machine.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if _, err := f.acquire(ctx, "example.com"); err == nil || time.Since(start) > 30*time.Second {
		t.Errorf("acquire = %v after %v, want a prompt refusal", err, time.Since(start))
	}
	// Another host is not held up.
	if _, err := f.acquire(ctx, "other.example"); err != nil {
		t.Errorf("another host waited: %v", err)
	}
}
