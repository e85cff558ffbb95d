// Package textnorm holds linkarc's one way of tidying text for people and
// records: collapsing white space and shortening long values without
// breaking a character.
package textnorm

import (
	"strings"
	"unicode/utf8"
)

// CollapseSpace trims s and turns every run of white space (Unicode's, so
// tabs, newlines and no-break spaces too) into one ASCII space.
func CollapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// Shorten returns s when it is at most n bytes; otherwise its first n bytes
// or fewer, cut at a character boundary, followed by "…". It keeps messages
// and logs readable when they quote long ids, URLs or keys.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// ShortenWords is Shorten cut at a word boundary: s when it is at most n
// bytes, else its longest prefix of whole words within n bytes followed by
// " …"; a first word longer than n is cut as Shorten cuts it. It is for
// displays of a fixed width (a terminal's progress bar); logs, reports and
// piped output keep the whole text.
func ShortenWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:max(n, 0)+1], ' '); i > 0 {
		return strings.TrimRight(s[:i], " ,;:") + " …"
	}
	return Shorten(s, n)
}
