package record

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/linkarc/linkarc/storage"
)

// TestBoundedMeta is issue 10 item 8 for meta.json: a page whose og:title
// is 9 MB and og:description 5 MB (Cyrillic, so cuts fall inside
// characters), with a thousand redirects, makes a meta.json of a few
// hundred KiB that every reader reads; each field is cut to its bound at a
// character boundary.
func TestBoundedMeta(t *testing.T) {
	s := localStore(t)
	ctx := context.Background()
	w := Writer{Store: s}
	huge := func(n int) string { return strings.Repeat("ж", n/2) } // 2 bytes each
	chain := make([]string, 1000)
	for i := range chain {
		chain[i] = "https://p.example/" + strings.Repeat("r", 100<<10)
	}
	m := ArticleMeta{
		Slug: "story", Title: huge(3 << 20), Publisher: huge(1 << 20), URL: "https://p.example/" + strings.Repeat("u", 1<<20),
		Status: StatusOK, FetchedAt: time.Now().UTC(), RedirectChain: chain, Error: huge(1 << 20),
		ArticleTitle: huge(9 << 20), Excerpt: huge(5 << 20), Byline: huge(1 << 20), SiteName: huge(1 << 20),
		Image: strings.Repeat("i", 1<<20), Lang: huge(1 << 10), Charset: huge(1 << 10),
	}
	stored, err := w.Write(ctx, &Snapshot{Meta: m, Raw: []byte("<p>x"), Text: "x"}, Prior{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, ArticleKey("story", MetaFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size > 512<<10 {
		t.Fatalf("meta.json is %d bytes, want under 512 KiB", info.Size)
	}
	got, err := ReadMeta(ctx, s, "story")
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"title", got.Title, MaxTitleLen}, {"publisher", got.Publisher, MaxTitleLen}, {"url", got.URL, MaxURLLen},
		{"error", got.Error, MaxTitleLen}, {"article_title", got.ArticleTitle, MaxTitleLen}, {"excerpt", got.Excerpt, MaxDescriptionLen},
		{"byline", got.Byline, MaxTitleLen}, {"site_name", got.SiteName, MaxTitleLen}, {"image", got.Image, MaxURLLen},
		{"lang", got.Lang, MaxShortFieldLen}, {"charset", got.Charset, MaxShortFieldLen},
	} {
		if len(f.value) > f.max || len(f.value) < f.max-3 || !utf8.ValidString(f.value) {
			t.Errorf("%s: %d bytes (valid UTF-8: %v), want at most %d, cut at a character", f.name, len(f.value), utf8.ValidString(f.value), f.max)
		}
	}
	if len(got.RedirectChain) != MaxRedirects || len(got.RedirectChain[0]) != MaxURLLen {
		t.Errorf("redirect chain: %d entries of %d bytes", len(got.RedirectChain), len(got.RedirectChain[0]))
	}
	if stored.ArticleTitle != got.ArticleTitle {
		t.Error("Write returned another meta than it stored")
	}
}

// TestBoundedDigest is issue 10 item 8 for digest records: a digest of
// 100,000 links (a 24.7 MB record before, over the viewer's limit) stays
// readable: the record holds the first articles that fit in MaxRecordSize
// and continuation parts the rest, in order, each readable; writing a
// smaller digest again removes the parts it no longer has.
func TestBoundedDigest(t *testing.T) {
	s := localStore(t)
	ctx := context.Background()
	const n = 100_000
	d := DigestRecord{Slug: "huge", FrontMatter: FrontMatter{Title: "Huge", Description: strings.Repeat("d", 1<<20)},
		ArchivedAt: time.Now().UTC(), Counts: map[string]int{StatusOK: n}}
	for i := range n {
		d.Articles = append(d.Articles, DigestArticle{
			Slug:  fmt.Sprintf("a-fairly-ordinary-headline-about-the-news-of-the-day-number-%d-the-paper", i),
			Title: fmt.Sprintf("A fairly ordinary headline about the news of the day, number %d", i), Publisher: "The Paper",
			GoogleNewsURL: "https://news.google.com/rss/articles/" + strings.Repeat("C", 180) + fmt.Sprint(i),
			URL:           fmt.Sprintf("https://www.the-paper.example/news/2026/01/04/a-fairly-ordinary-headline-%d.html", i),
			Status:        StatusOK,
		})
	}
	w := Writer{Store: s}
	if err := w.PutDigest(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDigest(ctx, s, "huge")
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	all := got.Articles
	for part := 2; part <= got.Parts+1; part++ {
		p, err := ReadDigestPart(ctx, s, "huge", part)
		if err != nil {
			t.Fatalf("part %d: %v", part, err)
		}
		all = append(all, p.Articles...)
	}
	for _, key := range append([]string{DigestKey("huge")}, DigestPartKey("huge", 2)) {
		if info, err := s.Stat(ctx, key); err != nil || info.Size > MaxRecordSize {
			t.Fatalf("%s: %d bytes (%v), want at most %d", key, info.Size, err, MaxRecordSize)
		}
	}
	if len(all) != n || got.Parts == 0 || got.Counts[StatusOK] != n {
		t.Fatalf("%d articles in the record and %d parts, counts %v; want all %d", len(all), got.Parts, got.Counts, n)
	}
	for i := range all {
		if all[i].Slug != d.Articles[i].Slug {
			t.Fatalf("article %d is %q, want %q", i, all[i].Slug, d.Articles[i].Slug)
		}
	}
	if len(got.FrontMatter.Description) != MaxDescriptionLen {
		t.Fatalf("description %d bytes", len(got.FrontMatter.Description))
	}
	t.Logf("100,000 links: %d articles in the record, the rest in %d parts", len(got.Articles), got.Parts)
	whole, err := ReadDigestAll(ctx, s, "huge")
	if err != nil || len(whole.Articles) != n || whole.Articles[n-1].Slug != d.Articles[n-1].Slug {
		t.Fatalf("ReadDigestAll: %v", err)
	}
	// What a tool rewrites from ReadDigestAll keeps every article.
	if err := w.PutDigest(ctx, *whole); err != nil {
		t.Fatal(err)
	}
	if again, err := ReadDigestAll(ctx, s, "huge"); err != nil || len(again.Articles) != n {
		t.Fatalf("rewritten: %v", err)
	}

	d.Articles = d.Articles[:10]
	if err := w.PutDigest(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadDigest(ctx, s, "huge"); err != nil || got.Parts != 0 || len(got.Articles) != 10 {
		t.Fatalf("smaller digest: %v", err)
	}
	if _, err := s.Stat(ctx, DigestPartKey("huge", 2)); !storage.IsNotExist(err) {
		t.Fatalf("a stale part is left: %v", err)
	}
}
