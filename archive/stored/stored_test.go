package stored

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func generated(t *testing.T) (storage.Store, *viewertest.Generated) {
	t.Helper()
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := viewertest.Generate(testContext(t), st, viewertest.GenerateOptions{Articles: 12, PerDigest: 4, Words: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return st, gen
}

// TestSelect: what each filter selects, the errors of a bad one, and the
// view that shows only the selection.
func TestSelect(t *testing.T) {
	st, gen := generated(t)
	ctx := testContext(t)
	count := func(f Filter) (digests, articles int) {
		t.Helper()
		s, err := Select(ctx, st, f)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Articles(ctx, func(m *record.ArticleMeta) error {
			if f.Status != "" && m.Status != f.Status {
				t.Errorf("%+v selected %s (%s)", f, m.Slug, m.Status)
			}
			articles++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(s.DigestSlugs()), articles
	}
	if d, a := count(Filter{}); d != 3 || a != 12 {
		t.Errorf("everything: %d digests, %d articles", d, a)
	}
	if d, a := count(Filter{Digests: []string{gen.Digests[0], gen.Digests[2]}}); d != 2 || a != 8 {
		t.Errorf("two digests: %d digests, %d articles", d, a)
	}
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	if d, a := count(Filter{From: day}); d != 2 || a != 8 {
		t.Errorf("from the 2nd: %d digests, %d articles", d, a)
	}
	if d, a := count(Filter{From: day, To: day}); d != 1 || a != 4 {
		t.Errorf("the 2nd: %d digests, %d articles", d, a)
	}
	if d, _ := count(Filter{Tag: "NEWS"}); d != 3 {
		t.Errorf("tag news: %d digests", d)
	}
	if _, a := count(Filter{Status: record.StatusOK}); a == 0 || a == 12 {
		t.Errorf("ok: %d articles", a)
	}

	_, err := Select(ctx, st, Filter{Digests: []string{gen.Digests[0], "no-such-digest"}})
	var unknown *UnknownDigestsError
	if !errors.As(err, &unknown) || len(unknown.Names) != 1 || err.Error() != `no digest "no-such-digest" in the archive` {
		t.Errorf("unknown digest: %v", err)
	}
	if _, err := Select(ctx, st, Filter{Status: "fine"}); err == nil || !strings.Contains(err.Error(), "want ok, blocked or failed") {
		t.Errorf("bad status: %v", err)
	}
	if _, err := Select(ctx, st, Filter{From: day, To: day.AddDate(0, 0, -1)}); err == nil || !strings.Contains(err.Error(), "ends (2024-01-01) before it starts (2024-01-02)") {
		t.Errorf("backwards range: %v", err)
	}

	s, err := Select(ctx, st, Filter{Digests: []string{gen.Digests[0]}})
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	rec, err := record.ReadDigest(ctx, st, gen.Digests[0])
	if err != nil {
		t.Fatal(err)
	}
	in, out := rec.Articles[0].Slug, gen.Articles[len(gen.Articles)-1]
	if _, err := v.Stat(ctx, record.ArticleKey(in, record.MetaFile)); err != nil {
		t.Errorf("the view hides a selected article: %v", err)
	}
	if _, err := v.Get(ctx, record.ArticleKey(out, record.MetaFile)); !storage.IsNotExist(err) {
		t.Errorf("the view shows an article left out: %v", err)
	}
	if _, err := record.ReadDigest(ctx, v, gen.Digests[1]); !storage.IsNotExist(err) {
		t.Errorf("the view shows a digest left out: %v", err)
	}
	var listed []string
	v.List(ctx, record.DigestsPrefix, func(i storage.Info) error { listed = append(listed, i.Key); return nil })
	if len(listed) != 1 || listed[0] != record.DigestKey(gen.Digests[0]) {
		t.Errorf("the view lists %q", listed)
	}
	if err := v.Put(ctx, "x", strings.NewReader(""), 0, storage.PutOptions{}); err == nil {
		t.Errorf("the view took a write")
	}
}

// TestReadPage reads a capture's page from its WARC, content coding
// undone, and from raw.html for a capture without one.
func TestReadPage(t *testing.T) {
	st, gen := generated(t)
	ctx := testContext(t)
	const page = `<html><head><meta charset="windows-1252"><title>caf` + "\xe9" + `</title></head><body>Recorded</body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=windows-1252")
		switch r.URL.Path {
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write([]byte(page))
			zw.Close()
		case "/br":
			w.Header().Set("Content-Encoding", "br")
			bw := brotli.NewWriter(w)
			bw.Write([]byte(page))
			bw.Close()
		case "/moved":
			http.Redirect(w, r, "/gzip", http.StatusFound)
		}
	}))
	defer srv.Close()
	slugs := gen.Articles[:3]
	for i, path := range []string{"/gzip", "/br"} {
		var file bytes.Buffer
		w, err := warc.NewWriter(&file, warc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		client := warctest.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		warctest.Get(t, client, w, srv.URL+"/moved")
		warctest.Get(t, client, w, srv.URL+path)
		w.Close()
		if err := st.Put(ctx, WARCKey(slugs[i], ""), &file, int64(file.Len()), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		m, _ := record.ReadMeta(ctx, st, slugs[i])
		m.URL, m.FinalURL = srv.URL+"/moved", srv.URL+path
		p, err := ReadPage(ctx, st, m, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if string(p.Body) != page || p.From != FromWARC || p.ContentType != "text/html; charset=windows-1252" || p.URL != srv.URL+path {
			t.Errorf("%s: %+v", path, p)
		}
	}
	m, _ := record.ReadMeta(ctx, st, slugs[2])
	p, err := ReadPage(ctx, st, m, t.TempDir())
	raw := storagetest.ReadObject(t, st, record.ArticleKey(slugs[2], record.RawFile))
	if err != nil || p.From != FromRaw || !bytes.Equal(p.Body, raw) || p.ContentType != m.ContentType {
		t.Errorf("raw.html: %+v, %v", p, err)
	}
	st.Delete(ctx, record.ArticleKey(slugs[2], record.RawFile))
	if _, err := ReadPage(ctx, st, m, t.TempDir()); !errors.Is(err, ErrNoPage) {
		t.Errorf("no page: %v", err)
	}
}
