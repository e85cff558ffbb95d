package record

import (
	"net/http"
	"strconv"
	"strings"
)

// Reason says in one stable word why an article is not ok (meta.json's
// and a digest record's "reason", a run report's by_reason) or why a link
// did not resolve (`linkarc resolve --json`'s "error_kind"). Every reason
// linkarc writes is one of the constants below or HTTPReason(status);
// scripts match on them, so they are never renamed (see Meaning for what
// each says).
type Reason string

// The fetcher's reasons (package archive/fetch): why a page was not
// fetched. Several are also the resolver's, with the same meaning.
const (
	ReasonRobots           Reason = "robots"             // robots.txt disallows the URL, or could not be read
	ReasonTimeout          Reason = "timeout"            // connect, first byte, idle body or total time ran out
	ReasonTooLarge         Reason = "too_large"          // body (on the wire or decoded) over the size cap
	ReasonNotHTML          Reason = "not_html"           // PDF, image, JSON, ...: not an HTML page
	ReasonForbiddenAddress Reason = "forbidden_address"  // private, loopback, link-local, ... (SSRF guard)
	ReasonRedirectLoop     Reason = "redirect_loop"      // a redirect chain came back to a URL too often
	ReasonTooManyRedirects Reason = "too_many_redirects" // more redirects than allowed
	ReasonNetwork          Reason = "network"            // DNS, refused, reset, closed early
	ReasonTruncated        Reason = "truncated"          // the body ended before its declared length
	ReasonTLS              Reason = "tls"                // certificate or handshake failure
	ReasonDecode           Reason = "decode"             // corrupt gzip/deflate/br body
	ReasonBadURL           Reason = "bad_url"            // not an http(s) URL with a host
	ReasonCanceled         Reason = "canceled"           // the run was stopped before this was done
	ReasonCaptcha          Reason = "captcha"            // a bot challenge (a status or the page itself)
)

// The junk verdicts (package archive/extract): the page arrived but is not
// the article. ReasonCaptcha is one too. A capture with one is blocked.
const (
	ReasonConsentWall Reason = "consent_wall" // a cookie / privacy consent page instead of the article
	ReasonSoft404     Reason = "soft_404"     // a 200 page saying the article is not there
	ReasonPaywallStub Reason = "paywall_stub" // a teaser and a subscription offer
	ReasonEmpty       Reason = "empty"        // no article text worth the name
	// ReasonGoneToFrontPage: the link now leads to the site's front page or
	// a section page (a list of teasers), typically a deleted article
	// redirected to the site root.
	ReasonGoneToFrontPage Reason = "gone_to_front_page"
)

// The extractor's failures (package archive/extract): the page arrived
// but no trustworthy text came out of it. A capture with one is failed.
const (
	// ReasonTooComplex: the page needs more work than linkarc's bounds
	// allow: over the extraction budget (time, memory, DOM nodes or depth)
	// even in its bounded form, or (set by the fetcher) more stacked
	// content codings than allowed.
	ReasonTooComplex Reason = "too_complex"
	// ReasonMojibake: the text is full of replacement characters or of
	// the character pairs a wrong decoding leaves (UTF-8 read as Latin-1).
	ReasonMojibake Reason = "mojibake"
)

// The resolver's reasons (package resolver): why a link was not resolved
// to a publisher URL. ReasonTimeout, ReasonTooLarge, ReasonRedirectLoop,
// ReasonTooManyRedirects, ReasonForbiddenAddress, ReasonNetwork and
// ReasonCanceled are its too.
const (
	ReasonInvalidURL     Reason = "invalid_url"      // not an accepted link or id; no request made
	ReasonUnknownFormat  Reason = "unknown_format"   // a Google News id of a shape nobody can decode
	ReasonNoSignature    Reason = "no_signature"     // Google's article page carried no signature
	ReasonConsent        Reason = "consent"          // Google answered with its cookie-consent wall
	ReasonRateLimited    Reason = "rate_limited"     // Google refused further requests (429, /sorry or a CAPTCHA page)
	ReasonGoogleDisabled Reason = "google_disabled"  // the id needs Google, and the run was told not to contact Google
	ReasonRPCError       Reason = "rpc_error"        // Google's batchexecute returned an error for the id
	ReasonParse          Reason = "parse"            // a Google answer did not have the expected shape
	ReasonMissingInBatch Reason = "missing_in_batch" // Google's batch answer had no row for the id
	ReasonBadRedirect    Reason = "bad_redirect"     // a redirect without a usable target, or off the allowed hosts
)

// The pipeline's own reasons (package archive).
const (
	ReasonExtract    Reason = "extract"    // the page arrived but could not be processed at all
	ReasonFetch      Reason = "fetch"      // the fetch failed in a way no other reason names
	ReasonUnfinished Reason = "unfinished" // the run ended (stopped or interrupted) before this article
)

// httpPrefix starts the reason of an HTTP status: "http_404".
const httpPrefix = "http_"

// HTTPReason is the reason for a fetch or a resolution that ended at an
// HTTP status the other reasons do not cover: "http_404", "http_503".
func HTTPReason(status int) Reason { return Reason(httpPrefix + strconv.Itoa(status)) }

// HTTPStatus returns the status of an HTTPReason, and whether r is one.
func (r Reason) HTTPStatus() (int, bool) {
	digits, ok := strings.CutPrefix(string(r), httpPrefix)
	if !ok || len(digits) != 3 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n >= 100
}

// meanings are the one-line explanations of every reason, in the order
// Reasons lists them.
var meanings = []struct {
	r       Reason
	meaning string
}{
	{ReasonRobots, "the site's robots.txt disallows this page for linkarc, or could not be read"},
	{ReasonTimeout, "the server did not answer, or stopped sending, within the time allowed"},
	{ReasonTooLarge, "the page (or Google's answer) is larger than the size cap"},
	{ReasonNotHTML, "the link leads to a PDF, image or other file, not an HTML page"},
	{ReasonForbiddenAddress, "the link leads to a private, loopback or otherwise internal address, which linkarc refuses"},
	{ReasonRedirectLoop, "the redirects came back to a page already visited"},
	{ReasonTooManyRedirects, "the link redirects more times than allowed"},
	{ReasonNetwork, "no connection: the name does not resolve, or the server refused or dropped it"},
	{ReasonTruncated, "the connection closed before the whole page arrived"},
	{ReasonTLS, "the site's certificate or TLS setup is not acceptable"},
	{ReasonDecode, "the page's compressed body is corrupt"},
	{ReasonBadURL, "the link is not an http or https URL with a host"},
	{ReasonCanceled, "the run was stopped before this was done; a re-run retries it"},
	{ReasonCaptcha, "a bot challenge (CAPTCHA) instead of the article"},
	{ReasonConsentWall, "a cookie or privacy consent page instead of the article"},
	{ReasonSoft404, "a page saying the article is not there, served as if it were"},
	{ReasonPaywallStub, "a teaser and a subscription offer instead of the article"},
	{ReasonEmpty, "the page has no article text worth the name"},
	{ReasonGoneToFrontPage, "the link now leads to the site's front page or a section page, not to the article"},
	{ReasonTooComplex, "the page needs more work than linkarc's bounds allow: too large or intricate to extract within the time and memory allowed, or more stacked content codings than allowed"},
	{ReasonMojibake, "the page's text came out garbled: its bytes were decoded with the wrong character set"},
	{ReasonInvalidURL, "not a link or Google News id linkarc can resolve; nothing was requested"},
	{ReasonUnknownFormat, "a Google News id in a format nobody can decode"},
	{ReasonNoSignature, "Google's article page carried no signature to resolve the link with"},
	{ReasonConsent, "Google answered with its cookie-consent page instead of the article"},
	{ReasonRateLimited, "Google refused further requests; a later re-run resumes"},
	{ReasonGoogleDisabled, "only Google can resolve this link, and the run was told not to contact Google (--no-google)"},
	{ReasonRPCError, "Google reported an error for this link"},
	{ReasonParse, "Google's answer did not have the expected shape"},
	{ReasonMissingInBatch, "Google's answer had no result for this link; a re-run retries it"},
	{ReasonBadRedirect, "a redirect without a usable target, or to a host it may not lead to"},
	{ReasonExtract, "the page arrived but could not be processed"},
	{ReasonFetch, "the page could not be fetched"},
	{ReasonUnfinished, "the run ended before this article was done; a re-run resumes"},
}

// formerNames maps reasons older archives hold to their current name.
var formerNames = map[Reason]Reason{
	"connection": ReasonNetwork, // the fetcher's name for network until the vocabularies were joined
}

// Reasons lists every reason constant: the fetcher's, the junk verdicts,
// the resolver's and the pipeline's. HTTP statuses (HTTPReason) are not
// listed.
func Reasons() []Reason {
	out := make([]Reason, len(meanings))
	for i, m := range meanings {
		out[i] = m.r
	}
	return out
}

// Meaning is r's one-line explanation for people, or "" for a string that
// is not a reason. Reasons older archives hold under a former name are
// explained too.
func (r Reason) Meaning() string {
	if now, ok := formerNames[r]; ok {
		r = now
	}
	for _, m := range meanings {
		if m.r == r {
			return m.meaning
		}
	}
	if code, ok := r.HTTPStatus(); ok {
		if text := http.StatusText(code); text != "" {
			return "the server answered HTTP " + strconv.Itoa(code) + " " + text
		}
		return "the server answered HTTP " + strconv.Itoa(code)
	}
	return ""
}
