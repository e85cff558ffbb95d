package viewer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSlugBytes bounds a slug taken from a URL; the archiver's slugs are far
// shorter, so anything longer is a probe, not an article.
const maxSlugBytes = 200

// validSlug reports whether s may name an article, a digest or a capture.
//
// A slug from the URL becomes part of a store key, so it must stay one path
// segment: letters, digits, combining marks (the archiver keeps them in
// non-Latin slugs), '-', '_' and '.', starting with a letter or a digit, and
// never "..". This rejects traversal ("../meta", "%2e%2e",
// "a/b"), control characters and hidden names before the store sees them,
// whatever the backend does with odd keys.
func validSlug(s string) bool {
	if s == "" || len(s) > maxSlugBytes || !utf8.ValidString(s) || strings.Contains(s, "..") {
		return false
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case i > 0 && (r == '-' || r == '_' || r == '.' || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me)):
		default:
			return false
		}
	}
	return true
}
