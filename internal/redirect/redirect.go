// Package redirect is linkarc's one redirect policy, shared by the
// fetcher (net/http's CheckRedirect) and the resolver (which follows
// redirects by hand), and the parsing of the redirects that are not 3xx
// answers: the Refresh header and <meta http-equiv="refresh">.
//
// The policy, in the order it is applied to each hop:
//
//  1. a loop: a URL may appear twice in a chain (a page may redirect to
//     itself once, to set a cookie), a third visit is a loop (ErrLoop); a
//     client that keeps no cookies cannot get anywhere by coming back, so
//     for it the second visit is the loop;
//  2. the hop limit: at most MaxHops redirects are followed
//     (ErrTooManyHops);
//  3. the caller's Check (the SSRF guard, allowed hosts);
//  4. the target must be an http or https URL with a host (ErrScheme), for
//     callers whose Check does not look.
package redirect

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Errors of Policy.Next; the returned errors wrap them and say which chain.
var (
	ErrLoop        = errors.New("redirect loop")
	ErrTooManyHops = errors.New("too many redirects")
	ErrScheme      = errors.New("redirect to a URL that is not http or https")
)

// Policy decides whether one more redirect is followed.
type Policy struct {
	// MaxHops is how many redirects a chain may follow; a negative value
	// follows none.
	MaxHops int
	// Cookieless says the client keeps no cookies: a URL may then appear
	// once in a chain, as coming back cannot change the answer.
	Cookieless bool
	// Check, if set, vets each target once the policy's own rules pass;
	// its error is returned as it is.
	Check func(*url.URL) error
}

// Next decides whether to follow a redirect to next, given chain: every URL
// requested so far, the first one first. nil means follow it.
func (p Policy) Next(chain []string, next *url.URL) error {
	target := next.String()
	visits := 0
	for _, c := range chain {
		if c == target {
			visits++
		}
	}
	trail := func() string { return strings.Join(append(chain[:len(chain):len(chain)], target), " -> ") }
	maxVisits := 2
	if p.Cookieless {
		maxVisits = 1
	}
	if visits >= maxVisits {
		return fmt.Errorf("%w: %s", ErrLoop, trail())
	}
	if len(chain) > p.MaxHops {
		return fmt.Errorf("%w: more than %d: %s", ErrTooManyHops, max(p.MaxHops, 0), trail())
	}
	if p.Check != nil {
		if err := p.Check(next); err != nil {
			return err
		}
	}
	if s := strings.ToLower(next.Scheme); (s != "http" && s != "https") || next.Host == "" {
		return fmt.Errorf("%w: %s", ErrScheme, next.Redacted())
	}
	return nil
}

// IsRedirect reports whether an HTTP status sends the client elsewhere
// with a Location (301, 302, 303, 307, 308).
func IsRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}
