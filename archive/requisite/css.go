package requisite

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"
)

// FromCSS lists what a stylesheet references, resolved against base (the
// stylesheet's own URL, or the page's for a <style> element or a style
// attribute): @import rules as Stylesheet, url() inside @font-face as Font,
// every other url() (and every image-set() candidate) as Image. Only the first Limits.MaxCSSBytes bytes are
// read and at most Limits.MaxCSSURLs references taken, so a hostile
// stylesheet costs one bounded pass of the tokenizer
// (github.com/tdewolff/parse/v2/css), whatever it holds. The second result
// reports whether a bound cut the list short. A text of MaxCSSBytes or
// more may have been cut (the pipeline keeps that much of a stylesheet):
// a reference running into its end is not listed, as it may be cut short.
func FromCSS(text []byte, base string, lim Limits) ([]Requisite, bool) {
	lim = lim.withDefaults()
	b, err := parseBase(base)
	if err != nil {
		return nil, false
	}
	capped, cut := false, int64(len(text)) >= lim.MaxCSSBytes
	if int64(len(text)) > lim.MaxCSSBytes {
		text, capped = text[:lim.MaxCSSBytes], true
	}
	var out []Requisite
	seen := map[string]bool{}
	// asked holds the references met, as written: a sheet naming one
	// URL a million times resolves it once.
	asked := map[string]bool{}
	add := func(raw string, k Kind) bool {
		if len(out) >= lim.MaxCSSURLs {
			capped = true
			return false
		}
		if key := string(k) + " " + raw; !asked[key] {
			asked[key] = true
			if u, ok := resolve(b, raw); ok && !seen[u] {
				seen[u] = true
				out = append(out, Requisite{URL: u, Kind: k})
			}
		}
		return true
	}
	in := parse.NewInputBytes(text)
	lx := css.NewLexer(in)
	var (
		atRule   string // the at-rule whose prelude is being read, lower case
		fontFace bool   // inside an @font-face block
		depth    int    // brace depth
		faceAt   int    // depth of the @font-face block
		parens   int    // parenthesis depth
		imageSet int    // parenthesis depth of the open image-set(), 0 outside
	)
	for {
		tt, data := lx.Next()
		if cut && in.Offset() >= len(text) {
			// The token runs into the cut: a URL cut short is not the
			// one the sheet names.
			return out, capped
		}
		switch tt {
		case css.ErrorToken:
			return out, capped
		case css.AtKeywordToken:
			atRule = strings.ToLower(string(data))
		case css.SemicolonToken:
			atRule = ""
		case css.LeftBraceToken:
			depth++
			if atRule == "@font-face" {
				fontFace, faceAt = true, depth
			}
			atRule = ""
		case css.RightBraceToken:
			if fontFace && depth == faceAt {
				fontFace = false
			}
			depth = max(depth-1, 0)
		case css.FunctionToken:
			parens++
			if name := strings.ToLower(string(data)); imageSet == 0 && (name == "image-set(" || name == "-webkit-image-set(") {
				imageSet = parens
			}
		case css.LeftParenthesisToken:
			parens++
		case css.RightParenthesisToken:
			if parens == imageSet {
				imageSet = 0
			}
			parens = max(parens-1, 0)
		case css.StringToken:
			if imageSet > 0 {
				// image-set("a.png" 1x, "b.png" 2x): every candidate, as
				// the self-contained page inlines them all.
				if !add(StringTokenValue(data), Image) {
					return out, capped
				}
				continue
			}
			if atRule == "@import" {
				if !add(StringTokenValue(data), Stylesheet) {
					return out, capped
				}
				atRule = "@import-done"
			}
		case css.URLToken:
			k := Image
			switch {
			case atRule == "@import":
				k, atRule = Stylesheet, "@import-done"
			case atRule != "":
				continue // @namespace url(…) and the like name no resource
			case fontFace:
				k = Font
			}
			if !add(URLTokenValue(data), k) {
				return out, capped
			}
		}
	}
}

// URLTokenValue is the URL inside a url(…) token (CSS Syntax §4.3.6),
// quoted or not, with its escapes undone. The singlepage builder reads
// tokens with it too: one reading of CSS references for both.
func URLTokenValue(tok []byte) string {
	i := bytes.IndexByte(tok, '(')
	if i < 0 {
		return ""
	}
	v := bytes.TrimSpace(tok[i+1:])
	v = bytes.TrimSuffix(v, []byte(")"))
	v = bytes.Trim(v, " \t\n\r\f")
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		return StringTokenValue(v)
	}
	return unescape(string(v))
}

// StringTokenValue is the value of a string token (CSS Syntax §4.3.5):
// its quotes stripped (an unterminated string has only the first) and
// its escapes undone.
func StringTokenValue(s []byte) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	} else if len(s) >= 1 && (s[0] == '"' || s[0] == '\'') {
		s = s[1:]
	}
	return unescape(string(s))
}

// unescape undoes CSS escapes (CSS Syntax §4.3.7): a backslash and up to
// six hex digits (and one whitespace after them) is that code point, or
// U+FFFD for zero, a surrogate or one past Unicode; a backslash and a
// newline is nothing; a backslash and any other character is that
// character.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		j, r := i, rune(0)
		for j < len(s) && j-i < 6 && isHex(s[j]) {
			r = r*16 + rune(hexVal(s[j]))
			j++
		}
		if j > i {
			if r == 0 || r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
			if j < len(s) && isSpace(s[j]) {
				j++
			}
			i = j - 1
			continue
		}
		if s[i] == '\n' || s[i] == '\f' || s[i] == '\r' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c <= '9':
		return int(c - '0')
	case c >= 'a':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
