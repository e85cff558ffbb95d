package viewer

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/thumbnail"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// selfContained is a page.html as archive/singlepage builds it, plus what
// a tampered one could hold (a script, a preconnect hint), which the
// viewer's rewrite must still take out.
const selfContained = `<!DOCTYPE html><html><head><meta charset="utf-8"/><style>body{background:url(data:image/png;base64,iVBORw0KGgo=)}@font-face{font-family:F;src:url(data:font/woff2;base64,d09GMg==)}</style>` +
	`<link rel="preconnect" href="https://cdn.example/"><script>alert(1)</script></head>` +
	`<body><h1 class="selfcontained">Styled story</h1><img src="data:image/png;base64,iVBORw0KGgo=" alt="lead"></body></html>`

func testThumb(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 400, 200))
	for x := range 400 {
		img.Set(x, 100, color.RGBA{200, 0, 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	j, err := thumbnail.Make(b.Bytes(), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// writePageFixture writes a digest of three articles: one whose capture
// has page.html and thumb.jpg (and an earlier capture with its own
// page.html), one captured before page.html existed, and one whose stored
// thumbnail is not a JPEG.
func writePageFixture(t testing.TB, st storage.Store) []byte {
	t.Helper()
	ctx := testContext(t)
	thumb := testThumb(t)
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	meta := func(slug string) record.ArticleMeta {
		return record.ArticleMeta{Slug: slug, Title: "Title " + slug, Publisher: "P", URL: "https://publisher.example/" + slug,
			Status: record.StatusOK, HTTPStatus: 200, FetchedAt: at, Charset: "utf-8", Digests: []string{"pages"},
			Image: "https://publisher.example/lead.jpg"}
	}
	withPage := meta("with-page")
	withPage.Sums = map[string]string{record.PageFile: sha256Hex(selfContained)}
	for _, a := range []viewertest.Article{
		{Meta: withPage, Raw: "<p>raw with-page</p>", Text: "text", Readable: "<p>readable</p>",
			Files: []viewertest.File{{Name: record.WARCFile, Body: []byte("warc")}, {Name: record.PageFile, Body: []byte(selfContained)}, {Name: record.ThumbFile, Body: thumb}},
			History: []viewertest.Capture{{ID: "20300101T000000Z", Meta: meta("with-page"), Raw: "<p>old raw</p>",
				Files: []viewertest.File{{Name: record.PageFile, Body: []byte(`<p class="old-page">old self-contained</p>`)}}}}},
		{Meta: meta("older"), Raw: "<p>raw older</p>", Text: "text"},
		{Meta: meta("bad-thumb"), Raw: "<p>raw</p>", Text: "text",
			Files: []viewertest.File{{Name: record.ThumbFile, Body: []byte("\x89PNG\r\n\x1a\nnot a jpeg")}}},
	} {
		if err := viewertest.PutArticle(ctx, st, a); err != nil {
			t.Fatal(err)
		}
	}
	d := record.DigestRecord{Slug: "pages", FrontMatter: record.FrontMatter{Title: "Pages digest", Date: "2031-03-04"}, ArchivedAt: at}
	for _, s := range []string{"with-page", "older", "bad-thumb"} {
		d.Articles = append(d.Articles, record.DigestArticle{Slug: s, Title: "Title " + s, Status: record.StatusOK, URL: "https://publisher.example/" + s})
	}
	if err := viewertest.PutDigest(ctx, st, d); err != nil {
		t.Fatal(err)
	}
	return thumb
}

// TestArchivedPage: "Archived page" shows page.html when the capture has
// it, through the same rewrite and sandbox as raw.html, and raw.html for
// captures without it; page.html downloads as stored; thumbnails are
// served only as the JPEGs the capture made, and lists show them.
func TestArchivedPage(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	thumb := writePageFixture(t, st)
	srv := newTestServer(t, st, Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := ts.Client()
	page, stored := selfContained, string(thumb)
	str := func(s string) *string { return &s }
	for _, c := range []handlerCase{
		{name: "wrapper shows page.html", path: "/articles/with-page/raw", status: 200,
			contains: []string{`src="/articles/with-page/page.html"`, `href="/articles/with-page/page.html?download=1"`, `href="/articles/with-page/raw.html?download=1"`, "from the archive"}},
		{name: "page.html inline: rewritten, sandboxed", path: "/articles/with-page/page.html", status: 200,
			ctype:    "text/html; charset=utf-8",
			headers:  map[string]string{"Content-Security-Policy": snapshotCSP},
			contains: []string{`class="selfcontained"`, "url(data:image/png;base64,iVBORw0KGgo=)", `src="data:image/png;base64,iVBORw0KGgo="`, "font/woff2"},
			excludes: []string{"<script", "preconnect"}},
		{name: "page.html inline: its ETag is its sum and the rules", path: "/articles/with-page/page.html", status: 200,
			headers: map[string]string{"ETag": `"` + sha256Hex(selfContained) + "-" + inertVersion + `"`}},
		{name: "page.html conditional", path: "/articles/with-page/page.html", status: 304,
			header: map[string]string{"If-None-Match": `"` + sha256Hex(selfContained) + "-" + inertVersion + `"`}},
		{name: "page.html download: as stored", path: "/articles/with-page/page.html?download=1", status: 200,
			ctype:   "text/html; charset=utf-8",
			headers: map[string]string{"Content-Disposition": `attachment; filename=with-page.html`, "Content-Security-Policy": snapshotCSP},
			body:    &page},
		{name: "page.html download: HEAD", method: "HEAD", path: "/articles/with-page/page.html?download=1", status: 200,
			ctype: "text/html; charset=utf-8", body: str("")},
		{name: "page.html download conditional", path: "/articles/with-page/page.html?download=1", status: 304,
			header: map[string]string{"If-None-Match": `"` + sha256Hex(selfContained) + `"`}},
		{name: "history page.html download", path: "/articles/with-page/history/20300101T000000Z/page.html?download=1", status: 200,
			ctype: "text/html; charset=utf-8", body: str(`<p class="old-page">old self-contained</p>`)},
		{name: "history page.html HEAD", method: "HEAD", path: "/articles/with-page/history/20300101T000000Z/page.html", status: 200,
			ctype: "text/html; charset=utf-8"},
		{name: "history capture's page.html", path: "/articles/with-page/history/20300101T000000Z/raw", status: 200,
			contains: []string{`src="/articles/with-page/history/20300101T000000Z/page.html"`}},
		{name: "history page.html", path: "/articles/with-page/history/20300101T000000Z/page.html", status: 200,
			contains: []string{"old self-contained"}},
		{name: "older capture falls back to raw.html", path: "/articles/older/raw", status: 200,
			contains: []string{`src="/articles/older/raw.html"`, "images and web fonts are missing"}, excludes: []string{"page.html"}},
		{name: "older capture has no page.html", path: "/articles/older/page.html", status: 404},
		{name: "article page: download link", path: "/articles/with-page", status: 200,
			contains: []string{`href="/articles/with-page/page.html?download=1"`, "Download page"}},
		{name: "older article: no download link", path: "/articles/older", status: 200, excludes: []string{"page.html"}},
		{name: "thumbnail", path: "/articles/with-page/thumb.jpg", status: 200, ctype: "image/jpeg", body: &stored,
			headers: map[string]string{"Content-Security-Policy": pageCSP, "X-Content-Type-Options": "nosniff"}},
		{name: "a stored thumbnail that is not a JPEG is not served", path: "/articles/bad-thumb/thumb.jpg", status: 404, ctype: "text/html; charset=utf-8"},
		{name: "no thumbnail", path: "/articles/older/thumb.jpg", status: 404},
		{name: "digest lists thumbnails", path: "/digests/pages", status: 200,
			contains: []string{`<img class="thumb" src="/articles/with-page/thumb.jpg"`, `src="/articles/bad-thumb/thumb.jpg"`},
			excludes: []string{"/articles/older/thumb.jpg"}},
		{name: "API links to the page and the thumbnail", path: "/api/articles/with-page", status: 200,
			contains: []string{`"page": "/articles/with-page/page.html"`, `"thumb": "/articles/with-page/thumb.jpg"`}},
		{name: "API: no page link for an older capture", path: "/api/articles/older", status: 200, excludes: []string{`"page":`, `"thumb":`}},
		{name: "home shows the lead article's thumbnail", path: "/", status: 200,
			contains: []string{`<img class="thumb" src="/articles/with-page/thumb.jpg"`}},
	} {
		t.Run(c.name, func(t *testing.T) { runHandlerCase(t, client, ts.URL, c) })
	}

	// A conditional request for the thumbnail is answered from its ETag.
	resp, err := client.Get(ts.URL + "/articles/with-page/thumb.jpg")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/articles/with-page/thumb.jpg", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified || !strings.HasPrefix(resp.Header.Get("ETag"), `"`) {
		t.Errorf("conditional thumbnail: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
}

// TestSiteArchivedPage: a static site of an archive with self-contained
// pages holds them, the wrapper frames them, and the thumbnails the lists
// show are files of the site.
func TestSiteArchivedPage(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	thumb := writePageFixture(t, st)
	site, err := NewSite(SiteOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	files := map[string][]byte{}
	if _, err := site.Write(testContext(t), func(name string, body []byte) error {
		if _, dup := files[name]; dup {
			t.Errorf("%s written twice", name)
		}
		files[name] = bytes.Clone(body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["articles/with-page/thumb.jpg"], thumb) {
		t.Error("the site has no thumbnail of with-page")
	}
	for name, want := range map[string]string{
		"articles/with-page/page.html":                          `class="selfcontained"`,
		"articles/with-page/raw/index.html":                     `src="../page.html"`,
		"articles/older/raw/index.html":                         `src="../raw.html"`,
		"digests/pages/index.html":                              `src="../../articles/with-page/thumb.jpg"`,
		"articles/with-page/history/20300101T000000Z/page.html": "old self-contained",
		// "Download page" is the site's page.html, not a dead button.
		"articles/with-page/index.html": `download="" href="page.html"`,
	} {
		if !strings.Contains(string(files[name]), want) {
			t.Errorf("%s lacks %s:\n%.600s", name, want, files[name])
		}
	}
	if want := `download="" href="../page.html"`; !strings.Contains(string(files["articles/with-page/raw/index.html"]), want) {
		t.Errorf("articles/with-page/raw/index.html lacks %s", want)
	}
	if strings.Contains(string(files["articles/with-page/page.html"]), "<script") {
		t.Error("the site's page.html has a script")
	}
}
