package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// Faults of the store and of publishers, run through Archiver.Run with real
// parts: the fake Google News and loopback publishers of archivetest, the
// real resolver and fetcher, and a local store. The end-to-end versions
// against MinIO and the linkarc binary are in cmd/linkarc/faults_test.go.

// faultStore is a real store with failures injected: fail, when set, is
// asked before every write and gives the error to return instead.
type faultStore struct {
	storage.Store
	mu   sync.Mutex
	fail func(op, key string) error
}

func (s *faultStore) setFail(f func(op, key string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

func (s *faultStore) check(op, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail == nil {
		return nil
	}
	return s.fail(op, key)
}

func (s *faultStore) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) error {
	if err := s.check("put", key); err != nil {
		return err
	}
	return s.Store.Put(ctx, key, r, size, opts)
}

func (s *faultStore) Delete(ctx context.Context, key string) error {
	if err := s.check("delete", key); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

// storeDown is what a store that went away answers.
var storeDown = fmt.Errorf("dial tcp 127.0.0.1:9000: %w", syscall.ECONNREFUSED)

func worldPages(t *testing.T, n int) []archivetest.Page {
	t.Helper()
	pages, err := archivetest.LoadPages("../testdata/extraction", n)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// newWorldArchiver returns an Archiver over w's Google and publishers that
// stores into store, with fetch options adjusted by fetchOpts (may be nil)
// and dial replacing the fetcher's dialer (may be nil).
func newWorldArchiver(t *testing.T, w *archivetest.World, store storage.Store, opts Options, fetchOpts func(*fetch.Options), dial fetch.DialFunc) *Archiver {
	t.Helper()
	return newWorldArchiverWith(t, w, store, opts, nil, fetchOpts, dial)
}

// newWorldArchiverWith is newWorldArchiver with the resolver's options
// adjusted by resOpts (may be nil).
func newWorldArchiverWith(t *testing.T, w *archivetest.World, store storage.Store, opts Options, resOpts func(*resolver.Options), fetchOpts func(*fetch.Options), dial fetch.DialFunc) *Archiver {
	t.Helper()
	ro := resolver.Options{GNewsBase: w.Google.NewsURL(), Interval: -1, AllowPrivate: true, Cache: resolver.NewStoreCache(store)}
	if resOpts != nil {
		resOpts(&ro)
	}
	res, err := resolver.New(ro)
	if err != nil {
		t.Fatal(err)
	}
	fo := fetch.Options{
		UserAgent: "linkarc-test/1.0", HostInterval: 10 * time.Millisecond, AllowPrivate: true,
		ConnectTimeout: time.Second, ReadTimeout: 2 * time.Second, Timeout: 5 * time.Second,
		Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	}
	if fetchOpts != nil {
		fetchOpts(&fo)
	}
	fo.DialContext = dial
	f, err := fetch.New(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	opts.Store, opts.Resolver, opts.Fetcher = store, res, f
	// The world's pages are real pages whose requisites live on the
	// publishers' real CDNs: tests stay on loopback (requisites_test.go
	// serves its own).
	opts.Capture.NoRequisites = true
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func localStore(t testing.TB) storage.Store {
	t.Helper()
	s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkConsistent asserts that every meta.json in s describes the objects
// beside it, and returns the number of current captures.
func checkConsistent(t *testing.T, s storage.Store) int {
	t.Helper()
	c, err := archivetest.CheckArchive(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Problems {
		t.Error(p)
	}
	return c.Articles
}

// TestRunStopsWhenStoreFails: once a write fails (after the store's own
// retries), the run stops fetching, returns the store's error, and counts
// what it did not store as unfinished; a re-run on a working store finishes
// every article exactly once.
func TestRunStopsWhenStoreFails(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 3, Articles: 60, Digests: 3, Pages: worldPages(t, 20)})
	store := &faultStore{Store: localStore(t)}
	var metaPuts atomic.Int64
	var requestsAtFailure atomic.Int64
	store.setFail(func(op, key string) error {
		if op != "put" || !strings.HasPrefix(key, record.ArticlesPrefix) {
			return nil
		}
		if strings.HasSuffix(key, "/"+record.MetaFile) && metaPuts.Add(1) <= 5 {
			return nil
		}
		if metaPuts.Load() > 5 {
			requestsAtFailure.CompareAndSwap(0, int64(w.PublisherRequests()))
			return storeDown
		}
		return nil
	})
	a := newWorldArchiver(t, w, store, Options{StoreWorkers: 2}, nil, nil)
	rep, err := a.Run(context.Background(), []string{w.Dir})
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "store failed") {
		t.Fatalf("Run error = %v, want the store's failure", err)
	}
	if rep.Stopped == "" || rep.Interrupted {
		t.Errorf("report: stopped %q, interrupted %v; want stopped by the store", rep.Stopped, rep.Interrupted)
	}
	stored := checkConsistent(t, store)
	if stored != 5 {
		t.Errorf("%d articles stored, want the 5 before the store failed", stored)
	}
	if rep.Unfinished != len(w.Articles)-stored || rep.Counts[record.StatusFailed] != 0 {
		t.Errorf("report: %d unfinished, %d failed; want %d unfinished and none failed (not stored is not failed)",
			rep.Unfinished, rep.Counts[record.StatusFailed], len(w.Articles)-stored)
	}
	// The batch stopped: besides robots.txt, at most the pages in flight
	// (one per host) and those waiting for or held by the two store workers
	// were fetched after the failure.
	if extra := int64(w.PublisherRequests()) - requestsAtFailure.Load(); extra > 3+2*2 {
		t.Errorf("%d publisher requests after the store failed; the batch should have stopped", extra)
	}

	store.setFail(nil)
	before := w.PublisherRequests()
	rep, err = a.Run(context.Background(), []string{w.Dir})
	if err != nil || !rep.OK() {
		t.Fatalf("re-run: %v, report %+v", err, rep)
	}
	if n := checkConsistent(t, store); n != len(w.Articles) {
		t.Errorf("%d articles stored after the re-run, want %d", n, len(w.Articles))
	}
	if got, want := w.PublisherRequests()-before, len(w.Articles)-stored; got > want+3 {
		t.Errorf("re-run made %d publisher requests, want the %d unstored articles (plus robots.txt)", got, want)
	}
}

// TestRecaptureCrashKeepsMetaConsistent: a capture replacing an earlier one
// (a blocked page retried) that dies between writing the new objects and
// its meta.json must not leave the old meta.json describing the new
// objects; the earlier capture stays complete in history, and the next run
// records it there.
func TestRecaptureCrashKeepsMetaConsistent(t *testing.T) {
	pages := worldPages(t, 1)
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: pages})
	pub := w.Publishers[0]
	stub := "<!DOCTYPE html><html><head><title>Subscribe</title></head><body><p>Subscribe to read this story.</p></body></html>"
	pub.SetHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, stub)
	})
	store := &faultStore{Store: localStore(t)}
	a := newWorldArchiver(t, w, store, Options{}, nil, nil)
	ctx := context.Background()
	if _, err := a.Run(ctx, []string{w.Dir}); err != nil {
		t.Fatal(err)
	}
	slug := record.ArticleSlug(w.Articles[0].Title, w.Articles[0].Publisher)
	var first record.ArticleMeta
	json.Unmarshal([]byte(string(storagetest.ReadObject(t, store, record.ArticleKey(slug, record.MetaFile)))), &first)
	if first.Status != record.StatusBlocked || first.SHA256 == "" {
		t.Fatalf("first capture: status %q sha %q, want a blocked page with content", first.Status, first.SHA256)
	}

	// The publisher now serves the article; the process "dies" when it
	// writes the new meta.json.
	pub.SetHandler(nil)
	metaKey := record.ArticleKey(slug, record.MetaFile)
	store.setFail(func(op, key string) error {
		if op == "put" && key == metaKey {
			return storeDown
		}
		return nil
	})
	if _, err := a.Run(ctx, []string{w.Dir}); err == nil {
		t.Fatal("the run with a failing meta.json write succeeded")
	}
	checkConsistent(t, store)
	hist := record.HistoryKey(slug, record.CaptureID(first.FetchedAt), record.MetaFile)
	var kept record.ArticleMeta
	json.Unmarshal([]byte(string(storagetest.ReadObject(t, store, hist))), &kept)
	if kept.SHA256 != first.SHA256 || string(storagetest.ReadObject(t, store, record.HistoryKey(slug, record.CaptureID(first.FetchedAt), record.RawFile))) != stub {
		t.Errorf("the earlier capture is not complete in history: %+v", kept)
	}

	store.setFail(nil)
	if _, err := a.Run(ctx, []string{w.Dir}); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, store)
	var m record.ArticleMeta
	json.Unmarshal([]byte(string(storagetest.ReadObject(t, store, metaKey))), &m)
	if m.Status != record.StatusOK || len(m.History) != 1 || m.History[0].SHA256 != first.SHA256 || m.History[0].Status != record.StatusBlocked {
		t.Errorf("after the re-run: status %q history %+v; want ok with the blocked capture in history", m.Status, m.History)
	}
}

// TestRunRedirectToPrivateAddress runs a batch with the SSRF guard on
// (AllowPrivate false) against a publisher that redirects some articles to
// private and metadata addresses. The publisher is reached by name through a
// test dialer that lets only its own loopback address through; every other
// dial goes through netguard and is recorded. The redirects are refused
// before any dial, the articles fail with forbidden_address, and the rest of
// the batch is archived.
func TestRunRedirectToPrivateAddress(t *testing.T) {
	pages := worldPages(t, 4)
	google := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: pages}).Google
	pub := archivetest.StartPublisher(t, 40)
	_, port, _ := net.SplitHostPort(pub.Host)
	base := "http://news.example:" + port

	targets := []string{
		"http://10.0.0.1/admin",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://[::ffff:10.0.0.1]/",
		"http://0xa9.0xfe.0xa9.0xfe/",
		"http://[fd00::1]/",
	}
	var items []archivetest.DigestItem
	for i, p := range pages {
		u := pub.Add(fmt.Sprintf("/ok/%d", i), p.HTML)
		u = base + strings.TrimPrefix(u, "http://"+pub.Host)
		items = append(items, archivetest.DigestItem{Title: fmt.Sprintf("Good %d", i), Publisher: "News", Link: google.NewArticle(u)})
	}
	for i := range targets {
		path := fmt.Sprintf("/evil/%d", i)
		items = append(items, archivetest.DigestItem{Title: fmt.Sprintf("Evil %d", i), Publisher: "News", Link: google.NewArticle(base + path)})
	}
	pub.SetHandler(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/evil/"); ok {
			var i int
			fmt.Sscan(rest, &i)
			http.Redirect(w, r, targets[i], http.StatusFound)
			return
		}
		var i int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/ok/"), &i)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(pages[i].HTML)
	})
	dir := t.TempDir()
	if _, err := archivetest.WriteDigest(dir, "d.md", "Hostile redirects", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var dialed []string
	guarded := netguard.NewDialer(false, time.Second)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		if addr == "news.example:"+port {
			var d net.Dialer
			return d.DialContext(ctx, network, pub.Host)
		}
		return guarded.DialContext(ctx, network, addr)
	}
	store := localStore(t)
	w := &archivetest.World{Google: google, Dir: dir}
	a := newWorldArchiver(t, w, store, Options{}, func(o *fetch.Options) { o.AllowPrivate = false }, dial)
	rep, err := a.Run(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		m := readTestMeta(t, store, record.ArticleSlug(it.Title, it.Publisher))
		want := record.StatusOK
		if strings.HasPrefix(it.Title, "Evil") {
			want = record.StatusFailed
			if m.Reason != record.ReasonForbiddenAddress || !strings.Contains(m.Error, "netguard: refusing") || len(m.RedirectChain) != 2 {
				t.Errorf("%s: reason %q error %q chain %v; want forbidden_address with the redirect recorded", it.Title, m.Reason, m.Error, m.RedirectChain)
			}
		}
		if m.Status != want {
			t.Errorf("%s: status %q, want %q (%s)", it.Title, m.Status, want, m.Error)
		}
	}
	if rep.ByReason[record.ReasonForbiddenAddress] != len(targets) || rep.Counts[record.StatusOK] != len(pages) {
		t.Errorf("report: counts %v, by reason %v", rep.Counts, rep.ByReason)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, addr := range dialed {
		if addr != "news.example:"+port {
			t.Errorf("the fetcher dialed %s: a refused redirect must not reach the dialer", addr)
		}
	}
}

func readTestMeta(t testing.TB, s storage.Store, slug string) record.ArticleMeta {
	t.Helper()
	var m record.ArticleMeta
	if err := json.Unmarshal([]byte(string(storagetest.ReadObject(t, s, record.ArticleKey(slug, record.MetaFile)))), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
