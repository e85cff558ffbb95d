package viewer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// The named articles and digests of the test archive, next to the
// generated ones.
const (
	xssSlug       = "xss-article"
	xssDigest     = "xss-digest"
	historySlug   = "history-article"
	historyOld    = "20240101T080000Z"
	unicodeSlug   = "новости-дня-reuters"
	brokenSlug    = "broken-meta"
	cp1251Slug    = "windows-1251-page"
	failedSlug    = "failed-article"
	rankTitleSlug = "zorblax-in-title"
	rankTextSlug  = "zorblax-in-text"
	phraseSlug    = "quantum-marmalade-phrase"
	wordsSlug     = "quantum-and-marmalade-apart"
	hostileSlug   = "hostile-raw"
	hostileOld    = "20291231T093000Z" // an earlier capture of hostileSlug, as hostile
	hostileFrames = "20291230T093000Z" // an earlier one still: a hostile frameset
	namedDigest   = "2030-01-01-named-articles"
	namedFMSlug   = "hand-made" // namedDigest's front-matter slug
)

// longGoogleNewsURL is a Google News link of the length real ones have.
var longGoogleNewsURL = "https://news.google.com/rss/articles/CBMi" + strings.Repeat("hQFBVV95cUxPa2dzWnR", 14) + "?oc=5"

// fixture is the test archive: a generated part plus hand-made articles for
// escaping, history, charsets, ranking and damaged records.
type fixture struct {
	gen      *viewertest.Generated
	payloads []string // hostile text, testdata/viewer/xss-payloads.txt
	urls     []string // hostile URLs, testdata/viewer/xss-urls.txt
	raw      map[string]string
}

func readLines(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "viewer", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "viewer", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFixture writes the test archive into st.
func writeFixture(t testing.TB, st storage.Store) *fixture {
	t.Helper()
	ctx := testContext(t)
	gen, err := viewertest.Generate(ctx, st, viewertest.GenerateOptions{Articles: 30, PerDigest: 10, Words: 120, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{gen: gen, payloads: readLines(t, "xss-payloads.txt"), urls: readLines(t, "xss-urls.txt"), raw: map[string]string{}}
	// Spellings a line-per-URL file cannot hold: browsers drop tabs and
	// newlines anywhere in a URL and leading control characters.
	f.urls = append(f.urls, "java\nscript:alert(15)", "\r\njavascript:alert(16)", "\x01javascript:alert(17)")
	for _, slug := range gen.Articles {
		if gen.Status[slug] != record.StatusFailed {
			f.raw[slug] = string(storagetest.ReadObject(t, st, record.ArticleKey(slug, record.RawFile)))
		}
	}
	at := time.Date(2030, 1, 1, 9, 30, 0, 0, time.UTC)
	meta := func(slug, title string) record.ArticleMeta {
		return record.ArticleMeta{
			Slug: slug, Title: title, Publisher: "Test Publisher", URL: "https://publisher.example/" + slug,
			Status: record.StatusOK, HTTPStatus: 200, FetchedAt: at, Charset: "utf-8",
			Digests: []string{namedDigest},
		}
	}
	put := func(a viewertest.Article) {
		t.Helper()
		if err := viewertest.PutArticle(ctx, st, a); err != nil {
			t.Fatal(err)
		}
		f.raw[a.Meta.Slug] = a.Raw
	}

	// Hostile text in every field the viewer shows.
	xm := meta(xssSlug, f.payloads[0]+" "+f.payloads[1])
	xm.ArticleTitle = f.payloads[0]
	xm.Byline = f.payloads[1] + " " + f.payloads[3]
	xm.Publisher = f.payloads[2]
	xm.SiteName = f.payloads[4]
	xm.URL = f.urls[0]
	xm.FinalURL = f.urls[1]
	xm.RedirectChain = f.urls
	xm.GoogleNewsURL = f.urls[5]
	xm.Reason = record.Reason(f.payloads[5])
	xm.Error = f.payloads[6]
	xm.Status = "<b>weird</b>"
	xm.Charset = `utf-8"><script>alert(1)</script>`
	xm.ContentType = f.payloads[7]
	xm.PublishedTime = f.payloads[8]
	xm.Lang = f.payloads[9]
	xm.Digests = []string{xssDigest, "../../etc/passwd", f.payloads[0]}
	put(viewertest.Article{
		Meta:     xm,
		Raw:      "<html><body><script>alert(1)</script><p>raw</p></body></html>",
		Readable: readTestdata(t, "hostile-readable.html"),
		Text:     strings.Join(f.payloads, "\n"),
	})
	xd := record.DigestRecord{
		Slug:        xssDigest,
		FrontMatter: record.FrontMatter{Title: f.payloads[2] + " digest", Date: f.payloads[8], Description: f.payloads[3], Link: f.urls[0]},
		ArchivedAt:  at,
		Skipped: []record.SkippedLink{
			{Title: f.payloads[4], URL: "javascript:alert(1)", Reason: `scheme "javascript" is not http or https`},
			{Title: "127.0.0.1:8701/news/latin1.html", Reason: f.payloads[5]},
		},
		SkippedTotal: 250,
	}
	for i, u := range f.urls {
		xd.Articles = append(xd.Articles, record.DigestArticle{
			Slug: []string{xssSlug, "../escape", "a/b", ".hidden"}[i%4], Title: f.payloads[i%len(f.payloads)],
			Publisher: f.payloads[(i+1)%len(f.payloads)], URL: u, GoogleNewsURL: u, Status: "failed", Reason: record.Reason(f.payloads[(i+2)%len(f.payloads)]),
		})
	}
	if err := viewertest.PutDigest(ctx, st, xd); err != nil {
		t.Fatal(err)
	}

	// An article with an earlier capture.
	hm := meta(historySlug, "An article captured twice")
	hm.ArticleTitle = "An article captured twice (second capture)"
	// One redirect, which the publisher and final URLs already show, and a
	// Google News link as long as real ones are.
	hm.FinalURL = "https://publisher.example/final/" + historySlug
	hm.RedirectChain = []string{hm.URL, hm.FinalURL}
	hm.GoogleNewsURL = longGoogleNewsURL
	old := meta(historySlug, "An article captured twice")
	old.FetchedAt = at.Add(-24 * time.Hour)
	old.Charset = "iso-8859-1"
	put(viewertest.Article{
		Meta: hm, Raw: "<html><body><p>current capture</p></body></html>",
		Readable: "<p>The current capture's readable text.</p>", Text: "The current capture's readable text.\n",
		History: []viewertest.Capture{{ID: historyOld, Meta: old, Raw: "<html><body><p>earlier capture</p></body></html>", Text: "earlier capture text\n"}},
	})

	// A non-Latin slug, as the archiver's slugifier makes them.
	um := meta(unicodeSlug, "Новости дня")
	put(viewertest.Article{Meta: um, Raw: "<p>Привет</p>", Readable: "<p>Новости дня: короткий текст.</p>", Text: "Новости дня: короткий текст.\n"})

	// A page in windows-1251, declared only in the HTTP header.
	cm := meta(cp1251Slug, "Windows-1251 page")
	cm.Charset = "windows-1251"
	put(viewertest.Article{Meta: cm, Raw: "<html><body><p>\xcf\xf0\xe8\xe2\xe5\xf2</p></body></html>", Text: "Привет\n"})

	// A failed capture: meta.json only.
	fm := meta(failedSlug, "A page that could not be fetched")
	fm.Status, fm.Reason, fm.Error, fm.HTTPStatus = record.StatusFailed, "fetch failed", "dial tcp 203.0.113.9:443: connect: connection refused", 0
	put(viewertest.Article{Meta: fm})

	// Ranking: the rare word in a title beats the same word in body text;
	// a phrase matches only where its words are adjacent.
	rm := meta(rankTitleSlug, "Zorblax findings published")
	rm.FinalURL = "https://publisher.example/final/" + rankTitleSlug
	rm.RedirectChain = []string{rm.URL, "https://publisher.example/hop", rm.FinalURL}
	put(viewertest.Article{Meta: rm, Readable: "<p>Nothing else here.</p>", Text: "Nothing else here.\n"})
	put(viewertest.Article{Meta: meta(rankTextSlug, "An unrelated headline"), Readable: "<p>Deep in the text: zorblax.</p>", Text: "Deep in the text: zorblax.\n"})
	put(viewertest.Article{Meta: meta(phraseSlug, "Breakfast science"), Text: "Researchers made quantum marmalade at dawn.\n"})
	put(viewertest.Article{Meta: meta(wordsSlug, "Physics and preserves"), Text: "A quantum leap for the marmalade industry.\n"})

	// The page the browser test opens: tries every way to run or fetch, in
	// the current capture and in an earlier one.
	hostileRaw := readTestdata(t, "hostile-raw.html")
	oldHostile, framesHostile := meta(hostileSlug, "A hostile archived page"), meta(hostileSlug, "A hostile archived page")
	oldHostile.FetchedAt, framesHostile.FetchedAt = at.Add(-time.Hour), at.Add(-25*time.Hour)
	put(viewertest.Article{Meta: meta(hostileSlug, "A hostile archived page"), Raw: hostileRaw,
		Readable: "<p>The readable view of the hostile page.</p>", Text: "The readable view of the hostile page.\n",
		History: []viewertest.Capture{
			{ID: hostileFrames, Meta: framesHostile, Raw: readTestdata(t, "hostile-frameset.html")},
			{ID: hostileOld, Meta: oldHostile, Raw: hostileRaw},
		}})

	// A damaged meta.json.
	if err := viewertest.PutRaw(ctx, st, record.ArticleKey(brokenSlug, record.MetaFile), `{"slug": "broken-meta", "title": `); err != nil {
		t.Fatal(err)
	}

	// A digest with everything the viewer shows of front matter: a slug of
	// its own, categories and tags (one twice in another case), a
	// description with HTML entities and markup, a link to the Google
	// News topic it came from, an absolute source path, and items with
	// tags of their own.
	nd := record.DigestRecord{Slug: namedDigest, SourceFile: "/home/ana/digests/2030-01-01-named.md", ArchivedAt: at,
		FrontMatter: record.FrontMatter{Title: "Hand-made test articles", Date: "2030-01-01", Slug: namedFMSlug,
			Categories: []string{"Testing"}, Tags: []string{"Science", "science", "Space  travel"},
			Description: "Tom &amp; Jerry&nbsp;<b>live</b> — 5&nbsp;&lt;&nbsp;6",
			Link:        "https://news.google.com/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRGx6TVdZU0FtVnVHZ0pWVXlnQVAB?hl=en-US&gl=US&ceid=US:en"}}
	for _, s := range []string{historySlug, unicodeSlug, cp1251Slug, failedSlug, rankTitleSlug, rankTextSlug, phraseSlug, wordsSlug, hostileSlug} {
		status := record.StatusOK
		if s == failedSlug {
			status = record.StatusFailed
		}
		a := record.DigestArticle{Slug: s, Title: s, Publisher: "Test Publisher", URL: "https://publisher.example/" + s, Status: status}
		if s == historySlug {
			a.Tags = []string{"Bookmarked", "testing"}
		}
		nd.Articles = append(nd.Articles, a)
	}
	if err := viewertest.PutDigest(ctx, st, nd); err != nil {
		t.Fatal(err)
	}
	return f
}

// newTestServer serves st with an in-memory index, refreshed once.
func newTestServer(t testing.TB, st storage.Store, opts Options) *Server {
	t.Helper()
	opts.Store = st
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Refresh(testContext(t)); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return s
}
