package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/linkarc/linkarc/archive/fetch/robotstxt"
	"github.com/linkarc/linkarc/internal/redirect"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// robotsTTL is how long an answer for /robots.txt is cached: RFC 9309 §2.4
// says not to use a cached copy for more than 24 hours. Only answers that
// hold (rules, or "no rules" after a 4xx or too many redirects) are
// cached; "unreachable" (5xx, 429, a network failure) is asked again by the
// next attempt, as §2.3.1.4 means it to be transient, except for a host
// that could not be reached at all once a fetch has spent its retries
// (Fetcher.settle).
const robotsTTL = 24 * time.Hour

// robotsEntry is one origin's robots.txt, fetched once and shared by every
// goroutine that asks while it is being fetched.
type robotsEntry struct {
	done    chan struct{} // closed when rules/err are set
	rules   *robotstxt.Rules
	records []robotsRecord // the exchanges, when a Recording was there to record them
	err     error
	fetched time.Time
}

// checkRobots returns nil when robots.txt lets the crawler fetch u (or
// IgnoreRobots is set), a *robotsError when it does not, or the error that
// kept robots.txt from being read: RFC 9309 §2.3.1.4 treats an unreachable
// robots.txt as "disallow all", so the page is not requested.
func (f *Fetcher) checkRobots(ctx context.Context, u *url.URL) error {
	if f.opts.IgnoreRobots {
		return nil
	}
	origin := weburl.Origin(u)
	if err := f.downErr(origin); err != nil {
		return err
	}
	robotsURL := origin + "/robots.txt"
	rules, recs, err := f.robotsFor(ctx, origin)
	if rec := recordingFrom(ctx); rec != nil && err == nil {
		rec.noteRobots(origin, recs)
	}
	if err != nil {
		var rb *robotsError
		if errors.As(err, &rb) || ctx.Err() != nil {
			return err
		}
		return &robotsError{origin: origin, url: robotsURL, cause: err}
	}
	if !rules.AllowedURL(f.robotsAgent, u) {
		f.log.Info("fetch: robots.txt disallows", "url", u.String(), "agent", f.robotsAgent)
		return &robotsError{url: robotsURL, agent: f.robotsAgent}
	}
	return nil
}

// downHost is why an origin could not be reached.
type downHost struct {
	reason record.Reason // network, timeout
	why    string        // "connection refused"
}

// downError is checkRobots' answer for an origin found unreachable
// earlier in the run: no request is made.
type downError struct {
	origin string
	downHost
}

func (e *downError) Error() string {
	return fmt.Sprintf("%s was unreachable earlier in this run (%s)", e.origin, e.why)
}

// settle is what a fetch returns once it gives up with fe. When robots.txt
// could not be asked because the host could not be reached even after the
// fetch's retries, the origin is remembered as down for the rest of the
// run (the Fetcher's life): every later page and requisite of it fails at
// once instead of paying the same connect attempts and backoff again. RFC
// 9309 §2.3.1.4 lets a crawler assume disallow-all while robots.txt is
// unreachable; a later run asks again.
func (f *Fetcher) settle(fe *Error) *Error {
	if fe.downOrigin != "" {
		f.robotsMu.Lock()
		if _, ok := f.down[fe.downOrigin]; !ok {
			f.down[fe.downOrigin] = downHost{reason: fe.Reason, why: fe.downWhy}
			f.log.Info("fetch: host unreachable; not asked again in this run", "origin", fe.downOrigin, "why", fe.downWhy)
		}
		f.robotsMu.Unlock()
	}
	return fe
}

// downErr returns a *downError when origin was found unreachable earlier
// in the run, else nil.
func (f *Fetcher) downErr(origin string) error {
	f.robotsMu.Lock()
	defer f.robotsMu.Unlock()
	if d, ok := f.down[origin]; ok {
		return &downError{origin: origin, downHost: d}
	}
	return nil
}

// robotsFor returns origin's rules, fetching them if nobody has yet.
func (f *Fetcher) robotsFor(ctx context.Context, origin string) (*robotstxt.Rules, []robotsRecord, error) {
	for {
		f.robotsMu.Lock()
		e := f.robots[origin]
		if e != nil {
			select {
			case <-e.done:
				if time.Since(e.fetched) > robotsTTL {
					delete(f.robots, origin)
					e = nil
				}
			default:
			}
		}
		if e == nil {
			e = &robotsEntry{done: make(chan struct{})}
			f.robots[origin] = e
			f.robotsMu.Unlock()
			e.rules, e.records, e.err = f.fetchRobots(ctx, origin)
			e.fetched = time.Now()
			if e.err != nil {
				// Not cached: the next attempt of this origin asks again.
				f.robotsMu.Lock()
				if f.robots[origin] == e {
					delete(f.robots, origin)
				}
				f.robotsMu.Unlock()
			}
			close(e.done)
			return e.rules, e.records, e.err
		}
		f.robotsMu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		if e.err != nil && ctx.Err() == nil &&
			(errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
			continue // the goroutine that fetched it gave up; try again for ourselves
		}
		return e.rules, e.records, e.err
	}
}

// fetchRobots fetches and parses origin's robots.txt by RFC 9309 §2.3:
//
//   - redirects are followed by hand, up to robotstxt.MaxRedirects hops and
//     across hosts (§2.3.1.2), each through the SSRF guard and its host's
//     turn; the rules found apply to origin. Past the limit, or at a hop
//     that cannot be followed (no Location, a loop, an internal address),
//     the last 3xx status decides: no rules;
//   - the answer's status decides what it means (robotstxt.ForStatus): a
//     2xx body is parsed, at most robotstxt.MaxBytes of it (§2.5), a 4xx
//     means no rules, a 5xx or 429 means disallow all for now, returned as
//     a retryable *robotsError and not cached;
//   - a request that fails (refused, reset, timed out, headers or body too
//     large) is returned as an error: robots.txt is unreachable
//     (robotstxt.Unreachable, §2.3.1.4) and nothing of origin is fetched
//     until a later attempt reads it.
func (f *Fetcher) fetchRobots(ctx context.Context, origin string) (*robotstxt.Rules, []robotsRecord, error) {
	rules, st, err := f.fetchRobotsRules(ctx, origin)
	if st == nil {
		return rules, nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return rules, st.robotsRecords, err
}

// fetchRobotsRules fetches and parses robots.txt; the request state it
// returns holds the exchanges recorded.
func (f *Fetcher) fetchRobotsRules(ctx context.Context, origin string) (*robotstxt.Rules, *request, error) {
	robotsURL := origin + "/robots.txt"
	cur, err := url.Parse(robotsURL)
	if err != nil {
		return nil, nil, err
	}
	// The first request's turn is taken before the timeout starts, as for
	// pages.
	turn, err := f.acquire(ctx, weburl.Host(cur))
	if err != nil {
		return nil, nil, err
	}
	defer turn.release(false)
	rctx, cancelTimeout := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancelTimeout()
	rctx, cancel := context.WithCancelCause(rctx)
	defer cancel(nil)
	st := &request{kind: kindRobots, cancel: cancel, turn: turn}
	rctx = withRequest(rctx, st)

	policy := redirect.Policy{MaxHops: robotstxt.MaxRedirects, Cookieless: true, Check: f.opts.policy().CheckURL}
	chain := []string{cur.String()}
	for {
		resp, err := f.robotsRequest(rctx, cur)
		if err != nil {
			if st.idleFired.Load() {
				err = fmt.Errorf("%w: %v", errReadIdle, err)
			}
			return nil, st, fmt.Errorf("robots.txt %s: %w", cur.Redacted(), err)
		}
		if redirect.IsRedirect(resp.StatusCode) {
			drain(resp.Body)
			next, why := robotsHop(policy, chain, cur, resp.Header.Get("Location"))
			if next == nil {
				f.log.Info("fetch: robots.txt redirect not followed; no rules apply", "url", robotsURL, "status", resp.StatusCode, "why", why)
				return robotstxt.From(resp.StatusCode, nil), st, nil
			}
			chain = append(chain, next.String())
			cur = next
			continue
		}
		switch robotstxt.ForStatus(resp.StatusCode) {
		case robotstxt.DisallowAll:
			drain(resp.Body)
			return nil, st, &robotsError{url: robotsURL, status: resp.StatusCode}
		case robotstxt.AllowAll:
			drain(resp.Body)
			return robotstxt.From(resp.StatusCode, nil), st, nil
		}
		// Read one byte past the limit, so that Parse can tell a file
		// cut by it from one that ends there.
		body, err := io.ReadAll(io.LimitReader(resp.Body, robotstxt.MaxBytes+1))
		resp.Body.Close()
		if err != nil {
			if st.idleFired.Load() {
				err = fmt.Errorf("%w: %v", errReadIdle, err)
			}
			return nil, st, fmt.Errorf("robots.txt %s: %w", cur.Redacted(), err)
		}
		return robotstxt.From(resp.StatusCode, body), st, nil
	}
}

// robotsRequest makes one GET for robots.txt, following no redirect.
func (f *Fetcher) robotsRequest(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "text/plain,*/*;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	return f.robotsClient.Do(req)
}

// robotsHop returns the next URL of a robots.txt redirect, or nil and why
// it is not followed.
func robotsHop(policy redirect.Policy, chain []string, cur *url.URL, location string) (*url.URL, string) {
	if location == "" {
		return nil, "no Location"
	}
	next, err := cur.Parse(location)
	if err != nil {
		return nil, err.Error()
	}
	next.Fragment, next.RawFragment = "", ""
	if err := policy.Next(chain, next); err != nil {
		return nil, err.Error()
	}
	return next, ""
}

// drain lets a connection be reused after a body that is not needed.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}
