package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// TestArchivePagesNotTheArticle runs one `linkarc archive` over a host
// per kind of page that is not the article (issue 12), each beside
// ordinary pages: a consent wall in Dutch, an article deleted and
// redirected to the front page, a page decoded into mojibake; and two
// pages that are the article: a live blog whose summaries are paragraphs
// wrapped in links (kept in text.txt), and a Dutch article under a
// consent banner.
func TestArchivePagesNotTheArticle(t *testing.T) {
	junk := func(name string) []byte { return readFile(t, filepath.Join("../../testdata/junk", name)) }
	serveHTML := func(page []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		}
	}
	front := junk("frontpage-root.html")
	kinds := []struct {
		name    string
		handler http.HandlerFunc
		status  string
		reason  record.Reason
		text    string // text.txt must contain it
	}{
		{"consent wall in Dutch", serveHTML(junk("consent-nl-wall.html")), record.StatusBlocked, record.ReasonConsentWall, ""},
		{"deleted, redirected to the front page", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.Redirect(w, r, "/", http.StatusMovedPermanently)
				return
			}
			serveHTML(front)(w, r)
		}, record.StatusBlocked, record.ReasonGoneToFrontPage, ""},
		{"mojibake", serveHTML(junk("mojibake-utf8-as-1252.html")), record.StatusFailed, record.ReasonMojibake, ""},
		{"live blog", serveHTML(readFile(t, "../../archive/extract/testdata/link-paragraphs/liveblog-fragments.html")),
			record.StatusOK, "", "11:55 Power cut in the old town"},
		{"article under a consent banner", serveHTML(junk("ok-nl-article-cmp-banner.html")), record.StatusOK, "", "De veerdienst tussen het vasteland"},
	}
	const good = 2
	n := len(kinds)
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: n + good, Articles: n + good, Digests: 1, Pages: loadPages(t, good)})
	for i, k := range kinds {
		w.Publishers[i].SetHandler(k.handler)
	}
	dir := filepath.Join(t.TempDir(), "store")
	res := runLinkarc(t, nil, "", archiveArgs(w, dir, 10*time.Millisecond)...)
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d, want %d (some pages are not the article)\n%s", res.code, exitSomeFailed, res.stderr)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range kinds {
		a := w.Articles[i]
		m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher))
		if m.Status != k.status || m.Reason != k.reason {
			t.Errorf("%s: %s/%s (%s), want %s/%s", k.name, m.Status, m.Reason, m.Error, k.status, k.reason)
		}
		if k.text != "" {
			if text := string(storagetest.ReadObject(t, store, record.ArticleKey(m.Slug, record.TextFile))); !strings.Contains(text, k.text) {
				t.Errorf("%s: text.txt lacks %q:\n%s", k.name, k.text, text)
			}
		}
	}
	for _, a := range w.Articles[n:] {
		if m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher)); m.Status != record.StatusOK {
			t.Errorf("ordinary page %s: %s/%s (%s)", m.Slug, m.Status, m.Reason, m.Error)
		}
	}
}
