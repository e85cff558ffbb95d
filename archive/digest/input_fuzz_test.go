package digest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

// FuzzParseInput: detection and every parser behind ParseInput never
// panic and never allocate more than 256 bytes per input byte (beyond
// fuzzcheck.Slack); they return a complete *Error or digests that each hold
// at least one item, with a known Kind and a valid, storable slug unique
// among them; every item has a clean title and an http(s) URL with a host,
// listed once per digest.
//
//	go test ./archive/digest -run '^$' -fuzz '^FuzzParseInput$' -fuzztime 60s
//
// Seeds: every sample in testdata/inputs, and testdata/fuzz/FuzzParseInput.
func FuzzParseInput(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/inputs/*")
	broken, _ := filepath.Glob("../../testdata/inputs/broken/*")
	for _, p := range append(append(seeds, broken...), seedDigest) {
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"Title - Source (https://a.example/x)\nwww.b.example\nCBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cw\n",
		"- [A](https://a.example/) - AP\n[b][r]\n\n[r]: https://b.example/\n",
		"title,url,tags\nA,https://a.example/,x|y\n",
		"<DL><DT><H3>F</H3><DL><DT><A HREF=\"https://a.example/\" TAGS=\"t\">A</A></DL></DL>",
	} {
		f.Add([]byte(s))
	}
	kinds := map[Kind]bool{KindDigest: true, KindFeed: true, KindBookmarks: true, KindMarkdown: true, KindURLList: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ds []*Digest
		var err error
		fuzzcheck.MaxAlloc(t, uint64(256*len(data)), "ParseInput", func() { ds, err = ParseInput("fuzz", data) })
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Path != "fuzz" || de.Reason == "" {
				t.Fatalf("error %v (%T) is not a complete *Error", err, err)
			}
			return
		}
		if len(ds) == 0 {
			t.Fatal("no digests and no error")
		}
		slugs := map[string]bool{}
		for _, d := range ds {
			if !kinds[d.Kind] || d.Path != "fuzz" {
				t.Fatalf("digest kind %q path %q", d.Kind, d.Path)
			}
			if len(d.Items) == 0 {
				t.Fatalf("digest %q without items", d.Slug)
			}
			checkSlug(t, "digest", d.Slug)
			checkStorable(t, "digest", d.Slug)
			if !record.ValidSlug(d.Slug) || slugs[d.Slug] {
				t.Fatalf("digest slug %q invalid or repeated", d.Slug)
			}
			slugs[d.Slug] = true
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
			}
		}
	})
}

// BenchmarkParseInput measures the largest inputs people have: a browser
// bookmark export of 5,000 bookmarks with their favicons inline (~11 MB),
// a URL list of 10,000 lines, and the Google News topic feed sample.
func BenchmarkParseInput(b *testing.B) {
	var bm bytes.Buffer
	bm.WriteString("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n")
	icon := "data:image/png;base64," + strings.Repeat("iVBORw0KGgoAAAANSUhEUgAAABAAAAAQ", 64)
	for f := range 50 {
		fmt.Fprintf(&bm, "<DT><H3 ADD_DATE=\"1767225600\">Folder %d</H3>\n<DL><p>\n", f)
		for i := range 100 {
			fmt.Fprintf(&bm, "<DT><A HREF=\"https://host%d.example/%d/%d\" ADD_DATE=\"1767225600\" ICON=\"%s\" TAGS=\"a,b\">Bookmark %d</A>\n", i%37, f, i, icon, i)
		}
		bm.WriteString("</DL><p>\n")
	}
	bm.WriteString("</DL><p>\n")
	var list bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&list, "Story %d - Paper (https://host%d.example/story/%d)\n", i, i%37, i)
	}
	topic, err := os.ReadFile("../../testdata/inputs/google-news-topic.xml")
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []struct {
		name string
		data []byte
	}{{"bookmarks-5000", bm.Bytes()}, {"urls-10000", list.Bytes()}, {"google-news-topic", topic}} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if _, err := ParseInput("bench", in.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
