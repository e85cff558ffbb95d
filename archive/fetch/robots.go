package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/temoto/robotstxt"
)

const (
	// robotsMaxBytes is how much of a robots.txt is read; RFC 9309 asks
	// crawlers to parse at least the first 500 KiB.
	robotsMaxBytes = 512 << 10
	// robotsTTL is how long rules are cached; RFC 9309 says not to use a
	// cached copy for more than 24 hours.
	robotsTTL = 24 * time.Hour
)

// robotsEntry is one origin's robots.txt, fetched once and shared by every
// goroutine that asks while it is being fetched.
type robotsEntry struct {
	done    chan struct{} // closed when data/err are set
	data    *robotstxt.RobotsData
	err     error
	fetched time.Time
}

// robotsAllowed reports whether u may be fetched according to its origin's
// robots.txt, and that file's URL for messages.
func (f *Fetcher) robotsAllowed(ctx context.Context, u *url.URL) (bool, string, error) {
	origin := weburl.Origin(u)
	robotsURL := origin + "/robots.txt"
	data, err := f.robotsFor(ctx, origin)
	if err != nil {
		return false, robotsURL, err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	ok := data.FindGroup(f.robotsAgent).Test(path)
	if !ok {
		f.log.Info("fetch: robots.txt disallows", "url", u.String(), "agent", f.robotsAgent)
	}
	return ok, robotsURL, nil
}

// robotsFor returns origin's rules, fetching them if nobody has yet.
func (f *Fetcher) robotsFor(ctx context.Context, origin string) (*robotstxt.RobotsData, error) {
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
			e.data, e.err = f.fetchRobots(ctx, origin)
			e.fetched = time.Now()
			if e.err != nil {
				// Not cached: the next article of this origin asks again.
				f.robotsMu.Lock()
				if f.robots[origin] == e {
					delete(f.robots, origin)
				}
				f.robotsMu.Unlock()
			}
			close(e.done)
			return e.data, e.err
		}
		f.robotsMu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil && ctx.Err() == nil &&
			(errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
			continue // the goroutine that fetched it gave up; try again for ourselves
		}
		return e.data, e.err
	}
}

// fetchRobots fetches and parses origin's robots.txt. Following RFC 9309:
// a 4xx means no rules; a 429 or 5xx means the site must be treated as
// disallowed for now, which is reported as a (retryable) robotsError and
// not cached; a network failure is returned as is.
func (f *Fetcher) fetchRobots(ctx context.Context, origin string) (*robotstxt.RobotsData, error) {
	robotsURL := origin + "/robots.txt"
	u, err := url.Parse(robotsURL)
	if err != nil {
		return nil, err
	}
	host := weburl.Host(u)
	if err := f.waitTurn(ctx, host); err != nil {
		return nil, err
	}
	rctx, cancelTimeout := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancelTimeout()
	rctx, cancel := context.WithCancelCause(rctx)
	defer cancel(nil)
	st := &request{cancel: cancel, reservedHost: host}
	req, err := http.NewRequestWithContext(withRequest(rctx, st), http.MethodGet, robotsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "text/plain,*/*;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	resp, err := f.client.Do(req)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			// RFC 9309: after too many redirects robots.txt counts as
			// unavailable, which means no rules.
			f.log.Info("fetch: robots.txt redirects too much, no rules apply", "url", robotsURL, "err", err)
			return robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
		}
		if st.idleFired.Load() {
			err = fmt.Errorf("%w: %v", errReadIdle, err)
		}
		return nil, fmt.Errorf("robots.txt: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, &robotsError{url: robotsURL, status: resp.StatusCode}
	case resp.StatusCode/100 != 2:
		return robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, robotsMaxBytes))
	if err != nil {
		if st.idleFired.Load() {
			err = fmt.Errorf("%w: %v", errReadIdle, err)
		}
		return nil, fmt.Errorf("robots.txt: %w", err)
	}
	data, err := robotstxt.FromBytes(body)
	if err != nil {
		// Rules that cannot be parsed cannot be obeyed; say so and go on,
		// as browsers and search engines do.
		f.log.Warn("fetch: robots.txt unreadable, no rules apply", "url", robotsURL, "err", err)
		return robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
	}
	return data, nil
}

// robotsAgent is the product token robots.txt groups are matched against:
// the User-Agent's first word, without version.
func robotsAgent(ua string) string {
	tok, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	tok, _, _ = strings.Cut(tok, "/")
	return strings.ToLower(tok)
}
