package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of RetryOptions, used for zero fields.
const (
	DefaultRetryMaxElapsed      = time.Minute
	DefaultRetryInitialInterval = 200 * time.Millisecond
	DefaultRetryMaxInterval     = 10 * time.Second
)

// RetryOptions tunes NewRetrying. The zero value gives the defaults.
type RetryOptions struct {
	// MaxElapsed bounds the time one call may spend, retries and waits
	// included; 0 means DefaultRetryMaxElapsed, a negative value disables
	// retrying.
	MaxElapsed time.Duration

	// InitialInterval is the wait before the first retry, 0 meaning
	// DefaultRetryInitialInterval. Each later wait doubles, up to
	// MaxInterval (0 meaning DefaultRetryMaxInterval), and every wait is
	// varied by ±50% so that clients failing together do not retry
	// together.
	InitialInterval, MaxInterval time.Duration

	// Logger, if set, is told of outages without being flooded by them:
	// one warning when calls start failing ("storage unavailable"), one
	// when a call succeeds again ("storage recovered", with how many
	// attempts failed in between), a warning for each call that gives up,
	// and every single retry, with the full error, at debug level.
	Logger *slog.Logger

	// outage is shared by the copies of these options that one store's
	// calls use, so that an outage seen by many calls is told once.
	outage *outage
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.outage == nil {
		o.outage = &outage{}
	}
	if o.MaxElapsed == 0 {
		o.MaxElapsed = DefaultRetryMaxElapsed
	}
	if o.InitialInterval <= 0 {
		o.InitialInterval = DefaultRetryInitialInterval
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = DefaultRetryMaxInterval
	}
	o.MaxInterval = max(o.MaxInterval, o.InitialInterval)
	return o
}

// NewRetrying wraps s so that calls failing for reasons that pass (network
// errors, timeouts, 5xx and throttling answers) are retried with exponential
// backoff, as restic's RetryBackend does. Missing objects, invalid keys,
// other errors and the caller's canceled context are returned at once.
//
// Put is retried only if its reader is an io.Seeker, which is rewound to
// where it was; other readers cannot be replayed. Get retries opening the
// object, not reading it. List resumes after the last key it delivered, so
// fn sees each key once.
func NewRetrying(s Store, opts RetryOptions) Store {
	return &retrying{s: s, opts: opts.withDefaults()}
}

type retrying struct {
	s    Store
	opts RetryOptions
}

func (r *retrying) Put(ctx context.Context, key string, rd io.Reader, size int64, opts PutOptions) error {
	seeker, ok := rd.(io.Seeker)
	var start int64
	if ok {
		var err error
		start, err = seeker.Seek(0, io.SeekCurrent)
		ok = err == nil // e.g. a pipe, which has Seek but cannot
	}
	if !ok {
		return r.s.Put(ctx, key, rd, size, opts)
	}
	attempts := 0
	return retry(ctx, r.opts, "put", key, func() error {
		if attempts++; attempts > 1 {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return &permanentError{fmt.Errorf("put %q: rewind the reader to retry: %w", key, err)}
			}
		}
		return r.s.Put(ctx, key, rd, size, opts)
	})
}

func (r *retrying) Get(ctx context.Context, key string) (rc io.ReadCloser, err error) {
	err = retry(ctx, r.opts, "get", key, func() error {
		rc, err = r.s.Get(ctx, key)
		return err
	})
	return rc, err
}

func (r *retrying) Stat(ctx context.Context, key string) (info Info, err error) {
	err = retry(ctx, r.opts, "stat", key, func() error {
		info, err = r.s.Stat(ctx, key)
		return err
	})
	return info, err
}

func (r *retrying) List(ctx context.Context, prefix string, fn func(Info) error) error {
	// Keys come in lexical order, so after a failure the listing resumes
	// past the last key delivered, without remembering all of them.
	var last string
	delivered := false
	return retry(ctx, r.opts, "list", prefix, func() error {
		return r.s.List(ctx, prefix, func(info Info) error {
			if delivered && info.Key <= last {
				return nil
			}
			if err := fn(info); err != nil {
				return &permanentError{err}
			}
			last, delivered = info.Key, true
			return nil
		})
	})
}

func (r *retrying) Delete(ctx context.Context, key string) error {
	return retry(ctx, r.opts, "delete", key, func() error { return r.s.Delete(ctx, key) })
}

// retry calls f until it succeeds, fails for good, or time runs out:
// attempts go on, with backoff, until opts.MaxElapsed has been spent (the
// last wait is cut short so that the last attempt falls at the end of the
// budget), so that a budget of 5s means five seconds of trying, not as
// many attempts as fit before the next wait would overrun it.
func retry(ctx context.Context, opts RetryOptions, op, key string, f func() error) error {
	start := time.Now()
	wait := opts.InitialInterval
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			opts.outage.ok(opts.Logger)
			return nil
		}
		if perm := (*permanentError)(nil); errors.As(err, &perm) {
			return perm.err
		}
		if ctx.Err() != nil || !isTransient(err) {
			return err
		}
		if opts.MaxElapsed < 0 {
			return err
		}
		elapsed := time.Since(start)
		if elapsed >= opts.MaxElapsed {
			if opts.Logger != nil {
				opts.Logger.Warn("storage giving up", "op", op, "key", key, "attempts", attempt,
					"elapsed", elapsed.Round(time.Millisecond), "err", err)
			}
			return fmt.Errorf("%w (gave up after %d attempts in %s)", err, attempt, elapsed.Round(time.Millisecond))
		}
		d := min(time.Duration(float64(wait)*(0.5+rand.Float64())), opts.MaxElapsed-elapsed)
		opts.outage.failed(opts.Logger, op, opts.MaxElapsed, err)
		if opts.Logger != nil {
			opts.Logger.Debug("storage retrying", "op", op, "key", key, "attempt", attempt, "wait", d.Round(time.Millisecond), "err", err)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, opts.MaxInterval)
	}
}

// outage aggregates the retries of one store's calls, so that an outage
// is logged when it starts and when it ends, not at every retry of every
// call in flight.
type outage struct {
	mu    sync.Mutex
	down  bool
	since time.Time
	fails int // attempts that failed since the outage started
}

// failed notes a failed attempt that will be retried; the first of an
// outage is logged as a warning, short: the cause without the request URL.
func (o *outage) failed(log *slog.Logger, op string, budget time.Duration, err error) {
	o.mu.Lock()
	first := !o.down
	if first {
		o.down, o.since, o.fails = true, time.Now(), 0
	}
	o.fails++
	o.mu.Unlock()
	if first && log != nil {
		log.Warn("storage unavailable; retrying", "op", op, "budget", budget, "err", shortError(err))
	}
}

// ok notes a call that succeeded; if an outage was on, it is over.
func (o *outage) ok(log *slog.Logger) {
	o.mu.Lock()
	was, failed, since := o.down, o.fails, o.since
	o.down = false
	o.mu.Unlock()
	if was && log != nil {
		log.Warn("storage recovered", "failed_attempts", failed, "after", time.Since(since).Round(time.Millisecond))
	}
}

// shortError is err without the request URL an HTTP client error begins
// with: "dial tcp 127.0.0.1:9000: connect: connection refused".
func shortError(err error) string {
	if urlErr := (*url.Error)(nil); errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// transientError marks an error the backend knows may pass, such as an S3
// 503 or SlowDown.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// permanentError stops retry and is returned unwrapped.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// transientErrnos are connection failures that end when the peer is back.
var transientErrnos = []error{
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
}

// isTransient reports whether err may pass if the call is repeated. The
// caller has checked that its own context is still alive.
func isTransient(err error) bool {
	switch {
	case errors.Is(err, ErrNotExist), errors.Is(err, ErrInvalidKey), errors.Is(err, errSizeMismatch),
		errors.Is(err, ErrPreconditionFailed), errors.Is(err, ErrNotSupported), errors.Is(err, context.Canceled):
		return false
	}
	if re := (*readError)(nil); errors.As(err, &re) {
		return false // the caller's data source failed, not the store
	}
	if te := (*transientError)(nil); errors.As(err, &te) {
		return true
	}
	if dnsErr := (*net.DNSError)(nil); errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary // not "no such host"
	}
	if opErr := (*net.OpError)(nil); errors.As(err, &opErr) {
		return true // dial, read or write on a connection failed
	}
	if netErr := net.Error(nil); errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // a per-request deadline inside the backend, not the caller's
	}
	for _, errno := range transientErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	// The server closed the connection in the middle of an HTTP exchange,
	// or closed a kept-alive one just as a request was sent on it (net/http
	// has no exported error for that; it resends only GETs by itself).
	if urlErr := (*url.Error)(nil); errors.As(err, &urlErr) &&
		(errors.Is(urlErr.Err, io.EOF) || errors.Is(urlErr.Err, io.ErrUnexpectedEOF) ||
			strings.Contains(urlErr.Err.Error(), "server closed idle connection")) {
		return true
	}
	return false
}

// GetVersion implements Conditional when the wrapped store does.
func (r *retrying) GetVersion(ctx context.Context, key string) (rc io.ReadCloser, etag string, err error) {
	c, ok := r.s.(Conditional)
	if !ok {
		return nil, "", fmt.Errorf("get %q: %w", key, ErrNotSupported)
	}
	err = retry(ctx, r.opts, "get", key, func() error {
		rc, etag, err = c.GetVersion(ctx, key)
		return err
	})
	return rc, etag, err
}

// PutIf implements Conditional when the wrapped store does. A failed
// condition is not retried; a transient failure is, from the reader's start
// (which must be an io.Seeker for that).
func (r *retrying) PutIf(ctx context.Context, key string, rd io.Reader, size int64, ifMatch string, opts PutOptions) (etag string, err error) {
	c, ok := r.s.(Conditional)
	if !ok {
		return "", fmt.Errorf("put %q: %w", key, ErrNotSupported)
	}
	seeker, ok := rd.(io.Seeker)
	var start int64
	if ok {
		start, err = seeker.Seek(0, io.SeekCurrent)
		ok = err == nil
	}
	if !ok {
		return c.PutIf(ctx, key, rd, size, ifMatch, opts)
	}
	attempts := 0
	err = retry(ctx, r.opts, "put", key, func() error {
		if attempts++; attempts > 1 {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return &permanentError{fmt.Errorf("put %q: rewind the reader to retry: %w", key, err)}
			}
		}
		etag, err = c.PutIf(ctx, key, rd, size, ifMatch, opts)
		return err
	})
	return etag, err
}
