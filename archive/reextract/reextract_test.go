package reextract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/archive/singlepage"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func junkPage(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "junk", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// warcWith writes a WARC holding one response for pageURL with body, as
// capture recording would, and stores it as the article's WARC.
func warcWith(t *testing.T, st storage.Store, slug, pageURL, body string) {
	t.Helper()
	var file bytes.Buffer
	w, err := warc.NewWriter(&file, warc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := w.Begin(warc.Exchange{
		URL:          pageURL,
		Date:         time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC),
		RequestHead:  []byte("GET / HTTP/1.1\r\nHost: publisher.example\r\n\r\n"),
		ResponseHead: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.Write([]byte(body))
	if _, err := rec.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := st.Put(testContext(t), stored.WARCKey(slug, ""), &file, int64(file.Len()), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestRun damages what an archive derived from its captures, then rebuilds
// it: readable text, text and metadata come back from raw.html, or from
// the WARC where a capture has one (its page wins over raw.html); a wall
// archived as ok becomes blocked and an article archived as blocked
// becomes ok, and their digest records say so; the captures themselves
// (raw.html, history, fetch time) are untouched; failed fetches are left
// alone.
func TestRun(t *testing.T) {
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := viewertest.Generate(ctx, st, viewertest.GenerateOptions{Articles: 12, PerDigest: 4, Words: 400, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed []string
	for _, slug := range gen.Articles {
		switch gen.Status[slug] {
		case record.StatusOK:
			ok = append(ok, slug)
		case record.StatusFailed:
			failed = append(failed, slug)
		}
	}
	if len(ok) < 4 {
		t.Fatalf("only %d ok articles", len(ok))
	}
	w := record.Writer{Store: st}
	metas := map[string]*record.ArticleMeta{}
	raws := map[string][]byte{}
	for _, slug := range gen.Articles {
		m, err := record.ReadMeta(ctx, st, slug)
		if err != nil {
			t.Fatal(err)
		}
		metas[slug] = m
		if m.Status == record.StatusFailed {
			continue
		}
		raws[slug] = storagetest.ReadObject(t, st, record.ArticleKey(slug, record.RawFile))
		// What an older extractor left: nothing of use.
		stale := *m
		stale.ArticleTitle, stale.WordCount, stale.Excerpt = "", 0, ""
		if err := w.Rederive(ctx, stale, "<p>stale</p>", "stale"); err != nil {
			t.Fatal(err)
		}
	}
	// ok[0]: its WARC holds another page than raw.html; the WARC wins.
	const fromWARC = "This sentence is only in the page the WARC recorded"
	warcPage := "<html><head><title>Recorded</title></head><body><article><h1>Recorded</h1>" +
		strings.Repeat("<p>"+fromWARC+", with enough words around it to be an article worth the name.</p>", 30) + "</article></body></html>"
	warcWith(t, st, ok[0], metas[ok[0]].FinalURL, warcPage)
	// ok[1] was archived as ok, but its page is a consent wall.
	wall := junkPage(t, "consent-before-you-continue.html")
	if err := st.Put(ctx, record.ArticleKey(ok[1], record.RawFile), strings.NewReader(wall), int64(len(wall)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// ok[2] was archived as blocked, but its page is the article.
	wrong := *metas[ok[2]]
	wrong.Status, wrong.Reason, wrong.Error = record.StatusBlocked, record.ReasonPaywallStub, "the page is not the article: paywall_stub"
	if err := w.PutMeta(ctx, wrong); err != nil {
		t.Fatal(err)
	}

	var results []Result
	rep, err := Run(ctx, Options{Store: st, Progress: func(r Result) { results = append(results, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(gen.Articles) || rep.Skipped != len(failed) || rep.FromWARC != 1 || rep.Rebuilt != len(gen.Articles)-len(failed) ||
		rep.Changed < 2 || len(rep.Failed) != 0 || rep.Digests == 0 {
		t.Errorf("report %+v (%d results, %d failed fetches)", rep, len(results), len(failed))
	}
	for _, slug := range gen.Articles {
		m, err := record.ReadMeta(ctx, st, slug)
		if err != nil {
			t.Fatal(err)
		}
		before := metas[slug]
		if !m.FetchedAt.Equal(before.FetchedAt) || m.SHA256 != before.SHA256 || len(m.History) != len(before.History) || m.URL != before.URL {
			t.Errorf("%s: the capture changed: %+v, was %+v", slug, m, before)
		}
		if before.Status == record.StatusFailed {
			if m.Status != record.StatusFailed || m.Reason != before.Reason {
				t.Errorf("%s: a failed fetch was rebuilt: %+v", slug, m)
			}
			continue
		}
		if before.Status == record.StatusOK && slug != ok[1] && m.Status != record.StatusOK {
			t.Errorf("%s was ok and is now %s/%s", slug, m.Status, m.Reason)
		}
		text := string(storagetest.ReadObject(t, st, record.ArticleKey(slug, record.TextFile)))
		if slug != ok[1] && (text == "stale" || m.WordCount == 0 || m.ArticleTitle == "") {
			t.Errorf("%s not rebuilt: %d words, title %q, text %.60q", slug, m.WordCount, m.ArticleTitle, text)
		}
		if raw := storagetest.ReadObject(t, st, record.ArticleKey(slug, record.RawFile)); slug != ok[1] && !bytes.Equal(raw, raws[slug]) {
			t.Errorf("%s: raw.html changed", slug)
		}
	}
	if text := string(storagetest.ReadObject(t, st, record.ArticleKey(ok[0], record.TextFile))); !strings.Contains(text, fromWARC) {
		t.Errorf("the capture with a WARC was not rebuilt from it: %.200q", text)
	}
	if m, _ := record.ReadMeta(ctx, st, ok[1]); m.Status != record.StatusBlocked || m.Reason != record.ReasonConsentWall {
		t.Errorf("the consent wall is %s/%s", m.Status, m.Reason)
	}
	if m, _ := record.ReadMeta(ctx, st, ok[2]); m.Status != record.StatusOK || m.Reason != "" || m.Error != "" {
		t.Errorf("the article wrongly blocked is %s/%s %q", m.Status, m.Reason, m.Error)
	}
	for _, slug := range []string{ok[1], ok[2]} {
		m, _ := record.ReadMeta(ctx, st, slug)
		d, err := record.ReadDigest(ctx, st, m.Digests[0])
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range d.Articles {
			if a.Slug == slug && (a.Status != m.Status || a.Reason != m.Reason) {
				t.Errorf("digest %s lists %s as %s/%s, it is %s/%s", d.Slug, slug, a.Status, a.Reason, m.Status, m.Reason)
			}
			if a.Status == record.StatusBlocked {
				n++
			}
		}
		if d.Counts[record.StatusBlocked] != n {
			t.Errorf("digest %s counts %v, %d blocked listed", d.Slug, d.Counts, n)
		}
	}
}

// TestRunFilter rebuilds one digest's articles only, and reports a WARC
// that does not read without stopping.
func TestRunFilter(t *testing.T) {
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := viewertest.Generate(ctx, st, viewertest.GenerateOptions{Articles: 8, PerDigest: 4, Words: 300, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	d, err := record.ReadDigest(ctx, st, gen.Digests[1])
	if err != nil {
		t.Fatal(err)
	}
	broken := ""
	for _, a := range d.Articles {
		if a.Status == record.StatusOK {
			broken = a.Slug
			break
		}
	}
	if err := st.Put(ctx, stored.WARCKey(broken, ""), strings.NewReader("not a WARC"), 10, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	rep, err := Run(ctx, Options{Store: st, Filter: stored.Filter{Digests: []string{gen.Digests[1]}}, Progress: func(r Result) { seen = append(seen, r.Slug) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(d.Articles) {
		t.Errorf("rebuilt %q, want the %d articles of %s", seen, len(d.Articles), d.Slug)
	}
	for _, s := range seen {
		m, _ := record.ReadMeta(ctx, st, s)
		if len(m.Digests) != 1 || m.Digests[0] != d.Slug {
			t.Errorf("%s of %v rebuilt", s, m.Digests)
		}
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Slug != broken || !strings.Contains(rep.Failed[0].Err.Error(), stored.WARCFile) {
		t.Errorf("failed %+v", rep.Failed)
	}
}

// headExtractor extracts the first 64 KiB of a page in process: the full
// extraction of a 5 MiB page takes most of a minute on a loaded machine,
// and the page, not the text, is what TestRunBuildsLargePages is about.
type headExtractor struct{}

func (headExtractor) Extract(ctx context.Context, p extract.Page) (*extract.Result, error) {
	p.Body = p.Body[:min(len(p.Body), 64<<10)]
	return extract.InProcess{}.Extract(ctx, p)
}

// TestRunBuildsLargePages: a capture with a WARC whose page is over the
// archiver's bound on self-contained pages (4 MiB as received, which the
// archiver leaves with raw.html) gets its page.html from re-extraction,
// which builds one page at a time; meta.json lists it with its sum and
// the builder's version, and record.Verify finds nothing wrong.
func TestRunBuildsLargePages(t *testing.T) {
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const slug, pageURL = "a-long-story-the-herald", "http://publisher.example/long"
	para := "<p>" + strings.Repeat("The council met again on Tuesday to argue about the bridge. ", 20) + "</p>\n"
	page := "<!doctype html><html><head><meta charset=\"utf-8\"><title>A long story</title></head><body><article><h1>A long story</h1>" +
		strings.Repeat(para, (5<<20)/len(para)+1) + "</article></body></html>"
	if len(page) <= 4<<20 {
		t.Fatalf("the page is %d bytes, not over 4 MiB", len(page))
	}
	warcWith(t, st, slug, pageURL, page)
	w := record.Writer{Store: st}
	m, err := w.Write(ctx, &record.Snapshot{
		Meta: record.ArticleMeta{Slug: slug, Title: "A long story", Publisher: "The Herald", URL: pageURL, FinalURL: pageURL,
			Status: record.StatusOK, FetchedAt: time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC), ContentType: "text/html; charset=utf-8"},
		Raw: []byte(page), Readable: "<p>old</p>", Text: "old",
	}, record.Prior{})
	if err != nil {
		t.Fatal(err)
	}
	// The WARC was put beside it before the write; list it as the
	// archiver would have.
	m.Files = []string{record.WARCFile}
	if err := w.PutMeta(ctx, m); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, Options{Store: st, TempDir: t.TempDir(), Extractor: headExtractor{}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rebuilt != 1 || rep.FromWARC != 1 || rep.Pages != 1 || rep.PagesNotBuilt != 0 {
		t.Errorf("report %+v", rep)
	}
	got, err := record.ReadMeta(ctx, st, slug)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Files, []string{record.WARCFile, record.PageFile}) || got.Sums[record.PageFile] == "" || got.PageVersion != singlepage.Version {
		t.Errorf("files %q, sums %v, page version %d", got.Files, got.Sums, got.PageVersion)
	}
	if p := storagetest.ReadObject(t, st, record.ArticleKey(slug, record.PageFile)); !bytes.Contains(p, []byte("The council met again")) {
		t.Errorf("page.html (%d bytes) lacks the story", len(p))
	}
	if problems, err := record.Verify(ctx, st, slug); err != nil || len(problems) > 0 {
		t.Errorf("Verify: %q %v", problems, err)
	}
}
