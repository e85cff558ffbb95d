package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestWriteDigests exports every digest and parses each file again with
// archive/digest: the same front matter, the same articles (title and
// publisher, hence slug) in the same order, every link the publisher URL instead of the Google News link,
// and an "archived copy" link beside each ok or blocked article, to the
// viewer or to a site export.
func TestWriteDigests(t *testing.T) {
	f := newArchive(t, 12)
	ctx := testContext(t)
	for _, links := range []Links{{}, {Viewer: "https://archive.example/viewer/"}, {Site: "../site"}} {
		dir := filepath.Join(t.TempDir(), "digests")
		if err := PrepareDir(dir, FormatDigests); err != nil {
			t.Fatal(err)
		}
		rep, err := WriteDigests(ctx, f.sel(t, stored.Filter{}), dir, links)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Digests != len(f.gen.Digests) || rep.Files != rep.Digests {
			t.Errorf("report %+v for %d digests", rep, len(f.gen.Digests))
		}
		archivedLinks := 0
		for _, slug := range f.gen.Digests {
			rec, err := record.ReadDigest(ctx, f.st, slug)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, slug+".md"))
			if err != nil {
				t.Fatal(err)
			}
			d, err := digest.Parse(slug+".md", data)
			if err != nil {
				t.Fatalf("the rewritten %s does not parse: %v\n%s", slug, err, data)
			}
			if d.FrontMatter.Title != rec.FrontMatter.Title || d.FrontMatter.Date != rec.FrontMatter.Date ||
				!slices.Equal(d.FrontMatter.Tags, rec.FrontMatter.Tags) || d.FrontMatter.Slug != rec.FrontMatter.Slug {
				t.Errorf("%s: front matter %+v, want %+v", slug, d.FrontMatter, rec.FrontMatter)
			}
			if len(d.Items) != len(rec.Articles) {
				t.Fatalf("%s: %d items, want %d:\n%s", slug, len(d.Items), len(rec.Articles), data)
			}
			for i, it := range d.Items {
				a := rec.Articles[i]
				// The same title and publisher: the same article slug,
				// record.ArticleSlug(title, publisher), when archived again.
				if it.URL != a.URL || strings.Contains(it.URL, "news.google.com") || it.Title != a.Title || it.Publisher != a.Publisher {
					t.Errorf("%s item %d: %q %q %q, want the publisher URL %q, %q, %q", slug, i, it.URL, it.Title, it.Publisher, a.URL, a.Title, a.Publisher)
				}
			}
			if bytes.Contains(data, []byte("news.google.com")) {
				t.Errorf("%s still has a Google News link:\n%s", slug, data)
			}
			for _, a := range rec.Articles {
				want := links.Article(a.Slug)
				has := bytes.Contains(data, []byte(`<a href="`+want+`">archived copy</a>`))
				if has != (a.Status != record.StatusFailed) {
					t.Errorf("%s: %s (%s) archived link %v", slug, a.Slug, a.Status, has)
				}
				if has {
					archivedLinks++
				}
			}
		}
		first := f.gen.Articles[0]
		wantLink := map[string]string{
			"":        "http://127.0.0.1:8080/articles/" + first,
			"viewer/": "https://archive.example/viewer/articles/" + first,
			"../site": "../site/articles/" + first + "/index.html",
		}[links.Site+strings.TrimPrefix(links.Viewer, "https://archive.example/")]
		if got := links.Article(first); got != wantLink {
			t.Errorf("Links%+v.Article = %q, want %q", links, got, wantLink)
		}
		if archivedLinks == 0 || archivedLinks != rep.Articles {
			t.Errorf("%d archived links, report says %d", archivedLinks, rep.Articles)
		}
	}
}

// TestWriteJSONL: one JSON object per line, each an article's meta.json,
// for exactly the articles the filter selects.
func TestWriteJSONL(t *testing.T) {
	f := newArchive(t, 12)
	ctx := testContext(t)
	read := func(filter stored.Filter) []record.ArticleMeta {
		t.Helper()
		var buf bytes.Buffer
		rep, err := WriteJSONL(ctx, f.sel(t, filter), &buf)
		if errors.Is(err, ErrNothing) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var out []record.ArticleMeta
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var m record.ArticleMeta
			dec := json.NewDecoder(strings.NewReader(sc.Text()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			out = append(out, m)
		}
		if rep.Articles != len(out) || rep.Bytes != int64(len(buf.String())) && rep.Bytes == 0 {
			t.Errorf("report %+v for %d lines", rep, len(out))
		}
		return out
	}
	all := read(stored.Filter{})
	if len(all) != len(f.gen.Articles) {
		t.Fatalf("%d lines, want %d", len(all), len(f.gen.Articles))
	}
	for _, m := range all {
		if m.Slug == "" || m.Status != f.gen.Status[m.Slug] || len(m.Digests) == 0 {
			t.Errorf("line %+v", m)
		}
	}
	blocked := read(stored.Filter{Status: record.StatusBlocked})
	for _, m := range blocked {
		if m.Status != record.StatusBlocked {
			t.Errorf("--status blocked gave %s (%s)", m.Slug, m.Status)
		}
	}
	if n := countStatus(f, record.StatusBlocked); len(blocked) != n {
		t.Errorf("%d blocked lines, want %d", len(blocked), n)
	}
	one := f.gen.Digests[1]
	rec, err := record.ReadDigest(ctx, f.st, one)
	if err != nil {
		t.Fatal(err)
	}
	got := read(stored.Filter{Digests: []string{strings.ToUpper(one)}})
	if len(got) != len(rec.Articles) {
		t.Errorf("--digest %s: %d lines, want %d", one, len(got), len(rec.Articles))
	}
	for _, m := range got {
		if !slices.Contains(m.Digests, one) {
			t.Errorf("--digest %s gave %s of %v", one, m.Slug, m.Digests)
		}
	}
	day := stored.DigestDate(rec)
	if got := read(stored.Filter{From: day, To: day}); len(got) != len(rec.Articles) {
		t.Errorf("--from %s --to %[1]s: %d lines, want %d", day.Format("2006-01-02"), len(got), len(rec.Articles))
	}
	tag := rec.FrontMatter.Tags[1]
	for _, m := range read(stored.Filter{Tag: strings.ToUpper(tag)}) {
		d, _ := record.ReadDigest(ctx, f.st, m.Digests[0])
		if !slices.Contains(d.FrontMatter.Tags, tag) {
			t.Errorf("--tag %s gave %s of %s (tags %v)", tag, m.Slug, d.Slug, d.FrontMatter.Tags)
		}
	}
	if got := read(stored.Filter{Tag: "no-such-tag"}); got != nil {
		t.Errorf("an unknown tag selected %d articles", len(got))
	}
}

func countStatus(f *archiveFixture, status string) int {
	n := 0
	for _, s := range f.gen.Status {
		if s == status {
			n++
		}
	}
	return n
}

// TestPrepareDir: a new or empty directory, or an earlier export of the same
// format, is written into; anything else is refused.
func TestPrepareDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := PrepareDir(dir, FormatSite); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(dir, FormatSite); err != nil {
		t.Errorf("again: %v", err)
	}
	if err := PrepareDir(dir, FormatDigests); !errors.Is(err, ErrOutNotEmpty) {
		t.Errorf("another format: %v", err)
	}
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "notes.txt"), []byte("mine"), 0o644)
	if err := PrepareDir(home, FormatSite); !errors.Is(err, ErrOutNotEmpty) || !regexp.MustCompile(`give a new or empty directory`).MatchString(err.Error()) {
		t.Errorf("a directory of other files: %v", err)
	}
}

// TestWriteDigestsOwnLinks: two digests list one article, one with a
// tracking parameter. Each rewritten digest links what its own item
// listed, never the other's tracking parameters: records written now
// (link, url per item) and records written before DigestArticle.Link,
// whose google_news_url held a publisher link and whose url could be the
// other item's.
func TestWriteDigestsOwnLinks(t *testing.T) {
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const (
		tracked = "https://paper.example/bridge.html?utm_source=x"
		plain   = "https://paper.example/bridge.html"
		gnews   = "https://news.google.com/rss/articles/CBMiAbc?oc=5"
	)
	item := record.DigestArticle{Slug: "bridge-reopens-paper", Title: "Bridge reopens", Publisher: "Paper", Status: record.StatusOK}
	w := record.Writer{Store: st}
	put := func(slug string, items ...record.DigestArticle) {
		t.Helper()
		d := record.DigestRecord{Slug: slug, FrontMatter: record.FrontMatter{Title: slug, Date: "2026-01-04"}, Articles: items,
			ArchivedAt: time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), Counts: map[string]int{record.StatusOK: len(items)}}
		if err := w.PutDigest(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	withLinks := func(link, gn, u string) record.DigestArticle {
		a := item
		a.Link, a.GoogleNewsURL, a.URL = link, gn, u
		return a
	}
	put("a", withLinks(tracked, "", tracked))
	put("b", withLinks(plain, "", plain))
	put("b-old", withLinks("", plain, tracked)) // as written before: the link in google_news_url, the other item's url
	put("c", withLinks("", gnews, plain))
	dir := filepath.Join(t.TempDir(), "digests")
	if err := PrepareDir(dir, FormatDigests); err != nil {
		t.Fatal(err)
	}
	sel, err := stored.Select(ctx, st, stored.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteDigests(ctx, sel, dir, Links{}); err != nil {
		t.Fatal(err)
	}
	for slug, want := range map[string]string{"a": tracked, "b": plain, "b-old": plain, "c": plain} {
		data, err := os.ReadFile(filepath.Join(dir, slug+".md"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := digest.Parse(slug+".md", data)
		if err != nil || len(d.Items) != 1 {
			t.Fatalf("%s: %v\n%s", slug, err, data)
		}
		if d.Items[0].URL != want {
			t.Errorf("%s links %q, want %q:\n%s", slug, d.Items[0].URL, want, data)
		}
	}
}

// TestExportAgainReplaces: exporting again into the directory of an
// earlier export of the same format replaces it: a narrower selection
// leaves none of the earlier export's pages behind (articles, digests,
// tags), while files the exports did not write (a note of the user's,
// beside them or inside their folders) stay.
func TestExportAgainReplaces(t *testing.T) {
	f := newArchive(t, 12)
	ctx := testContext(t)
	one := f.gen.Digests[0]
	rec, err := record.ReadDigest(ctx, f.st, one)
	if err != nil {
		t.Fatal(err)
	}
	files := func(dir string) map[string]bool {
		t.Helper()
		got := map[string]bool{}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				got[filepath.ToSlash(rel)] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	folders := func(dir string) []string {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	for _, format := range []Format{FormatSite, FormatDigests} {
		t.Run(string(format), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			write := func(filter stored.Filter) Report {
				t.Helper()
				if err := PrepareDir(dir, format); err != nil {
					t.Fatal(err)
				}
				var rep Report
				var err error
				if format == FormatSite {
					rep, err = WriteSite(ctx, f.sel(t, filter), dir, nil)
				} else {
					rep, err = WriteDigests(ctx, f.sel(t, filter), dir, Links{})
				}
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			write(stored.Filter{})
			mine := []string{"notes.txt"}
			if format == FormatSite {
				mine = append(mine, "articles/my-notes.txt")
			}
			for _, m := range mine {
				if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(m)), []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before := files(dir)
			rep := write(stored.Filter{Digests: []string{one}})
			after := files(dir)
			for _, m := range mine {
				if !after[m] {
					t.Errorf("%s, not written by an export, was removed", m)
				}
			}
			if rep.Removed == 0 || rep.Removed != len(before)-len(after) {
				t.Errorf("report says %d removed; %d files before, %d after", rep.Removed, len(before), len(after))
			}
			if format == FormatDigests {
				if want := map[string]bool{one + ".md": true, markerFile: true, "notes.txt": true}; !maps.Equal(after, want) {
					t.Errorf("files %v, want %v", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(want)))
				}
				return
			}
			var want []string
			for _, a := range rec.Articles {
				want = append(want, a.Slug)
			}
			want = append(want, "my-notes.txt")
			slices.Sort(want)
			if got := folders(filepath.Join(dir, "articles")); !slices.Equal(got, want) {
				t.Errorf("articles/ holds %v, want %v", got, want)
			}
			if got := folders(filepath.Join(dir, "digests")); !slices.Equal(got, []string{one}) {
				t.Errorf("digests/ holds %v, want %s alone", got, one)
			}
			// Nothing else: every file is one the second export wrote
			// (its manifest), or the user's.
			_, listed, err := readManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			want2 := map[string]bool{markerFile: true}
			for _, n := range append(listed, mine...) {
				want2[n] = true
			}
			if !maps.Equal(after, want2) {
				for n := range after {
					if !want2[n] {
						t.Errorf("%s is left from the earlier export", n)
					}
				}
			}
		})
	}
}

// TestDirOutFinish: an interrupted export removes nothing and keeps the
// earlier export's files in its manifest, and a manifest naming a path
// outside the directory (edited by hand) never makes an export remove it.
func TestDirOutFinish(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	if err := PrepareDir(dir, FormatDigests); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "outside.md")
	os.WriteFile(outside, []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "old.md"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, markerFile), []byte("digests\nold.md\n../outside.md\n"+outside+"\n"), 0o644)
	o := newDirOut(dir, FormatDigests)
	if err := o.write("new.md", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if n, err := o.finish(false); err != nil || n != 0 {
		t.Fatalf("interrupted: removed %d, %v", n, err)
	}
	if _, listed, _ := readManifest(dir); !slices.Contains(listed, "old.md") || !slices.Contains(listed, "new.md") {
		t.Errorf("interrupted export's manifest lists %v", listed)
	}
	o = newDirOut(dir, FormatDigests)
	o.write("new.md", []byte("new"))
	if n, err := o.finish(true); err != nil || n != 1 {
		t.Fatalf("completed: removed %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.md")); err == nil {
		t.Error("old.md of the earlier export stays")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file outside the directory was removed: %v", err)
	}
}

// TestLinksCheck: a base every exported link carries is an http(s) URL, or
// for a site export also a path; nothing that would run or lead elsewhere.
func TestLinksCheck(t *testing.T) {
	for _, tt := range []struct {
		links Links
		ok    bool
	}{
		{Links{}, true},
		{Links{Viewer: "http://127.0.0.1:8080"}, true},
		{Links{Viewer: "https://archive.example/viewer/"}, true},
		{Links{Site: "../site"}, true},
		{Links{Site: "/archive"}, true},
		{Links{Site: "https://news.example/archive"}, true},
		{Links{Viewer: "javascript:alert(1)"}, false},
		{Links{Viewer: "JavaScript:alert(1)"}, false},
		{Links{Viewer: "/viewer"}, false},
		{Links{Viewer: "http://user:pw@host.example"}, false},
		{Links{Viewer: "http:///nohost"}, false},
		{Links{Viewer: " http://x.example"}, false},
		{Links{Site: "javascript:alert(1)"}, false},
		{Links{Site: "data:text/html,<b>x</b>"}, false},
		{Links{Site: "//evil.example/site"}, false},
		{Links{Site: "ftp://host.example/site"}, false},
	} {
		if err := tt.links.Check(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v, want ok %v", tt.links, err, tt.ok)
		}
	}
}
