package sendgate

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock: Sleep advances Now at once.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) clock() Clock {
	return Clock{
		Now: func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t },
		Sleep: func(ctx context.Context, d time.Duration) error {
			c.mu.Lock()
			c.t = c.t.Add(d)
			c.mu.Unlock()
			return ctx.Err()
		},
	}
}

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Each turn begins exactly the interval after the instant the previous one
// ended at: never earlier, and no later than needed.
func TestTurnsFromEnd(t *testing.T) {
	const iv = 2 * time.Second
	t0 := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name     string
		busy     time.Duration // how long each request takes before End
		endAfter bool          // End at the end of the request (else at its start)
		want     time.Duration // from one Ready to the next
	}{
		{"end at send, instant request", 0, false, iv},
		{"end at send, slow request", 5 * time.Second, false, 5 * time.Second}, // the turn is held until End is called
		{"end at the answer, slow request", 5 * time.Second, true, 5*time.Second + iv},
		{"end at the answer, quick request", 300 * time.Millisecond, true, 300*time.Millisecond + iv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeClock{t: t0}
			g := New(iv, c.clock())
			var readies []time.Time
			for range 4 {
				turn, err := g.Acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				readies = append(readies, turn.Ready())
				sent := g.Now()
				c.advance(tc.busy)
				if tc.endAfter {
					turn.End(g.Now())
				} else {
					turn.End(sent)
				}
			}
			for i := 1; i < len(readies); i++ {
				if gap := readies[i].Sub(readies[i-1]); gap != tc.want {
					t.Errorf("turn %d began %v after the previous one, want %v", i, gap, tc.want)
				}
			}
		})
	}
}

// Many goroutines asking at once, with the real clock: the instants they
// end at are at least the interval apart, whatever the scheduling (the
// test is in .ci/run's TIMING_TESTS, run again under a CPU hog).
func TestConcurrentTurnsOnlyLonger(t *testing.T) {
	const iv = 25 * time.Millisecond
	g := New(iv, Clock{})
	var mu sync.Mutex
	var ends []time.Time
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			turn, err := g.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			at := time.Now()
			mu.Lock()
			ends = append(ends, at)
			mu.Unlock()
			turn.End(at)
		}()
	}
	wg.Wait()
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(ends); i++ {
		if gap := ends[i].Sub(ends[i-1]); gap < iv {
			t.Errorf("turn %d ended %v after the previous one, want >= %v", i, gap, iv)
		}
	}
}

func TestDeadlineAndCancel(t *testing.T) {
	const iv = time.Hour
	c := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	g := New(iv, c.clock())
	turn, err := g.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	turn.End(g.Now())
	turn.End(g.Now().Add(time.Minute)) // a second End does nothing

	// A deadline before the next turn fails at once, holding nothing.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Minute))
	defer cancel()
	if _, err := g.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with a short deadline: %v", err)
	}
	// Canceled before: nothing held either.
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := g.Acquire(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire canceled: %v", err)
	}
	// Cancel keeps the previous end: the next turn is still an interval after it.
	t1, err := g.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t1.Cancel()
	t2, err := g.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !t2.Ready().Equal(t1.Ready()) {
		t.Errorf("Cancel moved the schedule: %v then %v", t1.Ready(), t2.Ready())
	}
	t2.End(g.Now())
}

func TestNoInterval(t *testing.T) {
	for _, iv := range []time.Duration{0, -time.Second} {
		g := New(iv, Clock{})
		for range 3 {
			turn, err := g.Acquire(context.Background()) // no turn is held: never blocks
			if err != nil {
				t.Fatal(err)
			}
			_ = turn // not ended on purpose
		}
	}
}
