package viewer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// get fetches path from the viewer and returns status and body.
func fetch(t testing.TB, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// searchSlugs returns the slugs the API search finds for q.
func searchSlugs(t testing.TB, h http.Handler, q string) []string {
	t.Helper()
	code, body := fetch(t, h, "/api/search?per_page=200&q="+q)
	if code != http.StatusOK {
		t.Fatalf("search %q: %d %s", q, code, body)
	}
	var v struct{ Hits []struct{ Slug string } }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range v.Hits {
		out = append(out, h.Slug)
	}
	sort.Strings(out)
	return out
}

func putText(t testing.TB, st storage.Store, slug, title, text string) {
	t.Helper()
	err := viewertest.PutArticle(testContext(t), st, viewertest.Article{
		Meta: record.ArticleMeta{Slug: slug, Title: title, Publisher: "P", URL: "https://p.example/" + slug,
			Status: record.StatusOK, FetchedAt: time.Now().UTC()},
		Raw: "<p>" + text + "</p>", Text: text + "\n",
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIndexFollowsStore adds, rewrites and deletes articles behind a running
// viewer: each refresh reindexes exactly what changed, on both backends.
func TestIndexFollowsStore(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.newStore(t)
			ctx := testContext(t)
			putText(t, st, "first", "First article", "alpha bravo")
			s := newTestServer(t, st, Options{})
			if got := searchSlugs(t, s, "nebulon"); len(got) != 0 {
				t.Fatalf("before: %v", got)
			}

			putText(t, st, "second", "Second article", "charlie nebulon")
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := searchSlugs(t, s, "nebulon"); !equal(got, "second") {
				t.Errorf("after add: %v", got)
			}
			if n := s.IndexStats().LastIndexed; n != 1 {
				t.Errorf("refresh reindexed %d articles, want only the new one", n)
			}

			// Rewritten: the new text is found, the old is not.
			putText(t, st, "second", "Second article, updated with a longer title", "charlie quasarite")
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := searchSlugs(t, s, "quasarite"); !equal(got, "second") {
				t.Errorf("after rewrite: %v", got)
			}
			if got := searchSlugs(t, s, "nebulon"); len(got) != 0 {
				t.Errorf("old text still found: %v", got)
			}

			// Deleted: gone from search.
			for _, name := range []string{record.MetaFile, record.RawFile, record.TextFile} {
				if err := st.Delete(ctx, record.ArticleKey("second", name)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := searchSlugs(t, s, "charlie"); len(got) != 0 {
				t.Errorf("after delete: %v", got)
			}
			if got := s.IndexStats().Documents; got != 1 {
				t.Errorf("index holds %d documents, want 1", got)
			}

			// Nothing changed: nothing reindexed.
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if n := s.IndexStats().LastIndexed; n != 0 {
				t.Errorf("idle refresh reindexed %d articles", n)
			}
		})
	}
}

func equal(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestIndexOnDisk restarts the viewer on the same index directory: the
// second start reindexes nothing, a damaged index is rebuilt, and a second
// viewer on a directory in use gets a clear error instead of hanging.
func TestIndexOnDisk(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if _, err := viewertest.Generate(ctx, st, viewertest.GenerateOptions{Articles: 40, Words: 50}); err != nil {
		t.Fatal(err)
	}
	putText(t, st, "marker", "Marker", "xylophonist")
	dir := t.TempDir()

	open := func() *Server {
		t.Helper()
		s, err := New(Options{Store: st, IndexDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if n := s.IndexStats().LastIndexed; n != 41 {
		t.Errorf("first start indexed %d articles, want 41", n)
	}

	// While it is open, a second viewer on the directory fails fast.
	start := time.Now()
	if _, err := New(Options{Store: st, IndexDir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second viewer on the same index: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("second viewer waited %v for the lock", d)
	}
	s.Close()

	s = open()
	if n := s.IndexStats().LastIndexed; n != 0 {
		t.Errorf("restart reindexed %d articles, want 0", n)
	}
	if got := searchSlugs(t, s, "xylophonist"); !equal(got, "marker") {
		t.Errorf("after restart: %v", got)
	}
	s.Close()

	// Damage the index: it is rebuilt from the store.
	meta := filepath.Join(dir, "articles-v"+indexVersion+".bleve", "index_meta.json")
	if err := os.WriteFile(meta, []byte("{damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	if n := s.IndexStats().LastIndexed; n != 41 {
		t.Errorf("rebuild indexed %d articles, want 41", n)
	}
	if got := searchSlugs(t, s, "xylophonist"); !equal(got, "marker") {
		t.Errorf("after rebuild: %v", got)
	}
}

// gatedStore holds Get of one key until released, to freeze a refresh in
// the middle. Everything else goes to the real store.
type gatedStore struct {
	storage.Store
	key     string
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == g.key {
		g.once.Do(func() { close(g.reached) })
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Store.Get(ctx, key)
}

// TestServingDuringIndexing freezes the first indexing in its second batch
// and checks that the viewer answers meanwhile: pages, search over the
// first batch, and a health report that says indexing is under way.
func TestServingDuringIndexing(t *testing.T) {
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	gen, err := viewertest.Generate(ctx, local, viewertest.GenerateOptions{Articles: 300, Words: 30})
	if err != nil {
		t.Fatal(err)
	}
	slugs := append([]string(nil), gen.Articles...)
	sort.Strings(slugs)
	gated := slugs[indexBatchSize+10] // in the second batch
	g := &gatedStore{Store: local, key: record.ArticleKey(gated, record.TextFile), reached: make(chan struct{}), release: make(chan struct{})}
	s, err := New(Options{Store: g})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- s.index.refresh(ctx) }()
	select {
	case <-g.reached:
	case err := <-done:
		t.Fatalf("refresh ended before the gate: %v", err)
	}

	start := time.Now()
	if code, _ := fetch(t, s, "/"); code != http.StatusOK {
		t.Errorf("home during indexing: %d", code)
	}
	if code, _ := fetch(t, s, "/articles/"+slugs[0]); code != http.StatusOK {
		t.Errorf("article during indexing: %d", code)
	}
	code, body := fetch(t, s, "/api/search?q=government&per_page=1")
	if code != http.StatusOK {
		t.Errorf("search during indexing: %d %s", code, body)
	}
	var res struct{ Index IndexStats }
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Index.Refreshing || res.Index.Documents != indexBatchSize || res.Index.Pending != 300-indexBatchSize {
		t.Errorf("index during indexing: %+v, want refreshing with %d searchable and %d pending", res.Index, indexBatchSize, 300-indexBatchSize)
	}
	if code, body := fetch(t, s, "/search?q=government"); code != http.StatusOK || !strings.Contains(body, "still to index") {
		t.Errorf("search page during indexing: %d, notice shown: %v", code, strings.Contains(body, "still to index"))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("requests during indexing took %v", d)
	}

	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.IndexStats(); st.Documents != 300 || st.Refreshing || st.Pending != 0 {
		t.Errorf("after indexing: %+v", st)
	}
}

// TestStoreOutage stops a MinIO of its own under a running viewer: pages
// that need the store answer 503 with a clear message, what is cached (the
// digest list, the search index) keeps working, and everything recovers
// when MinIO is back.
func TestStoreOutage(t *testing.T) {
	ctx := testContext(t)
	m, err := storagetest.StartMinIO(ctx, storagetest.MinIOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st := m.NewBucketStore(t)
	f := writeFixture(t, st)
	var logs bytes.Buffer
	s := newTestServer(t, st, Options{StoreTimeout: 3 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	article := ""
	for _, a := range f.gen.Articles {
		if f.gen.Status[a] == record.StatusOK {
			article = a
			break
		}
	}
	if code, _ := fetch(t, s, "/articles/"+article); code != http.StatusOK {
		t.Fatalf("before the outage: %d", code)
	}

	m.Stop()
	// The background refresh fails and keeps the old list.
	if err := s.catalog.refresh(ctx); err == nil {
		t.Fatal("catalog refresh succeeded with MinIO stopped")
	}
	cases := []struct {
		path   string
		status int
		want   string
	}{
		{"/articles/" + article, 503, "The archive store"},
		{"/articles/" + article + "/raw", 503, "The archive store"},
		{"/articles/" + article + "/raw.html", 503, "The archive store"},
		{"/articles/" + article + "/text.txt", 503, "The archive store"},
		{"/digests/" + f.gen.Digests[0], 503, "The archive store"},
		{"/api/articles/" + article, 503, `"error": "The archive store`},
		{"/healthz", 503, `"status": "unavailable"`},
		{"/", 200, "could not be reached"},    // cached list, with a notice
		{"/search?q=zorblax", 200, "Zorblax"}, // the index is local
	}
	for _, c := range cases {
		code, body := fetch(t, s, c.path)
		if code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s during the outage: %d, want %d with %q; body %.300s", c.path, code, c.status, c.want, body)
		}
		for _, leak := range []string{"127.0.0.1", "dial tcp", "connection refused", "goroutine"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: the page shows internal detail %q", c.path, leak)
			}
		}
	}
	if !strings.Contains(logs.String(), "viewer: store") {
		t.Errorf("the outage was not logged: %s", logs.String())
	}
	// A viewer started during the outage has no list to show.
	fresh := newServerNoRefresh(t, st)
	if code, body := fetch(t, fresh, "/"); code != 503 || !strings.Contains(body, "The archive store") {
		t.Errorf("fresh viewer during the outage: %d %.300s", code, body)
	}

	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := fetch(t, s, "/articles/"+article); code != http.StatusOK {
		t.Errorf("after the outage: %d", code)
	}
	if code, _ := fetch(t, fresh, "/"); code != http.StatusOK {
		t.Errorf("fresh viewer after the outage: %d", code)
	}
	if code, _ := fetch(t, s, "/healthz"); code != http.StatusOK {
		t.Errorf("healthz after the outage: %d", code)
	}
}

func netListen(t testing.TB) (net.Listener, error) {
	t.Helper()
	return net.Listen("tcp", "127.0.0.1:0")
}

func newServerNoRefresh(t testing.TB, st storage.Store) *Server {
	t.Helper()
	s, err := New(Options{Store: st, StoreTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// panickyStore panics when one key is read, standing in for a bug.
type panickyStore struct {
	storage.Store
	key string
}

func (p panickyStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == p.key {
		panic(errors.New("secret internal state 0xdeadbeef"))
	}
	return p.Store.Get(ctx, key)
}

// TestPanicRecovered checks that a bug in a handler gives a plain 500 page,
// with the details in the log only, and that the viewer goes on serving.
func TestPanicRecovered(t *testing.T) {
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	putText(t, local, "boom", "Boom", "text")
	putText(t, local, "fine", "Fine", "text")
	var logs bytes.Buffer
	s, err := New(Options{Store: panickyStore{Store: local, key: record.ArticleKey("boom", record.MetaFile)},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, path := range []string{"/articles/boom", "/api/articles/boom"} {
		code, body := fetch(t, s, path)
		if code != http.StatusInternalServerError {
			t.Errorf("%s: %d", path, code)
		}
		for _, leak := range []string{"deadbeef", "goroutine", "panic", ".go:"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: the response shows %q", path, leak)
			}
		}
	}
	if !strings.Contains(logs.String(), "deadbeef") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic and its stack are not in the log")
	}
	if code, _ := fetch(t, s, "/articles/fine"); code != http.StatusOK {
		t.Errorf("after the panic: %d", code)
	}
}

// TestServe runs Serve on a real listener and stops it through its context,
// as SIGINT does: requests in flight finish, Serve returns nil.
func TestServe(t *testing.T) {
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	putText(t, local, "served", "Served", "served text")
	s, err := New(Options{Store: local, RefreshInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := netListen(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	// The background refresh indexes the article without anyone asking.
	deadline := time.Now().Add(20 * time.Second)
	for s.IndexStats().Documents != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.IndexStats().Documents; n != 1 {
		t.Fatalf("background refresh indexed %d articles", n)
	}
	resp, err := http.Get(base + "/api/search?q=served")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("search: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the viewer still answers after shutdown")
	}
}
