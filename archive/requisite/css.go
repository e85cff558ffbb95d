package requisite

import (
	"bytes"
	"strings"

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
				if !add(unquote(data), Image) {
					return out, capped
				}
				continue
			}
			if atRule == "@import" {
				if !add(unquote(data), Stylesheet) {
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
			if !add(urlValue(data), k) {
				return out, capped
			}
		}
	}
}

// urlValue is the URL inside a url(…) token.
func urlValue(tok []byte) string {
	i := bytes.IndexByte(tok, '(')
	if i < 0 {
		return ""
	}
	v := bytes.TrimSpace(tok[i+1:])
	v = bytes.TrimSuffix(v, []byte(")"))
	v = bytes.TrimSpace(v)
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		return unquote(v)
	}
	return unescape(string(v))
}

// unquote strips a CSS string's quotes and undoes its escapes.
func unquote(s []byte) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	} else if len(s) >= 1 && (s[0] == '"' || s[0] == '\'') {
		s = s[1:]
	}
	return unescape(string(s))
}

// unescape undoes CSS escapes (CSS Syntax §4.3.7): a backslash before a
// character is the character, before up to six hex digits and a space the
// code point, before a newline nothing.
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
		if s[i] == '\n' {
			continue
		}
		j, r := i, rune(0)
		for j < len(s) && j-i < 6 && isHex(s[j]) {
			r = r*16 + rune(hexVal(s[j]))
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			continue
		}
		if r == 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		if j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
			j++
		}
		i = j - 1
	}
	return b.String()
}

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
