package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage/record"
)

var openNow = time.Date(2026, 1, 4, 9, 30, 0, 0, time.UTC)

// hash8 is the first 8 hex digits of the SHA-256 of the URLs, one a line.
func hash8(urls ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(urls, "\n") + "\n"))
	return hex.EncodeToString(sum[:4])
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenMixed: one command line naming every kind of input; the broken
// ones are reported and the rest read.
func TestOpenMixed(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "digests")
	copyFile(t, seedDigest, filepath.Join(folder, "2026-01-04.md"))
	copyFile(t, inputsDir+"ledger-world.rss", filepath.Join(folder, "feeds", "ledger.xml"))
	copyFile(t, inputsDir+"to-read.txt", filepath.Join(folder, "to-read.txt"))
	copyFile(t, inputsDir+"broken/truncated.rss", filepath.Join(folder, "feeds", "truncated.rss"))
	copyFile(t, inputsDir+"broken/article-page.html", filepath.Join(folder, "saved-page.html"))
	copyFile(t, inputsDir+"broken/image.png", filepath.Join(folder, "image.png")) // not a digest extension: not read
	bookmarks := filepath.Join(dir, "bookmarks.html")
	copyFile(t, inputsDir+"bookmarks-firefox.html", bookmarks)

	stdin := strings.NewReader("# from the clipboard\nhttps://stdin.example/a\nhttps://stdin.example/b\n")
	args := []string{
		folder,
		"https://www.bbc.com/news/articles/cjjjnxdv188o",
		"-",
		bookmarks,
		"news.google.com/rss/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRGx1YlY4U0FtVnVHZ0pWVXlnQVAB?hl=en-US&gl=US&ceid=US:en",
		"www.example.com/story",
		"CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhkdjE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA",
		"feed:https://ledger.example/world/",
	}
	b, err := Open(args, Options{Stdin: stdin, Now: openNow})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	type got struct {
		kind  Kind
		slug  string
		title string
		items int
	}
	var digests []got
	for _, d := range b.Digests {
		digests = append(digests, got{d.Kind, d.Slug, d.FrontMatter.Title, len(d.Items)})
	}
	gnArg := "https://news.google.com/rss/articles/CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhkdjE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA"
	want := []got{
		{KindDigest, "why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times", "Why Security Guarantees Are So Crucial, and Thorny, for Ukraine - The New York Times", 5},
		{KindFeed, "the-example-ledger-world-2026-01-04", "The Example Ledger – World", 3},
		{KindURLList, "to-read", "to-read", 9},
		{KindArguments, "command-line-" + hash8("https://www.bbc.com/news/articles/cjjjnxdv188o", "https://www.example.com/story", gnArg), "command line 2026-01-04", 3},
		{KindURLList, "stdin-" + hash8("https://stdin.example/a", "https://stdin.example/b"), "standard input 2026-01-04", 2},
		{KindBookmarks, "bookmarks", "bookmarks", 1},
		{KindBookmarks, "bookmarks-read-later", "bookmarks › Read later", 2},
		{KindBookmarks, "bookmarks-bookmarks-toolbar", "bookmarks › Bookmarks Toolbar", 1},
	}
	if !reflect.DeepEqual(digests, want) {
		t.Errorf("digests\n got %+v\nwant %+v", digests, want)
	}
	var errs []string
	for _, e := range b.Errors {
		var de *Error
		if !errors.As(e, &de) {
			t.Fatalf("batch error %v (%T) is not a *Error", e, e)
		}
		errs = append(errs, strings.TrimPrefix(de.Path, folder)+": "+de.Reason)
	}
	wantErrs := []string{
		"/feeds/truncated.rss: unreadable feed: XML syntax error on line 33: unexpected EOF",
		"/saved-page.html: an HTML page, not a digest (no --- front matter), feed or bookmark export; to archive the page itself, give its URL",
	}
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("batch errors\n got %q\nwant %q", errs, wantErrs)
	}
	wantFeeds := []FeedURL{
		{Arg: args[4], URL: "https://news.google.com/rss/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRGx1YlY4U0FtVnVHZ0pWVXlnQVAB?hl=en-US&gl=US&ceid=US:en"},
		{Arg: args[7], URL: "https://ledger.example/world/"},
	}
	if !reflect.DeepEqual(b.Feeds, wantFeeds) {
		t.Errorf("feeds\n got %+v\nwant %+v", b.Feeds, wantFeeds)
	}

	// The pipeline fetches the feeds and hands them back.
	topic, err := os.ReadFile(inputsDir + "google-news-topic.xml")
	if err != nil {
		t.Fatal(err)
	}
	b.AddFeed(b.Feeds[0], topic, nil)
	b.AddFeed(b.Feeds[1], nil, errors.New("robots.txt disallows it"))
	last := b.Digests[len(b.Digests)-1]
	if last.Kind != KindFeed || last.Slug != "world-latest-google-news-2026-01-04" || last.Path != b.Feeds[0].URL ||
		last.FrontMatter.Source != b.Feeds[0].URL || len(last.Items) != 5 {
		t.Errorf("fetched feed: kind %q slug %q path %q source %q, %d items", last.Kind, last.Slug, last.Path, last.FrontMatter.Source, len(last.Items))
	}
	if n := len(b.Errors); n != 3 || b.Errors[2].Error() != "digest https://ledger.example/world/: fetch: robots.txt disallows it" {
		t.Errorf("feed fetch failure recorded as %v", b.Errors[n-1])
	}

	// Run again with the same inputs: the same digests, slug for slug.
	b2, err := Open(args, Options{Stdin: strings.NewReader("# from the clipboard\nhttps://stdin.example/a\nhttps://stdin.example/b\n"), Now: openNow.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range b2.Digests {
		if d.Slug != want[i].slug {
			t.Errorf("second run: digest %d slug %q, want %q", i, d.Slug, want[i].slug)
		}
	}
}

func TestOpenStdin(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(inputsDir + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	tests := []struct {
		name   string
		stdin  string
		kinds  []Kind
		slugs  []string
		titles []string
	}{
		{"URL list", "https://a.example/1\nhttps://a.example/2\n", []Kind{KindURLList},
			[]string{"stdin-" + hash8("https://a.example/1", "https://a.example/2")}, []string{"standard input 2026-01-04"}},
		{"other URLs, other digest", "https://a.example/2\nhttps://a.example/1\n", []Kind{KindURLList},
			[]string{"stdin-" + hash8("https://a.example/2", "https://a.example/1")}, []string{"standard input 2026-01-04"}},
		{"a Google News feed", read("google-news-search.xml"), []Kind{KindFeed},
			[]string{"security-guarantees-when-7d-google-news-2026-09-23"}, []string{`"security guarantees" when:7d - Google News`}},
		{"a digest", read("../digests/000_a90b0d2206cb7772.txt"), []Kind{KindDigest},
			[]string{"why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times"},
			[]string{"Why Security Guarantees Are So Crucial, and Thorny, for Ukraine - The New York Times"}},
		{"bookmarks", read("bookmarks-chrome.html"), []Kind{KindBookmarks, KindBookmarks, KindBookmarks, KindBookmarks},
			[]string{"stdin-bookmarks-bar", "stdin-bookmarks-bar-news", "stdin-bookmarks-bar-news-ukraine", "stdin-other-bookmarks"},
			[]string{"standard input › Bookmarks bar", "standard input › Bookmarks bar › News", "standard input › Bookmarks bar › News › Ukraine", "standard input › Other bookmarks"}},
		{"markdown", "- [One](https://a.example/1) - Reuters\n", []Kind{KindMarkdown},
			[]string{"stdin-" + hash8("https://a.example/1")}, []string{"standard input 2026-01-04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open([]string{"-"}, Options{Stdin: strings.NewReader(tt.stdin), Now: openNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Errors) > 0 {
				t.Fatalf("errors: %v", b.Errors)
			}
			var kinds []Kind
			var slugs, titles []string
			for _, d := range b.Digests {
				kinds, slugs, titles = append(kinds, d.Kind), append(slugs, d.Slug), append(titles, d.FrontMatter.Title)
				if d.Path != "-" {
					t.Errorf("Path %q, want -", d.Path)
				}
				checkSlug(t, d.FrontMatter.Title, d.Slug)
			}
			if !reflect.DeepEqual(kinds, tt.kinds) || !reflect.DeepEqual(slugs, tt.slugs) || !reflect.DeepEqual(titles, tt.titles) {
				t.Errorf("got kinds %q slugs %q titles %q\nwant kinds %q slugs %q titles %q", kinds, slugs, titles, tt.kinds, tt.slugs, tt.titles)
			}
		})
	}
}

// endless is a standard input that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestOpenBrokenInputsDoNotStopTheBatch: an endless standard input, a
// binary file and a feed without items are reported; the digest after them
// is still read.
func TestOpenBrokenInputsDoNotStopTheBatch(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "photo.md")
	copyFile(t, inputsDir+"broken/image.png", bin)
	empty := filepath.Join(dir, "quiet.rss")
	copyFile(t, inputsDir+"broken/no-items.rss", empty)
	good := filepath.Join(dir, "good.md")
	copyFile(t, seedDigest, good)
	b, err := Open([]string{"-", bin, empty, good}, Options{Stdin: io.LimitReader(endless{}, 1<<40), Now: openNow})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range b.Errors {
		reasons = append(reasons, e.Error())
	}
	want := []string{
		"digest -: 33554433 bytes, over the 32 MiB limit for an input",
		"digest " + bin + ": binary data, not text (NUL byte at offset 8)",
		"digest " + empty + `: the feed "Quiet Desk" has no items`,
	}
	if !reflect.DeepEqual(reasons, want) {
		t.Errorf("errors\n got %q\nwant %q", reasons, want)
	}
	if len(b.Digests) != 1 || b.Digests[0].Path != good {
		t.Errorf("digests %+v, want the good one", b.Digests)
	}
}

func TestOpenUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	nodigests := filepath.Join(dir, "nodigests")
	for _, d := range []string{empty, filepath.Join(nodigests, ".git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"report.pdf", ".draft.md", ".git/notes.md"} {
		if err := os.WriteFile(filepath.Join(nodigests, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "a.md")
	copyFile(t, seedDigest, file)
	missing := filepath.Join(dir, "2026-01-05")

	tests := []struct {
		name  string
		args  []string
		stdin io.Reader
		kind  error
		msgs  []string // one line per problem
	}{
		{"no arguments", nil, nil, ErrNoInput, []string{"name at least one digest folder, file, URL, or - for standard input"}},
		{"a missing path", []string{file, missing}, nil, ErrMissing, []string{missing + ": no such file or folder"}},
		{"a path through a file", []string{file + "/x.md"}, nil, ErrMissing, []string{file + "/x.md: no such file or folder"}},
		{"a host name", []string{"example.com"}, nil, ErrMissing,
			[]string{"example.com: no such file or folder; to archive a web page, give its URL: https://example.com/"}},
		{"an empty folder", []string{empty}, nil, ErrEmptyFolder, []string{empty + ": the folder is empty"}},
		{"a folder without digests", []string{nodigests}, nil, ErrNoDigests,
			[]string{nodigests + ": the folder holds no digests: no .atom, .html, .markdown, .md, .rss, .txt, .xml file in it or below it (hidden files and folders are skipped)"}},
		{"standard input twice", []string{"-", "-"}, strings.NewReader(""), ErrBadArgument, []string{"-: standard input named twice"}},
		{"no standard input", []string{"-"}, nil, ErrBadArgument, []string{"-: standard input is not available"}},
		{"an ftp URL", []string{"ftp://files.example/list.txt"}, nil, ErrBadArgument, []string{`ftp://files.example/list.txt: scheme "ftp" is not http or https`}},
		{"a URL without host", []string{"https:///x"}, nil, ErrBadArgument, []string{"https:///x: URL has no host"}},
		{"an empty argument", []string{""}, nil, ErrBadArgument, []string{"an empty argument: name a digest folder, file, URL, or - for standard input"}},
		{"every problem at once", []string{missing, empty, file}, nil, ErrMissing,
			[]string{missing + ": no such file or folder", empty + ": the folder is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open(tt.args, Options{Stdin: tt.stdin, Now: openNow})
			if err == nil {
				t.Fatalf("Open succeeded: %+v", b)
			}
			if b != nil {
				t.Errorf("Open returned a batch with its error")
			}
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, tt.kind) {
				t.Errorf("error %v (%T) is not an *InputError of kind %v", err, err, tt.kind)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.msgs) {
				t.Errorf("message\n got %q\nwant %q", got, tt.msgs)
			}
		})
	}
}

func TestURLArguments(t *testing.T) {
	tests := []struct {
		arg  string
		feed bool
		url  string
	}{
		{"https://www.bbc.com/news/articles/cjjjnxdv188o", false, "https://www.bbc.com/news/articles/cjjjnxdv188o"},
		{"HTTPS://WWW.BBC.COM/news/articles/cjjjnxdv188o", false, "https://www.bbc.com/news/articles/cjjjnxdv188o"},
		{"https://news.google.com/rss/articles/CBMiAbc?oc=5", false, "https://news.google.com/rss/articles/CBMiAbc?oc=5"},
		{"news.google.com/read/CBMiAbc?hl=en-US&gl=US&ceid=US%3Aen", false, "https://news.google.com/read/CBMiAbc?hl=en-US&gl=US&ceid=US%3Aen"},
		{"https://news.google.com/rss?hl=en-US&gl=US&ceid=US:en", true, "https://news.google.com/rss?hl=en-US&gl=US&ceid=US:en"},
		{"https://news.google.com/rss/topics/CAAqJ?hl=en-US", true, "https://news.google.com/rss/topics/CAAqJ?hl=en-US"},
		{"https://news.google.com/rss/search?q=ukraine&hl=en-US", true, "https://news.google.com/rss/search?q=ukraine&hl=en-US"},
		{"https://news.google.com/rss/headlines/section/topic/WORLD", true, "https://news.google.com/rss/headlines/section/topic/WORLD"},
		// Google News pages become their feeds: the pages are a script application.
		{"https://news.google.com/topics/CAAqJ?hl=en-US&gl=US&ceid=US:en", true, "https://news.google.com/rss/topics/CAAqJ?hl=en-US&gl=US&ceid=US:en"},
		{"https://news.google.com/search?q=%22security%20guarantees%22&hl=en-US", true, "https://news.google.com/rss/search?q=%22security%20guarantees%22&hl=en-US"},
		{"https://news.google.com/?hl=en-US", true, "https://news.google.com/rss?hl=en-US"},
		{"https://ledger.example/world/feed/", true, "https://ledger.example/world/feed/"},
		{"https://ledger.example/?feed=rss2", true, "https://ledger.example/?feed=rss2"},
		{"https://ledger.example/index.xml", true, "https://ledger.example/index.xml"},
		{"https://ledger.example/news.rss", true, "https://ledger.example/news.rss"},
		{"https://feeds.ledger.example/world", true, "https://feeds.ledger.example/world"},
		{"feed:https://ledger.example/world/", true, "https://ledger.example/world/"},
		{"feed://ledger.example/world/", true, "https://ledger.example/world/"},
		{"https://ledger.example/2026/01/04/rss-readers-are-back/", false, "https://ledger.example/2026/01/04/rss-readers-are-back/"},
	}
	for _, tt := range tests {
		s, err := classify(tt.arg)
		if err != nil {
			t.Errorf("classify(%q): %v", tt.arg, err)
			continue
		}
		if (s.kind == srcFeed) != tt.feed || s.url != tt.url || s.arg != tt.arg {
			t.Errorf("classify(%q) = feed %v %q (arg %q), want feed %v %q", tt.arg, s.kind == srcFeed, s.url, s.arg, tt.feed, tt.url)
		}
	}
}

// TestArgumentsDigest: URLs given as arguments make one digest, named by
// the day and slugged by its links, so the same URLs tomorrow update the
// same record.
func TestArgumentsDigest(t *testing.T) {
	args := []string{"https://a.example/1", "https://A.EXAMPLE/1", "https://b.example/2"}
	b, err := Open(args, Options{Now: openNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Digests) != 1 {
		t.Fatalf("%d digests", len(b.Digests))
	}
	d := b.Digests[0]
	wantItems := []Item{{"https://a.example/1", "a.example", "https://a.example/1", nil}, {"https://b.example/2", "b.example", "https://b.example/2", nil}}
	if d.Kind != KindArguments || d.Path != "" || d.FrontMatter.Title != "command line 2026-01-04" || d.FrontMatter.Date != "2026-01-04" ||
		d.Slug != "command-line-"+hash8("https://a.example/1", "https://b.example/2") || !reflect.DeepEqual(d.Items, wantItems) ||
		len(d.Skipped) != 1 || d.Skipped[0].Reason != "duplicate of item 1" {
		t.Errorf("digest %+v", d)
	}
	later, err := Open(args, Options{Now: openNow.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if later.Digests[0].Slug != d.Slug || later.Digests[0].FrontMatter.Title != "command line 2026-02-03" {
		t.Errorf("a month later: slug %q title %q", later.Digests[0].Slug, later.Digests[0].FrontMatter.Title)
	}
}

// TestSlugWithSuffix: a long title is cut so that its date survives.
func TestSlugWithSuffix(t *testing.T) {
	long := strings.Repeat("Security guarantees for Ukraine ", 20)
	s := slugWithSuffix(long, "2026-01-04")
	if !strings.HasSuffix(s, "-2026-01-04") || len(s) > record.MaxSlugLen || strings.Contains(s, "--") {
		t.Errorf("slugWithSuffix(long) = %q (%d bytes)", s, len(s))
	}
	checkSlug(t, long, s)
	cyr := slugWithSuffix(strings.Repeat("Гарантии безопасности ", 20), "2026-01-04")
	if !strings.HasSuffix(cyr, "-2026-01-04") || len(cyr) > record.MaxSlugLen {
		t.Errorf("slugWithSuffix(cyrillic) = %q (%d bytes)", cyr, len(cyr))
	}
	checkSlug(t, "cyrillic", cyr)
	if got := slugWithSuffix("!!!", "2026-01-04"); got != "2026-01-04" {
		t.Errorf("slugWithSuffix(no letters) = %q", got)
	}
}
