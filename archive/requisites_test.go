package archive

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/archive/requisite"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/webtools"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// site is a loopback web server for the requisite tests: it serves the
// files put on it (and an allow-all robots.txt), counts the requests for
// each path, and notes when each arrived.
type site struct {
	host string // 127.0.0.N:PORT
	srv  *http.Server

	mu       sync.Mutex
	files    map[string]siteFile
	hits     map[string]int
	arrivals []time.Time
	served   int64 // body bytes sent
}

func (s *site) servedBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// sizes is the size of every file the site serves, by path.
func (s *site) sizes() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for p, f := range s.files {
		out[p] = int64(len(f.body))
	}
	return out
}

type siteFile struct {
	ctype string
	body  []byte
}

func startSite(t testing.TB, n int) *site {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", n))
	if err != nil {
		t.Fatal(err)
	}
	s := &site{host: ln.Addr().String(), files: map[string]siteFile{}, hits: map[string]int{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *site) url(path string) string { return "http://" + s.host + path }

func (s *site) put(path, ctype string, body []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = siteFile{ctype, body}
	return s.url(path)
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.arrivals = append(s.arrivals, time.Now())
	f, ok := s.files[r.URL.Path]
	if ok {
		s.served += int64(len(f.body))
	}
	s.mu.Unlock()
	switch {
	case r.URL.Path == "/robots.txt" && !ok:
		io.WriteString(w, "User-agent: *\nAllow: /\n")
	case !ok:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", f.ctype)
		w.Write(f.body)
	}
}

func (s *site) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

func (s *site) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *site) allHits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// addrPort is the site's exact address, for fetch.Options.AllowAddrs: the
// test policy lets the loopback sites through and nothing else internal.
func (s *site) addrPort() netip.AddrPort { return netip.MustParseAddrPort(s.host) }

// testPNG is a real PNG of w×h pixels in a colour derived from seed.
func testPNG(t testing.TB, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(seed * 40), uint8(x * 255 / w), uint8(y * 255 / h), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sendTimes collects the fetcher's "request sent" log lines: for each host,
// when each request's turn began and when it was written.
type sendTimes struct {
	mu    sync.Mutex
	sends map[string][][2]time.Time // host -> (ready, sent)
}

func (l *sendTimes) Enabled(context.Context, slog.Level) bool { return true }
func (l *sendTimes) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *sendTimes) WithGroup(string) slog.Handler            { return l }
func (l *sendTimes) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "fetch: request sent" {
		return nil
	}
	var host string
	var ready, sent time.Time
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "host":
			host = a.Value.String()
		case "ready":
			ready, _ = time.Parse(time.RFC3339Nano, a.Value.String())
		case "sent":
			sent, _ = time.Parse(time.RFC3339Nano, a.Value.String())
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sends == nil {
		l.sends = map[string][][2]time.Time{}
	}
	l.sends[host] = append(l.sends[host], [2]time.Time{ready, sent})
	return nil
}

// checkSpacing asserts from the client's own log that every request to
// host began at least interval after the previous one was written.
func (l *sendTimes) checkSpacing(t *testing.T, host string, interval time.Duration) int {
	t.Helper()
	l.mu.Lock()
	ss := slices.Clone(l.sends[host])
	l.mu.Unlock()
	sort.Slice(ss, func(i, j int) bool { return ss[i][0].Before(ss[j][0]) })
	for i := 1; i < len(ss); i++ {
		if gap := ss[i][0].Sub(ss[i-1][1]); gap < interval {
			t.Errorf("%s: request %d began %v after request %d was sent, want >= %v", host, i, gap, i-1, interval)
		}
	}
	return len(ss)
}

// capWorld is a small web of publishers sharing a CDN and an image host.
type capWorld struct {
	pubs     []*site
	cdn, img *site
	dir      string   // digest folder
	pages    []string // article URLs
	font     []byte
	// pageInterval and assetInterval space the fetcher's requests; zero:
	// capPageInterval and capAssetInterval, negative: none.
	pageInterval, assetInterval time.Duration
}

const (
	capPageInterval  = 150 * time.Millisecond
	capAssetInterval = 40 * time.Millisecond
)

func newCapWorld(t testing.TB, perPub int) *capWorld {
	t.Helper()
	font, err := os.ReadFile("../testdata/capture/work-sans-300.woff2")
	if err != nil {
		t.Fatal(err)
	}
	w := &capWorld{cdn: startSite(t, 4), img: startSite(t, 5), dir: t.TempDir(), font: font}
	w.pubs = []*site{startSite(t, 2), startSite(t, 3)}
	cdn, img := w.cdn, w.img
	cdn.put("/css/site.css", "text/css", []byte(`@import "base.css";
@font-face { font-family: "Work Sans"; src: url(../fonts/work-sans.woff2) format("woff2"); font-weight: 300; }
body { font-family: "Work Sans", sans-serif; background: #fafafa url(/img/paper.png) repeat; }`))
	cdn.put("/css/base.css", "text/css", []byte(`h1 { background-image: url("rule.png"); background-repeat: no-repeat }`))
	cdn.put("/fonts/work-sans.woff2", "font/woff2", font)
	cdn.put("/js/lazy.js", "text/javascript", []byte(`document.querySelectorAll("img[data-src]").forEach(i => i.src = i.dataset.src)`))
	cdn.put("/img/paper.png", "image/png", testPNG(t, 16, 16, 1))
	cdn.put("/css/rule.png", "image/png", testPNG(t, 64, 2, 2))
	img.put("/shared/logo.png", "image/png", testPNG(t, 120, 40, 3))
	img.put("/shared/hero.png", "image/png", testPNG(t, 200, 60, 4))

	pages, err := archivetest.LoadPages("../testdata/extraction", 1)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, p := range strings.Split(pages[0].Text, "\n") {
		if strings.TrimSpace(p) != "" {
			fmt.Fprintf(&text, "<p>%s</p>\n", html.EscapeString(p))
		}
	}
	var items []archivetest.DigestItem
	for pi, pub := range w.pubs {
		pub.put("/local.css", "text/css", []byte(`article { max-width: 40em; margin: auto }`))
		pub.put("/favicon.png", "image/png", testPNG(t, 16, 16, 5+pi))
		for i := range perPub {
			id := fmt.Sprintf("%d-%d", pi, i)
			for _, wd := range []int{640, 1280, 2560} {
				img.put(fmt.Sprintf("/p/%s-%d.png", id, wd), "image/png", testPNG(t, wd/40, wd/80, i))
			}
			img.put("/lazy/"+id+".png", "image/png", testPNG(t, 30, 20, i+1))
			img.put("/ns/"+id+".png", "image/png", testPNG(t, 30, 20, i+2))
			img.put("/lead/"+id+".png", "image/png", testPNG(t, 60, 30, i+3))
			page := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Story %[1]s</title>
<link rel="stylesheet" href="%[2]s/css/site.css"><link rel="stylesheet" href="/local.css"><link rel="icon" href="/favicon.png">
<meta property="og:image" content="%[3]s/lead/%[1]s.png">
<style>.hero { background-image: url(%[3]s/shared/hero.png) }</style><script defer src="%[2]s/js/lazy.js"></script></head>
<body><article><h1 class="hero">Story %[1]s</h1>
<img alt="" src="%[3]s/p/%[1]s-640.png" srcset="%[3]s/p/%[1]s-640.png 640w, %[3]s/p/%[1]s-1280.png 1280w, %[3]s/p/%[1]s-2560.png 2560w">
%[4]s
<img alt="" class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="%[3]s/lazy/%[1]s.png">
<noscript><img alt="" src="%[3]s/ns/%[1]s.png"></noscript>
<img alt="logo" src="%[3]s/shared/logo.png"><img alt="" src="http://10.1.2.3/internal.png">
</article></body></html>`, id, "http://"+cdn.host, "http://"+img.host, text.String())
			u := pub.put("/story/"+id+".html", "text/html; charset=utf-8", []byte(page))
			w.pages = append(w.pages, u)
			items = append(items, archivetest.DigestItem{Title: "Story " + id, Publisher: fmt.Sprintf("Publisher %d", pi), Link: u})
		}
	}
	if _, err := archivetest.WriteDigest(w.dir, "caps.md", "Requisites", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *capWorld) sites() []*site { return append(slices.Clone(w.pubs), w.cdn, w.img) }

func (w *capWorld) archiver(t testing.TB, store storage.Store, logs *sendTimes, capture CaptureOptions, refresh bool) *Archiver {
	t.Helper()
	var allow []netip.AddrPort
	for _, s := range w.sites() {
		allow = append(allow, s.addrPort())
	}
	f, err := fetch.New(fetch.Options{
		UserAgent: "linkarc-test/1.0", HostInterval: cmp.Or(w.pageInterval, capPageInterval), AssetInterval: cmp.Or(w.assetInterval, capAssetInterval),
		AllowAddrs: allow, ConnectTimeout: time.Second, ReadTimeout: 2 * time.Second, Timeout: 5 * time.Second,
		Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	capture.TempDir = t.TempDir()
	a, err := New(Options{Store: store, Resolver: noResolver{}, Fetcher: f, Capture: capture, Refresh: refresh, HostConcurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRequisitesEndToEnd: articles on two publishers that share a CDN
// (stylesheets with @import, a web font, background images) and an image
// host (srcset, lazy images, noscript fallbacks, a shared logo): every
// requisite is fetched once in the run, whichever articles and hosts name
// it, and only the srcset candidate a desktop picks; asset hosts are
// spaced by the asset interval and page hosts by the page interval, from
// the client's send log; the requisite at an internal address is refused
// by the SSRF guard; every capture's WARC reads record by record in
// warcio.js with its payload digests verified; a re-run asks nobody
// anything, and a --refresh re-run fetches the pages but none of their
// requisites (revisits of what the store holds).
func TestRequisitesEndToEnd(t *testing.T) {
	w := newCapWorld(t, 3)
	store := localStore(t)
	logs := &sendTimes{}
	a := w.archiver(t, store, logs, CaptureOptions{}, false)
	start := time.Now()
	rep, err := a.Run(context.Background(), []string{w.dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %v, report requisites %+v", time.Since(start).Round(time.Millisecond), rep.Requisites)
	if rep.Counts[record.StatusOK] != len(w.pages) {
		t.Fatalf("counts %v, failures %+v", rep.Counts, rep.Failures)
	}

	// Every requisite once; the srcset candidates not chosen never.
	for _, s := range w.sites() {
		for path, n := range s.allHits() {
			if n != 1 {
				t.Errorf("%s%s requested %d times, want once", s.host, path, n)
			}
			if strings.HasSuffix(path, "-640.png") || strings.HasSuffix(path, "-2560.png") {
				t.Errorf("%s%s: a srcset candidate a 1280px desktop does not pick was fetched", s.host, path)
			}
		}
	}
	if n := w.cdn.hitsOf("/js/lazy.js"); n != 0 {
		t.Errorf("the page's script was fetched %d times; scripts are not requisites by default", n)
	}
	for _, p := range []string{"/css/site.css", "/css/base.css", "/fonts/work-sans.woff2", "/img/paper.png", "/css/rule.png"} {
		if w.cdn.hitsOf(p) != 1 {
			t.Errorf("cdn %s: %d requests, want 1", p, w.cdn.hitsOf(p))
		}
	}
	if n := w.img.requests(); n != 1+2+6*4 { // robots.txt, logo, hero, and per article: 1280w, lazy, noscript, lead
		t.Errorf("image host served %d requests, want %d", n, 1+2+6*4)
	}
	for _, pub := range w.pubs {
		if n := pub.requests(); n != 1+3+2 { // robots.txt, 3 pages, local.css, favicon
			t.Errorf("publisher %s served %d requests, want 6: %v", pub.host, n, pub.allHits())
		}
	}
	// Spacing from the client's own send log.
	for _, pub := range w.pubs {
		logs.checkSpacing(t, "127.0.0."+strings.Split(strings.TrimPrefix(pub.host, "127.0.0."), ":")[0], capPageInterval)
	}
	if n := logs.checkSpacing(t, "127.0.0.5", capAssetInterval); n != w.img.requests() {
		t.Errorf("image host: %d sends logged, %d served", n, w.img.requests())
	}
	logs.checkSpacing(t, "127.0.0.4", capAssetInterval)

	// meta.json counts, and the SSRF refusal.
	var total record.RequisiteStats
	for _, u := range w.pages {
		m := metaForURL(t, store, u)
		if m.Requisites == nil {
			t.Fatalf("%s: no requisites in meta.json", u)
		}
		st := *m.Requisites
		if st.Found != 14 || st.Failed != 1 || st.Fetched+st.Deduplicated != 13 || st.Skipped != 0 || st.Capped != "" {
			t.Errorf("%s: requisites %+v; want 14 found (13 fetched or deduplicated, the internal one failed)", u, st)
		}
		if !slices.Contains(m.Files, record.WARCFile) {
			t.Errorf("%s: files %v, want the WARC", u, m.Files)
		}
		total.Fetched += st.Fetched
		total.Deduplicated += st.Deduplicated
		total.FromStore += st.FromStore
	}
	if rep.Requisites.Fetched != total.Fetched || rep.Requisites.Failed != len(w.pages) {
		t.Errorf("report requisites %+v, meta.json totals %+v", rep.Requisites, total)
	}
	// The store was empty: every revisit is of a requisite another page of
	// this run fetched, and the summary says so, not "already archived".
	if total.Deduplicated == 0 || total.FromStore != 0 || rep.Requisites.InRun() != total.Deduplicated || rep.Requisites.FromStore != 0 {
		t.Errorf("first run: requisites %+v, meta.json totals %+v; want every revisit within the run", rep.Requisites, total)
	}
	checkSummary(t, rep, fmt.Sprintf("%d reused within this run, 0 already archived by earlier runs,", total.Deduplicated))

	// Every capture's self-contained page and thumbnail, its requisites
	// embedded: those another capture fetched first from that capture's
	// WARC (revisits resolved across WARCs).
	for _, u := range w.pages {
		m := metaForURL(t, store, u)
		if !slices.Contains(m.Files, record.PageFile) || !slices.Contains(m.Files, record.ThumbFile) {
			t.Errorf("%s: files %v, want page.html and thumb.jpg", u, m.Files)
			continue
		}
		checkSelfContained(t, u, string(readObject(t, store, record.ArticleKey(m.Slug, record.PageFile))))
	}

	// Every WARC through warcio.js: one file of every capture's records.
	all, perCapture := storedWARCs(t, store)
	checkWarcio(t, all, perCapture)

	// A re-run asks nobody anything.
	before := map[*site]int{}
	for _, s := range w.sites() {
		before[s] = s.requests()
	}
	rep2, err := w.archiver(t, store, &sendTimes{}, CaptureOptions{}, false).Run(context.Background(), []string{w.dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range w.sites() {
		if s.requests() != before[s] {
			t.Errorf("re-run: %s served %d more requests", s.host, s.requests()-before[s])
		}
	}
	if rep2.Unchanged != len(w.pages) {
		t.Errorf("re-run: %d unchanged, want %d", rep2.Unchanged, len(w.pages))
	}

	// --refresh: the pages again, none of their requisites.
	rep3, err := w.archiver(t, store, &sendTimes{}, CaptureOptions{}, true).Run(context.Background(), []string{w.dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*site{w.cdn, w.img} {
		if s.requests() != before[s] {
			t.Errorf("refresh: asset host %s served %d more requests, want none (the store has them)", s.host, s.requests()-before[s])
		}
	}
	for _, pub := range w.pubs {
		if got := pub.requests() - before[pub]; got != 1+3 {
			t.Errorf("refresh: publisher %s served %d more requests, want robots.txt and 3 pages", pub.host, got)
		}
	}
	if rep3.Requisites.Fetched != 0 || rep3.Requisites.Deduplicated != 13*len(w.pages) || rep3.Requisites.FromStore != 13*len(w.pages) {
		t.Errorf("refresh: requisites %+v, want all %d deduplicated, from the store", rep3.Requisites, 13*len(w.pages))
	}
	// Pages after the first name the same requisites: still the first
	// run's copies, not this run's.
	checkSummary(t, rep3, fmt.Sprintf("0 reused within this run, %d already archived by earlier runs,", 13*len(w.pages)))
	// The refreshed captures' pages still have every requisite: the
	// originals are in the captures the refresh moved to history.
	for _, u := range w.pages {
		m := metaForURL(t, store, u)
		if len(m.History) != 1 {
			t.Errorf("refresh: %s history %+v, want the first capture", u, m.History)
		}
		checkSelfContained(t, u, string(readObject(t, store, record.ArticleKey(m.Slug, record.PageFile))))
	}
	all, perCapture = storedWARCs(t, store)
	checkWarcio(t, all, perCapture)
}

// checkSummary checks that the run's summary says want.
func checkSummary(t *testing.T, rep *Report, want string) {
	t.Helper()
	var sum strings.Builder
	rep.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "page requisites: ") || !strings.Contains(sum.String(), want) {
		t.Errorf("the summary does not say %q:\n%s", want, sum.String())
	}
}

// checkSelfContained checks a capture's page.html: no script, no
// stylesheet link, every image a data: URI (but the one at an internal
// address, which the capture refused), the srcset's 1280w pick a
// one-candidate srcset that keeps its descriptor, the web font and the
// background images embedded, the lazy image in place.
func checkSelfContained(t *testing.T, u, page string) {
	t.Helper()
	for _, bad := range []string{"<script", `rel="stylesheet"`, "url(http", "data-src", "<noscript"} {
		if strings.Contains(page, bad) {
			t.Errorf("%s: page.html has %s", u, bad)
		}
	}
	for _, want := range []string{"url(data:font/woff2;base64,", "url(data:image/png;base64,", "<style>"} {
		if !strings.Contains(page, want) {
			t.Errorf("%s: page.html lacks %s", u, want)
		}
	}
	srcs := regexp.MustCompile(`<img [^>]*?src="([^"]{0,12})`).FindAllStringSubmatch(page, -1)
	embedded := 0
	for _, m := range srcs {
		if strings.HasPrefix(m[1], "data:image/") {
			embedded++
		}
	}
	if len(srcs) != 2 || embedded != 2 { // the lazy image, the logo
		t.Errorf("%s: %d images with a src, %d embedded: %q", u, len(srcs), embedded, srcs)
	}
	sets := regexp.MustCompile(`srcset="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(sets) != 1 || !strings.HasPrefix(sets[0][1], "data:image/") || !strings.HasSuffix(sets[0][1], " 1280w") ||
		strings.Count(sets[0][1], " ") != 1 {
		t.Errorf("%s: srcsets %.200q, want the 1280w candidate alone, embedded", u, sets)
	}
}

func readObject(t testing.TB, s storage.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func metaForURL(t testing.TB, s storage.Store, u string) record.ArticleMeta {
	t.Helper()
	var found *record.ArticleMeta
	err := s.List(context.Background(), record.ArticlesPrefix, func(info storage.Info) error {
		if !strings.HasSuffix(info.Key, "/"+record.MetaFile) || strings.Contains(info.Key, "/"+record.HistoryDir+"/") {
			return nil
		}
		m := readTestMeta(t, s, strings.TrimSuffix(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/"+record.MetaFile))
		if m.URL == u {
			found = &m
		}
		return nil
	})
	if err != nil || found == nil {
		t.Fatalf("no meta.json for %s (%v)", u, err)
	}
	return *found
}

// storedWARCs concatenates the current captures' WARCs (a WARC file may be
// a sequence of gzip members from several files) and returns each
// capture's records too.
func storedWARCs(t *testing.T, s storage.Store) ([]byte, map[string][]*warc.Record) {
	t.Helper()
	var all bytes.Buffer
	per := map[string][]*warc.Record{}
	ctx := context.Background()
	err := s.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		if !strings.HasSuffix(info.Key, "/"+record.WARCFile) || strings.Contains(info.Key, "/"+record.HistoryDir+"/") {
			return nil
		}
		rc, err := s.Get(ctx, info.Key)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		all.Write(data)
		rd := warc.NewReader(bytes.NewReader(data), warc.ReaderOptions{})
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", info.Key, err)
			}
			per[info.Key] = append(per[info.Key], rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(per) == 0 {
		t.Fatal("no WARC stored")
	}
	return all.Bytes(), per
}

// checkWarcio has warcio.js read every record and verify every payload
// digest, and checks what each capture's WARC holds.
func checkWarcio(t *testing.T, all []byte, per map[string][]*warc.Record) {
	t.Helper()
	for key, recs := range per {
		var types []string
		responses := 0
		for _, r := range recs {
			types = append(types, r.Type)
			if r.Type == "response" {
				responses++
				if r.Header.Get("WARC-IP-Address") == "" {
					t.Errorf("%s: response %s has no WARC-IP-Address", key, r.TargetURI())
				}
			}
			if r.Type == "revisit" && r.Header.Get("WARC-Refers-To-Target-URI") == "" {
				t.Errorf("%s: revisit %s refers to nothing", key, r.TargetURI())
			}
		}
		if types[0] != "warcinfo" || !slices.Contains(types, "metadata") || responses == 0 {
			t.Errorf("%s: records %v", key, types)
		}
	}
	path := filepath.Join(t.TempDir(), "all.warc.gz")
	if err := os.WriteFile(path, all, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := webtools.RunScript(t, ctx, "warcio-check.mjs", path)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n, verified := 0, 0
	for sc.Scan() {
		var r struct {
			Pass            string `json:"pass"`
			Type            string `json:"type"`
			URI             string `json:"uri"`
			PayloadDigest   string `json:"payloadDigest"`
			PayloadDigestOK *bool  `json:"payloadDigestOK"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("warcio-check output %q: %v", sc.Text(), err)
		}
		if r.Pass != "raw" {
			continue
		}
		n++
		switch r.Type {
		case "response", "request": // metadata blocks have no payload (WARC 1.1 §5.9); our reader checks their block digests
			if r.PayloadDigestOK == nil || !*r.PayloadDigestOK {
				t.Errorf("warcio: %s %s: payload digest %s does not verify", r.Type, r.URI, r.PayloadDigest)
			} else {
				verified++
			}
		}
	}
	want := 0
	for _, recs := range per {
		want += len(recs)
	}
	if n != want {
		t.Errorf("warcio read %d records, our reader %d", n, want)
	}
	t.Logf("warcio.js read %d records of %d WARCs, %d payload digests verified", n, len(per), verified)
}

// TestRequisiteCaps: a page naming more requisites than --max-requisites,
// and one whose images pass --max-requisite-bytes, fetch up to the cap,
// skip the rest, and say so in meta.json and the report; a stylesheet
// @import chain deeper than the limit is cut.
func TestRequisiteCaps(t *testing.T) {
	pub, imgs := startSite(t, 2), startSite(t, 5)
	var many, big strings.Builder
	for i := range 30 {
		imgs.put(fmt.Sprintf("/many/%d.png", i), "image/png", testPNG(t, 8, 8, i))
		fmt.Fprintf(&many, `<img src="%s/many/%d.png">`, "http://"+imgs.host, i)
	}
	for i := range 6 {
		imgs.put(fmt.Sprintf("/big/%d.png", i), "image/png", bytes.Repeat([]byte{byte(i)}, 100<<10))
		fmt.Fprintf(&big, `<img src="%s/big/%d.png">`, "http://"+imgs.host, i)
	}
	// An @import chain of 10 stylesheets.
	for i := range 10 {
		imgs.put(fmt.Sprintf("/chain/%d.css", i), "text/css", []byte(fmt.Sprintf(`@import "%d.css"; p{color:red}`, i+1)))
	}
	pages := map[string]string{
		pub.put("/many.html", "text/html", []byte("<html><body><p>many</p>"+many.String()+"</body></html>")):                                                            "count",
		pub.put("/big.html", "text/html", []byte("<html><body><p>big</p>"+big.String()+"</body></html>")):                                                               "bytes",
		pub.put("/chain.html", "text/html", []byte(`<html><head><link rel=stylesheet href="http://`+imgs.host+`/chain/0.css"></head><body><p>chain</p></body></html>`)): "import_depth",
	}
	var items []archivetest.DigestItem
	for u := range pages {
		items = append(items, archivetest.DigestItem{Title: u, Publisher: "P", Link: u})
	}
	dir := t.TempDir()
	if _, err := archivetest.WriteDigest(dir, "caps.md", "Caps", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
	w := &capWorld{pubs: []*site{pub}, cdn: startSite(t, 4), img: imgs}
	store := localStore(t)
	a := w.archiver(t, store, &sendTimes{}, CaptureOptions{Limits: requisite.Limits{MaxCount: 10, MaxBytes: 250 << 10, MaxImportDepth: 3}}, false)
	rep, err := a.Run(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for u, capped := range pages {
		st := metaForURL(t, store, u).Requisites
		if st == nil || !strings.Contains(st.Capped, capped) {
			t.Fatalf("%s: requisites %+v, want capped %q", u, st, capped)
		}
		switch capped {
		case "count":
			if st.Fetched != 10 || st.Skipped != 20 || imgs.hitsOf("/many/10.png") != 0 || imgs.hitsOf("/many/9.png") != 1 {
				t.Errorf("count cap: %+v; the first 10 in document order should be fetched", st)
			}
		case "bytes":
			if st.Fetched != 3 || st.Skipped != 3 || st.Bytes != 300<<10 {
				t.Errorf("bytes cap: %+v; want 3 fetched (the one crossing the cap kept), 3 skipped", st)
			}
		case "import_depth":
			if st.Fetched != 3 || imgs.hitsOf("/chain/3.css") != 0 {
				t.Errorf("import depth: %+v, chain/3.css requested %d times", st, imgs.hitsOf("/chain/3.css"))
			}
		}
	}
	// --requisite-scripts records the script (once), never runs it.
	scripts := newCapWorld(t, 1)
	if _, err := scripts.archiver(t, localStore(t), &sendTimes{}, CaptureOptions{Scripts: true}, false).Run(context.Background(), []string{scripts.dir}); err != nil {
		t.Fatal(err)
	}
	if n := scripts.cdn.hitsOf("/js/lazy.js"); n != 1 {
		t.Errorf("with Scripts the script was fetched %d times, want once", n)
	}
	if rep.CappedPages != 3 {
		t.Errorf("report: %d capped pages, want 3", rep.CappedPages)
	}
	var sum bytes.Buffer
	rep.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "page requisites:") || !strings.Contains(sum.String(), "3 pages hit a cap") {
		t.Errorf("summary does not report the caps:\n%s", sum.String())
	}
}
