package textnorm

import (
	"testing"
	"unicode/utf8"
)

func TestCollapseSpace(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"  a  b\t\nc ":            "a b c",
		"no\u00a0break\u2003em":   "no break em",
		"one":                     "one",
		"\n\t \u00a0":             "",
		"Title\r\n  - Publisher ": "Title - Publisher",
	} {
		if got := CollapseSpace(in); got != want {
			t.Errorf("CollapseSpace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefghij…"},
		{"новости", 5, "но…"}, // 2-byte letters: never half of one
		{"日本語", 4, "日…"},
		{"abc", 0, "…"},
		{"", 0, ""},
	}
	for _, tt := range tests {
		got := Shorten(tt.in, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n         int
		one, many string
		want      string
	}{
		{0, "digest", "digests", "0 digests"},
		{1, "digest", "digests", "1 digest"},
		{2, "digest", "digests", "2 digests"},
		{-1, "digest", "digests", "-1 digests"},
		{1, "link needs", "links need", "1 link needs"},
		{21, "link needs", "links need", "21 links need"},
		{1, "summary", "summaries", "1 summary"},
		{11, "summary", "summaries", "11 summaries"},
	} {
		if got := Count(tc.n, tc.one, tc.many); got != tc.want {
			t.Errorf("Count(%d, %q, %q) = %q, want %q", tc.n, tc.one, tc.many, got, tc.want)
		}
	}
	if got := Plural(1, "was", "were") + "/" + Plural(0, "was", "were"); got != "was/were" {
		t.Errorf("Plural: %q", got)
	}
}

func TestShortenWords(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"connection refused: robots.txt http://127.0.0.1:8701/robots.txt", 40, "connection refused: robots.txt …"},
		{"run without --no-google to resolve", 20, "run without …"},
		{"one two", 4, "one …"},                      // the space at n counts
		{"abcdefghijk lmn", 10, "abcdefghij…"},       // no space within n: cut as Shorten does
		{"новости дня сегодня", 21, "новости дня …"}, // whole words only
	}
	for _, tt := range tests {
		got := ShortenWords(tt.in, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("ShortenWords(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
