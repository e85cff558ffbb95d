package viewer

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// TestSlugsServed: the viewer takes slugs and capture ids from URLs and
// turns them into store keys, so it serves only names that stay one path
// segment: article and digest slugs by the one slug rule
// (record.ValidSlug, what the archiver writes), capture ids by
// record.ValidCaptureID. Traversal, separators, control and invisible
// characters are refused before the store is asked.
func TestSlugsServed(t *testing.T) {
	cases := []struct {
		name      string
		slug, cap bool // accepted as an article/digest slug, as a capture id
	}{
		{"oversupply-angst-drags-oil-lower-reuters", true, true},
		{"2024-01-01-news-digest-0001", true, true},
		{"20240101T080000Z", false, true},
		{"20240101T080000.000Z", false, true},
		{"новости-дня-reuters", true, false},
		{"नमस्ते-दुनिया", true, false}, // combining vowel signs, as the archiver keeps them
		{"東京-ニュース", true, false},
		{"a.b_c-d", false, true},
		{"Ab", false, true},
		{"", false, false},
		{"..", false, false},
		{"a..b", false, false},
		{".hidden", false, false},
		{"-leading", false, false},
		{"a/b", false, false},
		{`a\b`, false, false},
		{"a b", false, false},
		{"a%2Fb", false, false},
		{"a\x00b", false, false},
		{"a\nb", false, false},
		{"a\u202eb", false, false}, // bidi override
		{"a\u200db", false, false}, // zero-width joiner
		{"\xff\xfe", false, false},
		{strings.Repeat("x", record.MaxSlugLen), true, false},
		{strings.Repeat("x", record.MaxSlugLen+1), false, false},
	}
	for _, c := range cases {
		if got := record.ValidSlug(c.name); got != c.slug {
			t.Errorf("ValidSlug(%q) = %v, want %v", c.name, got, c.slug)
		}
		if got := record.ValidCaptureID(c.name); got != c.cap {
			t.Errorf("ValidCaptureID(%q) = %v, want %v", c.name, got, c.cap)
		}
	}
}

// TestValidSlugAcceptsArchiverSlugs checks slugs as the archiver makes
// them (record.Slugify, record.ArticleSlug and record.CollisionSlug of titles in many
// scripts; copied from its output rather than imported, so that the viewer
// depends on storage alone) are ones the viewer serves.
func TestValidSlugAcceptsArchiverSlugs(t *testing.T) {
	slugs := []string{
		"why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times-37714a19",
		"ukraines-president-мы-не-сдадимся-reuters", "東京で大雨警報-reuters", "서울-날씨-맑음",
		"नमस्ते-दुनिया-समाचार-37714a19", "ελληνικά-νέα-σήμερα", "مرحبا-بالعالم-reuters", "שלום-עולם",
		"ข่าวไทยวันนี้-37714a19", "creme-brulee-oeuvres-sspecial-reuters", "untitled", "etc-passwd", "hidden-37714a19",
	}
	for _, slug := range slugs {
		if !record.ValidSlug(slug) {
			t.Errorf("archiver slug %q is refused by the viewer", slug)
		}
	}
}

func TestExternalURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://www.reuters.com/article/x?id=1#top", "https://www.reuters.com/article/x?id=1#top"},
		{"http://example.com", "http://example.com"},
		{"HTTPS://EXAMPLE.COM/", "https://EXAMPLE.COM/"},
		{"  https://example.com/  ", "https://example.com/"},
		{"javascript:alert(1)", ""},
		{"JaVaScRiPt:alert(1)", ""},
		{" javascript:alert(1)", ""},
		{"java\tscript:alert(1)", ""},
		{"data:text/html,<script>", ""},
		{"vbscript:msgbox", ""},
		{"file:///etc/passwd", ""},
		{"//evil.example/x", ""},
		{"/relative/path", ""},
		{"https://user:pass@evil.example/", ""},
		{"https:evil.example", ""},
		{"http://exa\nmple.com", ""},
		{`https://example.com\@evil.example`, ""},
		{"https://" + strings.Repeat("a", maxLinkBytes), ""},
	}
	for _, c := range cases {
		if got := externalURL(c.in); got != c.want {
			t.Errorf("externalURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	cases := []struct {
		q    string
		want searchQuery
		err  bool
	}{
		{"oil prices", searchQuery{Words: "oil prices"}, false},
		{`  "trade war"  china `, searchQuery{Words: "china", Phrases: []string{"trade war"}}, false},
		{`"unclosed phrase`, searchQuery{Phrases: []string{"unclosed phrase"}}, false},
		{`a "b c" d "e"`, searchQuery{Words: "a d", Phrases: []string{"b c", "e"}}, false},
		{`title:secret *wild* /re.*gex/ fuzzy~2`, searchQuery{Words: `title:secret *wild* /re.*gex/ fuzzy~2`}, false},
		{"", searchQuery{}, false},
		{`""`, searchQuery{}, false},
		{strings.Repeat("x", maxQueryRunes), searchQuery{Words: strings.Repeat("x", maxQueryRunes)}, false},
		{strings.Repeat("x", maxQueryRunes+1), searchQuery{}, true},
		{strings.Repeat("w ", maxQueryTerms+1), searchQuery{}, true},
		{"\xff", searchQuery{}, true},
	}
	for _, c := range cases {
		got, err := parseQuery(c.q)
		if (err != nil) != c.err {
			t.Errorf("parseQuery(%q) error %v, want error %v", c.q, err, c.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, errBadQuery) {
				t.Errorf("parseQuery(%q) error %v does not wrap errBadQuery", c.q, err)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseQuery(%q) = %+v, want %+v", c.q, got, c.want)
		}
	}
}

func TestSplitHighlight(t *testing.T) {
	cases := []struct {
		frag string
		want []snippetPart
	}{
		{"plain", []snippetPart{{Text: "plain"}}},
		{"a <mark>b</mark> c", []snippetPart{{Text: "a "}, {Text: "b", Mark: true}, {Text: " c"}}},
		{"&lt;script&gt; <mark>x</mark>", []snippetPart{{Text: "<script> "}, {Text: "x", Mark: true}}},
		{"<mark>a</mark><mark>b</mark>", []snippetPart{{Text: "a", Mark: true}, {Text: "b", Mark: true}}},
		{"tail <mark>open", []snippetPart{{Text: "tail "}, {Text: "open", Mark: true}}},
		{"", nil},
	}
	for _, c := range cases {
		if got := splitHighlight(c.frag); !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitHighlight(%q) = %+v, want %+v", c.frag, got, c.want)
		}
	}
}

func TestCharsetParam(t *testing.T) {
	cases := map[string]string{
		"":                         "",
		"utf-8":                    "; charset=utf-8",
		"UTF8":                     "; charset=utf-8",
		"windows-1251":             "; charset=windows-1251",
		"iso-8859-1":               "; charset=windows-1252",
		"Shift_JIS":                "; charset=shift_jis",
		"utf-7":                    "",
		`utf-8"><script>`:          "",
		"utf-8; boundary=x":        "",
		"x-user-defined\r\nX-A: b": "",
	}
	for in, want := range cases {
		if got := charsetParam(charsetName(in)); got != want {
			t.Errorf("charsetParam(charsetName(%q)) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	cases := map[string]string{
		"localhost:8080":  "localhost",
		"LOCALHOST.":      "localhost",
		"127.0.0.1":       "127.0.0.1",
		"[::1]:8080":      "::1",
		"::1":             "::1",
		"Archive.LAN:443": "archive.lan",
	}
	for in, want := range cases {
		if got := normalizeHost(in); got != want {
			t.Errorf("normalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}
