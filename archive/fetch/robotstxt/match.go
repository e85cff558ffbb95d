package robotstxt

import "strings"

// rule is one Allow or Disallow line in matching form.
type rule struct {
	allow bool
	// prio is the rule's specificity: the octets of its normalised pattern,
	// wildcards and anchor included (RFC 9309 §2.2.2 "the most octets";
	// Google counts the pattern the same way).
	prio int
	// segs are the literal pieces between wildcards of the normalised
	// pattern: segs[0] must start the path, each later one follows the
	// previous, and with end set the last one must end it. Runs of * were
	// collapsed, so only the first and last piece can be empty.
	segs []string
	end  bool // the pattern ended with $
}

// newRule normalises a non-empty pattern (RFC 9309 §2.2.2, §2.2.3).
func newRule(allow bool, pattern string) rule {
	canon, prio, end := canonicalPattern(pattern)
	return rule{allow: allow, prio: prio, segs: strings.Split(canon, "*"), end: end}
}

// match reports whether the normalised path p matches the rule. Pieces are
// placed leftmost first, which is exact for patterns whose only operators
// are * and a final $, and keeps matching linear in len(p) per piece: no
// pattern can make it backtrack (crawler4j #425, the ReDoS of
// samclarke/robots-parser #12).
func (r *rule) match(p string) bool {
	first := r.segs[0]
	if !strings.HasPrefix(p, first) {
		return false
	}
	last := len(r.segs) - 1
	if last == 0 {
		return !r.end || len(p) == len(first)
	}
	pos := len(first)
	for _, s := range r.segs[1:last] {
		i := strings.Index(p[pos:], s)
		if i < 0 {
			return false
		}
		pos += i + len(s)
	}
	s := r.segs[last]
	if r.end {
		return len(p)-pos >= len(s) && strings.HasSuffix(p, s)
	}
	return strings.Contains(p[pos:], s)
}

// The normal form both sides are compared in (RFC 9309 §2.2.2 with
// RFC 3986 §2): an escape of an unreserved character is decoded ("%7E" ->
// "~"), every other escape gets upper-case hex digits ("%2f" -> "%2F"),
// octets a URI cannot carry raw (non-ASCII, controls, space, "<>{}|\^`"
// and a "%" that starts no escape) are escaped, and everything else,
// reserved characters included, is kept. In a path "*" and "$" are escaped
// too, so that they meet a rule's "%2A" and "%24" (§2.2.3) and never the
// rule's operators.

// canonicalPath is the normal form of a request's path and query. A
// fragment is dropped and a missing leading "/" supplied.
func canonicalPath(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if s == "" || s[0] != '/' {
		s = "/" + s
	}
	if !needsWork(s, false) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			writeEscape(&b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '*' || c == '$' || mustEscape(c):
			writePercent(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// canonicalPattern is the normal form of a rule's pattern with * runs
// collapsed and a final $ removed (reported as end); prio counts the
// octets of the normal form with every * and the $ (see rule.prio).
func canonicalPattern(s string) (canon string, prio int, end bool) {
	if strings.HasSuffix(s, "$") {
		s, end, prio = s[:len(s)-1], true, 1
	}
	if !needsWork(s, true) {
		return s, prio + len(s), end
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	stars := 0 // stars collapsed away
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			writeEscape(&b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '*':
			if i > 0 && s[i-1] == '*' {
				stars++
				continue
			}
			b.WriteByte('*')
		case c == '$' || mustEscape(c): // a $ before the end is a literal
			writePercent(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	canon = b.String()
	return canon, prio + len(canon) + stars, end
}

// needsWork reports whether s differs from its normal form.
func needsWork(s string, pattern bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return true
			}
			b := unhex(s[i+1])<<4 | unhex(s[i+2])
			if unreserved(b) || isLowerHex(s[i+1]) || isLowerHex(s[i+2]) {
				return true
			}
			i += 2
		case c == '*':
			if !pattern || i > 0 && s[i-1] == '*' {
				return true
			}
		case c == '$' || mustEscape(c):
			return true
		}
	}
	return false
}

// writeEscape writes the normal form of the escaped octet c.
func writeEscape(b *strings.Builder, c byte) {
	if unreserved(c) {
		b.WriteByte(c)
		return
	}
	writePercent(b, c)
}

func writePercent(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xF])
}

// unreserved is RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// mustEscape reports octets that RFC 3986 §2 never allows raw in a URI
// (a raw "%" is handled by the caller: it is fine when it starts an escape).
func mustEscape(c byte) bool {
	if c <= ' ' || c >= 0x7F {
		return true
	}
	switch c {
	case '"', '<', '>', '\\', '^', '`', '{', '|', '}', '%':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLowerHex(c byte) bool { return 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isRobotsTxt reports whether the normalised path is /robots.txt (any
// query), which RFC 9309 §2.2.2 always allows.
func isRobotsTxt(p string) bool {
	path, _, _ := strings.Cut(p, "?")
	return path == "/robots.txt"
}

func lowerASCII(s string) string { return strings.ToLower(s) }

// trimSpace trims ASCII white space only, as Google's parser does: a
// no-break space or a stray UTF-8 sequence is part of the value.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
