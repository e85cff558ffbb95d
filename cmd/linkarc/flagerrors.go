package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A flag error names the flag and the form it accepts, and stops there:
// the whole usage is one 'linkarc help COMMAND' away. The flag package's
// own errors are matched by their (stable, documented in its source)
// wording and said again in these terms.
var (
	reUndefined = regexp.MustCompile(`^flag provided but not defined: -(.+)$`)
	reInvalid   = regexp.MustCompile(`^invalid value "(.*)" for flag -(\S+): (.*)$`)
	reBool      = regexp.MustCompile(`^invalid boolean value "(.*)" for -(\S+): `)
	reNoValue   = regexp.MustCompile(`^flag needs an argument: -(.+)$`)
	reSyntax    = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// valueFlags says, for the flags whose values are words or paths, what
// they accept (for error messages) and how a shell completes them:
// "file" or "dir" for paths, else the words offered. A flag means the same
// thing in every command that has it, so one table serves them all. Flags
// not listed are described by their type (see form).
var valueFlags = map[string]struct {
	form     string
	complete string
}{
	"store":         {"a directory, or s3://BUCKET[/PREFIX]", "dir"},
	"index-dir":     {"a directory, or memory", "dir"},
	"report":        {"a file name", "file"},
	"out":           {"a file or directory name", "file"},
	"log-level":     {"debug, info, warn or error", "debug info warn error"},
	"progress":      {"auto, bar, plain or none", "auto bar plain none"},
	"format":        {"digests, jsonl, site or wacz", "digests jsonl site wacz"},
	"status":        {"ok, blocked or failed", "ok blocked failed"},
	"rebuild-pages": {"missing, all or none", "missing all none"},
	"from":          {"a date like 2024-03-31", ""},
	"to":            {"a date like 2024-03-31", ""},
	"digest":        {"a digest slug (see 'linkarc export --format jsonl' or the viewer's /api/digests)", ""},
	"tag":           {"a tag, as the viewer lists it under /tags", ""},
	"addr":          {"HOST:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free one)", ""},
	"gnews-base":    {"a URL like https://news.google.com", ""},
	"base-url":      {"a URL like http://127.0.0.1:8080", ""},
	"user-agent":    {"a User-Agent string", ""},
}

// form says what a flag accepts, for error messages.
func form(fs *flag.FlagSet, name string) string {
	if v, ok := valueFlags[name]; ok {
		return v.form
	}
	f := fs.Lookup(name)
	if f == nil {
		return "a value"
	}
	if _, ok := f.Value.(sizeFlag); ok {
		return "a size like 16MiB, 512KiB or a number of bytes"
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case time.Duration:
			return "a duration like 30s, 2m or 1h30m"
		case int, int64, uint, uint64:
			return "a whole number"
		case bool:
			return "true or false"
		}
	}
	return "a value"
}

// flagError words a parse error of fs, the flag set of command name.
func flagError(name string, fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if m := reUndefined.FindStringSubmatch(msg); m != nil {
		flagName, _, _ := strings.Cut(m[1], "=")
		out := fmt.Sprintf("unknown flag -%s", flagName)
		var known []string
		fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
		if s := closest(flagName, known); s != "" {
			out += fmt.Sprintf("; did you mean --%s?", s)
		} else if others := commandsWithFlag(flagName, name); len(others) > 0 {
			out += fmt.Sprintf(" (it is a flag of %s, not of %s)", strings.Join(others, " and "), name)
		}
		return out
	}
	if m := reInvalid.FindStringSubmatch(msg); m != nil {
		if m[3] == errNegativeSize.Error() {
			return fmt.Sprintf("-%s %q: must not be negative", m[2], m[1])
		}
		return fmt.Sprintf("-%s %q: want %s", m[2], m[1], form(fs, m[2]))
	}
	if m := reBool.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("-%s=%q: want true or false (or -%s alone for true)", m[2], m[1], m[2])
	}
	if m := reNoValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("-%s needs a value: %s", m[1], form(fs, m[1]))
	}
	if m := reSyntax.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("bad flag syntax %q: flags look like --name VALUE or --name=VALUE", m[1])
	}
	return msg
}

// commandsWithFlag lists the commands other than except that have a flag
// called name.
func commandsWithFlag(name, except string) []string {
	var out []string
	for _, c := range commands() {
		if c.name == except {
			continue
		}
		if fs := flagSetOf(c); fs != nil && fs.Lookup(name) != nil {
			out = append(out, c.name)
		}
	}
	return out
}

// flagSetOf returns a command's flag set, registered but not parsed, or
// nil for a command without one. Nothing runs: see stdio.flagsOnly.
func flagSetOf(c command) *flag.FlagSet {
	if c.help != nil {
		return nil
	}
	var got *flag.FlagSet
	none := func(string) string { return "" }
	c.run(context.Background(), nil, stdio{in: strings.NewReader(""), out: discard{}, err: discard{}, getenv: none,
		flagsOnly: func(fs *flag.FlagSet) { got = fs }})
	return got
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// closest returns the candidate nearest to s when it is near enough to be
// a typing slip (at most two edits, fewer for short words, or s a prefix
// of exactly one candidate), else "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) <= 4 {
		bestD = 2
	}
	var prefixed []string
	for _, c := range candidates {
		if c == s {
			return ""
		}
		if strings.HasPrefix(c, s) {
			prefixed = append(prefixed, c)
		}
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && len(prefixed) == 1 && len(s) >= 3 {
		return prefixed[0]
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
