package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveInputUsageErrors: inputs that name nothing to archive are
// usage errors (exit 2) that name the argument, found before a store is
// created or anything is fetched.
func TestArchiveInputUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	pdfs := filepath.Join(dir, "pdfs")
	for _, d := range []string{empty, pdfs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(pdfs, "a.pdf"), []byte("%PDF-1.7"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "digests-2026")
	tests := []struct {
		name string
		args []string
		want []string // stderr lines
	}{
		{"a missing path", []string{missing}, []string{"linkarc archive: " + missing + ": no such file or folder"}},
		{"an empty folder", []string{empty}, []string{"linkarc archive: " + empty + ": the folder is empty"}},
		{"a folder without digests", []string{pdfs}, []string{"linkarc archive: " + pdfs +
			": the folder holds no digests: no .atom, .html, .markdown, .md, .rss, .txt, .xml file in it or below it (hidden files and folders are skipped)"}},
		{"two problems", []string{missing, "ftp://files.example/x"}, []string{
			"linkarc archive: " + missing + ": no such file or folder",
			`linkarc archive: ftp://files.example/x: scheme "ftp" is not http or https`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			res := runLinkarc(t, nil, "", append([]string{"archive", "--store", store}, tt.args...)...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if got := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("stderr\n got %q\nwant %q", got, tt.want)
			}
			if _, err := os.Stat(store); !os.IsNotExist(err) {
				t.Errorf("the store was created: %v", err)
			}
		})
	}
}

// TestArchiveInputsEndToEnd archives a URL list file, standard input and a
// URL argument in one run; each becomes a digest record the viewer lists,
// and an article named by two of them is archived once.
func TestArchiveInputsEndToEnd(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 3, Digests: 1, Pages: loadPages(t, 3)})
	a := w.Articles
	list := filepath.Join(t.TempDir(), "to-read.txt")
	if err := os.WriteFile(list, []byte("# for the train\n"+a[0].Title+" - "+a[0].Publisher+" ("+a[0].URL+")\n"+a[1].URL+"  # later\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	args := []string{"archive", "--store", store, "--gnews-base", w.Google.NewsURL(), "--allow-private",
		"--progress", "none", "--host-interval", "1ms", "--timeout", "20s", list, "-", a[0].URL}
	res := runLinkarc(t, nil, a[2].URL+"\n", args...)
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}
	st, err := storage.Open(context.Background(), store, storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	hash := func(urls ...string) string {
		sum := sha256.Sum256([]byte(strings.Join(urls, "\n") + "\n"))
		return hex.EncodeToString(sum[:4])
	}
	digests := []struct {
		slug, title string
		urls        []string
	}{
		{"to-read", "to-read", []string{a[0].URL, a[1].URL}},
		{"stdin-" + hash(a[2].URL), "standard input ", []string{a[2].URL}},
		{"command-line-" + hash(a[0].URL), "command line ", []string{a[0].URL}},
	}
	for _, d := range digests {
		var rec record.DigestRecord
		readJSON(t, st, record.DigestKey(d.slug), &rec)
		if !strings.HasPrefix(rec.FrontMatter.Title, d.title) || len(rec.Articles) != len(d.urls) {
			t.Errorf("digest %s: title %q, %d articles", d.slug, rec.FrontMatter.Title, len(rec.Articles))
			continue
		}
		for i, da := range rec.Articles {
			if da.Status != record.StatusOK || da.URL != d.urls[i] {
				t.Errorf("digest %s article %d: %+v, want ok %s", d.slug, i, da, d.urls[i])
			}
		}
	}
	var rec record.DigestRecord
	readJSON(t, st, record.DigestKey("to-read"), &rec)
	if first := rec.Articles[0]; first.Title != a[0].Title || first.Publisher != a[0].Publisher {
		t.Errorf("share text gave title %q publisher %q, want %q %q", first.Title, first.Publisher, a[0].Title, a[0].Publisher)
	}
	if got := len(w.Publishers[0].Arrivals(false)); got != 3 {
		t.Errorf("page requests = %d, want 3 (one per article, the shared one once)", got)
	}
}
