package viewer

import (
	"strings"

	"golang.org/x/net/html"
)

// maxPlainTextBytes bounds plainText's input: a digest description is a
// paragraph, not a page.
const maxPlainTextBytes = 64 << 10

// plainText returns the text of s as a reader should see it: s may be HTML
// from a feed (`Tom &amp; Jerry&nbsp;<b>live</b>`), so character
// references are decoded and tags dropped (with the content of script and
// style), and runs of white space, no-break spaces included, become one
// space. Text without markup comes back with its spaces collapsed. The
// result is text, for html/template to escape.
func plainText(s string) string {
	if len(s) > maxPlainTextBytes {
		s = s[:maxPlainTextBytes]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsAny(s, "<&") {
		return collapseSpace(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // inside script or style
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapseSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "br", "p", "div", "li":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip = max(skip-1, 0)
			case "p", "div", "li":
				b.WriteByte(' ')
			}
		}
	}
}

// collapseSpace turns every run of white space (no-break spaces included)
// into one space and trims the ends.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\u00a0' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' || r == '\u2007' || r == '\u202f'
	}), " ")
}
