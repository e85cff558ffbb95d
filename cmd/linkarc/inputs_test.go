package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
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

// TestArchiveSkippedLinksReported: links an input names but that cannot be
// archived (a URL list line without a scheme before an IP address and
// port, a javascript: link in Markdown) are not dropped silently: the dry
// run, the summary, --report and the digest record each name the input,
// the line, the link and why.
func TestArchiveSkippedLinksReported(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 2, Digests: 1, Pages: loadPages(t, 2)})
	a := w.Articles
	dir := t.TempDir()
	noScheme := strings.TrimPrefix(a[1].URL, "http://")
	list := filepath.Join(dir, "links.txt")
	if err := os.WriteFile(list, []byte(a[0].URL+"\n"+noScheme+"\n"+a[1].URL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "reading.md")
	if err := os.WriteFile(md, []byte("- [First]("+a[0].URL+")\n- [Click me](javascript:alert(1))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"archive", "--store", store, "--gnews-base", w.Google.NewsURL(), "--allow-private",
		"--progress", "none", "--host-interval", "1ms", "--timeout", "20s"}
	wantLines := []string{
		"skipped links (not archived; correct the input and re-run to archive them):",
		"  " + list + " line 2: " + strconv.Quote(noScheme) + ": no scheme: https:// is assumed only before a host name, not an IP address, localhost or a port; write http://" + noScheme + " or https://" + noScheme,
		"  " + md + `: javascript:alert(1) ("Click me"): scheme "javascript" is not http or https`,
	}
	checkLines := func(what, out string) {
		t.Helper()
		if !strings.Contains(out, strings.Join(wantLines, "\n")+"\n") {
			t.Errorf("%s lacks the skipped links\n%s\nwant\n%s", what, out, strings.Join(wantLines, "\n"))
		}
	}

	dry := runLinkarc(t, nil, "", append(append(args, "--dry-run"), list, md)...)
	if dry.code != exitOK {
		t.Fatalf("dry run: exit %d\nstderr:\n%s", dry.code, dry.stderr)
	}
	checkLines("dry run", dry.stdout)

	res := runLinkarc(t, nil, "", append(append(args, "--report", report), list, md)...)
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}
	checkLines("summary", res.stderr)

	var rep struct {
		SkippedLinks []struct{ Digest, Title, URL, Reason string } `json:"skipped_links"`
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.SkippedLinks) != 2 || rep.SkippedLinks[0].Digest != list || rep.SkippedLinks[0].Title != noScheme ||
		!strings.HasPrefix(rep.SkippedLinks[0].Reason, "line 2: no scheme") ||
		rep.SkippedLinks[1].Digest != md || rep.SkippedLinks[1].URL != "javascript:alert(1)" {
		t.Errorf("report skipped_links = %+v", rep.SkippedLinks)
	}

	st, err := storage.Open(context.Background(), store, storage.S3Config{})
	if err != nil {
		t.Fatal(err)
	}
	var rec record.DigestRecord
	readJSON(t, st, record.DigestKey("links"), &rec)
	if len(rec.Articles) != 2 || len(rec.Skipped) != 1 || rec.Skipped[0].Title != noScheme || !strings.HasPrefix(rec.Skipped[0].Reason, "line 2: no scheme") {
		t.Errorf("digest record: %d articles, skipped %+v", len(rec.Articles), rec.Skipped)
	}
}
