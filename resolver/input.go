package resolver

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// Hosts of the links Google News hands out. Inputs are always matched
// against these real names; Options.GNewsBase only changes where requests go.
const (
	newsHost    = "news.google.com"
	consentHost = "consent.google.com"
)

// inputKind says how an input is resolved.
type inputKind int

const (
	inputInvalid   inputKind = iota // rejected without a request
	inputGoogle                     // a Google News article id
	inputGeneric                    // some other http(s) URL: follow its redirects
	inputUnwrapped                  // a publisher URL taken out of a Google wrapper: the answer, no request
)

// parsedInput is one input after the offline checks of spec §1.
type parsedInput struct {
	kind         inputKind
	id           string   // inputGoogle: the article id as it appears in the link
	env          envelope // inputGoogle: the decoded id
	hl, gl, ceid string   // inputGoogle: locale taken from the link, if any
	url          string   // inputGeneric: the URL to follow; inputUnwrapped: the answer
	err          *Error   // set for inputInvalid, and for unknown or bad ids
	note         string   // what was made of the input as given: text ignored, scheme assumed
}

// key identifies inputs that resolve to the same thing, so that duplicates
// cost one resolution.
func (p *parsedInput) key() string {
	switch p.kind {
	case inputGoogle:
		return "g:" + p.id
	case inputGeneric:
		return "u:" + p.url
	}
	return ""
}

// IsGoogleNews reports whether rawURL is a Google News link, which must be
// given to Resolve rather than fetched: any http(s) URL on news.google.com
// (article links in every form of spec §1, but also links Resolve will
// reject with invalid_url, such as /topics/ pages, so that they are never
// fetched as if they were articles) and consent.google.com wrappers around
// them, and the Google links that carry another link (www.google.com/url?q=…,
// www.google.com/amp/s/…), which Resolve unwraps without a request. Look-alike hosts and bare ids are not
// Google News links.
func IsGoogleNews(rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	switch host := normHost(u.Hostname()); host {
	case newsHost:
		return true
	case consentHost:
		_, ok := consentTarget(u)
		return ok
	default:
		_, _, ok := googleRedirectTarget(host, u)
		return ok
	}
}

// parseInput applies the offline rules: URL forms, host checks, id
// extraction and decoding. It never makes a request.
//
// An input is a URL, a bare article id, or text holding one link as people
// paste it (weburl.FindLinks): without a scheme ("news.google.com/read/…",
// "www.example.com/a", https is assumed), in upper case, or inside share
// text ("Title - Source (https://…)", "Title https://…", "<https://…>").
// What was ignored or assumed is said in the note.
func parseInput(raw string) parsedInput {
	s := strings.TrimSpace(raw)
	if s == "" {
		return parsedInput{err: errorf(record.ReasonInvalidURL, "empty input")}
	}
	if !strings.ContainsAny(s, ":/") && !strings.ContainsFunc(s, unicode.IsSpace) {
		return parseBareID(s)
	}
	if !strings.ContainsFunc(s, unicode.IsSpace) && !strings.ContainsAny(s, "<>\"") {
		if u, err := url.Parse(s); err == nil && u.Scheme != "" {
			u.Host = strings.ToLower(u.Host) // url.Parse lower-cases the scheme
			return parseParsedURL(u, s, 0)
		}
	}
	links := weburl.FindLinks(s)
	switch len(links) {
	case 0:
		if tok := strings.Trim(s, "()<>[],;!?\"'"); weburl.IsHostName(tok) {
			return parsedInput{err: errorf(record.ReasonInvalidURL, "%q is a host name without a path; give the article's link (https://%s/…)", textnorm.Shorten(tok, 60), strings.TrimSuffix(tok, "."))}
		}
		if strings.Contains(s, "://") {
			return parsedInput{err: errorf(record.ReasonInvalidURL, "only http and https links can be resolved, not %q", textnorm.Shorten(s, 80))}
		}
		return parsedInput{err: errorf(record.ReasonInvalidURL, "%q is neither a URL nor a Google News article id", textnorm.Shorten(s, 60))}
	case 1:
	default:
		return parsedInput{err: errorf(record.ReasonInvalidURL, "the input holds %d links (%s, %s…); give one link per input", len(links),
			textnorm.Shorten(links[0].URL, 60), textnorm.Shorten(links[1].URL, 60))}
	}
	l := links[0]
	p := parseURL(l.URL)
	var notes []string
	if around := strings.Trim(textnorm.CollapseSpace(s[:l.Start]+" "+s[l.End:]), " ()<>[]\"'`.,;:!?|·•-–—"); around != "" {
		notes = append(notes, fmt.Sprintf("ignored the text around the link (%q)", textnorm.Shorten(around, 60)))
	}
	if l.NoScheme {
		notes = append(notes, "assumed https:// for a link written without a scheme")
	}
	p.note = joinNotes(p.note, strings.Join(notes, "; "))
	return p
}

// maxUnwrap bounds how many google.com/url wrappers are unwrapped, one
// inside the other.
const maxUnwrap = 3

// parseURL applies the rules to an absolute URL whose scheme and host are
// in lower case.
func parseURL(s string) parsedInput { return parseURLWrapped(s, 0) }

// parseURLWrapped is parseURL for a URL found inside depth wrappers.
func parseURLWrapped(s string, depth int) parsedInput {
	u, err := url.Parse(s)
	if err != nil {
		return parsedInput{err: newError(record.ReasonInvalidURL, "not a valid URL", err)}
	}
	return parseParsedURL(u, s, depth)
}

// parseParsedURL is parseURLWrapped for s already parsed as u.
func parseParsedURL(u *url.URL, s string, depth int) parsedInput {
	if u.Scheme != "http" && u.Scheme != "https" {
		return parsedInput{err: errorf(record.ReasonInvalidURL, "only http and https links can be resolved, not %q", textnorm.Shorten(s, 80))}
	}
	host := normHost(u.Hostname())
	if host == "" {
		return parsedInput{err: errorf(record.ReasonInvalidURL, "the link has no host")}
	}
	if target, what, ok := googleRedirectTarget(host, u); ok {
		if depth == maxUnwrap {
			return parsedInput{err: errorf(record.ReasonInvalidURL, "Google redirect links nested more than %d deep; give the link inside them", maxUnwrap)}
		}
		p := parseURLWrapped(weburl.LowerSchemeHost(target), depth+1)
		p.note = joinNotes("unwrapped the link from "+what, p.note)
		if p.kind == inputGeneric {
			// The publisher's own link, given by Google: the answer,
			// as an old id's embedded URL is; it is not followed, so
			// that only the fetcher, with its politeness, contacts the
			// publisher.
			p.kind = inputUnwrapped
		}
		return p
	}
	switch host {
	case newsHost:
		return parseArticleURL(u)
	case consentHost:
		target, ok := consentTarget(u)
		if !ok {
			return parsedInput{err: errorf(record.ReasonInvalidURL, "a consent.google.com link that does not wrap a Google News link (its continue= parameter is missing or points elsewhere)")}
		}
		p := parseArticleURL(target)
		p.note = joinNotes("unwrapped the Google News link from Google's consent page link", p.note)
		return p
	}
	if lookalike(host, u.Path) {
		return parsedInput{err: errorf(record.ReasonInvalidURL,
			"the link looks like a Google News link but its host is %q, not news.google.com; refusing to decode or fetch it", host)}
	}
	if strings.HasPrefix(u.Path, "/sorry") && (host == "google.com" || strings.HasSuffix(host, ".google.com")) {
		return parsedInput{err: errorf(record.ReasonInvalidURL, "this is Google's rate-limit page, not an article link; use the link it was protecting (its continue= parameter)")}
	}
	return parsedInput{kind: inputGeneric, url: u.String()}
}

// googleRedirectTarget unwraps, without a request, the links in which
// Google carries another link, and says which kind it was:
//
//   - click-through links, www.google.com/url?q=<target> or ?url=<target>
//     (Google Alerts e-mails, search results, Gmail): following them would
//     meet Google's "Redirect notice" page rather than an HTTP redirect;
//   - AMP viewer links, www.google.com/amp/s/<host/path> (https) and
//     /amp/<host/path> (http), from Google's mobile search;
//   - Google News redirect links of before 2018,
//     news.google.com/news/url?…&url=<target>, found in old feeds and
//     archives.
func googleRedirectTarget(host string, u *url.URL) (target, what string, ok bool) {
	google := host == "google.com" || host == "www.google.com"
	switch {
	case google && u.Path == "/url":
		what = "Google's redirect link (" + host + "/url)"
	case host == newsHost && (u.Path == "/news/url" || u.Path == "/url"):
		what = "an old Google News redirect link (news.google.com" + u.Path + ")"
	case google && strings.HasPrefix(u.Path, "/amp/"):
		rest, scheme := strings.TrimPrefix(u.EscapedPath(), "/amp/"), "http://"
		if r, ok := strings.CutPrefix(rest, "s/"); ok {
			rest, scheme = r, "https://"
		}
		t := scheme + rest
		if u.RawQuery != "" {
			t += "?" + u.RawQuery
		}
		if tu, err := url.Parse(t); err == nil && strings.Contains(tu.Hostname(), ".") {
			return t, "Google's AMP viewer link (" + host + "/amp/…)", true
		}
		return "", "", false
	default:
		return "", "", false
	}
	q := u.Query()
	for _, k := range []string{"q", "url"} {
		t := strings.TrimSpace(q.Get(k))
		if tu, err := url.Parse(t); err == nil && (strings.EqualFold(tu.Scheme, "http") || strings.EqualFold(tu.Scheme, "https")) && tu.Host != "" {
			return t, what, true
		}
	}
	return "", "", false
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// parseArticleURL extracts the id from a news.google.com URL (spec §1.2):
// the last path segment is the id and the one before it must be "articles"
// or "read", which covers /rss/articles/, /articles/, /read/ and
// /__i/rss/rd/articles/.
func parseArticleURL(u *url.URL) parsedInput {
	segs := strings.Split(u.Path, "/")
	if len(segs) < 3 || !articleSegment(segs[len(segs)-2]) {
		return parsedInput{err: errorf(record.ReasonInvalidURL,
			"a news.google.com link that is not an article link (expected …/articles/<id> or …/read/<id>, got path %q)", textnorm.Shorten(u.Path, 80))}
	}
	id := strings.TrimRight(segs[len(segs)-1], "=")
	p := parseID(id)
	if p.kind == inputInvalid && p.err.Kind == record.ReasonInvalidURL {
		return p
	}
	q := u.Query()
	p.hl, p.gl, p.ceid = q.Get("hl"), q.Get("gl"), q.Get("ceid")
	return p
}

// parseBareID accepts an id given without its URL. A bare word that is not
// even an envelope is garbage, not an id of unknown format.
func parseBareID(s string) parsedInput {
	id := strings.TrimRight(s, "=")
	if _, err := decodeID(id); err != nil {
		if weburl.IsHostName(s) {
			return parsedInput{err: errorf(record.ReasonInvalidURL, "%q is a host name without a path; give the article's link (https://%s/…)", textnorm.Shorten(s, 60), strings.TrimSuffix(s, "."))}
		}
		return parsedInput{err: errorf(record.ReasonInvalidURL, "%q is neither a URL nor a Google News article id", textnorm.Shorten(s, 60))}
	}
	return parseID(id)
}

// parseID decodes and classifies an id. Ids of unknown shape are kept as
// inputInvalid with an unknown_format error: nobody can resolve them, and
// guessing would risk handing out a wrong URL.
func parseID(id string) parsedInput {
	if id == "" {
		return parsedInput{err: errorf(record.ReasonInvalidURL, "the link has an empty article id")}
	}
	if len(id) > maxIDLen || !validIDChars(id) {
		return parsedInput{err: errorf(record.ReasonInvalidURL, "the article id %q is not base64url or is implausibly long (%d characters)", textnorm.Shorten(id, 40), len(id))}
	}
	env, err := decodeID(id)
	if err != nil {
		return parsedInput{id: id, err: newError(record.ReasonUnknownFormat,
			"the article id is not in any known Google News format; it cannot be resolved", err)}
	}
	p := parsedInput{kind: inputGoogle, id: id, env: env}
	switch {
	case env.Format == formatUnknown && env.embedsBadURL():
		p.kind = inputInvalid
		p.err = errorf(record.ReasonInvalidURL, "the id embeds %q, which is not a usable http(s) URL (control characters, bad UTF-8 or no host)", textnorm.Shorten(string(env.Field4), 80))
	case env.Format == formatUnknown:
		p.kind = inputInvalid
		p.err = errorf(record.ReasonUnknownFormat, "the article id is in a format nobody can decode (field 1 = %d; ids starting CAIi are from 2018); open the link in a browser to find the article", env.Field1)
	}
	return p
}

// consentTarget unwraps consent.google.com/m?continue=… and /ml?continue=…
// (what EU users hold after a consent redirect) without a request.
func consentTarget(u *url.URL) (*url.URL, bool) {
	if u.Path != "/m" && u.Path != "/ml" {
		return nil, false
	}
	t, err := url.Parse(u.Query().Get("continue"))
	if err != nil || (t.Scheme != "http" && t.Scheme != "https") || normHost(t.Hostname()) != newsHost {
		return nil, false
	}
	return t, true
}

// lookalike reports hosts that imitate Google News (news.google.com.evil.example,
// foo.news.google.com) and Google hosts carrying article-shaped paths: such
// links are rejected rather than followed.
func lookalike(host, path string) bool {
	if strings.HasPrefix(host, "news.google.") || strings.HasSuffix(host, ".news.google.com") {
		return true
	}
	if !strings.Contains(host, "google") {
		return false
	}
	segs := strings.Split(path, "/")
	return len(segs) >= 3 && articleSegment(segs[len(segs)-2])
}

// articleSegment reports whether a path segment is the one before an id:
// "articles" or "read", in any case (a link pasted in upper case).
func articleSegment(s string) bool {
	return strings.EqualFold(s, "articles") || strings.EqualFold(s, "read")
}

func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }
