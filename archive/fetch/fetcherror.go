package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/storage/record"
)

// Error is the error of a failed Fetch. Reason is one of the
// fetcher's record.Reason constants or record.HTTPReason(StatusCode); the
// message says what to do about it.
type Error struct {
	URL        string        // the URL given to Fetch
	Reason     record.Reason // stable machine reason
	StatusCode int           // last HTTP status, 0 if none
	Err        error         // what went wrong, worded for the user
	Attempts   int           // requests made for the page (robots.txt not counted)
	RetryAfter time.Duration // wait the server asked for, when it asked

	retryable     bool
	retryAfterSet bool // the server sent a usable Retry-After
	final         bool // not retried within this fetch (its host is down for the run)
	// downOrigin is the origin whose robots.txt could not be asked
	// because the host could not be reached; once the fetch gives up,
	// the origin is down for the rest of the run (Fetcher.settle).
	downOrigin string
	downWhy    string
}

// Error implements error.
func (e *Error) Error() string {
	msg := string(e.Reason)
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return fmt.Sprintf("fetch %s: %s", e.URL, msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same fetch may succeed later (a timeout, a
// reset, a 5xx), as opposed to a permanent answer (404, robots, not HTML).
func (e *Error) Retryable() bool { return e.retryable }

// redirectError is how the redirect check stops the client; classify turns
// it into a Error.
type redirectError struct {
	reason record.Reason
	err    error
}

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// robotsError reports that robots.txt stops the fetch: it disallows the
// URL, or it is unreachable (a 5xx or 429 status, or a request that failed:
// cause), which RFC 9309 §2.3.1.4 treats as disallowing everything.
type robotsError struct {
	origin string // scheme://host[:port]
	url    string // the robots.txt URL
	status int    // HTTP status when robots.txt was unreachable, else 0
	cause  error  // why robots.txt could not be fetched, else nil
	agent  string
}

func (e *robotsError) Unwrap() error { return e.cause }

func (e *robotsError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s could not be fetched, and until it can be, RFC 9309 treats the site as disallowed: %v", e.url, e.cause)
	}
	if e.status != 0 {
		return fmt.Sprintf("%s answered %d %s; robots.txt rules say to treat the site as disallowed until it can be read (retry later, or --ignore-robots)",
			e.url, e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("%s disallows this URL for user agent %q (use --ignore-robots to override)", e.url, e.agent)
}

// classify turns what went wrong in one attempt into a Error. ctx is
// the caller's context; st is the attempt's request state (may be nil).
func (f *Fetcher) classify(ctx context.Context, rawURL string, err error, st *request) *Error {
	fe := &Error{URL: rawURL, Err: err}
	var (
		re   *redirectError
		rb   *robotsError
		down *downError
		nh   *notHTMLError
		nf   *notFeedError
		ce   *codingsError
		ht   *headerTooLargeError
		se   *stillEncodedError
		de   *decodeError
		ne   net.Error
		dns  *net.DNSError
		op   *net.OpError
		ex   *Error
	)
	switch {
	case errors.As(err, &ex):
		return ex
	case ctx.Err() != nil:
		fe.Reason, fe.Err = record.ReasonCanceled, fmt.Errorf("stopped: %w", ctx.Err())
	case errors.As(err, &rb) && rb.cause != nil:
		// Named by what kept robots.txt away (network, timeout, tls,
		// too_large…), and retried like it.
		inner := f.classify(ctx, rawURL, rb.cause, nil)
		if why := unreachable(rb.cause); why != "" && inner.Reason != record.ReasonCanceled {
			// Nothing answered at all: the host is down, which is not
			// robots.txt's doing.
			inner.Err = fmt.Errorf("the host %s is unreachable (%s; robots.txt, asked first, got no answer): %w", hostOf(rb.origin), why, rb.cause)
			inner.downOrigin, inner.downWhy = rb.origin, why
			return inner
		}
		inner.Err = fmt.Errorf("%s could not be fetched, and until it can be, RFC 9309 treats the site as disallowed: %w", rb.url, inner.Err)
		return inner
	case errors.As(err, &down):
		fe.Reason, fe.retryable, fe.final = down.reason, true, true
		fe.Err = fmt.Errorf("the host %s was unreachable earlier in this run (%s) and is not asked again until the next run", hostOf(down.origin), down.why)
	case errors.As(err, &rb):
		fe.Reason, fe.StatusCode, fe.retryable = record.ReasonRobots, rb.status, rb.status != 0
	case errors.As(err, &ce):
		fe.Reason = record.ReasonTooComplex
	case errors.As(err, &ht):
		fe.Reason = record.ReasonTooLarge
		fe.Err = fmt.Errorf("the response headers are larger than the %s limit: the server sent more than any page needs", formatSize(ht.limit))
	case errors.As(err, &se):
		fe.Reason, fe.Err = record.ReasonDecode, se
	case errors.As(err, &nf):
		fe.Reason, fe.Err = record.ReasonNotHTML, nf
	case errors.As(err, &re):
		fe.Reason = re.reason
	case errors.Is(err, errTooLarge):
		fe.Reason = record.ReasonTooLarge
		fe.Err = fmt.Errorf("the page is larger than the %s limit (--max-body): %w", formatSize(f.opts.MaxBody), err)
	case errors.As(err, &nh):
		fe.Reason, fe.Err = record.ReasonNotHTML, nh
	case netguard.IsForbidden(err):
		fe.Reason = record.ReasonForbiddenAddress
		fe.Err = fmt.Errorf("%w (links come from untrusted feeds; --allow-private permits private and loopback addresses)", err)
	case errors.Is(err, errReadIdle) || (st != nil && st.idleFired.Load()):
		fe.Reason, fe.retryable = record.ReasonTimeout, true
		fe.Err = fmt.Errorf("the server stopped sending for %s (--read-timeout)", f.opts.ReadTimeout)
	case st != nil && st.deadlineHit:
		fe.Reason, fe.retryable = record.ReasonTimeout, true
		fe.Err = fmt.Errorf("the page did not arrive within %s (--timeout)", f.opts.Timeout)
	case errors.As(err, &dns):
		fe.Reason, fe.retryable = record.ReasonNetwork, !dns.IsNotFound
		fe.Err = fmt.Errorf("cannot resolve %s: %w", dns.Name, err)
	case isTLSError(err):
		fe.Reason = record.ReasonTLS
		fe.Err = fmt.Errorf("TLS failed (the site's certificate or protocol is not acceptable): %w", err)
	case errors.As(err, &op) && op.Op == "dial" && op.Timeout():
		fe.Reason, fe.retryable = record.ReasonTimeout, true
		fe.Err = fmt.Errorf("could not connect within %s (--connect-timeout): %w", f.opts.ConnectTimeout, err)
	case errors.As(err, &ne) && ne.Timeout():
		fe.Reason, fe.retryable = record.ReasonTimeout, true
		fe.Err = fmt.Errorf("no answer within %s (--read-timeout): %w", f.opts.ReadTimeout, err)
	case errors.Is(err, context.DeadlineExceeded):
		fe.Reason, fe.retryable = record.ReasonTimeout, true
		fe.Err = fmt.Errorf("out of time: %w", err)
	case errors.As(err, &de):
		fe.Reason, fe.Err = record.ReasonDecode, de
	case errors.Is(err, io.ErrUnexpectedEOF):
		fe.Reason, fe.retryable = record.ReasonTruncated, true
		fe.Err = fmt.Errorf("the connection closed before the whole body arrived (shorter than its Content-Length or final chunk): %w", err)
	case st != nil && !st.requested:
		fe.Reason = record.ReasonBadURL
		fe.Err = fmt.Errorf("cannot request this URL: %w", err)
	default:
		fe.Reason, fe.retryable = record.ReasonNetwork, true
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			fe.Err = fmt.Errorf("connection refused: %w", err)
		case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
			fe.Err = fmt.Errorf("the server closed the connection: %w", err)
		}
	}
	return fe
}

// unreachable says why err shows that a host could not be reached at all
// (its name does not resolve, the connection was refused or timed out),
// or "" when something answered or the address was refused by the SSRF
// guard.
func unreachable(err error) string {
	var (
		dns *net.DNSError
		op  *net.OpError
	)
	switch {
	case netguard.IsForbidden(err):
		return ""
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "its name does not resolve"
		}
		return "its name could not be resolved"
	case !errors.As(err, &op) || op.Op != "dial":
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case op.Timeout():
		return "connecting timed out"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to it"
	}
	return "cannot connect"
}

// hostOf returns the host[:port] of an origin.
func hostOf(origin string) string {
	if _, h, ok := strings.Cut(origin, "://"); ok {
		return h
	}
	return origin
}

func isTLSError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		rh tls.RecordHeaderError
		al tls.AlertError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) ||
		errors.As(err, &ci) || errors.As(err, &rh) || errors.As(err, &al) ||
		strings.Contains(err.Error(), "tls: ")
}

// statusError is the Error for a response that is not 2xx.
func statusError(rawURL string, status int, header http.Header, now time.Time) *Error {
	fe := &Error{URL: rawURL, Reason: record.HTTPReason(status), StatusCode: status}
	text := http.StatusText(status)
	switch {
	case (status == http.StatusForbidden || status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) &&
		isChallengeHeader(header):
		fe.Reason = record.ReasonCaptcha
		fe.Err = fmt.Errorf("the server answered %d %s with a bot challenge (CAPTCHA); an archiver cannot pass it", status, text)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		fe.retryable = true
		fe.RetryAfter, fe.retryAfterSet = parseRetryAfter(header.Get("Retry-After"), now)
		fe.Err = fmt.Errorf("the server answered %d %s; it is overloaded or rate-limiting, try later or raise --host-interval", status, text)
	case status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported:
		fe.retryable = true
		fe.Err = fmt.Errorf("the server answered %d %s; try again later", status, text)
	case status == http.StatusRequestTimeout:
		fe.retryable = true
		fe.Err = fmt.Errorf("the server answered %d %s", status, text)
	case status == http.StatusNotFound || status == http.StatusGone:
		fe.Err = fmt.Errorf("the server answered %d %s: the article is not (or no longer) there", status, text)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		fe.Err = fmt.Errorf("the server answered %d %s: the page needs a login or refuses archivers", status, text)
	default:
		fe.Err = fmt.Errorf("the server answered %d %s", status, text)
	}
	return fe
}

// isChallengeHeader recognises bot-challenge responses by the headers the
// big bot-protection services document for them.
func isChallengeHeader(h http.Header) bool {
	return strings.EqualFold(h.Get("Cf-Mitigated"), "challenge") || h.Get("X-Datadome") != "" ||
		h.Get("X-Dd-B") != ""
}

// parseRetryAfter reads a Retry-After value in either of its forms: delay
// seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		const maxSeconds = int64(365 * 24 * 3600) // beyond any cap; avoids overflow
		return time.Duration(min(n, maxSeconds)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
