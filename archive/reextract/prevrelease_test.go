package reextract

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/linkarc/linkarc/internal/textscore"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
	"github.com/linkarc/linkarc/viewer"
)

// prevReleaseAddr is where the publishers of testdata/prevrelease were
// (its README): every URL in that store points there.
const prevReleaseAddr = "127.0.0.1:18411"

// TestPreviousRelease re-extracts a copy of a store made by the release
// before WARC recording (testdata/prevrelease, README there says how):
// with a server counting connections on the address its publishers had,
// and none of the store's other hosts resolvable from a test, no
// connection is made; every article whose page was received is rebuilt
// from raw.html, its verdict kept (the consent wall stays blocked), and
// every benchmark article's text scores at least as well as before against
// the benchmark's reference text (internal/textscore, F1); the 404 is left
// as it is; record.Verify finds nothing wrong; and the viewer still
// serves every article, its text and its archived page.
func TestPreviousRelease(t *testing.T) {
	ctx := testContext(t)
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "testdata", "prevrelease", "store"))); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	truth := groundTruth(t)

	// A trap where the publishers were: any request would land here.
	ln, err := net.Listen("tcp", prevReleaseAddr)
	if err != nil {
		t.Fatalf("the trap on %s: %v", prevReleaseAddr, err)
	}
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })

	type article struct {
		meta   *record.ArticleMeta
		text   string // text.txt before
		truth  string // the benchmark's reference text, "" when not a benchmark page
		before float64
	}
	arts := map[string]*article{}
	var slugs []string
	err = st.List(ctx, record.ArticlesPrefix, func(i storage.Info) error {
		if slug, ok := strings.CutSuffix(strings.TrimPrefix(i.Key, record.ArticlesPrefix), "/"+record.MetaFile); ok && !strings.Contains(slug, "/") {
			slugs = append(slugs, slug)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range slugs {
		m, err := record.ReadMeta(ctx, st, slug)
		if err != nil {
			t.Fatal(err)
		}
		a := &article{meta: m}
		if m.Status != record.StatusFailed {
			a.text = string(storagetest.ReadObject(t, st, record.ArticleKey(slug, record.TextFile)))
		}
		if id, ok := strings.CutSuffix(path.Base(m.URL), ".html"); ok && truth[id] != "" {
			a.truth = truth[id]
			a.before = textscore.Compare(a.truth, a.text).F1()
		}
		arts[slug] = a
	}
	benchmark := 0
	for _, a := range arts {
		if a.truth != "" {
			benchmark++
		}
	}
	if len(arts) != 6 || benchmark != 4 {
		t.Fatalf("the fixture holds %d articles, %d of them benchmark pages; its README says 6 and 4", len(arts), benchmark)
	}

	rep, err := Run(ctx, Options{Store: st, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rebuilt != 5 || rep.FromRaw != 5 || rep.FromWARC != 0 || rep.Skipped != 1 || rep.Changed != 0 || rep.Pages != 0 || len(rep.Failed) != 0 {
		t.Errorf("report %+v", rep)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections to %s", n, prevReleaseAddr)
	}

	v, err := viewer.New(viewer.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	get := func(u string) (int, string) {
		rec := httptest.NewRecorder()
		v.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		return rec.Code, rec.Body.String()
	}
	for _, slug := range slugs {
		a := arts[slug]
		m, err := record.ReadMeta(ctx, st, slug)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != a.meta.Status || m.Reason != a.meta.Reason || !m.FetchedAt.Equal(a.meta.FetchedAt) || m.SHA256 != a.meta.SHA256 {
			t.Errorf("%s: %s/%s fetched %v, was %s/%s fetched %v", slug, m.Status, m.Reason, m.FetchedAt, a.meta.Status, a.meta.Reason, a.meta.FetchedAt)
		}
		if problems, err := record.Verify(ctx, st, slug); err != nil || len(problems) > 0 {
			t.Errorf("%s: Verify: %q %v", slug, problems, err)
		}
		if a.truth != "" {
			text := string(storagetest.ReadObject(t, st, record.ArticleKey(slug, record.TextFile)))
			after := textscore.Compare(a.truth, text).F1()
			t.Logf("%s: F1 %.3f before, %.3f after (%d words)", slug, a.before, after, m.WordCount)
			if after < a.before-1e-9 {
				t.Errorf("%s: the text got worse: F1 %.3f, was %.3f", slug, after, a.before)
			}
		}
		code, body := get("/articles/" + slug)
		if code != http.StatusOK {
			t.Errorf("%s: the viewer answered %d", slug, code)
		}
		if m.Status == record.StatusOK {
			if words := strings.Fields(m.ArticleTitle); len(words) > 0 && !strings.Contains(body, words[0]) {
				t.Errorf("%s: the article page does not show its title %q", slug, m.ArticleTitle)
			}
			if code, raw := get("/articles/" + slug + "/raw"); code != http.StatusOK || !strings.Contains(raw, "<iframe") {
				t.Errorf("%s: archived page: %d", slug, code)
			}
			if code, _ := get("/articles/" + slug + "/" + record.RawFile); code != http.StatusOK {
				t.Errorf("%s: raw.html: %d", slug, code)
			}
		}
	}
}

// groundTruth reads the benchmark's reference texts by page id.
func groundTruth(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extraction", "ground-truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt map[string]struct {
		ArticleBody string `json:"articleBody"`
	}
	if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatalf("ground-truth.json: %v", err)
	}
	out := map[string]string{}
	for id, p := range gt {
		out[id] = p.ArticleBody
	}
	return out
}
