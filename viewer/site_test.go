package viewer

import (
	"bytes"
	"net/url"
	"path"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

func TestSiteFile(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"/", "index.html"},
		{"/?page=3", "page-3.html"},
		{"/?page=1", "index.html"},
		{"/tags", "tags/index.html"},
		{"/tags/Politics", "tags/Politics/index.html"},
		{"/tags/Politics?page=2", "tags/Politics/page-2.html"},
		{"/tags/C%2B%2B%2FRust", "tags/c-rust-" + fileSegment("C++/Rust")[len("c-rust-"):] + "/index.html"},
		{"/tags/%D0%9D%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8", "tags/" + fileSegment("Новости") + "/index.html"},
		{"/digests/2024-01-02-morning", "digests/2024-01-02-morning/index.html"},
		{"/articles/a-b", "articles/a-b/index.html"},
		{"/articles/a-b/raw", "articles/a-b/raw/index.html"},
		{"/articles/a-b/raw.html", "articles/a-b/raw.html"},
		{"/articles/a-b/text.txt", "articles/a-b/text.txt"},
		{"/articles/a-b/history/20240101T080000Z/raw", "articles/a-b/history/20240101T080000Z/raw/index.html"},
		{"/articles/a-b/history/20240101T080000Z/text.txt", "articles/a-b/history/20240101T080000Z/text.txt"},
		{"/static/style.0123abcd.css", "static/style.0123abcd.css"},
		{"/search?q=x", ""},
		{"/api/digests", ""},
		{"/articles/a-b/raw.html?download=1", ""},
		// The self-contained page is a file of the site: its download is
		// that file (the viewer's "Download page").
		{"/articles/a-b/page.html?download=1", "articles/a-b/page.html"},
		{"/articles/a-b/history/20240101T080000Z/page.html?download=1", "articles/a-b/history/20240101T080000Z/page.html"},
		{"/articles/a-b/page.html?download=1&page=2", ""},
		{"/articles/a-b/text.txt?download=1", ""},
		{"/?sort=oldest", ""},
		{"/digests/x?page=2", ""},
		{"/healthz", ""},
		{"//evil.example/x", ""},
		{"https://publisher.example/", ""},
	} {
		got, ok := SiteFile(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("SiteFile(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if a, b := fileSegment("Politics Today"), fileSegment("politics-today"); a == b || !strings.HasPrefix(a, "politics-today-") {
		t.Errorf("fileSegment: %q and %q", a, b)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"index.html", "tags/index.html", "tags/index.html"},
		{"articles/x/index.html", "static/s.css", "../../static/s.css"},
		{"articles/x/raw/index.html", "articles/x/raw.html", "../raw.html"},
		{"articles/x/index.html", "articles/x/raw/index.html", "raw/index.html"},
		{"tags/t/page-2.html", "tags/t/index.html", "index.html"},
	} {
		if got := relativeURL(tc.from, tc.to); got != tc.want {
			t.Errorf("relativeURL(%q, %q) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestSiteWrite writes the test archive (hostile titles and URLs, a damaged
// meta.json, histories, charsets, failed captures) as a site and reads
// every page back: each has the viewer's policy as its first <meta> after
// the charset, no script and no form, and every link between pages leads
// to a file the site has; archived pages carry the snapshot policy.
//
// No page has an <a> without an href (a link that looks like one and
// leads nowhere): links to what needs a server (the JSON API, the bytes as
// received) are removed, and those to pages left out become text.
func TestSiteWrite(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := writeFixture(t, st)
	site, err := NewSite(SiteOptions{Store: st, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	files := map[string][]byte{}
	stats, err := site.Write(testContext(t), func(name string, body []byte) error {
		if _, dup := files[name]; dup {
			t.Errorf("%s written twice", name)
		}
		files[name] = bytes.Clone(body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Files != len(files) || stats.Articles == 0 || stats.Pages == 0 {
		t.Errorf("stats %+v for %d files", stats, len(files))
	}
	for _, must := range []string{"index.html", "page-2.html", "tags/index.html", "articles/" + historySlug + "/history/" + historyOld + "/raw/index.html",
		"articles/" + xssSlug + "/raw.html", "articles/" + f.gen.Articles[0] + "/text.txt"} {
		if files[must] == nil {
			t.Errorf("the site has no %s", must)
		}
	}
	for name := range files {
		if strings.Contains(name, brokenSlug) {
			t.Errorf("%s written for an article whose meta.json does not read", name)
		}
	}
	for name, body := range files {
		switch {
		case strings.HasSuffix(name, ".txt"):
			if !bytes.HasPrefix(body, []byte("\ufeff")) {
				t.Errorf("%s has no byte order mark", name)
			}
			continue
		case !strings.HasSuffix(name, ".html"):
			continue
		}
		doc, err := html.Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		snapshot := path.Base(name) != "index.html" && !strings.HasPrefix(path.Base(name), "page-")
		want := siteCSP
		if snapshot {
			want = siteSnapshotCSP
		}
		head := findElement(doc, atom.Head)
		first := nextElement(head.FirstChild)
		if v, _ := nodeAttr(first, "charset"); first == nil || !strings.EqualFold(v, "utf-8") {
			t.Errorf("%s: the head does not start with <meta charset=utf-8>", name)
			continue
		}
		if !snapshot {
			for _, gone := range []string{">JSON API<", ">The HTML as received<", ">Download the HTML<"} {
				if bytes.Contains(body, []byte(gone)) {
					t.Errorf("%s offers %s, which needs a server", name, gone)
				}
			}
		}
		second := nextElement(first.NextSibling)
		if v, _ := nodeAttr(second, "content"); second == nil || second.DataAtom != atom.Meta || v != want {
			t.Errorf("%s: the second element of the head is not the policy %q", name, want)
		}
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			if n.DataAtom == atom.Script {
				t.Errorf("%s has a <script>", name)
			}
			if snapshot {
				continue // its links lead out of the archive, inert, and so do its forms
			}
			if n.DataAtom == atom.Form {
				t.Errorf("%s has a <form>", name)
			}
			if _, ok := nodeAttr(n, "href"); n.DataAtom == atom.A && !ok {
				var b bytes.Buffer
				html.Render(&b, n)
				t.Errorf("%s: %s looks like a link and leads nowhere", name, b.String())
			}
			for _, a := range n.Attr {
				if a.Key != "href" && a.Key != "src" {
					continue
				}
				u, err := url.Parse(a.Val)
				switch {
				case strings.Contains(a.Val, ":") || strings.HasPrefix(a.Val, "//"):
					if n.DataAtom != atom.A {
						t.Errorf("%s: <%s %s=%q> loads from outside the site", name, n.Data, a.Key, a.Val)
					}
				case err != nil:
					t.Errorf("%s: <%s %s=%q>: %v", name, n.Data, a.Key, a.Val, err)
				case strings.HasPrefix(a.Val, "/"):
					t.Errorf("%s: <%s %s=%q> is not relative", name, n.Data, a.Key, a.Val)
				case u.Path != "":
					target := path.Join(path.Dir(name), u.Path)
					if files[target] == nil {
						t.Errorf("%s: <%s %s=%q> leads to %s, which the site does not have", name, n.Data, a.Key, a.Val, target)
					}
				}
			}
		}
	}
	// The archived pages are the viewer's inert rewrite.
	if raw := string(files["articles/"+xssSlug+"/raw.html"]); strings.Contains(raw, "<script") || !strings.Contains(raw, "x-dns-prefetch-control") {
		t.Errorf("the archived page is not the inert rewrite:\n%.500s", raw)
	}
	_ = record.RawFile
}

// nextElement is n or the first element after it.
func nextElement(n *html.Node) *html.Node {
	for n != nil && n.Type != html.ElementNode {
		n = n.NextSibling
	}
	return n
}
