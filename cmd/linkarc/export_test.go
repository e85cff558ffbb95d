package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/archive/singlepage"
	"github.com/linkarc/linkarc/internal/browsertest"
	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// archivedWorld archives a small world (2 digests, 6 articles on 2 hosts)
// with `linkarc archive` and returns it with its store.
func archivedWorld(t *testing.T, extra ...string) (*archivetest.World, string) {
	t.Helper()
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 6, Digests: 2, Pages: loadPages(t, 6)})
	store := filepath.Join(t.TempDir(), "archive")
	if res := runLinkarc(t, nil, "", archiveArgs(w, store, time.Millisecond, extra...)...); res.code != exitOK {
		t.Fatalf("archive exit %d\n%s", res.code, res.stderr)
	}
	return w, store
}

// TestExportCommand exports a real archive in each format and checks the
// exit status and what each says; then every usage error, each with exit
// status 2 and a message naming the problem.
func TestExportCommand(t *testing.T) {
	w, store := archivedWorld(t)
	tmp := t.TempDir()

	res := runLinkarc(t, nil, "", "export", "--store", store, "--format", "jsonl", "--out", "-")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != exitOK || len(lines) != len(w.Articles) {
		t.Fatalf("jsonl to stdout: exit %d, %d lines\n%s", res.code, len(lines), res.stderr)
	}
	for _, l := range lines {
		var m record.ArticleMeta
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.Slug == "" || m.Status != record.StatusOK {
			t.Errorf("line %q: %v", l, err)
		}
	}
	if !strings.Contains(res.stderr, "linkarc export: jsonl: 2 digests, 6 articles, ") {
		t.Errorf("jsonl summary: %s", res.stderr)
	}

	file := filepath.Join(tmp, "articles.jsonl")
	if res := runLinkarc(t, nil, "", "export", "--store", store, "--format", "jsonl", "--out", file, "--status", "ok"); res.code != exitOK {
		t.Errorf("jsonl to a file: exit %d\n%s", res.code, res.stderr)
	}
	if b, err := os.ReadFile(file); err != nil || strings.Count(string(b), "\n") != len(w.Articles) {
		t.Errorf("the file holds %d lines (%v)", strings.Count(string(b), "\n"), err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}

	digests := filepath.Join(tmp, "digests")
	res = runLinkarc(t, nil, "", "export", "--store", store, "--format", "digests", "--out", digests, "--site-url", "../site")
	if res.code != exitOK {
		t.Fatalf("digests: exit %d\n%s", res.code, res.stderr)
	}
	paths, _ := filepath.Glob(filepath.Join(digests, "*.md"))
	if len(paths) != 2 {
		t.Errorf("digests wrote %q", paths)
	}
	for _, p := range paths {
		d, err := digest.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range d.Items {
			if strings.Contains(it.URL, "news.google.com") || !strings.HasPrefix(it.URL, "http://127.0.0.") {
				t.Errorf("%s: item %q is not the publisher URL", p, it.URL)
			}
		}
	}

	site := filepath.Join(tmp, "site")
	if res := runLinkarc(t, nil, "", "export", "--store", store, "--format", "site", "--out", site); res.code != exitOK {
		t.Errorf("site: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(site, "index.html")); err != nil {
		t.Errorf("site: %v", err)
	}
	// Again, into the same directory: an earlier export of the format.
	if res := runLinkarc(t, nil, "", "export", "--store", store, "--format", "site", "--out", site); res.code != exitOK {
		t.Errorf("site again: exit %d\n%s", res.code, res.stderr)
	}

	// Every capture has its WARC: the package holds the 6 articles.
	pkg := filepath.Join(tmp, "x.wacz")
	res = runLinkarc(t, nil, "", "export", "--store", store, "--format", "wacz", "--out", pkg)
	if res.code != exitOK || !strings.Contains(res.stderr, "6 articles") {
		t.Errorf("wacz: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(pkg); err != nil {
		t.Errorf("wacz: %v", err)
	}
	res = runLinkarc(t, nil, "", "export", "--store", store, "--format", "jsonl", "--out", "-", "--tag", "no-such-tag")
	if res.code != exitSomeFailed || !strings.Contains(res.stderr, "nothing to export: the selection holds no article; nothing was written") {
		t.Errorf("nothing selected: exit %d\n%s", res.code, res.stderr)
	}

	full := filepath.Join(tmp, "full")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "mine.txt"), []byte("x"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "pdf", "--out", "x"}, `linkarc export: -format "pdf": want digests, jsonl, site or wacz`},
		{[]string{"--out", "x"}, "linkarc export: name a format: --format digests, jsonl, site or wacz"},
		{[]string{"--format", "site"}, "linkarc export: name where to write with --out: a directory"},
		{[]string{"--format", "site", "--out", "-"}, "linkarc export: --format site writes a directory: --out - is not one"},
		{[]string{"--format", "jsonl", "--out", "-", "--base-url", "http://x"}, "linkarc export: --base-url and --site-url are for --format digests"},
		{[]string{"--format", "digests", "--out", "x", "--base-url", "javascript:alert(1)"}, `linkarc export: --base-url "javascript:alert(1)": want an http or https URL such as http://127.0.0.1:8080`},
		{[]string{"--format", "digests", "--out", "x", "--base-url", "/viewer"}, `linkarc export: --base-url "/viewer": want an http or https URL`},
		{[]string{"--format", "digests", "--out", "x", "--site-url", "data:text/html,x"}, `linkarc export: --site-url "data:text/html,x": want an http or https URL such as http://127.0.0.1:8080, or a path such as ../site`},
		{[]string{"--format", "digests", "--out", "x", "--site-url", "//evil.example/site"}, `linkarc export: --site-url "//evil.example/site": want`},
		{[]string{"--format", "jsonl", "--out", "-", "--digest", "no-such-digest"}, `linkarc export: no digest "no-such-digest" in the archive`},
		{[]string{"--format", "jsonl", "--out", "-", "--status", "fine"}, `linkarc export: -status "fine": want ok, blocked or failed`},
		{[]string{"--format", "jsonl", "--out", "-", "--from", "2024-13-01"}, `linkarc export: -from "2024-13-01": want a date like 2024-03-31`},
		{[]string{"--format", "jsonl", "--out", "-", "--from", "2024-03-02", "--to", "2024-03-01"}, "linkarc export: -to 2024-03-01 is before -from 2024-03-02"},
		{[]string{"--format", "site", "--out", full}, "linkarc export: " + full + ": the output directory is not empty (it holds no earlier site export); give a new or empty directory"},
		{[]string{"--format", "jsonl", "--out", tmp}, "linkarc export: --out " + tmp + ": is a directory; name a file\n"},
		// The user's path, never the temporary file written beside it.
		{[]string{"--format", "jsonl", "--out", filepath.Join(tmp, "missing", "x.jsonl")},
			"linkarc export: --out " + filepath.Join(tmp, "missing", "x.jsonl") + ": the folder " + filepath.Join(tmp, "missing") + " does not exist; create it first or name another\n"},
		{[]string{"--format", "wacz", "--out", filepath.Join(tmp, "missing", "x.wacz")},
			"linkarc export: --out " + filepath.Join(tmp, "missing", "x.wacz") + ": the folder " + filepath.Join(tmp, "missing") + " does not exist; create it first or name another\n"},
		{[]string{"--format", "jsonl", "--out", filepath.Join(tmp, "full", "mine.txt", "x.jsonl")},
			"linkarc export: --out " + filepath.Join(tmp, "full", "mine.txt", "x.jsonl") + ": " + filepath.Join(tmp, "full", "mine.txt") + " is not a folder\n"},
		{[]string{"--format", "jsonl", "--out", "-", "extra"}, `linkarc export: unexpected arguments ["extra"]`},
	} {
		res := runLinkarc(t, nil, "", append([]string{"export", "--store", store}, tc.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
	missing := filepath.Join(tmp, "no-archive")
	res = runLinkarc(t, nil, "", "export", "--store", missing, "--format", "jsonl", "--out", "-")
	if res.code != exitUsage || !strings.Contains(res.stderr, `linkarc export: no archive: store "`+missing+`": the directory does not exist.`) {
		t.Errorf("missing store: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("export created the store")
	}
}

// TestReextractWithoutNetwork archives a world with --pages=false (WARCs,
// no page.html), spoils what was extracted, and runs `linkarc reextract`
// as its own process in a network namespace with nothing in it but traps:
// a DNS server that records every question, and a TCP listener on every
// address the archive's pages came from (and ports 80 and 443). Reextract
// rebuilds every article, builds every page.html from its WARC (listed,
// summed and versioned in meta.json, record.Verify clean) and exits 0;
// the traps saw no question and no connection, and the publishers no
// request.
func TestReextractWithoutNetwork(t *testing.T) {
	w, store := archivedWorld(t, "--pages=false")
	st, err := storage.NewLocal(store)
	if err != nil {
		t.Fatal(err)
	}
	var slugs []string
	err = st.List(t.Context(), record.ArticlesPrefix, func(i storage.Info) error {
		if slug, ok := strings.CutSuffix(strings.TrimPrefix(i.Key, record.ArticlesPrefix), "/"+record.MetaFile); ok && !strings.Contains(slug, "/") {
			slugs = append(slugs, slug)
		}
		return nil
	})
	if err != nil || len(slugs) != len(w.Articles) {
		t.Fatalf("%d articles stored (%v)", len(slugs), err)
	}
	for _, slug := range slugs {
		m := readMeta(t, st, slug)
		if slices.Contains(m.Files, record.PageFile) || !slices.Contains(m.Files, record.WARCFile) {
			t.Fatalf("%s: archived with --pages=false, it has %q", slug, m.Files)
		}
		if _, err := os.Stat(filepath.Join(store, "articles", slug, record.PageFile)); !os.IsNotExist(err) {
			t.Fatalf("%s: archived with --pages=false, it has a page.html (%v)", slug, err)
		}
		m.WordCount, m.ArticleTitle = 0, ""
		if err := (record.Writer{Store: st}).Rederive(t.Context(), m, "<p>stale</p>", "stale"); err != nil {
			t.Fatal(err)
		}
	}
	before := 0
	for _, p := range w.Publishers {
		before += p.Requests()
	}

	n := browsertest.NewNetwork(t)
	pc, err := n.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	dns := netguardtest.StartDNSOn(t, pc, nil)
	var traps []*netguardtest.Trap
	addrs := []string{"127.0.0.1:80", "127.0.0.1:443"}
	for _, p := range w.Publishers {
		addrs = append(addrs, p.Host)
	}
	for _, addr := range addrs {
		ln, err := n.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("trap on %s: %v", addr, err)
		}
		traps = append(traps, netguardtest.StartTrapOn(t, ln, n.DialContext))
	}

	cmd := linkarcProcess([]string{"LINKARC_STORE=" + store}, "reextract")
	n.Command(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reextract: %v\n%s", err, out)
	}
	t.Logf("linkarc reextract, in a namespace of traps:\n%s", out)
	if !strings.Contains(string(out), "linkarc reextract: rebuilt 6 articles (6 from their WARC, 0 from raw.html)") ||
		!strings.Contains(string(out), "linkarc reextract: built 6 self-contained pages") {
		t.Errorf("reextract said:\n%s", out)
	}
	for _, slug := range slugs {
		m := readMeta(t, st, slug)
		text, _ := os.ReadFile(filepath.Join(store, "articles", slug, record.TextFile))
		if m.WordCount == 0 || m.ArticleTitle == "" || string(text) == "stale" || m.Status != record.StatusOK {
			t.Errorf("%s not rebuilt: %+v", slug, m)
		}
		page, err := os.ReadFile(filepath.Join(store, "articles", slug, record.PageFile))
		if err != nil || !bytes.Contains(page, []byte(`<meta charset="utf-8"`)) || !slices.Contains(m.Files, record.PageFile) ||
			m.Sums[record.PageFile] == "" || m.PageVersion != singlepage.Version {
			t.Errorf("%s: page.html (%d bytes, %v) not built: files %q, page version %d", slug, len(page), err, m.Files, m.PageVersion)
		}
		if problems, err := record.Verify(t.Context(), st, slug); err != nil || len(problems) > 0 {
			t.Errorf("%s: Verify: %q %v", slug, problems, err)
		}
	}
	for i, trap := range traps {
		if got := trap.Settle(t); got != 0 {
			t.Errorf("%d connections to %s", got, addrs[i])
		}
	}
	if q := dns.Questions(); len(q) != 0 {
		t.Errorf("DNS questions: %v", q)
	}
	after := 0
	for _, p := range w.Publishers {
		after += p.Requests()
	}
	if after != before {
		t.Errorf("the publishers saw %d requests during reextract", after-before)
	}
}
