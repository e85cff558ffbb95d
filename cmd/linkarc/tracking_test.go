package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Issue 12: links to one article that differ only in tracking parameters
// (utm_*, fbclid…) are one article: fetched once, stored once, with the
// URL as it was resolved; a link with another real parameter is another
// article.
func TestArchiveMergesTrackingVariants(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 2, Digests: 1, Pages: smallPages(t, 2)})
	a := w.Articles[0]
	first := a.URL + "?utm_source=newsletter&utm_medium=email"
	viaGoogle := w.Google.NewArticle(a.URL + "?fbclid=IwAR0xyz&utm_campaign=daily")
	list := strings.Join([]string{
		"Lead story - The Paper (" + first + ")",
		viaGoogle,
		a.URL + "#comments",
		a.URL + "?utm_term=x&_ga=2.1&gclid=1",
	}, "\n") + "\n"
	file := filepath.Join(t.TempDir(), "links.txt")
	if err := os.WriteFile(file, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	args := archiveArgs(w, dir, 5*time.Millisecond, "--progress", "none")
	args[len(args)-1] = file
	res := runLinkarc(t, nil, "", args...)
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if n := pageRequests(w); n != 1 {
		t.Errorf("%d page requests, want 1 (one article)", n)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := countMeta(t, store); n != 1 {
		t.Errorf("%d articles stored, want 1", n)
	}
	m := readMeta(t, store, record.ArticleSlug("Lead story", "The Paper"))
	if m.Status != record.StatusOK || m.URL != first {
		t.Errorf("article: %s url %q, want ok with the URL as given %q", m.Status, m.URL, first)
	}
}
