package redirect

import (
	"bytes"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Redirects that are not 3xx answers: a Refresh header, a
// <meta http-equiv="refresh"> in the page, or the same meta element inside
// <noscript> after a script redirect (the form Google Alerts, many trackers
// and AMP shells use). FindRefresh is the one rule the fetcher and the
// resolver share for deciding whether a 2xx page sends the client on.

const (
	// MaxRefreshDelay is the longest refresh delay that counts as a
	// redirect. Hop pages refresh at once, or after the "you will be
	// redirected in 5 seconds" of a moved-article notice; a longer delay is
	// a page that reloads itself (live blogs, front pages every few
	// minutes) or something else a reader sees first, and the page as
	// served is the page.
	MaxRefreshDelay = 5 * time.Second

	// MinOwnWords is how many words of visible text make a page content of
	// its own (OwnContent). A hop page says at most "Redirecting… click
	// here if nothing happens"; an article, even a short one, has more.
	MinOwnWords = 40
)

// Where a Refresh was found.
const (
	FromHeader   = "header"   // the Refresh response header
	FromMeta     = "meta"     // <meta http-equiv="refresh"> outside <noscript>
	FromNoscript = "noscript" // the same inside <noscript>
)

// Refresh is a refresh directive that redirects.
type Refresh struct {
	URL   string        // the target as written: may be relative to the page's URL
	Delay time.Duration // before the refresh happens (not waited for)
	From  string        // FromHeader, FromMeta or FromNoscript
}

// FindRefresh decides whether a 2xx response redirects without being a 3xx:
// header is its Refresh header value ("" when none) and page its body as
// UTF-8 (nil when it is not HTML or was not read). The rule, in order:
//
//  1. a Refresh header with a URL and a delay of at most MaxRefreshDelay;
//  2. the first <meta http-equiv="refresh"> with a URL outside <noscript>
//     (in a comment, script or template it is not markup, and does not
//     count), with a delay of at most MaxRefreshDelay;
//  3. the first such element inside <noscript>, only when the page has no
//     content of its own (see OwnContent): a page that holds an article and
//     sends script-less readers to a "please enable JavaScript" notice is
//     the article.
//
// A refresh without a URL reloads the page itself and is not a redirect.
// The values are parsed as the HTML standard's shared declarative refresh
// steps say (HTML §7.11.1 "Shared declarative refresh steps"; §4.2.5.3
// "Refresh" state). The caller resolves URL against the page's URL and
// applies Policy.Next to it like to any redirect.
func FindRefresh(header string, page []byte) (Refresh, bool) {
	if d, target, ok := ParseRefresh(header); ok && target != "" && d <= MaxRefreshDelay {
		return Refresh{URL: target, Delay: d, From: FromHeader}, true
	}
	if len(page) == 0 {
		return Refresh{}, false
	}
	s := scanPage(page)
	if s.meta != nil {
		return *s.meta, true
	}
	if s.noscript != nil && s.words < MinOwnWords {
		return *s.noscript, true
	}
	return Refresh{}, false
}

// OwnContent reports whether page (HTML, UTF-8) has content of its own: at
// least MinOwnWords words of text a reader sees without script, outside
// <noscript>, <script>, <style>, <template>, <title> and the like.
func OwnContent(page []byte) bool { return scanPage(page).words >= MinOwnWords }

// MetaRefresh returns the target of the refresh FindRefresh would follow
// in page, or "" when there is none.
func MetaRefresh(page []byte) string {
	r, _ := FindRefresh("", page)
	return r.URL
}

// RefreshTarget returns the URL of a refresh value ("5; url=https://…"),
// whatever its delay; "" for a bare delay (a reload) or a value that is not
// a refresh.
func RefreshTarget(v string) string {
	_, target, _ := ParseRefresh(v)
	return target
}

// ParseRefresh parses the content of a Refresh header or <meta
// http-equiv="refresh"> by the HTML standard's shared declarative refresh
// steps (HTML §7.11.1): a delay in seconds (digits, possibly with a
// fraction, which is dropped), then optionally ";" or ",", "url=", and the
// URL, possibly quoted. ok is false when v is not a refresh value; target
// is "" for a bare delay.
func ParseRefresh(v string) (delay time.Duration, target string, ok bool) {
	s := strings.TrimLeft(v, " \t\n\f\r")
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	digits := s[:i]
	if digits == "" && (i >= len(s) || s[i] != '.') {
		return 0, "", false
	}
	const maxSecs = 1 << 31 // decades: never a redirect, and no overflow
	secs := int64(0)
	for _, c := range digits {
		secs = min(secs*10+int64(c-'0'), maxSecs)
	}
	for i < len(s) && ('0' <= s[i] && s[i] <= '9' || s[i] == '.') {
		i++
	}
	delay = time.Duration(secs) * time.Second
	s = s[i:]
	if s == "" {
		return delay, "", true
	}
	if c := s[0]; c != ';' && c != ',' && !isSpace(c) {
		return 0, "", false
	}
	s = strings.TrimLeft(s, " \t\n\f\r")
	if s != "" && (s[0] == ';' || s[0] == ',') {
		s = s[1:]
	}
	s = strings.TrimLeft(s, " \t\n\f\r")
	if len(s) >= 3 && strings.EqualFold(s[:3], "url") {
		rest := strings.TrimLeft(s[3:], " \t\n\f\r")
		if strings.HasPrefix(rest, "=") {
			s = strings.TrimLeft(rest[1:], " \t\n\f\r")
		}
	}
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		q := s[0]
		s = s[1:]
		if j := strings.IndexByte(s, q); j >= 0 {
			s = s[:j]
		}
	}
	return delay, strings.TrimSpace(s), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// pageScan is what one pass of the tokenizer over a page found.
type pageScan struct {
	meta     *Refresh // the first redirecting refresh outside <noscript>
	noscript *Refresh // the first inside <noscript>
	words    int      // visible words, counted up to MinOwnWords
}

// scanPage tokenizes page once. The tokenizer reads <noscript> as raw text,
// as a browser with scripting on does; its text is tokenized again to find
// the elements a browser without script would see.
func scanPage(page []byte) pageScan {
	var s pageScan
	z := html.NewTokenizer(bytes.NewReader(page))
	var raw atom.Atom // the raw-text element the tokenizer is in, if any
	template := 0
	noscripts := 0 // <noscript>s tokenized again
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return s
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Template:
				if tt == html.StartTagToken {
					template++
				}
			case atom.Meta:
				if s.meta == nil && template == 0 && hasAttr {
					if r, ok := metaRefresh(z, FromMeta); ok {
						s.meta = &r
					}
				}
			case atom.Script, atom.Style, atom.Noscript, atom.Title, atom.Textarea,
				atom.Xmp, atom.Iframe, atom.Noembed, atom.Noframes, atom.Plaintext:
				if tt == html.StartTagToken {
					raw = a
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == raw {
				raw = 0
			}
			if a == atom.Template && template > 0 {
				template--
			}
		case html.TextToken:
			switch {
			case raw == atom.Noscript:
				if text := z.Text(); s.noscript == nil && template == 0 && noscripts < maxNoscripts && mentionsRefresh(text) {
					noscripts++
					if r, ok := noscriptRefresh(text); ok {
						s.noscript = &r
					}
				}
			case raw == 0 && template == 0 && s.words < MinOwnWords:
				s.words += countWords(z.Text())
			}
		}
		if s.meta != nil {
			return s // the first redirecting refresh decides
		}
	}
}

// maxNoscripts bounds how many <noscript> elements that mention a refresh
// are tokenized again: each costs a tokenizer, and a hostile page can hold
// thousands.
const maxNoscripts = 8

// mentionsRefresh is a cheap test that a <noscript>'s content may hold a
// refresh, before a tokenizer is spent on it.
func mentionsRefresh(b []byte) bool {
	const needle = "refresh"
	for i := 0; i+len(needle) <= len(b); i++ {
		j := 0
		for j < len(needle) && b[i+j]|0x20 == needle[j] {
			j++
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// countWords counts runs of non-space characters in b without allocating.
func countWords(b []byte) int {
	n, in := 0, false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// noscriptRefresh finds the first redirecting refresh in a <noscript>'s
// content.
func noscriptRefresh(content []byte) (Refresh, bool) {
	z := html.NewTokenizer(bytes.NewReader(content))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return Refresh{}, false
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if atom.Lookup(name) == atom.Meta && hasAttr {
				if r, ok := metaRefresh(z, FromNoscript); ok {
					return r, true
				}
			}
		}
	}
}

// metaRefresh reads the attributes of the <meta> the tokenizer is on: a
// refresh with a URL and a delay of at most MaxRefreshDelay redirects.
func metaRefresh(z *html.Tokenizer, from string) (Refresh, bool) {
	var equiv, content string
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		switch string(k) {
		case "http-equiv":
			equiv = string(v)
		case "content":
			content = string(v)
		}
	}
	if !strings.EqualFold(strings.TrimSpace(equiv), "refresh") {
		return Refresh{}, false
	}
	d, target, ok := ParseRefresh(content)
	if !ok || target == "" || d > MaxRefreshDelay {
		return Refresh{}, false
	}
	return Refresh{URL: target, Delay: d, From: from}, true
}
