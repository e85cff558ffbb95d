package digest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
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
				if it.Title == "" || it.Title != collapseSpace(it.Title) || it.Publisher != collapseSpace(it.Publisher) {
					t.Fatalf("item %+v: empty title or uncollapsed white space", it)
				}
				checkSlug(t, it.Title, it.Slug())
				checkStorable(t, it.Title, it.Slug())
			}
		}
	})
}
