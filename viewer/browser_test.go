package viewer

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/linkarc/linkarc/internal/browsertest"
	"github.com/linkarc/linkarc/storage"
)

var updateScreenshots = flag.Bool("screenshots", false, "write screenshots of every page to docs/screenshots")

// chromiumPath finds the browser (installing Debian's chromium when the
// tests run as root and there is none; see internal/browsertest). Without
// one the browser tests fail: they are the only proof that snapshots are
// inert in a real browser.
func chromiumPath(t testing.TB) string {
	t.Helper()
	return browsertest.Path(t)
}

// recordingProxy is the browser's HTTP proxy: every request Chromium makes,
// from any frame, passes through it and is recorded. It forwards only to
// loopback addresses, so a test can never reach the internet; the browser is
// also told to resolve no host name but localhost.
type recordingProxy struct {
	mu   sync.Mutex
	seen []string // absolute URLs, in order
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.URL.String())
	p.mu.Unlock()
	if r.Method == http.MethodConnect || !r.URL.IsAbs() {
		http.Error(w, "the test proxy forwards plain HTTP only", http.StatusForbidden)
		return
	}
	ip := net.ParseIP(r.URL.Hostname())
	if ip == nil || !ip.IsLoopback() {
		http.Error(w, "the test proxy forwards to loopback only", http.StatusBadGateway)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// since returns the requests recorded after the first n.
func (p *recordingProxy) since(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen[n:]...)
}

func (p *recordingProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

// beacon is the "second server" an archived page tries to reach. It counts
// every request it gets.
type beacon struct {
	mu   sync.Mutex
	hits []string
}

func (b *beacon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.hits = append(b.hits, r.Method+" "+r.URL.Path)
	b.mu.Unlock()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	fmt.Fprintln(w, "beacon")
}

func (b *beacon) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.hits...)
}

// browserWorld is a viewer, a beacon server, the recording proxy and a
// headless Chromium that reaches everything through the proxy.
type browserWorld struct {
	viewer  *httptest.Server
	beacon  *beacon
	bsrv    *httptest.Server
	proxy   *recordingProxy
	ctx     context.Context // the browser tab
	mu      sync.Mutex
	events  []*netRequest                     // requests the tab's network events reported, in order
	byID    map[network.RequestID]*netRequest // the same, by request id
	dialogs []string                          // JavaScript dialogs that opened
	popups  []string                          // page targets created after the tab
}

// netRequest is what the tab's network events say about one request.
type netRequest struct {
	url      string
	blocked  string // why the browser blocked it before sending (csp, ...)
	failed   string // the network error, when it failed otherwise
	answered bool   // a response arrived
}

func newBrowserWorld(t *testing.T) *browserWorld {
	t.Helper()
	bin := chromiumPath(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &browserWorld{beacon: &beacon{}, proxy: &recordingProxy{}, byID: map[network.RequestID]*netRequest{}}
	w.bsrv = httptest.NewServer(w.beacon)
	t.Cleanup(w.bsrv.Close)
	psrv := httptest.NewServer(w.proxy)
	t.Cleanup(psrv.Close)

	// The viewer listens first so that the hostile page can name it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	viewerURL := "http://" + ln.Addr().String()
	writeDemo(t, st)
	writeFixture(t, st)
	hostile := strings.NewReplacer("BEACON", strings.TrimPrefix(w.bsrv.URL, "http://"), "VIEWER", viewerURL).
		Replace(readTestdata(t, "hostile-raw.html"))
	if err := st.Put(testContext(t), storage.ArticleKey(hostileSlug, storage.RawFile), strings.NewReader(hostile), int64(len(hostile)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, st, Options{AllowedHosts: []string{"127.0.0.1"}})
	w.viewer = &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv}}
	w.viewer.Start()
	t.Cleanup(w.viewer.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
		chromedp.ProxyServer(psrv.URL),
		// Send loopback requests through the proxy too, so it sees them.
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		// Resolve nothing but localhost: nothing can leave the machine even
		// if the proxy were bypassed.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		// Keep sandboxed frames in the tab's process so that their DOM is
		// inspectable from the tab (the sandbox rules are the same).
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateSandboxedIframes,AutofillServerCommunication,OptimizationHints,MediaRouter"),
		// Quiet Chromium's own background traffic.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	w.ctx = ctx

	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium %s: %v", bin, err)
	}
	err = chromedp.Listen(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			r := &netRequest{url: ev.Request.URL}
			w.events = append(w.events, r)
			w.byID[ev.RequestID] = r
		case *network.EventResponseReceived:
			if r := w.byID[ev.RequestID]; r != nil {
				r.answered = true
			}
		case *network.EventLoadingFailed:
			if r := w.byID[ev.RequestID]; r != nil {
				r.blocked, r.failed = string(ev.BlockedReason), ev.ErrorText
			}
		case *cdppage.EventJavascriptDialogOpening:
			w.dialogs = append(w.dialogs, ev.Message)
			go chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The tab exists now; any page target created later is a pop-up.
	err = chromedp.ListenBrowser(ctx, func(ev any) {
		if ev, ok := ev.(*target.EventTargetCreated); ok && ev.TargetInfo.Type == "page" {
			w.mu.Lock()
			w.popups = append(w.popups, ev.TargetInfo.URL)
			w.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// stepTimeout bounds one browser step, so that a page that did not do what
// the test expects fails the test quickly rather than at the deadline.
const stepTimeout = 30 * time.Second

func (w *browserWorld) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, w *browserWorld, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkNothingLeft asserts that, since the proxy had seen n requests, every
// request went to the viewer, none reached the beacon, no dialog and no
// pop-up opened, and the tab's network events agree.
func (w *browserWorld) checkNothingLeft(t *testing.T, n, events int, forbiddenPaths ...string) {
	t.Helper()
	for _, r := range w.proxy.since(n) {
		method, u, _ := strings.Cut(r, " ")
		if method == http.MethodConnect && chromiumService(u) {
			continue // Chromium's own background services, refused by the proxy
		}
		if !strings.HasPrefix(u, w.viewer.URL+"/") {
			t.Errorf("request left the viewer's origin: %s", r)
		}
		for _, p := range forbiddenPaths {
			if strings.HasPrefix(u, w.viewer.URL+p) {
				t.Errorf("archived page reached the viewer: %s", r)
			}
		}
	}
	if hits := w.beacon.requests(); len(hits) > 0 {
		t.Errorf("the second server got %d requests: %v", len(hits), hits)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	blocked := map[string]int{}
	for _, r := range w.events[events:] {
		switch {
		case strings.HasPrefix(r.url, w.viewer.URL+"/") || strings.HasPrefix(r.url, "data:"):
		case r.blocked != "" && !r.answered:
			blocked[r.blocked]++ // stopped inside the browser, never sent
		default:
			t.Errorf("request off the viewer's origin was not blocked by the browser: %s (answered %v, error %q)", r.url, r.answered, r.failed)
		}
	}
	if len(blocked) > 0 {
		t.Logf("requests the browser blocked before sending, by reason: %v", blocked)
	}
	if len(w.dialogs) > 0 {
		t.Errorf("JavaScript dialogs opened: %q", w.dialogs)
	}
	if len(w.popups) > 0 {
		t.Errorf("pop-ups opened: %q", w.popups)
	}
}

// chromiumService reports whether a CONNECT target is one of Chromium's
// own background services (sign-in, autofill, updates), which the browser
// contacts whatever page is open.
func chromiumService(hostport string) bool {
	host, _, _ := strings.Cut(strings.TrimPrefix(hostport, "//"), ":")
	for _, suffix := range []string{".google.com", ".googleapis.com", ".gstatic.com", ".gvt1.com"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

func (w *browserWorld) eventCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// TestBrowser drives headless Chromium through the viewer: a reader's path
// from the home page through search to an article, then the attacks an
// archived page can make, which must all fail.
func TestBrowser(t *testing.T) {
	w := newBrowserWorld(t)
	base := w.viewer.URL

	t.Run("home search article", func(t *testing.T) {
		w.do(t, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".cards")))
		home := get(t, w, chromedp.Text(chromedp.CSS("main")))
		w.do(t,
			chromedp.SendKeys(chromedp.CSS(`header.site input[name="q"]`), "europa plumes"),
			chromedp.Submit(chromedp.CSS(`header.site input[name="q"]`)),
			chromedp.WaitVisible(chromedp.CSS(".results")),
		)
		results := get(t, w, chromedp.Text(chromedp.CSS(".results")))
		w.do(t, chromedp.Click(chromedp.CSS(".results .result-title")), chromedp.WaitVisible(chromedp.CSS(".prose")))
		prose := get(t, w, chromedp.Text(chromedp.CSS(".prose")))
		title := get(t, w, chromedp.Title())
		for _, want := range []string{"Science and space — 18 November 2019", "Markets and business — 19 November 2019", "1 blocked", "1 failed"} {
			if !strings.Contains(strings.ToLower(home), strings.ToLower(want)) {
				t.Errorf("home page lacks %q", want)
			}
		}
		if !strings.Contains(results, "Water Plumes Above the Surface") {
			t.Errorf("search results lack the Europa article: %q", results)
		}
		if !strings.Contains(prose, "Goddard Space Flight Center") {
			t.Errorf("article text not shown: %.300q", prose)
		}
		if !strings.HasPrefix(title, "NASA Just Confirmed There Are Water Plumes") {
			t.Errorf("article title = %q", title)
		}
	})

	t.Run("hostile text and links", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		w.do(t, chromedp.Navigate(base+"/articles/"+xssSlug), chromedp.WaitVisible(chromedp.CSS("h1")), chromedp.Sleep(500*time.Millisecond))
		title := get(t, w, chromedp.Title())
		h1 := get(t, w, chromedp.Text(chromedp.CSS("h1")))
		jsLinks := get(t, w, chromedp.Nodes(chromedp.CSSAll(`a[href^="javascript" i], a[href^="data" i], a[href^="vbscript" i], [onerror], [onload], script, iframe, img`), chromedp.AtLeast(0)))
		links := get(t, w, chromedp.Nodes(chromedp.CSSAll(`a[href]`)))
		payloads := readLines(t, "xss-payloads.txt")
		if h1 != payloads[0] {
			t.Errorf("h1 = %q, want the payload shown as text %q", h1, payloads[0])
		}
		if title != payloads[0]+" · linkarc" {
			t.Errorf("title = %q", title)
		}
		if len(jsLinks) > 0 {
			t.Errorf("%d script elements, handlers or javascript:/data: links on the page", len(jsLinks))
		}
		// The one real link of the hostile readable text stays clickable.
		found := false
		for _, l := range links {
			if l.AttributeValue("href") == "https://publisher.example/more" {
				found = true
			}
		}
		if !found {
			t.Error("the http link of the readable text is not a link")
		}
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
	})

	t.Run("raw snapshot in sandboxed frame", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		page := base + "/articles/" + hostileSlug + "/raw"
		w.do(t, chromedp.Navigate(page), chromedp.Sleep(2500*time.Millisecond)) // past the page's 1 s meta refresh
		if loc := get(t, w, chromedp.Location()); loc != page {
			w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
			t.Fatalf("the top window navigated to %s", loc)
		}
		frame := w.frameDocument(t)
		checkInertSnapshot(t, frame)
		// A reader clicks everything the page offers: the form's submit
		// button, a target=_top link, a target=_blank link, a javascript: link.
		for _, id := range []string{"submit-button", "top-link", "blank-link", "js-link"} {
			w.clickInFrame(t, id)
		}
		w.do(t, chromedp.Sleep(1500*time.Millisecond))
		title, loc := get(t, w, chromedp.Title()), get(t, w, chromedp.Location())
		if want := "Snapshot: A hostile archived page · linkarc"; title != want {
			t.Errorf("viewer title = %q, want %q", title, want)
		}
		if loc != page {
			t.Errorf("the top window navigated to %s", loc)
		}
		checkInertSnapshot(t, w.frameDocument(t))
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
	})

	t.Run("raw snapshot opened directly", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		page := base + "/articles/" + hostileSlug + "/raw.html"
		w.do(t, chromedp.Navigate(page), chromedp.Sleep(2500*time.Millisecond))
		if loc := get(t, w, chromedp.Location()); loc != page {
			w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
			t.Fatalf("the snapshot navigated to %s", loc)
		}
		checkInertSnapshot(t, w.document(t))
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
	})

	if *updateScreenshots {
		t.Run("screenshots", func(t *testing.T) { w.screenshots(t) })
	}
}

// checkInertSnapshot asserts that the hostile page's document is as served:
// no script changed its title or marker, no navigation replaced it.
func checkInertSnapshot(t *testing.T, doc *cdp.Node) {
	t.Helper()
	if doc == nil {
		t.Fatal("no snapshot document")
	}
	if got := textOfNode(findNode(doc, func(n *cdp.Node) bool { return n.LocalName == "title" })); got != "ORIGINAL TITLE" {
		t.Errorf("snapshot title = %q: a script ran or the page navigated", got)
	}
	if got := textOfNode(findNode(doc, func(n *cdp.Node) bool { return attr(n, "id") == "marker" })); got != "SCRIPT DID NOT RUN" {
		t.Errorf("marker = %q: a script ran or the page navigated", got)
	}
}

// frameDocument returns the document inside the viewer's snapshot iframe,
// read through the DOM domain (no script runs in the frame to read it).
func (w *browserWorld) frameDocument(t *testing.T) *cdp.Node {
	t.Helper()
	iframe := findNode(w.document(t), func(n *cdp.Node) bool { return n.LocalName == "iframe" })
	if iframe == nil || iframe.ContentDocument == nil {
		t.Fatal("snapshot iframe has no document")
	}
	return iframe.ContentDocument
}

// document returns the tab's whole DOM tree, frames included.
func (w *browserWorld) document(t *testing.T) *cdp.Node {
	t.Helper()
	res, err := chromedp.Call(w.ctx, dom.GetDocument, dom.GetDocumentParams{Depth: new(int64(-1)), Pierce: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Root
}

// clickInFrame clicks the element with the given id inside the snapshot
// iframe with a real mouse event at its position on screen.
func (w *browserWorld) clickInFrame(t *testing.T, id string) {
	t.Helper()
	doc := w.frameDocument(t)
	el := findNode(doc, func(n *cdp.Node) bool { return attr(n, "id") == id })
	if el == nil {
		t.Fatalf("no #%s in the snapshot", id)
	}
	if _, err := chromedp.Call(w.ctx, dom.ScrollIntoViewIfNeeded, dom.ScrollIntoViewIfNeededParams{NodeID: el.NodeID}); err != nil {
		t.Fatalf("scroll to #%s: %v", id, err)
	}
	res, err := chromedp.Call(w.ctx, dom.GetContentQuads, dom.GetContentQuadsParams{NodeID: el.NodeID})
	if err != nil || len(res.Quads) == 0 {
		t.Fatalf("locate #%s: %v", id, err)
	}
	q := res.Quads[0]
	x, y := (q[0]+q[2]+q[4]+q[6])/4, (q[1]+q[3]+q[5]+q[7])/4
	w.do(t, chromedp.MouseClickXY(x, y), chromedp.Sleep(300*time.Millisecond))
}

// attr returns an attribute of a protocol node.
func attr(n *cdp.Node, name string) string {
	for i := 0; i+1 < len(n.Attributes); i += 2 {
		if n.Attributes[i] == name {
			return n.Attributes[i+1]
		}
	}
	return ""
}

func findNode(n *cdp.Node, match func(*cdp.Node) bool) *cdp.Node {
	if n == nil {
		return nil
	}
	if n.NodeType == nodeElement && match(n) {
		return n
	}
	for _, c := range n.Children {
		if f := findNode(c, match); f != nil {
			return f
		}
	}
	if n.ContentDocument != nil {
		return findNode(n.ContentDocument, match)
	}
	return nil
}

// DOM node types (Node.nodeType).
const (
	nodeElement = 1
	nodeText    = 3
)

func textOfNode(n *cdp.Node) string {
	if n == nil {
		return ""
	}
	var sb strings.Builder
	var walk func(*cdp.Node)
	walk = func(n *cdp.Node) {
		if n.NodeType == nodeText {
			sb.WriteString(n.NodeValue)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(sb.String())
}

// screenshots writes a PNG of every page to docs/screenshots, for the
// README, from a viewer of the demo archive alone.
// Run: go test ./viewer -run TestBrowser/screenshots -screenshots
func (w *browserWorld) screenshots(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeDemo(t, st)
	demo := httptest.NewServer(newTestServer(t, st, Options{}))
	t.Cleanup(demo.Close)
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	europa := "/articles/nasa-just-confirmed-there-are-water-plumes-above-the-surface-of-jupiter-s-moon-europa-sciencealert"
	reuters := "/articles/oversupply-angst-drags-oil-lower-stocks-drift-near-highs-reuters"
	shots := []struct {
		name, path, wait string
		dark             bool
	}{
		{"home", "/", ".cards", false},
		{"digest", "/digests/2019-11-19-markets-and-business", ".items", false},
		{"article", reuters, ".prose", false},
		{"article-dark", europa, ".prose", true},
		{"raw-snapshot", europa + "/raw", "iframe", false},
		{"search", "/search?q=" + url.QueryEscape("moon"), ".results", false},
	}
	for _, s := range shots {
		scheme := "light"
		if s.dark {
			scheme = "dark"
		}
		if _, err := chromedp.Call(w.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(w.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 1200, Height: 900, DeviceScaleFactor: 1}); err != nil {
			t.Fatal(err)
		}
		w.do(t, chromedp.Navigate(demo.URL+s.path), chromedp.WaitVisible(chromedp.CSS(s.wait)), chromedp.Sleep(300*time.Millisecond))
		png := get(t, w, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, s.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s.png (%d KiB)", s.name, len(png)/1024)
	}
}
