package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"html"
	"image"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/archive/requisite"
	"github.com/linkarc/linkarc/storage/record"
)

// evilAssets is an asset host built to hurt the capture path: every
// shape of hostile requisite a publisher can name, on one loopback host.
type evilAssets struct {
	host   string
	trap   string // a loopback address nothing may connect to
	served atomic.Int64
	mu     sync.Mutex
	hits   map[string]int
}

// cssBomb is 64 MiB of url()s gzipped to a few hundred KiB.
var cssBomb = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	line := []byte("a{background:url(/bomb/x.png)}\n")
	for range (64 << 20) / len(line) {
		zw.Write(line)
	}
	zw.Close()
	return b.Bytes()
})

func (e *evilAssets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.hits[r.URL.Path]++
	e.mu.Unlock()
	p := r.URL.Path
	write := func(ctype string, body []byte) {
		w.Header().Set("Content-Type", ctype)
		n, _ := w.Write(body)
		e.served.Add(int64(n))
	}
	switch {
	case strings.HasPrefix(p, "/slow/") && strings.ContainsAny(p[len(p)-5:], "02468"):
		write("text/css", []byte("s{color:red}"))
	case strings.HasPrefix(p, "/tarpit/") || strings.HasPrefix(p, "/slow/"):
		// A stylesheet trickled a byte at a time, forever.
		w.Header().Set("Content-Type", "text/css")
		w.WriteHeader(200)
		for r.Context().Err() == nil {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	case p == "/endless.css":
		// A stylesheet streamed as fast as the client reads, forever.
		w.Header().Set("Content-Type", "text/css")
		chunk := bytes.Repeat([]byte("a{background:url(/endless/x.png)}"), 2000)
		for {
			n, err := w.Write(chunk)
			e.served.Add(int64(n))
			if err != nil {
				return
			}
		}
	case p == "/bomb.css":
		w.Header().Set("Content-Encoding", "gzip")
		write("text/css", cssBomb())
	case p == "/cycle/a.css":
		write("text/css", []byte(`@import "b.css"; a{background:url(a.png)}`))
	case p == "/cycle/b.css":
		write("text/css", []byte(`@import "a.css"; @import url(b.css); b{background:url(b.png)}`))
	case p == "/self.css":
		write("text/css", []byte(`@import "/self.css"; @import "/self.css?again"; s{color:red}`))
	case strings.HasPrefix(p, "/chain/"):
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/chain/"), ".css"))
		write("text/css", fmt.Appendf(nil, `@import "%d.css";`, n+1))
	case strings.HasPrefix(p, "/fan/"):
		// Each sheet imports 500 others, and names 500 images.
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/fan/"), ".css"))
		var b bytes.Buffer
		for k := range 500 {
			fmt.Fprintf(&b, "@import \"/fan/%d.css\";\n", n*500+k+1)
		}
		for k := range 500 {
			fmt.Fprintf(&b, "i%d{background:url(/fanimg/%d-%d.png)}\n", k, n, k)
		}
		write("text/css", b.Bytes())
	case p == "/big.bin":
		// Two gigabytes, announced and streamed.
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", strconv.Itoa(2<<30))
		chunk := make([]byte, 64<<10)
		for sent := 0; sent < 2<<30; sent += len(chunk) {
			n, err := w.Write(chunk)
			e.served.Add(int64(n))
			if err != nil {
				return
			}
		}
	case p == "/to-internal.png":
		http.Redirect(w, r, "http://10.0.0.1/x.png", http.StatusFound)
	case p == "/to-trap.png":
		http.Redirect(w, r, "http://"+e.trap+"/x.png", http.StatusFound)
	case p == "/to-metadata.css":
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusMovedPermanently)
	case p == "/cookies.png":
		for i := range 2000 {
			w.Header().Add("Set-Cookie", fmt.Sprintf("c%d=%s; Path=/", i, strings.Repeat("v", 90)))
		}
		write("image/png", testPNGBytes(1))
	case p == "/headers.png":
		for i := range 1000 {
			w.Header().Add(fmt.Sprintf("X-H%d", i), "value")
		}
		w.Header().Set("X-Name", "caf\xc3\xa9 \xff\xfe")
		write("image/png", testPNGBytes(2))
	case p == "/lie.png":
		write("image/png", []byte("<!doctype html><title>not an image</title><script>alert(1)</script>"))
	case p == "/crlf.png":
		// Encoded CR LF and raw non-ASCII in a redirect: the WARC's
		// WARC-Target-URI must stay one line.
		w.Header().Set("Location", "/img/%0d%0aWARC-Type:%20bogus/caf\u00e9 x.png")
		w.WriteHeader(http.StatusFound)
	case strings.HasPrefix(p, "/img/") || strings.HasPrefix(p, "/fanimg/") || strings.HasPrefix(p, "/q"):
		write("image/png", testPNGBytes(len(p)))
	default:
		http.NotFound(w, r)
	}
}

// testPNGBytes is a 4×4 PNG that differs by seed.
func testPNGBytes(seed int) []byte {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Pix[0] = byte(seed)
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func (e *evilAssets) hitsOf(prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for p, c := range e.hits {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// serveOn serves e on another loopback address too, and returns its host.
func (e *evilAssets) serveOn(t *testing.T, ip string) string {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// trapListener counts every connection made to it.
func trapListener(t *testing.T) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), &n
}

// TestHostileRequisites runs a batch in which ordinary articles sit beside
// articles whose requisites are built to hurt: stylesheets trickled
// forever, streamed endlessly, gzip bombs, @import cycles, endless chains
// and a fan-out of 500 imports per sheet; a 2 GB image; redirects to
// internal addresses; 2,000 cookies, 1,000 headers, non-ASCII header
// values and an encoded CR LF in a redirect; HTML under image/png; ten
// thousand images. The batch ends within a bound, every article is
// archived (the pages themselves are fine), each hostile page's caps are
// reported, nothing reaches the internal addresses, and every WARC reads
// back with one-line target URIs.
func TestHostileRequisites(t *testing.T) {
	trap, trapConns := trapListener(t)
	evil := &evilAssets{hits: map[string]int{}, trap: trap}
	ln, err := net.Listen("tcp", "127.0.0.9:0")
	if err != nil {
		t.Fatal(err)
	}
	evil.host = ln.Addr().String()
	srv := &http.Server{Handler: evil, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	// The trickling shapes get hosts of their own: a host given up for
	// requisites is given up for the whole run.
	tarpitHost, slowHost := evil.serveOn(t, "127.0.0.10"), evil.serveOn(t, "127.0.0.11")
	pub, img := startSite(t, 7), startSite(t, 8)
	ev := "http://" + evil.host

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
	article := func(title, head, body string) []byte {
		return fmt.Appendf(nil, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title>%s</head>
<body><article><h1>%s</h1>%s%s</article></body></html>`, title, head, title, text.String(), body)
	}
	var manyImages strings.Builder
	for i := range 10_000 {
		fmt.Fprintf(&manyImages, `<img src="%s/q?v=%d">`, ev, i)
	}
	img.put("/ok.png", "image/png", testPNG(t, 20, 20, 9))
	img.put("/ok.css", "text/css", []byte(`body{background:url(ok.png)}`))
	okHead := `<link rel=stylesheet href="http://` + img.host + `/ok.css">`
	type hostilePage struct {
		name, head, body string
		capped           string // a cap meta.json must report ("" for none)
	}
	hostile := []hostilePage{
		// Every sheet trickled: the host is given up after three.
		{"tarpit", manyLinks("http://"+tarpitHost+"/tarpit/%d.css", 20), "", "failing_host"},
		// Every other sheet trickled: the host keeps answering, the
		// page's time runs out.
		{"slow", manyLinks("http://"+slowHost+"/slow/%d.css", 20), "", "time"},
		{"endless", `<link rel=stylesheet href="` + ev + `/endless.css">`, "", ""},
		{"bomb", `<link rel=stylesheet href="` + ev + `/bomb.css">`, "", ""},
		{"cycles", `<link rel=stylesheet href="` + ev + `/cycle/a.css"><link rel=stylesheet href="` + ev + `/self.css">`, "", ""},
		{"chain", `<link rel=stylesheet href="` + ev + `/chain/0.css">`, "", "import_depth"},
		{"fan-out", `<link rel=stylesheet href="` + ev + `/fan/0.css">`, "", "count"},
		{"big", "", `<img src="` + ev + `/big.bin">`, ""},
		{"ssrf", `<style>@import "` + ev + `/to-metadata.css"; p{background:url(http://` + trap + `/direct.png)}</style>`,
			`<img src="` + ev + `/to-internal.png"><img src="` + ev + `/to-trap.png"><img src="http://[::ffff:127.0.0.1]/x.png">`, ""},
		{"headers", `<meta property="og:image" content="` + ev + `/lie.png">`,
			`<img src="` + ev + `/cookies.png"><img src="` + ev + `/headers.png"><img src="` + ev + `/crlf.png">`, ""},
		{"many images", "", manyImages.String(), "count"},
	}
	var items []archivetest.DigestItem
	var okURLs []string
	for i := range 3 {
		u := pub.put(fmt.Sprintf("/ok/%d.html", i), "text/html; charset=utf-8", article(fmt.Sprintf("Ordinary %d", i), okHead, `<img src="http://`+img.host+`/ok.png">`))
		okURLs = append(okURLs, u)
		items = append(items, archivetest.DigestItem{Title: fmt.Sprintf("Ordinary %d", i), Publisher: "P", Link: u})
	}
	hostileURL := map[string]string{}
	for _, h := range hostile {
		u := pub.put("/hostile/"+strings.ReplaceAll(h.name, " ", "-")+".html", "text/html; charset=utf-8", article("Hostile "+h.name, h.head, h.body))
		hostileURL[h.name] = u
		items = append(items, archivetest.DigestItem{Title: "Hostile " + h.name, Publisher: "P", Link: u})
	}
	dir := t.TempDir()
	if _, err := archivetest.WriteDigest(dir, "hostile.md", "Hostile", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}

	allow := []netip.AddrPort{pub.addrPort(), img.addrPort(), netip.MustParseAddrPort(evil.host),
		netip.MustParseAddrPort(tarpitHost), netip.MustParseAddrPort(slowHost)}
	const timeout, maxTime = time.Second, 10 * time.Second
	f, err := fetch.New(fetch.Options{
		UserAgent: "linkarc-test/1.0", HostInterval: 20 * time.Millisecond, AssetInterval: 5 * time.Millisecond,
		AllowAddrs: allow, ConnectTimeout: time.Second, ReadTimeout: timeout, Timeout: timeout, MaxRetries: 1,
		Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: slog.New(&sendTimes{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	store := localStore(t)
	a, err := New(Options{Store: store, Resolver: noResolver{}, Fetcher: f, HostConcurrency: 4,
		Capture: CaptureOptions{TempDir: t.TempDir(), Limits: requisite.Limits{MaxTime: maxTime}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := a.Run(ctx, []string{dir})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d articles in %v; %d bytes served by the hostile host", len(items), took.Round(time.Millisecond), evil.served.Load())
	_ = rep
	// The bound: a page's requisites cost at most their time budget, and a
	// host that keeps timing out is given up after three requisites (two
	// attempts of a second each).
	if limit := 2*maxTime + 6*timeout + 10*time.Second; took > limit {
		t.Errorf("the batch took %v, over %v", took, limit)
	}
	for _, u := range okURLs {
		m := metaForURL(t, store, u)
		// ok.css (naming ok.png) and ok.png: fetched once in the run.
		if m.Status != record.StatusOK || m.Requisites == nil || m.Requisites.Fetched+m.Requisites.Deduplicated != 2 || m.Requisites.Failed != 0 {
			t.Errorf("ordinary %s: status %s, requisites %+v", u, m.Status, m.Requisites)
		}
	}
	for _, h := range hostile {
		m := metaForURL(t, store, hostileURL[h.name])
		t.Logf("%s: status %s, requisites %+v", h.name, m.Status, m.Requisites)
		if m.Status != record.StatusOK {
			t.Errorf("%s: status %s (%s), want ok: the page itself is fine", h.name, m.Status, m.Reason)
		}
		if m.Requisites == nil {
			t.Errorf("%s: no requisite stats", h.name)
			continue
		}
		if h.capped != "" && !strings.Contains(m.Requisites.Capped, h.capped) {
			t.Errorf("%s: capped %q, want %q", h.name, m.Requisites.Capped, h.capped)
		}
		if m.Requisites.Fetched+m.Requisites.Deduplicated+m.Requisites.Failed > requisite.DefaultMaxCount {
			t.Errorf("%s: more than %d requisites asked for", h.name, requisite.DefaultMaxCount)
		}
	}
	if n := trapConns.Load(); n != 0 {
		t.Errorf("%d connections reached the internal trap", n)
	}
	if n := evil.hitsOf("/tarpit/"); n > 2*DefaultMaxHostFailures {
		t.Errorf("the trickling host was asked %d times", n)
	}
	if n := evil.hitsOf("/chain/"); n > requisite.DefaultMaxImportDepth {
		t.Errorf("%d sheets of the endless @import chain fetched", n)
	}
	if n := evil.hitsOf("/cycle/a.css") + evil.hitsOf("/cycle/b.css") + evil.hitsOf("/self.css"); n > 4 { // each of 4 URLs once
		t.Errorf("the @import cycles were fetched %d times", n)
	}
	// The 2 GB image and the endless sheet are cut at --max-body: a few
	// times 16 MiB is all the host could send before the connections were
	// dropped.
	if n := evil.served.Load(); n > 8*fetch.DefaultMaxBody {
		t.Errorf("the hostile host sent %d MiB", n>>20)
	}
	_, per := storedWARCs(t, store)
	for key, recs := range per {
		for _, r := range recs {
			uri := r.Header.Get("WARC-Target-URI")
			if strings.ContainsAny(uri, "\r\n \t") || strings.Contains(uri, "WARC-Type") && !strings.Contains(uri, "%0D%0A") && !strings.Contains(uri, "%0d%0a") {
				t.Errorf("%s: WARC-Target-URI %q", key, uri)
			}
		}
	}
}

// manyLinks is n stylesheet links to format's URLs.
func manyLinks(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<link rel=stylesheet href="`+format+`">`, i)
	}
	return b.String()
}
