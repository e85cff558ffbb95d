package robotstxt

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// Parse reads a robots.txt body (RFC 9309 §2.2) into rules; the result's
// Verdict is UseRules. It never fails: lines that are not records are
// skipped and the parseable rules used (§2.3.1.5).
//
// Only the first MaxBytes bytes are read (§2.5); when body is longer, the
// line cut by the limit is treated like an over-long line (see MaxLineBytes):
// a cut Disallow keeps what was read, a cut Allow is dropped. A UTF-8 byte
// order mark, whole or partial, is skipped; lines end at CR, LF or CRLF.
//
// Memory is linear in len(body) (at most MaxBytes of it).
func Parse(body []byte) *Rules {
	cutAtLimit := false
	if len(body) > MaxBytes {
		cutAtLimit = body[MaxBytes] != '\n' && body[MaxBytes] != '\r'
		body = body[:MaxBytes]
	}
	body = skipBOM(body)
	p := parser{cur: -1, byAgent: map[string][]int{}}
	for len(body) > 0 {
		var line []byte
		i := bytes.IndexAny(body, "\r\n")
		last := i < 0
		if last {
			line, body = body, nil
		} else {
			line = body[:i]
			next := i + 1
			if body[i] == '\r' && next < len(body) && body[next] == '\n' {
				next++ // CRLF is one line end
			}
			body = body[next:]
		}
		cut := last && cutAtLimit
		if len(line) > MaxLineBytes {
			line, cut = line[:MaxLineBytes], true
		}
		p.line(line, cut)
	}
	return p.rules()
}

// skipBOM drops a UTF-8 byte order mark, or the start of one, as Google's
// parser does (a file cut after two of its bytes still starts with them).
func skipBOM(b []byte) []byte {
	const bom = "\xEF\xBB\xBF"
	n := 0
	for n < len(bom) && n < len(b) && b[n] == bom[n] {
		n++
	}
	return b[n:]
}

// parser builds groups as RFC 9309 §2.1 and §2.2.1 define them: a group is
// one or more user-agent lines followed by rules; the next user-agent line
// after a rule starts a new group. Blank lines, comments and other records
// (sitemap, crawl-delay…) do not end the list of agents. Groups naming the
// same agent are merged when matching (see Rules.Allowed).
type parser struct {
	cur     int  // index of the current group in groups, -1 before the first
	sawRule bool // a rule followed the current group's agent lines
	named   bool // the current group names a product token or *

	groups    [][]rule
	byAgent   map[string][]int
	global    []int
	hasGlobal bool
}

type key int

const (
	keyOther key = iota
	keyUserAgent
	keyAllow
	keyDisallow
)

// line handles one line (without its end); cut says the line was cut by a
// limit, so that an Allow, which the cut would widen, is dropped.
func (p *parser) line(line []byte, cut bool) {
	k, value, ok := splitRecord(line)
	if !ok {
		return
	}
	switch k {
	case keyUserAgent:
		p.userAgent(value)
	case keyAllow, keyDisallow:
		if !p.named {
			// Outside any group (before the first user-agent line, or
			// after agent lines that named nobody): ignored, as Google's
			// parser does.
			return
		}
		p.sawRule = true
		if len(value) == 0 || k == keyAllow && cut {
			// An empty pattern matches nothing (RFC 9309 §2.2.2: an empty
			// Disallow allows all).
			return
		}
		p.groups[p.cur] = append(p.groups[p.cur], newRule(k == keyAllow, string(value)))
	}
}

func (p *parser) userAgent(value []byte) {
	if p.cur < 0 || p.sawRule {
		p.groups = append(p.groups, nil)
		p.cur, p.sawRule, p.named = len(p.groups)-1, false, false
	}
	// Google's parser: "*" followed by white space and more is still the
	// global group ("User-agent: * # all" has lost its comment by now).
	if len(value) > 0 && value[0] == '*' && (len(value) == 1 || isSpace(value[1])) {
		p.global = appendGroup(p.global, p.cur)
		p.hasGlobal, p.named = true, true
		return
	}
	n := tokenLen(string(value[:min(len(value), 256)]))
	if n == 0 {
		return // no product token: names no crawler ("*bot", "", "123")
	}
	a := strings.ToLower(string(value[:n]))
	p.byAgent[a] = appendGroup(p.byAgent[a], p.cur)
	p.named = true
}

// appendGroup adds group g to a list once: an agent named twice in one
// group must not count its rules twice.
func appendGroup(list []int, g int) []int {
	if len(list) > 0 && list[len(list)-1] == g {
		return list
	}
	return append(list, g)
}

// rules sorts every group most specific first, Allow before Disallow
// among equals (RFC 9309 §2.2.2), so that Allowed can stop at a group's
// first match.
func (p *parser) rules() *Rules {
	for _, rs := range p.groups {
		// Not stable: rules equal in both keys give the same answer.
		slices.SortFunc(rs, func(a, b rule) int {
			if c := cmp.Compare(b.prio, a.prio); c != 0 {
				return c
			}
			switch {
			case a.allow == b.allow:
				return 0
			case a.allow:
				return -1
			}
			return 1
		})
	}
	return &Rules{verdict: UseRules, groups: p.groups, byAgent: p.byAgent, global: p.global, hasGlobal: p.hasGlobal}
}

// splitRecord splits a line into its record kind and value. A "#" starts a
// comment anywhere. As in Google's parser, a missing colon is accepted when
// white space separates exactly two words ("Disallow /a"), and the keys
// are recognised case-insensitively by prefix, with the misspellings
// Google accepts.
func splitRecord(line []byte) (key, []byte, bool) {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = trimSpaceBytes(line)
	sep := bytes.IndexByte(line, ':')
	if sep < 0 {
		sep = bytes.IndexAny(line, " \t")
		if sep < 0 || bytes.ContainsAny(trimSpaceBytes(line[sep:]), " \t") {
			return keyOther, nil, false
		}
	}
	name := trimSpaceBytes(line[:sep])
	if len(name) == 0 {
		return keyOther, nil, false
	}
	return keyOf(name), trimSpaceBytes(line[sep+1:]), true
}

func keyOf(name []byte) key {
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if len(name) >= len(p) && strings.EqualFold(string(name[:len(p)]), p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("user-agent", "useragent", "user agent"):
		return keyUserAgent
	case has("allow"):
		return keyAllow
	case has("disallow", "dissallow", "dissalow", "disalow", "diaslow", "diasllow", "disallaw"):
		return keyDisallow
	}
	return keyOther
}

func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
