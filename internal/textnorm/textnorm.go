// Package textnorm holds linkarc's one way of tidying text for people and
// records: collapsing white space, shortening long values without
// breaking a character, and counts whose words agree with them.
package textnorm

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Count is n followed by the form of a phrase that agrees with it: one
// when n is 1, many otherwise, as English has it ("1 digest", "0 digests",
// "2 digests"). The phrase may carry its verb: Count(n, "link needs",
// "links need"). Every count in what linkarc prints for people goes
// through it, so no line reads "1 digests".
func Count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Plural(n, one, many)
}

// Plural is the form of a word that agrees with n, without n: for a verb
// or noun apart from its number ("1 of 3 inputs was", "3 of 3 inputs
// were").
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

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
