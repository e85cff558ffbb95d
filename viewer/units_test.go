package viewer

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

func TestPlainText(t *testing.T) {
	cases := map[string]string{
		"":                                      "",
		"plain  text\n here":                    "plain text here",
		"Tom &amp; Jerry&nbsp;live":             "Tom & Jerry live",
		"<b>bold</b> and <i>italic</i>":         "bold and italic",
		"one<br>two<p>three</p>four":            "one two three four",
		"a < b &lt; c":                          "a < b < c",
		"x<script>alert(1)</script>y":           "xy",
		"<style>p{}</style>text":                "text",
		"&#x1F600; &eacute; &notanentity;":      "😀 é ¬anentity;", // as browsers read it: &not needs no semicolon
		"no-break\u00a0space\u202fnarrow":       "no-break space narrow",
		"<a href=\"javascript:x\">link</a>":     "link",
		"unclosed <b>tag":                       "unclosed tag",
		"invalid \xff utf-8":                    "invalid \uFFFD utf-8",
		"<img src=x onerror=alert(1)>after":     "after",
		"&lt;script&gt;alert(1)&lt;/script&gt;": "<script>alert(1)</script>", // text, escaped by the template
	}
	for in, want := range cases {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortURL(t *testing.T) {
	long := "https://news.google.com/rss/articles/CBMi" + strings.Repeat("x", 300) + "?oc=5"
	cases := []struct{ in, want string }{
		{"https://www.example.com/a/b?c=d#e", "example.com/a/b?c=d#e"},
		{"http://example.com", "example.com"},
		{long, "news.google.com/rss/articles/CBMixxxxxxxxxxx…xxxxxxxxxxxxxx?oc=5"},
		{"javascript:alert(1)", "javascript:alert(1)"}, // not a link: shown as given (and as text)
		{"https://ü.example/ä", "ü.example/%C3%A4"},
		// Tracking parameters are not shown (issue 12); the link keeps them.
		{"https://www.example.com/story?utm_source=google&id=9&fbclid=x", "example.com/story?id=9"},
		{"https://www.example.com/story?utm_source=google&utm_medium=rss", "example.com/story"},
	}
	for _, c := range cases {
		if got := shortURL(c.in); got != c.want {
			t.Errorf("shortURL(%q) = %q, want %q", c.in, got, c.want)
		}
		if n := utf8.RuneCountInString(shortURL(c.in)); externalURL(c.in) != "" && n > maxShortURL {
			t.Errorf("shortURL(%q) has %d characters, more than %d", c.in, n, maxShortURL)
		}
	}
}

func TestLinkOf(t *testing.T) {
	cases := []struct{ in, label, text string }{
		{"https://news.google.com/topics/CAAqJggKIiBDQkFT?hl=en-US", "Source:", "a Google News topic"},
		{"https://news.google.com/rss/topics/CAAqJggK", "Source:", "a Google News topic"},
		{"https://news.google.com/search?q=mars", "Source:", "a Google News search"},
		{"https://news.google.com/stories/CAAqNggK", "Source:", "a Google News story"},
		{"https://NEWS.GOOGLE.COM/", "Source:", "Google News"},
		{"https://www.example.com/2024/digest", "Published at", "example.com"},
		{"javascript:alert(1)", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		got := linkOf(c.in)
		if got.Label != c.label || got.Text != c.text {
			t.Errorf("linkOf(%q) = %+v, want label %q, text %q", c.in, got, c.label, c.text)
		}
	}
}

func TestRedirectChain(t *testing.T) {
	a, b, c := "https://a.example/", "https://b.example/", "https://c.example/"
	cases := []struct {
		name         string
		url, final   string
		chain, shown []string
	}{
		{"none", a, b, nil, nil},
		{"one URL", a, "", []string{a}, nil},
		{"one hop", a, b, []string{a, b}, nil},
		{"one hop, no final URL recorded", a, "", []string{a, b}, []string{a, b}},
		{"two hops", a, c, []string{a, b, c}, []string{a, b, c}},
		{"one hop elsewhere", a, c, []string{a, b}, []string{a, b}},
	}
	for _, tc := range cases {
		got := redirectChain(&record.ArticleMeta{URL: tc.url, FinalURL: tc.final, RedirectChain: tc.chain})
		if !slices.Equal(got, tc.shown) {
			t.Errorf("%s: redirectChain = %q, want %q", tc.name, got, tc.shown)
		}
	}
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		"/home/ana/digests/day.md":  "day.md",
		`C:\Users\ana\digests\d.md`: "d.md",
		"digests/day.md":            "day.md",
		"day.md":                    "day.md",
		"":                          "",
		"/home/ana/":                "",
	} {
		if got := baseName(in); got != want {
			t.Errorf("baseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanTag(t *testing.T) {
	for in, want := range map[string]string{
		"  Space   travel ":         "Space travel",
		"":                          "",
		"\t\n":                      "",
		strings.Repeat("é", 80):     strings.Repeat("é", 50), // cut at 100 bytes, on a character
		"bad \xff byte":             "bad byte",
		"<script>alert(1)</script>": "<script>alert(1)</script>", // text, escaped where shown
	} {
		if got := cleanTag(in); got != want {
			t.Errorf("cleanTag(%q) = %q, want %q", in, got, want)
		}
	}
	ts := tagSet{max: 3}
	ts.add("A", "a", " A ", "b", "c", "d")
	if !slices.Equal(ts.list, []string{"A", "b", "c"}) {
		t.Errorf("tagSet = %q, want [A b c]", ts.list)
	}
}

func TestParseDigestFilter(t *testing.T) {
	cases := []struct {
		query string
		err   string // "" for none
		want  digestFilter
	}{
		{"", "", digestFilter{}},
		{"tag=+Space++travel+&publisher=The++Times&status=FAILED&sort=newest", "",
			digestFilter{Tag: "Space travel", Publisher: "The Times", Status: "failed"}},
		{"from=2024-01-01&to=2024-01-31&sort=oldest", "", digestFilter{From: "2024-01-01", To: "2024-01-31", Sort: "oldest"}},
		{"status=maybe", "status must be", digestFilter{}},
		{"sort=random", "sort must be", digestFilter{}},
		{"from=01/02/2024", "from must be a date", digestFilter{}},
		{"to=2024-02-30", "to must be a date", digestFilter{}},
		{"from=2024-02-01&to=2024-01-01", "to is before from", digestFilter{}},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		got, err := parseDigestFilter(q)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errBadQuery)):
			t.Errorf("%q: err %v, want one saying %q", c.query, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.query, err)
		case c.err == "":
			got.from, got.to = time.Time{}, time.Time{}
			if got != c.want {
				t.Errorf("%q: %+v, want %+v", c.query, got, c.want)
			}
		}
	}
}

// TestDigestFilterMatch: the filters select on a digest's summary: its
// tags and its items', its publishers, its status counts and its date,
// the end date included whole.
func TestDigestFilterMatch(t *testing.T) {
	d := summarize(&record.DigestRecord{
		Slug:        "d",
		FrontMatter: record.FrontMatter{Title: "D", Date: "2024-03-31T18:00:00Z", Tags: []string{"Mars"}},
		Articles: []record.DigestArticle{
			{Slug: "a", Publisher: "The Times", Status: record.StatusOK, Tags: []string{"Rovers"}},
			{Slug: "b", Publisher: "Le Monde", Status: record.StatusFailed},
		},
	}, "")
	cases := map[string]bool{
		"":                        true,
		"tag=mars":                true,
		"tag=ROVERS":              true,
		"tag=venus":               false,
		"publisher=le+monde":      true,
		"publisher=le":            false,
		"status=failed":           true,
		"status=blocked":          false,
		"from=2024-03-31":         true,
		"to=2024-03-31":           true,
		"to=2024-03-30":           false,
		"from=2024-04-01":         false,
		"tag=mars&status=blocked": false,
	}
	for query, want := range cases {
		q, _ := url.ParseQuery(query)
		f, err := parseDigestFilter(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.match(&d); got != want {
			t.Errorf("%q matches: %v, want %v", query, got, want)
		}
	}
}
