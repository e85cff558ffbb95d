package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/storage/record"
)

// Error says why one input could not be resolved. Kind is one of the
// resolver's record.Reason constants (the protocol description's error
// kinds plus those generic redirect following needs) or
// record.HTTPReason(status); `linkarc resolve --json` prints it as
// "error_kind". Message is meant for the user and says what they can do
// about it; Err is the underlying cause, if any.
type Error struct {
	Kind    record.Reason
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

func newError(kind record.Reason, msg string, cause error) *Error {
	return &Error{Kind: kind, Message: msg, Err: cause}
}

// errorf builds an *Error with a formatted message and no cause.
func errorf(kind record.Reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// rateLimitedError is what every input gets once Google has refused us
// (429, a redirect to /sorry, or the CAPTCHA page itself).
func rateLimitedError(cause error) *Error {
	return newError(record.ReasonRateLimited,
		"Google News rate-limited this address; no further Google requests are made in this run. "+
			"Wait (often an hour or more) and run again: resolved links are cached, so a re-run resumes", cause)
}

// googleDisabledError is what an id that needs Google gets when
// Options.NoGoogle forbids asking.
func googleDisabledError() *Error {
	return errorf(record.ReasonGoogleDisabled,
		"this link's id does not hold the publisher URL, so only Google can resolve it (two requests), and --no-google forbids contacting Google; "+
			"run without --no-google to resolve it (once resolved it is cached, and later --no-google runs find it)")
}

// transportError classifies a failed request. parent is the caller's
// context: when it is done, the run was canceled rather than timed out.
func transportError(parent context.Context, what string, err error) *Error {
	if parent.Err() != nil {
		return newError(record.ReasonCanceled, what+": canceled before it finished", parent.Err())
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return newError(record.ReasonTimeout, what+": no complete answer within the per-request timeout (raise --timeout if the server is just slow)", err)
	}
	if netguard.IsForbidden(err) {
		return newError(record.ReasonForbiddenAddress, what+": refused, the host resolves to a loopback, private or otherwise internal address (pass --allow-private if you really mean to reach it)", err)
	}
	return newError(record.ReasonNetwork, what+": could not connect", err)
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
	return &Error{Kind: record.HTTPReason(status), Message: msg}
}

// hasControl reports whether s has ASCII control characters, spaces or DEL,
// none of which a URL we hand out may contain.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0
}
