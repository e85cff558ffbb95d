package viewer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// TestHostileQueries sends oversized and overflowing query strings to every
// kind of route, pages and API alike: each is refused with 414 or 400 before
// any work, in the route's own format (HTML or JSON), with the security
// headers, and nothing hostile is echoed unescaped.
func TestHostileQueries(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := writeFixture(t, st)
	srv := newTestServer(t, st, Options{PageSize: 2, AllowedHosts: []string{"127.0.0.1"}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	html := "text/html; charset=utf-8"
	jsonCT := "application/json; charset=utf-8"
	huge := "q=" + strings.Repeat("%3Cscript%3E", 200) // 2,400 bytes, over the 2 KiB limit
	manyParams := strings.Repeat("page=1&", 300)       // 2,100 bytes of repeated parameters
	overflow := "99999999999999999999999999"
	terms := strings.TrimSpace(strings.Repeat("w ", 33)) // one word over the 32-term limit
	var cases []handlerCase
	for _, route := range []struct{ path, ctype string }{
		{"/", html},
		{"/search", html},
		{"/digests/" + f.gen.Digests[0], html},
		{"/articles/" + f.gen.Articles[0], html},
		{"/articles/" + f.gen.Articles[0] + "/raw.html", ""},
		{"/api/digests", jsonCT},
		{"/api/search", jsonCT},
		{"/api/articles/" + f.gen.Articles[0], jsonCT},
		{"/healthz", ""},
	} {
		cases = append(cases,
			handlerCase{name: route.path + " oversized query", path: route.path + "?" + huge, status: http.StatusRequestURITooLong,
				ctype: route.ctype, excludes: []string{"<script>"}},
			handlerCase{name: route.path + " many parameters", path: route.path + "?" + manyParams, status: http.StatusRequestURITooLong,
				ctype: route.ctype},
		)
	}
	cases = append(cases,
		handlerCase{name: "home page number overflow", path: "/?page=" + overflow, status: http.StatusBadRequest, ctype: html},
		handlerCase{name: "search page number overflow", path: "/search?q=w&page=" + overflow, status: http.StatusBadRequest, ctype: html},
		handlerCase{name: "api per_page overflow", path: "/api/digests?per_page=" + overflow, status: http.StatusBadRequest, ctype: jsonCT},
		handlerCase{name: "api page overflow", path: "/api/digests?page=" + overflow, status: http.StatusBadRequest, ctype: jsonCT},
		handlerCase{name: "search too many terms", path: "/search?q=" + strings.ReplaceAll(terms, " ", "+"), status: http.StatusBadRequest, ctype: html},
		handlerCase{name: "api search too many terms", path: "/api/search?q=" + strings.ReplaceAll(terms, " ", "+"), status: http.StatusBadRequest, ctype: jsonCT},
		handlerCase{name: "api search oversized", path: "/api/search?q=" + strings.Repeat("a", 300), status: http.StatusBadRequest, ctype: jsonCT},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runHandlerCase(t, client, ts.URL, c) })
	}
}

// TestSnapshotsNotShown: a raw snapshot the viewer cannot rewrite (larger
// than maxInertBytes, or nested deeper than the HTML parser accepts) is not
// passed on unchecked: a short notice takes its place in the frame, and
// the download gives the bytes as archived.
func TestSnapshotsNotShown(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	big := "<p>" + strings.Repeat(`<link rel="preconnect" href="http://a.example/">`, maxInertBytes/48+1)
	deep := strings.Repeat("<div>", 600) + `<link rel="preconnect" href="http://a.example/">`
	edge := "<p>" + strings.Repeat("x", maxInertBytes-3) // exactly the limit: shown
	for slug, raw := range map[string]string{"big": big, "deep": deep, "edge": edge} {
		if err := viewertest.PutArticle(ctx, st, viewertest.Article{
			Meta: record.ArticleMeta{Slug: slug, Title: slug, Status: record.StatusOK, Charset: "utf-8"}, Raw: raw,
		}); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(newTestServer(t, st, Options{}))
	t.Cleanup(ts.Close)
	str := func(s string) *string { return &s }
	for _, c := range []handlerCase{
		{name: "too large", path: "/articles/big/raw.html", status: 200, ctype: "text/html; charset=utf-8", only: snapshotHeaderNames,
			text: []string{}, contains: []string{"larger than 16 MiB, too large to show here"}, excludes: []string{"a.example"}},
		{name: "too large download", path: "/articles/big/raw.html?download=1", status: 200, body: str(big)},
		{name: "too deep", path: "/articles/deep/raw.html", status: 200, ctype: "text/html; charset=utf-8",
			contains: []string{"cannot be checked by the viewer&#39;s HTML parser (open stack of elements exceeds 512 nodes)"}, excludes: []string{"a.example"}},
		{name: "too deep download", path: "/articles/deep/raw.html?download=1", status: 200, body: str(deep)},
		{name: "at the limit", path: "/articles/edge/raw.html", status: 200, check: func(t *testing.T, b []byte) {
			if len(b) < maxInertBytes {
				t.Errorf("a snapshot of exactly %d bytes: %d bytes shown", maxInertBytes, len(b))
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) { runHandlerCase(t, ts.Client(), ts.URL, c) })
	}
}

// TestHugeMetadataShown is issue 10 item 8 for the viewer: an article
// whose page had a 9 MB og:title and a 5 MB og:description is stored by
// record.Writer within the metadata bounds, so the viewer shows it (200,
// not the 500 of a record over record.MaxRecordSize), and a digest of
// 30,000 long links (24 MB of record before) is listed on the home page
// with all its articles counted, and shown a part at a time.
func TestHugeMetadataShown(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	w := record.Writer{Store: st}
	meta := record.ArticleMeta{Slug: "huge", Title: "Huge", Publisher: "P", URL: "https://p.example/a", Status: record.StatusOK,
		FetchedAt: time.Now().UTC(), ArticleTitle: strings.Repeat("T", 9<<20), Excerpt: strings.Repeat("D", 5<<20), Digests: []string{"big"}}
	if _, err := w.Write(ctx, &record.Snapshot{Meta: meta, Raw: []byte("<p>page"), Readable: "<p>page", Text: "page"}, record.Prior{}); err != nil {
		t.Fatal(err)
	}
	const n = 30_000
	d := record.DigestRecord{Slug: "big", FrontMatter: record.FrontMatter{Title: "Big digest"}, ArchivedAt: time.Now().UTC(),
		Counts: map[string]int{record.StatusOK: n}}
	for i := range n {
		d.Articles = append(d.Articles, record.DigestArticle{Slug: fmt.Sprintf("story-%d-the-paper", i), Title: fmt.Sprintf("Story %d", i),
			Publisher: "The Paper", URL: fmt.Sprintf("https://www.the-paper.example/news/2026/01/04/story-%d-%s.html", i, strings.Repeat("x", 400)),
			GoogleNewsURL: "https://news.google.com/rss/articles/" + strings.Repeat("C", 200), Status: record.StatusOK})
	}
	d.Articles[0].Slug = "huge"
	if err := w.PutDigest(ctx, d); err != nil {
		t.Fatal(err)
	}
	part2, err := record.ReadDigestPart(ctx, st, "big", 2)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newTestServer(t, st, Options{}))
	t.Cleanup(ts.Close)
	html := "text/html; charset=utf-8"
	for _, c := range []handlerCase{
		{name: "article page", path: "/articles/huge", status: 200, ctype: html, contains: []string{strings.Repeat("T", 100)}},
		{name: "article api", path: "/api/articles/huge", status: 200, ctype: "application/json; charset=utf-8"},
		{name: "digest page", path: "/digests/big", status: 200, ctype: html, contains: []string{"Big digest", "Part 1 of", `href="/digests/big?page=2"`}},
		{name: "digest part 2", path: "/digests/big?page=2", status: 200, ctype: html, contains: []string{"Part 2 of", `href="/digests/big"`,
			">" + part2.Articles[0].Title + "<", fmt.Sprintf(`<span class="num">%d</span>`, part2.Offset+1)}},
		{name: "digest part past the last", path: "/digests/big?page=99", status: 404, ctype: html},
		{name: "home lists the digest", path: "/api/digests", status: 200, contains: []string{`"slug": "big"`, `"articles": 30000`}},
	} {
		t.Run(c.name, func(t *testing.T) { runHandlerCase(t, ts.Client(), ts.URL, c) })
	}
}
