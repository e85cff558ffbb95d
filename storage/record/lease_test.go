package record

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func leaseStore(t *testing.T) storage.Conditional {
	t.Helper()
	s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestLeaser(st storage.Conditional, clock *fakeClock, run string, pid int, alive func(int) bool) *Leaser {
	return &Leaser{Store: st, Holder: LeaseHolder{Host: "h", PID: pid, RunID: run}, TTL: time.Hour, Now: clock.Now, Alive: alive}
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	alive := func(int) bool { return true }
	tests := []struct {
		name string
		// between runs a's acquisition and b's attempt
		between func(clock *fakeClock, a *Lease)
		alive   func(int) bool
		wantB   bool // b gets the lease
	}{
		{"held", func(*fakeClock, *Lease) {}, alive, false},
		{"released", func(_ *fakeClock, a *Lease) { a.Release(ctx) }, alive, true},
		{"expired", func(c *fakeClock, _ *Lease) { c.Add(2 * time.Hour) }, alive, true},
		{"holder process dead on this host", func(*fakeClock, *Lease) {}, func(int) bool { return false }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := leaseStore(t)
			clock := &fakeClock{t: time.Date(2026, 1, 4, 8, 0, 0, 0, time.UTC)}
			la := newTestLeaser(st, clock, "a", 1, tt.alive)
			lb := newTestLeaser(st, clock, "b", 2, tt.alive)
			key := ArticleLeaseKey("story")
			a, err := la.Acquire(ctx, key, "url:x")
			if err != nil {
				t.Fatal(err)
			}
			defer a.Release(ctx)
			tt.between(clock, a)
			b, err := lb.Acquire(ctx, key, "url:x")
			if !tt.wantB {
				var le *LeasedError
				if !errors.As(err, &le) || le.Holder.RunID != "a" {
					t.Fatalf("b: %v, want a LeasedError naming run a", err)
				}
				if a.Check() != nil {
					t.Fatalf("a lost its lease: %v", a.Check())
				}
				return
			}
			if err != nil {
				t.Fatalf("b: %v", err)
			}
			defer b.Release(ctx)
			if tt.name != "released" {
				// a's next renewal finds b's lease: a must not write.
				if err := a.extend(ctx); !errors.Is(err, ErrLeaseLost) || !errors.Is(a.Check(), ErrLeaseLost) {
					t.Fatalf("a after the takeover: extend %v, Check %v; want ErrLeaseLost", err, a.Check())
				}
			}
			if b.Check() != nil {
				t.Fatalf("b: %v", b.Check())
			}
		})
	}
}

// TestLeaseOneHolder: of many runs acquiring one lease at once, one holds
// it; the others are told who.
func TestLeaseOneHolder(t *testing.T) {
	st := leaseStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &Leaser{Store: st, Holder: LeaseHolder{Host: "h", PID: 1, RunID: string(rune('a' + i))}}
			le, err := l.Acquire(ctx, ArticleLeaseKey("x"), "url:x")
			var leased *LeasedError
			switch {
			case err == nil:
				mu.Lock()
				held++
				mu.Unlock()
			case !errors.As(err, &leased):
				t.Error(err)
			}
			_ = le // held until the test ends
		}()
	}
	wg.Wait()
	if held != 1 {
		t.Fatalf("%d runs hold the lease, want 1", held)
	}
}
