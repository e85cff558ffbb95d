package viewer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// BenchmarkRequest measures one request at a time, in process, over a
// generated archive of LINKARC_LOAD_ARTICLES articles (default 10,000; set
// LINKARC_LOAD_STORE to reuse an archive between runs). The static
// stylesheet is the baseline: the other sub-benchmarks are read as ratios
// of it.
//
//	go test -run '^$' -bench BenchmarkRequest ./viewer
func BenchmarkRequest(b *testing.B) {
	articles := envInt(b, "LINKARC_LOAD_ARTICLES", 10000)
	dir := envOr("LINKARC_LOAD_STORE", b.TempDir())
	st, err := storage.NewLocal(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	gen, err := loadArchive(ctx, st, dir, articles)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Store: st, IndexDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	var ok string
	for _, a := range gen.Articles {
		if gen.Status[a] == record.StatusOK {
			ok = a
			break
		}
	}
	lex := viewertest.NewLexicon()
	cases := []struct{ name, path string }{
		{"static", s.static.path("style.css")},
		{"home", "/"},
		{"digest", "/digests/" + gen.Digests[0]},
		{"article", "/articles/" + ok},
		{"raw", "/articles/" + ok + "/raw.html"},
		{"api-article", "/api/articles/" + ok},
		{"search-common-word", "/search?q=" + lex.Rank(0)},
		{"search-rare-word", "/search?q=" + lex.Rank(5000)},
		{"search-two-words", "/search?q=" + url.QueryEscape(lex.Rank(10)+" "+lex.Rank(20))},
		{"search-phrase", "/search?q=" + url.QueryEscape(`"`+lex.Rank(1)+" "+lex.Rank(2)+`"`)},
		{"search-no-match", "/search?q=zzyzx"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", c.path, rec.Code)
				}
			}
		})
	}
}

// BenchmarkLargeSnapshot downloads a 64 MiB raw snapshot through the
// viewer: the bytes allocated per request stay a small fraction of the
// snapshot, because the object is copied from the store in small buffers,
// never loaded whole. (Shown inline, a snapshot over maxInertBytes gets a
// notice instead; see BenchmarkInertSnapshot for those that are rewritten.)
func BenchmarkLargeSnapshot(b *testing.B) {
	st, err := storage.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	const size = 64 << 20
	ctx := context.Background()
	body := "<html><body><p>" + strings.Repeat("big page ", size/9) + "</p></body></html>"
	if err := viewertest.PutArticle(ctx, st, viewertest.Article{
		Meta: record.ArticleMeta{Slug: "big", Title: "Big", Status: record.StatusOK, Charset: "utf-8"}, Raw: body,
	}); err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(ts.URL + "/articles/big/raw.html?download=1")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(body)) {
			b.Fatalf("read %d of %d bytes: %v", n, len(body), err)
		}
	}
}

// BenchmarkInertSnapshot rewrites raw snapshots as they are shown
// (inert.go): the demo archive's real news pages, one after the other.
func BenchmarkInertSnapshot(b *testing.B) {
	var pages []string
	var total int64
	for _, p := range loadBenchmarkPages(b) {
		pages = append(pages, p.raw)
		total += int64(len(p.raw))
	}
	b.SetBytes(total / int64(len(pages)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := writeInert(io.Discard, strings.NewReader(pages[i%len(pages)]), "utf-8"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func envOr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}
