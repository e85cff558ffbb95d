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
