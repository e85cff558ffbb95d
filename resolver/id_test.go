package resolver

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

const fixtures = "../testdata/google-news"

// tsvRow is one line of ids.tsv.
type tsvRow struct {
	id, source, format, field1, field4, field26, publisher string
}

func loadIDs(t testing.TB) []tsvRow {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "ids.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []tsvRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue // header
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 7 {
			t.Fatalf("ids.tsv: %d columns in %q", len(c), sc.Text())
		}
		rows = append(rows, tsvRow{c[0], c[1], c[2], c[3], c[4], c[5], c[6]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("ids.tsv has only %d rows", len(rows))
	}
	return rows
}

// briefIDs are the two ids from the project's own digest data (spec §2.4).
var briefIDs = []string{
	"CBMioAFBVV95cUxPbVk5TE5IaXhtUjlPMEE0UkQybFRRODZmc2xRRDVVQ043X25FQ1pnQVBxcUQyZ0JWQnJCRnl0MWx1MUl2N1labzlJMFBkQThXeldtdUV4QV9iOEVUNXJfSnIyVWc0clNPenJYb1ZmaDl6VzZBOGxzUzBTZ050enBhREdqNmdRVTBzYkRzdVlCQU9fc2tSb01jZmhXd0NUUVpN",
	"CBMiXkFVX3lxTE5GUzFvQlpVQngxSU1Wb1hsVzVpR0FkTjRKNjcxUXgxbE1xLU1DYkhieUUwRFRfRVg5WmRCeGRsWnUyNXlYb1Yxcy1reDZRYzVVSXlLOEs2UVNMYnMtM3fSAWNBVV95cUxQQ2V6MzlHTy1QWTFqMURZcGp0b3BOdjV1RXNLSm9RSkFBNDgzZ2VQbUFVNjRvNjhDaWFDQTBWUmFzYXBPT0RQekRFV3FwR0U2VjRRT1NPWkNoZ2hPNzJUSDJteG8",
}

// Spec §7 case 2: every old-format id decodes offline to its publisher URL,
// AMP field included (1- and 2-byte varints, empty, absent and present AMP
// field, the 248-byte URL that trips one-byte length readers).
func TestDecodeOldIDsFromFixture(t *testing.T) {
	n := 0
	mods := map[int]bool{}
	for _, row := range loadIDs(t) {
		mods[len(row.id)%4] = true
		if !strings.HasPrefix(row.format, "old-embedded") {
			continue
		}
		n++
		t.Run(row.id[:16], func(t *testing.T) {
			env, err := decodeID(row.id)
			if err != nil {
				t.Fatalf("decodeID: %v", err)
			}
			if env.Format != formatOld {
				t.Fatalf("format = %v, want old", env.Format)
			}
			if env.URL != row.publisher || string(env.Field4) != row.field4 {
				t.Errorf("URL = %q\nwant  %q", env.URL, row.publisher)
			}
			if env.Field1 != 19 {
				t.Errorf("field 1 = %d, want 19", env.Field1)
			}
			switch row.field26 {
			case "<present, empty>":
				if env.AMP == nil || len(env.AMP) != 0 {
					t.Errorf("AMP = %q, want present and empty", env.AMP)
				}
			case "":
				if env.AMP != nil {
					t.Errorf("AMP = %q, want absent", env.AMP)
				}
			default:
				if string(env.AMP) != row.field26 {
					t.Errorf("AMP = %q, want %q", env.AMP, row.field26)
				}
			}
		})
	}
	if n < 6 {
		t.Fatalf("only %d old-format ids in ids.tsv", n)
	}
	for _, m := range []int{0, 2, 3} {
		if !mods[m] {
			t.Errorf("ids.tsv has no id with length %% 4 == %d; the padding cases are not covered", m)
		}
	}

	// End to end, in every URL form: zero requests, method offline.
	f := newFake(t, gnewstest.Options{})
	var inputs, want []string
	for _, row := range loadIDs(t) {
		if strings.HasPrefix(row.format, "old-embedded") {
			for _, form := range []string{"https://news.google.com/rss/articles/%s?oc=5", "https://news.google.com/articles/%s?hl=de&gl=DE&ceid=DE%%3Ade",
				"https://news.google.com/read/%s", "https://news.google.com/__i/rss/rd/articles/%s?oc=5", "%s"} {
				inputs = append(inputs, fmt.Sprintf(form, row.id))
				want = append(want, row.publisher)
			}
		}
	}
	for i, res := range newTestResolver(t, f, nil).Resolve(bg(), inputs) {
		wantURL(t, res, want[i], MethodOffline)
	}
	if f.Total() != 0 {
		t.Errorf("offline decoding made %d requests", f.Total())
	}
}

// Spec §7 case 3: new ids (the brief's two, the recorded one and the other
// public ones) need the network; the 2018 CAIi id is unknown_format.
func TestClassifyNewAndLegacyIDs(t *testing.T) {
	rows := loadIDs(t)
	seen := map[string]bool{}
	for _, row := range rows {
		switch {
		case strings.HasPrefix(row.format, "new-opaque"):
			seen[row.id] = true
			p := parseID(row.id)
			if p.kind != inputGoogle || p.env.Format != formatNew {
				t.Errorf("%s…: kind %v format %v, want a new-format Google id", row.id[:16], p.kind, p.env.Format)
			}
			if string(p.env.Field4) != row.field4 {
				t.Errorf("%s…: handle %q, want %q", row.id[:16], p.env.Field4, row.field4)
			}
			if row.field26 != "" && string(p.env.AMP) != row.field26 {
				t.Errorf("%s…: AMP handle %q, want %q", row.id[:16], p.env.AMP, row.field26)
			}
		case strings.HasPrefix(row.format, "legacy-2018"):
			p := parseID(row.id)
			if p.kind != inputInvalid || p.err == nil || p.err.Kind != record.ReasonUnknownFormat {
				t.Errorf("%s: kind %v err %v, want unknown_format", row.id, p.kind, p.err)
			}
			seen["legacy"] = true
		}
	}
	rec, err := os.ReadFile(filepath.Join(fixtures, "source-url.2026-09-23.txt"))
	if err != nil {
		t.Fatal(err)
	}
	recorded := parseInput(strings.TrimSpace(string(rec)))
	for _, id := range append(briefIDs, recorded.id) {
		if !seen[id] {
			t.Errorf("id %s… is not a new-opaque row of ids.tsv", id[:16])
		}
		if p := parseInput(gnewstest.ArticleURL(id)); p.kind != inputGoogle || p.env.Format != formatNew {
			t.Errorf("%s…: not classified as a new-format id", id[:16])
		}
	}
	if !seen["legacy"] {
		t.Error("ids.tsv has no legacy-2018 row")
	}
}

// Spec §7 case 4: padding, UTF-8, and embedded non-URLs.
func TestDecodeEdgeCases(t *testing.T) {
	bbc := "CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhkdjE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA"
	utf := "https://例え.jp/記事/ü?q=日本"
	raw := func(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	tests := []struct {
		name     string
		id       string
		wantURL  string        // set: old format with this URL
		wantKind record.Reason // set: the error kind
	}{
		{"padding one =", bbc + "==", "https://www.bbc.com/news/articles/cjjjnxdv188o", ""},
		{"utf-8 url", gnewstest.EncodeOldID(utf, ""), utf, ""},
		{"utf-8 url with amp", gnewstest.EncodeOldID(utf, utf+"/amp"), utf, ""},
		{"no amp field", gnewstest.EncodeOldID("http://example.org/a", ""), "http://example.org/a", ""},
		{"300-byte url (2-byte varint)", gnewstest.EncodeOldID("https://example.org/"+strings.Repeat("x", 280), ""), "https://example.org/" + strings.Repeat("x", 280), ""},
		{"CRLF in url", gnewstest.EncodeOldID("https://a.example/x\r\nSet-Cookie: a=b", ""), "", record.ReasonInvalidURL},
		{"space in url", gnewstest.EncodeOldID("https://a.example/x y", ""), "", record.ReasonInvalidURL},
		{"latin-1 byte", gnewstest.EncodeOldID("https://a.example/caf\xe9", ""), "", record.ReasonInvalidURL},
		{"no host", gnewstest.EncodeOldID("https:///path", ""), "", record.ReasonInvalidURL},
		{"javascript scheme", gnewstest.EncodeOldID("javascript:alert(1)", ""), "", record.ReasonUnknownFormat},
		{"plain text", gnewstest.EncodeOldID("hello, world", ""), "", record.ReasonUnknownFormat},
		{"length past end", raw(0x08, 0x13, 0x22, 0x7f, 'h', 't'), "", record.ReasonUnknownFormat},
		{"truncated varint", raw(0x08, 0x13, 0x22, 0x8d), "", record.ReasonUnknownFormat},
		{"no field 1", raw(0x22, 0x01, 'x'), "", record.ReasonUnknownFormat},
		{"len%4 == 1", "CBMiL", "", record.ReasonUnknownFormat},
		{"non-base64 chars", "CBMi+/+/", "", record.ReasonInvalidURL},
		{"over-long", "CBMi" + strings.Repeat("A", maxIDLen), "", record.ReasonInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseID(strings.TrimRight(tt.id, "="))
			if tt.wantURL != "" {
				if p.err != nil || p.env.Format != formatOld || p.env.URL != tt.wantURL {
					t.Fatalf("got format %v URL %q err %v, want old %q", p.env.Format, p.env.URL, p.err, tt.wantURL)
				}
				return
			}
			if p.err == nil || p.err.Kind != tt.wantKind || p.kind != inputInvalid {
				t.Fatalf("got kind %v err %v, want error kind %s", p.kind, p.err, tt.wantKind)
			}
			if p.err.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

// Spec §7 case 1: URL forms accepted and rejected, offline.
func TestParseInputForms(t *testing.T) {
	id := briefIDs[0]
	old := "CBMiSGh0dHBzOi8vdGVjaGNydW5jaC5jb20vMjAyMi8xMC8yNy9uZXcteW9yay1wb3N0LWhhY2tlZC1vZmZlbnNpdmUtdHdlZXRzL9IBAA"
	consent := readLines(t, "consent-redirect-urls.txt")
	accept := []struct {
		in, id, hl, gl, ceid string
	}{
		{"https://news.google.com/rss/articles/" + id + "?oc=5", id, "", "", ""},
		{"http://news.google.com/rss/articles/" + id, id, "", "", ""},
		{"https://NEWS.Google.COM/rss/articles/" + id + "?oc=5", id, "", "", ""},
		{"https://news.google.com./rss/articles/" + id, id, "", "", ""},
		{"https://news.google.com/articles/" + id + "?hl=de&gl=DE&ceid=DE%3Ade", id, "de", "DE", "DE:de"},
		{"https://news.google.com/read/" + id + "?hl=en-US&gl=US&ceid=US%3Aen", id, "en-US", "US", "US:en"},
		{"https://news.google.com/__i/rss/rd/articles/" + old + "?oc=5", old, "", "", ""},
		{"https://news.google.com/rss/articles/" + id + "#frag", id, "", "", ""},
		{"  https://news.google.com/rss/articles/" + id + "?oc=5\n", id, "", "", ""},
		{id, id, "", "", ""},
		{consent[0], "CBMijQFodHRwczovL3d3dy5idXNpbmVzc3RvZGF5LmluL21hZ2F6aW5lL2NvcnBvcmF0ZS9zdG9yeS9ib2xseXdvb2RzLXNtYWxsLWJ1ZGdldC1maWxtcy1hcmUtaW4tY3Jpc2lzLW1vZGUtaGVyZXMtd2hhdHMtZ29pbmctb24tMzYxMTE4LTIwMjMtMDEtMTnSAZEBaHR0cHM6Ly93d3cuYnVzaW5lc3N0b2RheS5pbi9hbXAvbWFnYXppbmUvY29ycG9yYXRlL3N0b3J5L2JvbGx5d29vZHMtc21hbGwtYnVkZ2V0LWZpbG1zLWFyZS1pbi1jcmlzaXMtbW9kZS1oZXJlcy13aGF0cy1nb2luZy1vbi0zNjExMTgtMjAyMy0wMS0xOQ", "", "", ""},
		{consent[1], "CBMiYmh0dHBzOi8vZm9yZWlnbnBvbGljeS5jb20vMjAyMy8wMy8xOC9ydXNzaWFuLW1lcmNlbmFyaWVzLWFyZS1wdXNoaW5nLWZyYW5jZS1vdXQtb2YtY2VudHJhbC1hZnJpY2Ev0gEA", "", "", ""},
	}
	for _, tt := range accept {
		p := parseInput(tt.in)
		if p.kind != inputGoogle || p.id != tt.id || p.hl != tt.hl || p.gl != tt.gl || p.ceid != tt.ceid {
			t.Errorf("parseInput(%.60q) = kind %v id %.20q locale %q/%q/%q err %v; want id %.20q locale %q/%q/%q",
				tt.in, p.kind, p.id, p.hl, p.gl, p.ceid, p.err, tt.id, tt.hl, tt.gl, tt.ceid)
		}
		if strings.Contains(tt.in, "://") && !IsGoogleNews(tt.in) {
			t.Errorf("IsGoogleNews(%.60q) = false", tt.in)
		}
	}
	reject := []string{
		"https://news.google.com.evil.example/rss/articles/" + id,
		"https://foo.news.google.com/rss/articles/" + id,
		"https://news.google.co.evil/rss/articles/" + id,
		"https://news-google.com/rss/articles/" + id,
		"https://news.google.com/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRGx1YlY4U0FtVnVHZ0pWVXlnQVAB",
		"https://news.google.com/rss/articles/",
		"https://news.google.com/rss/articles/" + id + "/",
		"https://news.google.com/rss/articles/abc$def",
		"https://news.google.com/rss/articles/" + strings.Repeat("A", maxIDLen+1),
		"ftp://news.google.com/rss/articles/" + id,
		"javascript:alert(1)",
		"mailto:someone@example.org",
		consent[2], // wraps a search page, not an article
		"https://consent.google.com/ml?continue=https://evil.example/rss/articles/" + id,
		"https://www.google.com/sorry/index?continue=https://news.google.com/",
		"not a url at all",
		"hello",
		"",
		"https://",
	}
	for _, in := range reject {
		p := parseInput(in)
		if p.kind != inputInvalid || p.err == nil || p.err.Kind != record.ReasonInvalidURL {
			t.Errorf("parseInput(%.70q) = kind %v err %v; want invalid_url", in, p.kind, p.err)
		}
	}
	for _, in := range []string{"https://news.google.com.evil.example/rss/articles/" + id, "https://t.co/abc", id,
		"https://consent.google.com/ml?continue=https://evil.example/x"} {
		if IsGoogleNews(in) {
			t.Errorf("IsGoogleNews(%.60q) = true", in)
		}
	}
	// Google News links that are not articles are still Google's: the
	// archive must hand them to Resolve (which rejects them), never fetch them.
	for _, in := range []string{consent[2], "https://news.google.com/topics/CAAq"} {
		if !IsGoogleNews(in) {
			t.Errorf("IsGoogleNews(%.60q) = false", in)
		}
	}
	if p := parseInput("https://t.co/abc?x=1"); p.kind != inputGeneric || p.url != "https://t.co/abc?x=1" {
		t.Errorf("t.co link: kind %v url %q", p.kind, p.url)
	}
}

func readLines(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
