package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/linkarc/linkarc/internal/netguard"
)

// Error kinds, as listed in the protocol spec (Appendix B) plus the ones
// generic redirect following needs. They are stable strings: scripts match on
// them (`linkarc resolve --json` prints them as "error_kind").
const (
	KindInvalidURL       = "invalid_url"        // not an accepted link or id; no request made
	KindUnknownFormat    = "unknown_format"     // an id of a shape nobody can decode (e.g. 2018 CAIi… ids)
	KindNoSignature      = "no_signature"       // the signature page carried no data-n-a-sg/ts pair
	KindConsent          = "consent"            // Google answered with its cookie-consent wall
	KindRateLimited      = "rate_limited"       // 429 or /sorry: Google stopped answering this address
	KindRPCError         = "rpc_error"          // batchexecute returned an error row for the id
	KindParse            = "parse"              // a response did not have the expected shape
	KindMissingInBatch   = "missing_in_batch"   // the batch answer had no row for the id
	KindTimeout          = "timeout"            // a request exceeded the per-request timeout
	KindTooLarge         = "too_large"          // a response body exceeded the size cap
	KindBadRedirect      = "bad_redirect"       // a redirect without a usable target, or off the allowed hosts
	KindRedirectLoop     = "redirect_loop"      // a redirect led back to a URL already visited
	KindTooManyRedirects = "too_many_redirects" // more hops than allowed
	KindForbiddenAddress = "forbidden_address"  // the target resolves to a loopback/private address
	KindNetwork          = "network"            // connection failed (DNS, refused, reset)
	KindCanceled         = "canceled"           // the caller canceled the run before this input was done
)

// KindHTTP is the kind for an unexpected HTTP status: "http_404", "http_503".
func KindHTTP(status int) string { return "http_" + strconv.Itoa(status) }

// Error says why one input could not be resolved. Kind is one of the Kind…
// constants or KindHTTP(status); Message is meant for the user and says what
// they can do about it; Err is the underlying cause, if any.
type Error struct {
	Kind    string
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(kind, msg string, cause error) *Error {
	return &Error{Kind: kind, Message: msg, Err: cause}
}

// errorf builds an *Error with a formatted message and no cause.
func errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// rateLimitedError is what every input gets once Google has refused us.
func rateLimitedError(cause error) *Error {
	return newError(KindRateLimited,
		"Google News rate-limited this address; no further Google requests are made in this run. "+
			"Wait (often an hour or more) and run again: resolved links are cached, so a re-run resumes", cause)
}

// transportError classifies a failed request. parent is the caller's
// context: when it is done, the run was canceled rather than timed out.
func transportError(parent context.Context, what string, err error) *Error {
	if parent.Err() != nil {
		return newError(KindCanceled, what+": canceled before it finished", parent.Err())
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return newError(KindTimeout, what+": no complete answer within the per-request timeout (raise --timeout if the server is just slow)", err)
	}
	if netguard.IsForbidden(err) {
		return newError(KindForbiddenAddress, what+": refused, the host resolves to a loopback, private or otherwise internal address (pass --allow-private if you really mean to reach it)", err)
	}
	return newError(KindNetwork, what+": could not connect", err)
}

// httpStatusError reports an HTTP status we have no special handling for.
func httpStatusError(what string, status int, detail string) *Error {
	msg := fmt.Sprintf("%s: unexpected HTTP status %d", what, status)
	if detail != "" {
		msg += " (" + detail + ")"
	}
	switch {
	case status >= 500:
		msg += "; the server had a problem, try again later"
	case status == 404 || status == 410:
		msg += "; the link is dead"
	}
	return &Error{Kind: KindHTTP(status), Message: msg}
}

// shorten keeps user-facing messages readable when they quote long ids or URLs.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// hasControl reports whether s has ASCII control characters, spaces or DEL,
// none of which a URL we hand out may contain.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0
}
