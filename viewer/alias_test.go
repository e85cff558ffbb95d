package viewer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// mergedArchive is a store where "birds-paper" (two captures) was merged
// into "rare-birds-return-paper" the way `linkarc dedupe` merges, through
// storage/record: its captures copied into the keeper's history, then
// retired behind an alias. "marsh-birds-paper", merged earlier into
// birds-paper, is an alias of an alias.
type mergedArchive struct {
	st                   storage.Store
	histID, currentID    string // birds-paper's captures, in its own history
	histAs, currentAs    string // the same in the keeper's
	keeper, merged, prev string
}

func writeMergedArchive(t *testing.T, st storage.Store) *mergedArchive {
	t.Helper()
	ctx := testContext(t)
	w := record.Writer{Store: st}
	day := time.Date(2026, 1, 4, 8, 0, 0, 0, time.UTC)
	write := func(slug, words string, at time.Time) {
		prior, err := w.LoadMeta(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		s := &record.Snapshot{Meta: record.ArticleMeta{Slug: slug, Title: "Birds " + words, Publisher: "Paper",
			URL: "https://paper.example/birds.html", Status: record.StatusOK, FetchedAt: at, Charset: "utf-8"},
			Raw: []byte("<p>" + words + "</p>"), Readable: "<p>" + words + "</p>", Text: words}
		if _, err := w.Write(ctx, s, prior); err != nil {
			t.Fatal(err)
		}
	}
	a := &mergedArchive{st: st, keeper: "rare-birds-return-paper", merged: "birds-paper", prev: "marsh-birds-paper"}
	write(a.keeper, "kept", day)
	write(a.merged, "first of the merged", day.Add(time.Hour))
	write(a.merged, "second of the merged", day.Add(2*time.Hour))
	m, err := record.ReadMeta(ctx, st, a.merged)
	if err != nil {
		t.Fatal(err)
	}
	a.histID, a.currentID = m.History[0].CaptureID, record.CaptureID(m.FetchedAt)
	a.histAs, a.currentAs = a.histID, a.currentID
	hm, err := record.ReadMetaKey(ctx, st, record.HistoryKey(a.merged, a.histID, record.MetaFile))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := w.FoldCapture(ctx, record.CaptureDir{Slug: a.merged, ID: a.histID}, hm, a.keeper, a.histAs)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := w.FoldCapture(ctx, record.CaptureDir{Slug: a.merged}, m, a.keeper, a.currentAs)
	if err != nil {
		t.Fatal(err)
	}
	k, err := record.ReadMeta(ctx, st, a.keeper)
	if err != nil {
		t.Fatal(err)
	}
	k.History = record.AppendRefs(k.History, r1, r2)
	if err := w.PutMeta(ctx, *k); err != nil {
		t.Fatal(err)
	}
	err = w.Retire(ctx, *m, record.Alias{Slug: a.merged, Target: a.keeper, URL: m.URL, MergedAt: day.Add(48 * time.Hour), Current: a.currentID,
		Captures: []record.MovedCapture{{CaptureID: a.histID, As: a.histAs}, {CaptureID: a.currentID, As: a.currentAs}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.PutAlias(ctx, record.Alias{Slug: a.prev, Target: a.merged, URL: m.URL}); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMergedArticleRedirects: every address of an article merged into
// another answers 301 to the same page of the kept article (an earlier
// capture at the id it has there; the query kept), on a directory and
// on MinIO; an alias of an alias leads there in one hop; the kept
// article's page says which captures were merged in; and a slug whose
// merge was cut short (it still has its meta.json) is still served.
func TestMergedArticleRedirects(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			st := b.newStore(t)
			a := writeMergedArchive(t, st)
			srv := newTestServer(t, st, Options{})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			client := ts.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			k := "/articles/" + a.keeper
			for _, c := range []struct{ path, to string }{
				{"/articles/" + a.merged, k},
				{"/articles/" + a.merged + "/raw", k + "/raw"},
				{"/articles/" + a.merged + "/raw.html?download=1", k + "/raw.html?download=1"},
				{"/articles/" + a.merged + "/text.txt", k + "/text.txt"},
				{"/articles/" + a.merged + "/page.html", k + "/page.html"},
				{"/articles/" + a.merged + "/thumb.jpg", k + "/thumb.jpg"},
				{"/articles/" + a.merged + "/history/" + a.histID + "/raw", k + "/history/" + a.histAs + "/raw"},
				{"/articles/" + a.merged + "/history/" + a.histID + "/text.txt", k + "/history/" + a.histAs + "/text.txt"},
				{"/articles/" + a.merged + "/history/" + a.currentID + "/raw.html", k + "/history/" + a.currentAs + "/raw.html"},
				{"/articles/" + a.merged + "/history/20200101T000000.000Z/raw", k},
				{"/api/articles/" + a.merged, "/api/articles/" + a.keeper},
				{"/articles/" + a.prev, k},
			} {
				resp, err := client.Get(ts.URL + c.path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != c.to {
					t.Errorf("%s: %d to %q, want 301 to %s", c.path, resp.StatusCode, resp.Header.Get("Location"), c.to)
				}
				if resp.Header.Get("Cache-Control") != "no-cache" {
					t.Errorf("%s: Cache-Control %q", c.path, resp.Header.Get("Cache-Control"))
				}
			}
			// Followed, they arrive; the kept article says what was merged.
			body := getBody(t, ts.URL+"/articles/"+a.merged)
			if !strings.Contains(body, "merged from "+a.merged) || strings.Count(body, "merged from") != 2 {
				t.Errorf("the kept article's history does not say what was merged in:\n%s", body)
			}
			if got := getBody(t, ts.URL+"/articles/"+a.merged+"/history/"+a.histID+"/text.txt"); got != "first of the merged" {
				t.Errorf("the merged capture's text: %q", got)
			}
			// Unknown slugs are still 404; an alias beside a meta.json
			// (a merge cut short) is not followed.
			for _, p := range []string{"/articles/no-such-article", "/articles/no-such-article/text.txt"} {
				if resp, err := client.Get(ts.URL + p); err != nil || resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %v %v", p, resp.StatusCode, err)
				}
			}
			w := record.Writer{Store: st}
			if err := w.PutAlias(testContext(t), record.Alias{Slug: a.keeper, Target: a.merged}); err != nil {
				t.Fatal(err)
			}
			if resp, err := client.Get(ts.URL + k); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("%s with an alias and a meta.json: %v %v", k, resp.StatusCode, err)
			}
		})
	}
}

// getBody follows redirects and returns the body of a 200.
func getBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %v", u, resp.StatusCode, err)
	}
	return string(b)
}

// TestSiteMergedArticles: a static site has a page at the old address of
// a merged article that sends the browser to the kept one, relative, so
// that it works from a folder.
func TestSiteMergedArticles(t *testing.T) {
	st := backends()[0].newStore(t)
	a := writeMergedArchive(t, st)
	site, err := NewSite(SiteOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	files := map[string]string{}
	if _, err := site.Write(context.Background(), func(name string, body []byte) error {
		files[name] = string(body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{a.merged, a.prev} {
		page, ok := files["articles/"+old+"/index.html"]
		if !ok {
			t.Fatalf("no page at %s's old address", old)
		}
		if !strings.Contains(page, `content="0; url=../`+a.keeper+`/index.html"`) || !strings.Contains(page, `href="../`+a.keeper+`/index.html"`) {
			t.Errorf("%s's page:\n%s", old, page)
		}
		if strings.Contains(page, "<script") || !strings.Contains(page, `http-equiv="Content-Security-Policy"`) {
			t.Errorf("%s's page runs code or has no policy:\n%s", old, page)
		}
	}
	if _, ok := files["articles/"+a.keeper+"/index.html"]; !ok {
		t.Error("no page for the kept article")
	}
}
