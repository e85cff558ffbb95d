package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// mustBeRefusedEarly stops the test before linkarc runs if the SSRF guard's
// early check would let a target through: these tests use production
// wiring, so a broken guard must fail them here rather than send a DNS
// query or a packet towards a real network.
func mustBeRefusedEarly(t *testing.T, targets []netguardtest.Target) {
	t.Helper()
	for _, tg := range targets {
		u, err := url.Parse(tg.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := netguard.CheckURL(u, false); !netguard.IsForbidden(err) {
			t.Fatalf("netguard.CheckURL(%s) = %v: the guard is broken; not running linkarc against it", tg.URL, err)
		}
	}
}

// TestArchiveRefusesInternalTargets runs `linkarc archive` without
// --allow-private over a digest whose links point at every internal target
// of the SSRF promise, each three times: as a plain link (fetched
// directly), as an old-format Google News link whose id embeds the URL
// (decoded offline) and as a current-format link that the fake Google News
// resolves to it (batchexecute). Every article ends failed with reason
// forbidden_address in its meta.json and in the --report JSON, Google is
// asked only about the current-format ids, and the loopback traps accept no
// connection.
func TestArchiveRefusesInternalTargets(t *testing.T) {
	v4, v6 := netguardtest.Traps(t)
	targets := netguardtest.Targets(v4, v6)
	mustBeRefusedEarly(t, targets)
	google := gnewstest.NewServer(gnewstest.Options{})
	t.Cleanup(google.Close)

	type want struct{ slug, link, url, method string }
	var items []archivetest.DigestItem
	var wants []want
	for _, tg := range targets {
		plain := archivetest.DigestItem{Title: "Plain link to " + tg.Name, Publisher: "Hostile Feed", Link: tg.URL}
		// A different query keeps the two from being merged as one article.
		viaURL := tg.URL + "?via=gnews"
		via := archivetest.DigestItem{Title: "Google link to " + tg.Name, Publisher: "Hostile Feed",
			Link: gnewstest.ArticleURL(gnewstest.EncodeOldID(viaURL, ""))}
		batchURL := tg.URL + "?via=batchexecute"
		batch := archivetest.DigestItem{Title: "Resolved link to " + tg.Name, Publisher: "Hostile Feed", Link: google.NewArticle(batchURL)}
		items = append(items, plain, via, batch)
		wants = append(wants,
			want{record.ArticleSlug(plain.Title, plain.Publisher), plain.Link, tg.URL, "direct"},
			want{record.ArticleSlug(via.Title, via.Publisher), via.Link, viaURL, "offline"},
			want{record.ArticleSlug(batch.Title, batch.Publisher), batch.Link, batchURL, "batchexecute"})
	}
	digests := t.TempDir()
	if _, err := archivetest.WriteDigest(digests, "hostile.md", "Hostile digest", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	reportPath := filepath.Join(t.TempDir(), "report.json")

	res := runLinkarc(t, nil, "", "archive",
		"--store", dir,
		"--gnews-base", google.NewsURL(),
		"--gnews-interval", "0",
		"--host-interval", "0",
		"--progress", "none",
		"--report", reportPath,
		digests)
	if res.code != exitSomeFailed {
		t.Fatalf("archive exit %d, want %d (some failed)\nstderr:\n%s", res.code, exitSomeFailed, res.stderr)
	}

	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		m := readMeta(t, store, w.slug)
		if m.Status != record.StatusFailed || m.Reason != record.ReasonForbiddenAddress || m.URL != w.url || m.ResolveMethod != w.method {
			t.Errorf("%s: status %q reason %q url %q method %q; want failed, %s, %s, %s (error %q)",
				w.slug, m.Status, m.Reason, m.URL, m.ResolveMethod, record.ReasonForbiddenAddress, w.url, w.method, m.Error)
		}
		// The early check's words: refused before any socket was opened.
		if !strings.Contains(m.Error, "netguard: refusing") || !strings.Contains(m.Error, "--allow-private") || strings.Contains(m.Error, "dial tcp") {
			t.Errorf("%s: error %q; want the early refusal, with how to allow it", w.slug, m.Error)
		}
		if m.HTTPStatus != 0 || m.SHA256 != "" {
			t.Errorf("%s: a response was recorded: HTTP %d, sha256 %q", w.slug, m.HTTPStatus, m.SHA256)
		}
		if _, err := store.Stat(t.Context(), record.ArticleKey(w.slug, record.RawFile)); !storage.IsNotExist(err) {
			t.Errorf("%s: raw.html exists (stat: %v)", w.slug, err)
		}
	}

	var rep archive.Report
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Articles != len(wants) || rep.Counts[record.StatusFailed] != len(wants) || rep.ByReason[record.ReasonForbiddenAddress] != len(wants) {
		t.Errorf("report: %d articles, counts %v, by reason %v; want all %d failed as %s", rep.Articles, rep.Counts, rep.ByReason, len(wants), record.ReasonForbiddenAddress)
	}
	failed := map[string]archive.ArticleFailure{}
	for _, f := range rep.Failures {
		failed[f.Slug] = f
	}
	for _, w := range wants {
		f, ok := failed[w.slug]
		if !ok || f.Status != record.StatusFailed || f.Reason != record.ReasonForbiddenAddress || f.URL != w.url || f.Link != w.link {
			t.Errorf("report failure for %s = %+v (listed %v); want failed %s for %s", w.slug, f, ok, record.ReasonForbiddenAddress, w.url)
		}
	}

	// One signature page per current-format id, and the POSTs resolving
	// them; old-format ids decode offline.
	if a, p := google.Count(gnewstest.KindArticle), google.Count(gnewstest.KindBatchexecute); a != len(targets) || p < 1 || google.Total() != a+p {
		t.Errorf("Google got %d article GETs, %d POSTs, %d requests in all; want %d, some and nothing else", a, p, google.Total(), len(targets))
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
	assertNoSecret(t, dir)
}

// TestResolveRefusesInternalTargets: `linkarc resolve` on non-Google links
// at every internal target refuses each one (error_kind forbidden_address),
// exits 1, and contacts nothing.
func TestResolveRefusesInternalTargets(t *testing.T) {
	v4, v6 := netguardtest.Traps(t)
	targets := netguardtest.Targets(v4, v6)
	mustBeRefusedEarly(t, targets)
	google := gnewstest.NewServer(gnewstest.Options{})
	t.Cleanup(google.Close)
	var inputs []string
	for _, tg := range targets {
		inputs = append(inputs, tg.URL)
	}

	code, stdout, stderr := resolveRun(t, nil, strings.Join(inputs, "\n"),
		"--gnews-base", google.NewsURL(), "--gnews-interval", "0", "--no-cache", "--json")
	if code != exitSomeFailed {
		t.Fatalf("resolve exit %d, want %d\nstderr:\n%s", code, exitSomeFailed, stderr)
	}
	out := jsonLines(t, stdout)
	if len(out) != len(inputs) {
		t.Fatalf("%d output lines for %d inputs:\n%s", len(out), len(inputs), stdout)
	}
	for i, l := range out {
		var j jsonResult
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if j.Input != inputs[i] || j.URL != "" || j.ErrorKind != "forbidden_address" || !strings.Contains(j.Error, "--allow-private") {
			t.Errorf("line %d: %+v; want %s refused as forbidden_address", i+1, j, inputs[i])
		}
	}
	if want := fmt.Sprintf("%d of %s failed", len(inputs), textnorm.Count(len(inputs), "input", "inputs")); !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
	if n := google.Total(); n != 0 {
		t.Errorf("Google was asked %d times about generic links", n)
	}
	if n := v4.Settle(t) + v6.Settle(t); n != 0 {
		t.Errorf("the loopback traps accepted %d connections", n)
	}
}

// assertNoSecret checks that nothing a trap serves was written anywhere in
// the store.
func assertNoSecret(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), netguardtest.Secret) {
			t.Errorf("%s holds the internal service's secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
