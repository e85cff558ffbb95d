// Package robotstxt is linkarc's one reading of robots.txt, following
// RFC 9309 (the Robots Exclusion Protocol) and, where the RFC leaves room,
// the documented behaviour of Google's reference parser
// (github.com/google/robotstxt).
//
// It decides three things and nothing else:
//
//   - what an HTTP outcome for /robots.txt means (ForStatus, From,
//     Unreachable; RFC 9309 §2.3.1);
//   - which group of rules applies to a crawler (its product token,
//     case-insensitively, merged across groups, else the * group; §2.2.1);
//   - whether a path and query may be fetched (longest match wins, Allow
//     wins a tie, * and $, both sides percent-normalised; §2.2.2, §2.2.3).
//
// Fetching (redirects, timeouts, caching, politeness) is the caller's.
//
// Deliberate choices where implementations differ, each tested:
//   - Reserved characters and their percent-encodings stay distinct
//     (%2F is not /, %3F is not ?), as in Google's parser; only unreserved
//     characters are decoded (%7E is ~) and everything else is compared in
//     upper-case %XX form. The exceptions are %2A and %24 in a rule, which
//     match a literal * and $ in the URL, as the examples of §2.2.3 say.
//   - Google's typo tolerance (disalow, useragent, a missing colon) is kept:
//     it errs on the side of what the site meant to forbid.
//   - Google's "Allow: /index.html also allows /" is not: it widens.
//   - A line cut by a limit (MaxLineBytes, MaxBytes) keeps a Disallow (it
//     blocks more) and drops an Allow (it would allow more than written).
package robotstxt

import (
	"fmt"
	"net/url"
)

const (
	// MaxBytes is how much of a robots.txt is parsed: RFC 9309 §2.5 requires
	// at least 500 KiB, and Google stops there. Callers should read
	// MaxBytes+1 bytes so that Parse can tell a file cut by the limit, whose
	// last line is then incomplete, from one that ends at it.
	MaxBytes = 500 << 10

	// MaxRedirects is how many consecutive redirects the caller follows for
	// /robots.txt (RFC 9309 §2.3.1.2: at least five, across authorities).
	// The rules found apply to the authority first asked. Past the limit,
	// the caller passes the last 3xx status to From, which means "no
	// robots.txt" (§2.3.1.2 permits treating it as unavailable, as Google
	// does).
	MaxRedirects = 5

	// MaxLineBytes is where a line is cut, as in Google's parser (2083 * 8:
	// eight times the longest URL old browsers accepted).
	MaxLineBytes = 2083 * 8
)

// Verdict is what an HTTP outcome for /robots.txt means (RFC 9309 §2.3.1).
type Verdict int

const (
	// UseRules: a 2xx answer; the body's rules apply (§2.3.1.1).
	UseRules Verdict = iota
	// AllowAll: the file is unavailable (4xx, §2.3.1.3; or more than
	// MaxRedirects redirects, §2.3.1.2): no rules apply.
	AllowAll
	// DisallowAll: the file is unreachable (5xx, 429, a network failure,
	// §2.3.1.4): nothing may be fetched but /robots.txt itself. This is a
	// transient state: cache it briefly and ask again, never for the 24
	// hours of §2.4.
	DisallowAll
)

func (v Verdict) String() string {
	switch v {
	case UseRules:
		return "use rules"
	case AllowAll:
		return "allow all"
	case DisallowAll:
		return "disallow all"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// ForStatus is the status policy of RFC 9309 §2.3.1 for the final HTTP
// status of a /robots.txt request:
//
//	2xx       UseRules     §2.3.1.1
//	3xx       AllowAll     §2.3.1.2: only a redirect the caller did not
//	                       follow (past MaxRedirects, no Location) gets here
//	429       DisallowAll  Google's documentation: rate limiting is a server error
//	other 4xx AllowAll     §2.3.1.3, 401 and 403 included
//	5xx       DisallowAll  §2.3.1.4
//	anything else (1xx, 0, ≥600) DisallowAll: not an answer, so unreachable
func ForStatus(status int) Verdict {
	switch {
	case status >= 200 && status <= 299:
		return UseRules
	case status == 429:
		return DisallowAll
	case status >= 300 && status <= 499:
		return AllowAll
	}
	return DisallowAll
}

// From returns the rules for a /robots.txt answer with the given final
// status and body. The body is read only when ForStatus says UseRules: the
// body of an error page is never taken for rules.
func From(status int, body []byte) *Rules {
	switch v := ForStatus(status); v {
	case UseRules:
		return Parse(body)
	default:
		return &Rules{verdict: v}
	}
}

// Unreachable returns the rules for a /robots.txt that could not be fetched
// at all (connection refused, timeout, TLS failure…): disallow everything
// (RFC 9309 §2.3.1.4).
func Unreachable() *Rules { return &Rules{verdict: DisallowAll} }

// Rules is a parsed robots.txt, or the verdict that replaced it. It is
// immutable and safe for concurrent use. The nil *Rules allows everything.
type Rules struct {
	verdict Verdict
	// groups holds each group's rules once, sorted most specific first and
	// Allow before Disallow among equals (RFC 9309 §2.2.2). Agents refer to
	// groups by index, so that neither memory nor parse time grows with
	// agents × rules.
	groups [][]rule
	// byAgent maps a lower-case product token to the groups naming it
	// (merged at match time, §2.2.1); a token named only by empty groups
	// still maps to them, and so no longer falls back to *.
	byAgent map[string][]int
	// global lists the * groups; hasGlobal tells an empty * group from none.
	global    []int
	hasGlobal bool
}

// Verdict reports what the HTTP outcome meant; UseRules for Parse.
func (r *Rules) Verdict() Verdict {
	if r == nil {
		return AllowAll
	}
	return r.verdict
}

// Allowed reports whether the crawler whose product token is agent may
// fetch pathAndQuery: the request target's path and query as sent ("/a/b?c=d";
// "" means "/"; a fragment is ignored). Either side may be percent-encoded
// or raw: both are normalised before matching (RFC 9309 §2.2.2).
//
// agent is a product token ("linkarc"); a full User-Agent string is reduced
// with ProductToken first. An empty token matches only the * group.
func (r *Rules) Allowed(agent, pathAndQuery string) bool {
	if r == nil {
		return true
	}
	path := canonicalPath(pathAndQuery)
	if isRobotsTxt(path) {
		return true // RFC 9309 §2.2.2: implicitly allowed
	}
	switch r.verdict {
	case AllowAll:
		return true
	case DisallowAll:
		return false
	}
	idx, ok := r.byAgent[lowerASCII(ProductToken(agent))]
	if !ok {
		if !r.hasGlobal {
			return true
		}
		idx = r.global
	}
	// The most specific matching rule of the merged groups decides, Allow
	// winning a tie (§2.2.2); no match allows. Each group is sorted, so its
	// first match is its best, and a group stops as soon as it cannot beat
	// what another group matched.
	bestPrio, allowed := -1, true
	for _, g := range idx {
		rules := r.groups[g]
		for i := range rules {
			ru := &rules[i]
			if ru.prio < bestPrio || ru.prio == bestPrio && (allowed || !ru.allow) {
				break
			}
			if ru.match(path) {
				bestPrio, allowed = ru.prio, ru.allow
				break
			}
		}
	}
	return allowed
}

// AllowedURL is Allowed for the path and query of u (its escaped path as
// the request line carries it). A nil u is allowed.
func (r *Rules) AllowedURL(agent string, u *url.URL) bool {
	if u == nil {
		return true
	}
	p := u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	return r.Allowed(agent, p)
}

// ProductToken returns the robots.txt product token of a User-Agent header
// value (RFC 9309 §2.2.1): the leading run of letters, "_" and "-" of its
// first product ("linkarc/1.0 (+https://…)" -> "linkarc"), or, for the
// "Mozilla/5.0 (compatible; ExampleBot/0.1; …)" form crawlers use, of the
// product after "compatible;" ("ExampleBot"). It returns "" when there is
// no such token; then only the * group applies.
func ProductToken(userAgent string) string {
	s := trimSpace(userAgent)
	if hasPrefixFold(s, "mozilla/") {
		if i := indexFold(s, "compatible;"); i >= 0 {
			s = trimSpace(s[i+len("compatible;"):])
		}
	}
	return s[:tokenLen(s)]
}

// tokenLen is the length of the product token at the start of s: letters,
// "_" and "-" (RFC 9309 §2.2.1; Google's ExtractUserAgent).
func tokenLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			break
		}
		n++
	}
	return n
}
