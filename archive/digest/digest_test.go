package digest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

var updateDigestGolden = flag.Bool("update-digests", false, "rewrite testdata/digests/golden files")

const seedDigest = "../../testdata/digests/000_a90b0d2206cb7772.txt"

func TestParseDigestSeed(t *testing.T) {
	data, err := os.ReadFile(seedDigest)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(seedDigest, data)
	if err != nil {
		t.Fatalf("Parse(seed): %v", err)
	}
	want := []struct{ title, publisher, urlPrefix string }{
		{"Why Security Guarantees Are So Crucial, and Thorny, for Ukraine", "The New York Times",
			"https://news.google.com/rss/articles/CBMioAFBVV95cUxPbVk5TE5IaXhtUjlPMEE0UkQy"},
		{"TAC right now: Top Trump official tells all, NATO guarantees for Ukraine", "Defense Priorities",
			"https://news.google.com/rss/articles/CBMiugFBVV95cUxQRUw4MkNPRnN2d0FtUERodjRK"},
		{"The NYT continues to add fuel: Disagree, Mr. Zelensky, fight on", "EADaily",
			"https://news.google.com/rss/articles/CBMinwFBVV95cUxOeDk0SE01OGtkSWhEdG5RdS1r"},
		{"ADAPTIVE INDOMITABLE UKRAINE's Only REAL Security: NATO or Article 5-Type or Security Partnership", "Daily Kos",
			"https://news.google.com/rss/articles/CBMi4AFBVV95cUxQT2JwcEV3aXVpVUUtZEhHOVc3"},
		{"Ukrainian President's advisor reveals details of Ukraine's security guarantee framework", "Bitget",
			"https://news.google.com/rss/articles/CBMiXkFVX3lxTE5GUzFvQlpVQngxSU1Wb1hsVzVp"},
	}
	if len(d.Items) != len(want) {
		t.Fatalf("got %d items, want %d: %+v", len(d.Items), len(want), d.Items)
	}
	for i, w := range want {
		it := d.Items[i]
		if it.Title != w.title || it.Publisher != w.publisher || !strings.HasPrefix(it.URL, w.urlPrefix) || !strings.HasSuffix(it.URL, "?oc=5") {
			t.Errorf("item %d = %+v, want title %q, publisher %q, URL %s…?oc=5", i, it, w.title, w.publisher, w.urlPrefix)
		}
	}
	fm := d.FrontMatter
	if d.Items[0].URL != fm.Link {
		t.Errorf("first item URL %q differs from the front-matter link %q", d.Items[0].URL, fm.Link)
	}
	if got := d.Items[0].Slug(); got != fm.Slug || got != "why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times" {
		t.Errorf("first item slug %q, front-matter slug %q", got, fm.Slug)
	}
	if d.Slug != fm.Slug {
		t.Errorf("digest slug %q, want the front-matter slug %q", d.Slug, fm.Slug)
	}
	if fm.Date != "2026-01-04" || fm.Draft || len(fm.Tags) != 5 || !reflect.DeepEqual(fm.Categories, []string{"news.google.com"}) {
		t.Errorf("front matter date %q draft %v tags %v categories %v", fm.Date, fm.Draft, fm.Tags, fm.Categories)
	}
	if len(d.Skipped) != 0 {
		t.Errorf("skipped %+v, want none", d.Skipped)
	}

	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := "../../testdata/digests/golden/000_a90b0d2206cb7772.json"
	if *updateDigestGolden {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantJSON, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-digests to create it)", err)
	}
	if !bytes.Equal(got, wantJSON) {
		t.Errorf("parsed seed differs from %s (run with -update-digests after checking):\n%s", golden, got)
	}
}

// digestText builds a digest from front-matter lines and a body.
func digestText(fm, body string) []byte { return []byte("---\n" + fm + "\n---\n" + body) }

const okFM = `title: "Digest - Publisher"
slug: "my-digest"
link: 'https://news.google.com/rss/articles/FM?oc=5'`

func TestParseDigestOdd(t *testing.T) {
	li := func(href, title, pub string) string {
		return `<li><a href="` + href + `" target="_blank">` + title + `</a>&nbsp;&nbsp;<font color="#6f6f6f">` + pub + `</font></li>`
	}
	tests := []struct {
		name    string
		path    string
		data    []byte
		items   []Item
		slug    string
		skipped []string // reasons
		check   func(t *testing.T, fm record.FrontMatter)
	}{
		{
			name:  "front-matter link only",
			data:  digestText(`title: "Зеленский: переговоры продолжатся - РБК"`+"\nlink: https://news.google.com/rss/articles/ABC?oc=5", "<p>No list here.</p>"),
			items: []Item{{"Зеленский: переговоры продолжатся", "РБК", "https://news.google.com/rss/articles/ABC?oc=5", nil}},
			slug:  "зеленский-переговоры-продолжатся-рбк",
		},
		{
			name:  "title with several dashes splits at the last",
			data:  digestText(`title: "Spider-Man - the sequel - Variety"`+"\nlink: https://v.example/x", ""),
			items: []Item{{"Spider-Man - the sequel", "Variety", "https://v.example/x", nil}},
			slug:  "spider-man-the-sequel-variety",
		},
		{
			name:  "front-matter link without publisher uses the host",
			data:  digestText("title: Plain title\nlink: https://www.reuters.com/world/x", ""),
			items: []Item{{"Plain title", "reuters.com", "https://www.reuters.com/world/x", nil}},
			slug:  "plain-title",
		},
		{
			name: "tolerant front matter",
			data: digestText(`Title: Mixed Case Keys
date: 2026-01-04T08:30:00Z
tags: single
categories: [a, "", b]
draft: yes
unknown: {nested: [1, 2]}
weight: 3
link: https://a.example/1`, ""),
			items: []Item{{"Mixed Case Keys", "a.example", "https://a.example/1", nil}},
			slug:  "mixed-case-keys",
			check: func(t *testing.T, fm record.FrontMatter) {
				if fm.Date != "2026-01-04T08:30:00Z" || !reflect.DeepEqual(fm.Tags, []string{"single"}) ||
					!reflect.DeepEqual(fm.Categories, []string{"a", "b"}) || !fm.Draft {
					t.Errorf("front matter %+v", fm)
				}
			},
		},
		{
			name:  "date as a quoted string, null values",
			data:  digestText("title: T\ndate: 'Jan 4, 2026'\nslug: ~\nimage:\ntags: []\nlink: https://a.example/1", ""),
			items: []Item{{"T", "a.example", "https://a.example/1", nil}},
			slug:  "t",
			check: func(t *testing.T, fm record.FrontMatter) {
				if fm.Date != "Jan 4, 2026" || fm.Slug != "" || fm.Tags != nil {
					t.Errorf("front matter %+v", fm)
				}
			},
		},
		{
			name:  "CRLF, BOM, leading blank lines and a ... terminator",
			data:  []byte("\ufeff\r\n\r\n---\r\ntitle: Windows\r\nslug: windows-digest\r\n...\r\n<ol>\r\n" + li("https://a.example/1", "One", "Pub") + "\r\n</ol>\r\n"),
			items: []Item{{"One", "Pub", "https://a.example/1", nil}},
			slug:  "windows-digest",
		},
		{
			name: "unusable hrefs are skipped, the rest kept",
			data: digestText(okFM, "<ol>"+li("javascript:alert(1)", "XSS", "Evil")+li("", "Empty", "P")+
				li("/relative", "Rel", "P")+li("mailto:a@b.c", "Mail", "P")+li("https://a.example/1", "Good", "P")+
				li("https://a.example/1", "Again", "P")+li("http://", "No host", "P")+"</ol>"),
			items:   []Item{{"Good", "P", "https://a.example/1", nil}},
			slug:    "my-digest",
			skipped: []string{`scheme "javascript" is not http or https`, "empty href", "not an absolute URL: write the whole link, from http:// or https://", `scheme "mailto" is not http or https`, "duplicate of item 1", "URL has no host"},
		},
		{
			name:  "entities, nested markup and white space in titles",
			data:  digestText(okFM, "<ul><li><a href='https://a.example/1?x=1&amp;y=2'>\n  <b>Bold</b> &amp;\t&quot;quoted&quot;&nbsp;title&#33; </a> <font>  The&nbsp;Paper </font></li></ul>"),
			items: []Item{{`Bold & "quoted" title!`, "The Paper", "https://a.example/1?x=1&y=2", nil}},
			slug:  "my-digest",
		},
		{
			name: "publisher from text after the link, or the host",
			data: digestText(okFM, "<ol><li><a href='https://a.example/1'>One</a> &mdash; Reuters</li>"+
				"<li><a href='https://www.b.example/2'>Two</a></li><li><a href='https://c.example/3'>Three</a> - <span>AP</span> <a href='https://c.example/more'>more</a></li></ol>"),
			items: []Item{{"One", "Reuters", "https://a.example/1", nil}, {"Two", "b.example", "https://www.b.example/2", nil}, {"Three", "AP", "https://c.example/3", nil}},
			slug:  "my-digest",
		},
		{
			name: "nested lists give items of their own, in document order",
			data: digestText(okFM, "<ol><li><a href='https://a.example/1'>Outer</a> <font>P1</font><ol><li><a href='https://a.example/2'>Inner</a> <font>P2</font></li></ol></li>"+
				"<li>no link here</li><li><a name='anchor'>named</a><a href='https://a.example/3'>Third</a><font>P3</font></li></ol>"),
			items: []Item{{"Outer", "P1", "https://a.example/1", nil}, {"Inner", "P2", "https://a.example/2", nil}, {"Third", "P3", "https://a.example/3", nil}},
			slug:  "my-digest",
		},
		{
			name:  "links without a list",
			data:  digestText(okFM, "<p><a href='https://a.example/1'>First</a> (Daily) and <a href='https://a.example/2'><img alt='Picture story'></a></p>"),
			items: []Item{{"First", "(Daily) and", "https://a.example/1", nil}, {"Picture story", "a.example", "https://a.example/2", nil}},
			slug:  "my-digest",
		},
		{
			name:  "invalid front-matter slug falls back to the title",
			data:  digestText("title: Weekly Roundup\nslug: ../../etc/passwd\nlink: https://a.example/1", ""),
			items: []Item{{"Weekly Roundup", "a.example", "https://a.example/1", nil}},
			slug:  "weekly-roundup",
		},
		{
			name:  "no slug, no title: the file name",
			path:  "digests/2026/Ölpreis Überblick.md",
			data:  digestText("link: https://a.example/1", ""),
			items: []Item{{"https://a.example/1", "a.example", "https://a.example/1", nil}},
			slug:  "olpreis-uberblick",
		},
		{
			name:  "a whole HTML document",
			path:  "d.html",
			data:  digestText(okFM, "<!DOCTYPE html><html><head><title>x</title><script>var a='<li><a href=\"https://evil/\">x</a></li>'</script></head><body><ol>"+li("https://a.example/1", "One", "Pub")+"</ol></body></html>"),
			items: []Item{{"One", "Pub", "https://a.example/1", nil}},
			slug:  "my-digest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "odd.md"
			}
			d, err := Parse(path, tt.data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(d.Items, tt.items) {
				t.Errorf("items\n got %+v\nwant %+v", d.Items, tt.items)
			}
			if d.Slug != tt.slug {
				t.Errorf("slug %q, want %q", d.Slug, tt.slug)
			}
			var reasons []string
			for _, s := range d.Skipped {
				reasons = append(reasons, s.Reason)
			}
			if !reflect.DeepEqual(reasons, tt.skipped) {
				t.Errorf("skipped reasons %q, want %q", reasons, tt.skipped)
			}
			if d.Path != path {
				t.Errorf("Path %q, want %q", d.Path, path)
			}
			if tt.check != nil {
				tt.check(t, d.FrontMatter)
			}
		})
	}
}

// TestFrontMatterErrorLines: a YAML error in the front matter names the
// line of the file, whatever kind of error it is and however many blank
// lines come before the front matter.
func TestFrontMatterErrorLines(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"unclosed flow sequence", "---\ntitle: x\ndate: 2024-01-01\ntags: [a, b\nlink: https://a.example/\n---\n", "yaml: line 4: did not find expected ',' or ']'"},
		{"after blank lines", "\n\n---\ntitle: x\ndate: 2024-01-01\ntags: [a, b\n---\n", "yaml: line 6: did not find expected ',' or ']'"},
		{"unclosed flow mapping", "---\ntitle: x\nextra: {a: b\n---\n", "yaml: line 3: did not find expected ',' or '}'"},
		// The line of the construct left unfinished: the list started on
		// line 4 and the mapping on line 2.
		{"sequence item expected", "---\ntitle: x\nlist:\n  - a\n  b: 2\n---\n", "yaml: line 4: did not find expected '-' indicator"},
		{"key expected", "---\ntitle: x\n- a\n---\n", "yaml: line 2: did not find expected key"},
		{"bad indentation", "---\ntitle: x\n  bad: indent\n---\n", "yaml: line 3: mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("broken.md", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseDigestBroken(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		reason string // substring of Error.Reason
	}{
		{"bad YAML", digestText("title: [unclosed\nlink: https://a.example/", ""), "invalid YAML: yaml: line"},
		{"tab-indented YAML", digestText("title: x\n\tslug: y", ""), "invalid YAML"},
		{"no front matter", []byte("<ol><li><a href='https://a.example/'>x</a></li></ol>"), "no front matter"},
		{"front matter not closed", []byte("---\ntitle: x\n<ol><li><a href='https://a.example/'>x</a></li></ol>"), "never closed"},
		{"empty file", nil, "file is empty"},
		{"blank file", []byte("\n \n\t\n"), "file is empty"},
		{"no links", digestText("title: Nothing", "<p>Just text.</p>"), "no links"},
		{"only unusable links", digestText("title: X", "<ol><li><a href='javascript:x()'>x</a></li></ol>"), "no usable links: 1 skipped"},
		{"unusable front-matter link", digestText("title: X\nlink: ftp://a.example/f", ""), `scheme "ftp"`},
		{"NUL byte", append(digestText(okFM, "<ol>"), 0, 1, 2), "NUL byte at offset"},
		{"invalid UTF-8", digestText("title: \xc0\xaf windows-1251 \xcf\xf0\xe8", ""), "not UTF-8"},
		{"UTF-16", []byte("\xff\xfe-\x00-\x00-\x00"), "NUL byte"},
		{"oversize", append(digestText(okFM, ""), bytes.Repeat([]byte("a"), MaxSize)...), "over the 32 MiB limit"},
		{"front matter is a list", digestText("- a\n- b", ""), "expected key: value pairs, got a list"},
		{"front matter is a scalar", digestText("just text", ""), "got a single value"},
		{"title is a mapping", digestText("title: {a: b}\nlink: https://a.example/", ""), "title: expected a single value, got a mapping"},
		{"tags hold a mapping", digestText("tags: [a, {b: c}]\nlink: https://a.example/", ""), "tags: list item on line"},
		{"draft is not a boolean", digestText("draft: maybe\nlink: https://a.example/", ""), `draft: expected true or false, got "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("broken.md", tt.data)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", d)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *Error", err, err)
			}
			if de.Path != "broken.md" || !strings.Contains(de.Reason, tt.reason) {
				t.Fatalf("Error{Path: %q, Reason: %q}, want reason containing %q", de.Path, de.Reason, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "digest broken.md: ") {
				t.Fatalf("Error() = %q does not name the file", err)
			}
		})
	}
}

// TestParseDigestYAMLLine checks that YAML errors point at file lines.
func TestParseDigestYAMLLine(t *testing.T) {
	data := []byte("\n\n---\ntitle: ok\nslug: x: y\n---\n")
	_, err := Parse("x.md", data)
	if err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("err = %v, want it to mention line 5", err)
	}
}

func TestFindDigests(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"b/2026-01-02.md", "a/z.TXT", "a/y.markdown", "a/x.html", "top.md",
		"a/skip.pdf", "a/.hidden.md", ".git/config.md", "a/.cache/c.md", "c/d/e/deep.txt",
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "top.md"), filepath.Join(dir, "c", "link.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing.md"), filepath.Join(dir, "c", "dangling.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "c", "dirlink.md")); err != nil {
		t.Fatal(err)
	}
	explicit := filepath.Join(dir, "a", "skip.pdf") // named directly: taken whatever its extension
	missing := filepath.Join(dir, "nope")

	paths, errs := Find([]string{dir, missing, explicit, filepath.Join(dir, "a")})
	want := []string{
		filepath.Join(dir, "a", "skip.pdf"),
		filepath.Join(dir, "a", "x.html"),
		filepath.Join(dir, "a", "y.markdown"),
		filepath.Join(dir, "a", "z.TXT"),
		filepath.Join(dir, "b", "2026-01-02.md"),
		filepath.Join(dir, "c", "d", "e", "deep.txt"),
		filepath.Join(dir, "c", "link.md"),
		filepath.Join(dir, "top.md"),
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths\n got %q\nwant %q", paths, want)
	}
	var errPaths []string
	for _, err := range errs {
		var de *Error
		if !errors.As(err, &de) {
			t.Fatalf("error %v is not a *Error", err)
		}
		errPaths = append(errPaths, de.Path+": "+de.Reason)
	}
	wantErrs := []string{
		filepath.Join(dir, "c", "dangling.md") + ": broken link: no such file or directory",
		missing + ": cannot read: no such file or directory",
	}
	if !reflect.DeepEqual(errPaths, wantErrs) {
		t.Errorf("errors\n got %q\nwant %q", errPaths, wantErrs)
	}

	again, _ := Find([]string{filepath.Join(dir, "a"), dir, explicit})
	if !reflect.DeepEqual(again, want) {
		t.Errorf("order of roots changed the result:\n got %q\nwant %q", again, want)
	}
	if p, errs := Find(nil); p != nil || errs != nil {
		t.Errorf("Find(nil) = %q, %v", p, errs)
	}
}

// FuzzParseDigest: Parse never panics and never allocates out of
// proportion to its input (YAML aliases included); it returns a complete
// *Error or at least one item; every item has an http(s) URL, listed
// once, a clean title and slugs (digest, item, article) that are safe path
// elements and valid storage keys.
//
//	go test ./archive/digest -run '^$' -fuzz '^FuzzParseDigest$' -fuzztime 60s
//
// Seeds: testdata/fuzz/FuzzParseDigest.
func FuzzParseDigest(f *testing.F) {
	seed, err := os.ReadFile(seedDigest)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(digestText(okFM, "<ol><li><a href='https://a.example/1'>One</a> - P</li></ol>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d *Digest
		var err error
		fuzzcheck.MaxAlloc(t, uint64(256*len(data)), "Parse", func() { d, err = Parse("fuzz.md", data) })
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Path != "fuzz.md" || de.Reason == "" {
				t.Fatalf("error %v (%T) is not a complete *Error", err, err)
			}
			return
		}
		if len(d.Items) == 0 {
			t.Fatal("no items and no error")
		}
		checkSlug(t, "digest", d.Slug)
		checkStorable(t, "digest", d.Slug)
		if !record.ValidSlug(d.Slug) {
			t.Fatalf("digest slug %q is not valid", d.Slug)
		}
		urls := map[string]bool{}
		for _, it := range d.Items {
			if r := hrefProblem(it.URL); r != "" {
				t.Fatalf("item %+v kept although %s", it, r)
			}
			if urls[it.URL] {
				t.Fatalf("URL %q listed twice", it.URL)
			}
			urls[it.URL] = true
			if it.Title == "" || it.Title != textnorm.CollapseSpace(it.Title) || it.Publisher != textnorm.CollapseSpace(it.Publisher) {
				t.Fatalf("item %+v: empty title or uncollapsed white space", it)
			}
			checkSlug(t, it.Title, it.Slug())
			checkStorable(t, it.Title, it.Slug())
			checkSlug(t, it.Title, record.ArticleSlug(it.Title, it.Publisher))
			if u, err := url.Parse(it.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("item %+v: URL is not http(s) with a host", it)
			}
		}
		for _, s := range d.Skipped {
			if s.Reason == "" {
				t.Fatalf("skipped %+v without a reason", s)
			}
		}
	})
}

// BenchmarkParseDigest measures parsing the seed digest against the baseline
// of only tokenising it with the HTML parser (what any parse must at least do).
func BenchmarkParseDigest(b *testing.B) {
	data, err := os.ReadFile(seedDigest)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-html-parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := html.Parse(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("seed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Parse(seedDigest, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// checkStorable asserts that a slug makes valid storage keys: the store
// itself refuses traversal, control characters and empty segments, so a
// slug it would refuse is one that could not be archived (or viewed).
func checkStorable(t *testing.T, in, slug string) {
	t.Helper()
	for _, key := range []string{record.ArticleKey(slug, record.MetaFile), record.DigestKey(slug)} {
		if err := storage.ValidKey(key); err != nil {
			t.Fatalf("slug %q (from %q) makes an invalid key: %v", slug, in, err)
		}
	}
}

// checkSlug fails t if s breaks an invariant every slug must keep.
func checkSlug(t *testing.T, in, s string) {
	t.Helper()
	switch {
	case s == "":
		t.Fatalf("Slugify(%q) is empty", in)
	case len(s) > record.MaxSlugLen:
		t.Fatalf("Slugify(%q) = %q is %d bytes", in, s, len(s))
	case !utf8.ValidString(s):
		t.Fatalf("Slugify(%q) = %q is not valid UTF-8", in, s)
	case strings.Contains(s, "/") || strings.Contains(s, "\\") || strings.Contains(s, ".."):
		t.Fatalf("Slugify(%q) = %q holds a path separator or ..", in, s)
	case strings.HasPrefix(s, ".") || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-"):
		t.Fatalf("Slugify(%q) = %q starts with . or - or ends with -", in, s)
	case strings.Contains(s, "--"):
		t.Fatalf("Slugify(%q) = %q holds --", in, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || unicode.IsUpper(r) {
			t.Fatalf("Slugify(%q) = %q holds %U", in, s, r)
		}
	}
}
