package record

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// LeasesPrefix is where leases live: one small JSON object per article or
// digest being written, leases/articles/<slug>.json and
// leases/digests/<slug>.json. A lease says which run is writing the record
// now; released and expired leases stay (S3 has no conditional delete, and an
// unconditional one could remove a lease another run just took).
const LeasesPrefix = "leases/"

// ArticleLeaseKey is the key of the lease on articles/<slug>/.
func ArticleLeaseKey(slug string) string { return LeasesPrefix + "articles/" + slug + ".json" }

// DigestLeaseKey is the key of the lease on digests/<slug>.json.
func DigestLeaseKey(slug string) string { return LeasesPrefix + "digests/" + slug + ".json" }

// DefaultLeaseTTL is how long a lease lasts unless renewed; its holder
// renews it every third of that while it holds it.
const DefaultLeaseTTL = time.Minute

// LeaseHolder names a run: the machine, the process and a random id per run
// (two runs of one process are two holders).
type LeaseHolder struct {
	Host  string `json:"host"`
	PID   int    `json:"pid"`
	RunID string `json:"run_id"`
}

func (h LeaseHolder) String() string {
	return fmt.Sprintf("run %s (pid %d on %s)", h.RunID, h.PID, h.Host)
}

// NewLeaseHolder names the calling process's run with a new random id.
func NewLeaseHolder() LeaseHolder {
	host, _ := os.Hostname()
	return LeaseHolder{Host: host, PID: os.Getpid(), RunID: randomHex(8)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// leaseRecord is a lease object.
type leaseRecord struct {
	Holder    LeaseHolder `json:"holder"`
	Token     string      `json:"token"`   // random per acquisition: tells our own write from another's
	Subject   string      `json:"subject"` // what is being written: the article's identity
	Acquired  time.Time   `json:"acquired_at"`
	ExpiresAt time.Time   `json:"expires_at"` // by the holder's clock
	Released  bool        `json:"released,omitempty"`
}

// LeasedError says another run holds the lease.
type LeasedError struct {
	Key       string
	Holder    LeaseHolder
	Subject   string
	ExpiresAt time.Time
}

func (e *LeasedError) Error() string {
	return fmt.Sprintf("being archived by %s (lease %s until %s)", e.Holder, e.Key, e.ExpiresAt.UTC().Format(time.RFC3339))
}

// ErrLeaseLost says a lease expired or was taken over while held: the
// holder must not write what it guards.
var ErrLeaseLost = errors.New("lease lost")

// Leaser takes leases for one run. A zero TTL means DefaultLeaseTTL; nil
// Now means time.Now; nil Alive means a process-table check on this
// machine (see processAlive).
type Leaser struct {
	Store  storage.Conditional
	Holder LeaseHolder
	TTL    time.Duration
	Now    func() time.Time
	// Alive reports whether the process pid on this machine runs; a lease
	// of a dead process on this machine is taken over at once, so a killed
	// run does not hold up the next one for a TTL.
	Alive func(pid int) bool
}

// NewLeaser returns a Leaser over st for a new run, or nil when st cannot
// write conditionally (then nothing is leased).
func NewLeaser(st storage.Store) *Leaser {
	c, ok := storage.AsConditional(st)
	if !ok {
		return nil
	}
	return &Leaser{Store: c, Holder: NewLeaseHolder()}
}

func (l *Leaser) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return DefaultLeaseTTL
}

func (l *Leaser) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Leaser) alive(pid int) bool {
	if l.Alive != nil {
		return l.Alive(pid)
	}
	return processAlive(pid)
}

// Lease is a held lease. It renews itself until Release.
type Lease struct {
	l   *Leaser
	key string

	mu   sync.Mutex
	rec  leaseRecord
	etag string
	lost error
	stop chan struct{}
	done chan struct{}
}

// Acquire takes the lease at key for subject. It fails with a *LeasedError
// when another run holds it (not released, not expired, its process not
// known dead), or with the store's error.
func (l *Leaser) Acquire(ctx context.Context, key, subject string) (*Lease, error) {
	now := l.now()
	rec := leaseRecord{Holder: l.Holder, Token: randomHex(16), Subject: subject, Acquired: now, ExpiresAt: now.Add(l.ttl())}
	ifMatch := ""
	for range 8 {
		etag, err := l.put(ctx, key, ifMatch, rec)
		if err == nil {
			return l.held(key, rec, etag), nil
		}
		if !errors.Is(err, storage.ErrPreconditionFailed) {
			return nil, err
		}
		cur, curTag, err := l.read(ctx, key)
		switch {
		case storage.IsNotExist(err):
			ifMatch = ""
			continue
		case err != nil:
			return nil, err
		case cur.Token == rec.Token:
			// Our own write, whose answer was lost and retried.
			return l.held(key, rec, curTag), nil
		case cur.Released || l.now().After(cur.ExpiresAt) ||
			(cur.Holder.Host == l.Holder.Host && cur.Holder.PID != l.Holder.PID && !l.alive(cur.Holder.PID)):
			ifMatch = curTag // take it over, if nobody else does first
			continue
		default:
			return nil, &LeasedError{Key: key, Holder: cur.Holder, Subject: cur.Subject, ExpiresAt: cur.ExpiresAt}
		}
	}
	return nil, fmt.Errorf("lease %s: contended, try again", key)
}

// AcquireWait is Acquire that waits while another run holds the lease,
// polling, for at most wait; then it returns the *LeasedError.
func (l *Leaser) AcquireWait(ctx context.Context, key, subject string, wait time.Duration) (*Lease, error) {
	deadline := time.Now().Add(wait)
	delay := 50 * time.Millisecond
	for {
		lease, err := l.Acquire(ctx, key, subject)
		if le := (*LeasedError)(nil); !errors.As(err, &le) || time.Now().After(deadline) {
			return lease, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

func (l *Leaser) put(ctx context.Context, key, ifMatch string, rec leaseRecord) (string, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	return l.Store.PutIf(ctx, key, bytes.NewReader(data), int64(len(data)), ifMatch, storage.PutOptions{ContentType: "application/json"})
}

func (l *Leaser) read(ctx context.Context, key string) (leaseRecord, string, error) {
	rc, etag, err := l.Store.GetVersion(ctx, key)
	if err != nil {
		return leaseRecord{}, "", err
	}
	defer rc.Close()
	var rec leaseRecord
	data, err := io.ReadAll(io.LimitReader(rc, storage.MaxConditionalSize))
	if err != nil {
		return leaseRecord{}, "", fmt.Errorf("read lease %s: %w", key, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		// Not a lease we wrote: treat it as expired, so it can be taken
		// over (conditionally) rather than block the article for ever.
		return leaseRecord{Token: "damaged"}, etag, nil
	}
	return rec, etag, nil
}

func (l *Leaser) held(key string, rec leaseRecord, etag string) *Lease {
	le := &Lease{l: l, key: key, rec: rec, etag: etag, stop: make(chan struct{}), done: make(chan struct{})}
	go le.renew()
	return le
}

// renew extends the lease every third of its TTL until Release, and marks
// it lost when another run took it or it expired before a renewal got
// through.
func (le *Lease) renew() {
	defer close(le.done)
	every := le.l.ttl() / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-le.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := le.extend(ctx)
		cancel()
		if err != nil && errors.Is(err, ErrLeaseLost) {
			return
		}
	}
}

func (le *Lease) extend(ctx context.Context) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.lost != nil {
		return le.lost
	}
	rec := le.rec
	rec.ExpiresAt = le.l.now().Add(le.l.ttl())
	etag, err := le.l.put(ctx, le.key, le.etag, rec)
	if errors.Is(err, storage.ErrPreconditionFailed) {
		cur, curTag, rerr := le.l.read(ctx, le.key)
		if rerr == nil && cur.Token == rec.Token {
			etag, err = curTag, nil // our own write, answered late
			rec = cur
		}
	}
	switch {
	case err == nil:
		le.rec, le.etag = rec, etag
		return nil
	case errors.Is(err, storage.ErrPreconditionFailed):
		le.lost = fmt.Errorf("%w: %s was taken over", ErrLeaseLost, le.key)
		return le.lost
	case le.l.now().After(le.rec.ExpiresAt):
		le.lost = fmt.Errorf("%w: %s expired before it could be renewed: %w", ErrLeaseLost, le.key, err)
		return le.lost
	}
	return err // try again at the next tick
}

// Check returns nil while the lease is held with at least a third of its
// TTL to run, and an error wrapping ErrLeaseLost otherwise. Writers call it
// just before the write the lease guards.
func (le *Lease) Check() error {
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.lost != nil {
		return le.lost
	}
	if left := le.rec.ExpiresAt.Sub(le.l.now()); left < le.l.ttl()/3 {
		return fmt.Errorf("%w: %s has %s left", ErrLeaseLost, le.key, left.Round(time.Millisecond))
	}
	return nil
}

// Release stops renewing and marks the lease released, if it is still
// ours, so that the next run takes it at once. It works even when ctx has
// ended (an interrupted run releases what it held).
func (le *Lease) Release(ctx context.Context) {
	if le == nil {
		return
	}
	select {
	case <-le.stop:
		return // released before
	default:
		close(le.stop)
	}
	<-le.done
	// A run that is stopping does not wait long on a store that may be
	// down: a lease left behind expires, and on this machine its dead
	// process's lease is taken over at once.
	limit := 10 * time.Second
	if ctx.Err() != nil {
		limit = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.lost != nil {
		return
	}
	rec := le.rec
	rec.Released, rec.ExpiresAt = true, le.l.now()
	if _, err := le.l.put(ctx, le.key, le.etag, rec); err != nil {
		le.lost = fmt.Errorf("%w: release: %w", ErrLeaseLost, err)
	}
}

// processAlive reports whether process pid exists on this machine.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return processSignal0(pid) != syscall.ESRCH
}
