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
	"github.com/linkarc/linkarc/storage/record"
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
	fixture *fixture
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
	w.fixture = writeFixture(t, st)
	hostile := strings.NewReplacer("BEACON", strings.TrimPrefix(w.bsrv.URL, "http://"), "VIEWER", viewerURL).
		Replace(readTestdata(t, "hostile-raw.html"))
	for _, key := range []string{record.ArticleKey(hostileSlug, record.RawFile), record.HistoryKey(hostileSlug, hostileOld, record.RawFile)} {
		if err := st.Put(testContext(t), key, strings.NewReader(hostile), int64(len(hostile)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
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

	payloads, urls := w.fixture.payloads, w.fixture.urls

	t.Run("hostile text and links", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		page := base + "/articles/" + xssSlug
		w.do(t, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("h1")), chromedp.Sleep(500*time.Millisecond))
		h1 := get(t, w, chromedp.Text(chromedp.CSS("h1")))
		links := get(t, w, chromedp.Nodes(chromedp.CSSAll(`a[href]`)))
		if h1 != payloads[0] {
			t.Errorf("h1 = %q, want the payload shown as text %q", h1, payloads[0])
		}
		w.checkLivePage(t, page, payloads[0]+" · linkarc")
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

	t.Run("javascript link spellings clicked", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		page := base + "/articles/" + xssSlug
		w.do(t, chromedp.Navigate(page))
		w.checkLivePage(t, page, payloads[0]+" · linkarc")
		// A reader clicks each spelling of a javascript: URL where the page
		// shows it: the readable text's (testdata/viewer/hostile-readable.html)
		// set window.xssRan and the title when they run, the redirect
		// chain's (xss-urls.txt) open a dialog. None may be a live link.
		for _, c := range []struct{ scope, label string }{
			{"prose", "leading-space javascript link"},
			{"prose", "mixed-case javascript link"},
			{"prose", "tab-embedded javascript link"},
			{"prose", "newline-embedded javascript link"},
			{"prose", "entity-encoded javascript link"},
			{"prose", "control-character javascript link"},
			{"chain", " javascript:alert(2)"},
			{"chain", "JaVaScRiPt:alert(1)"},
			{"chain", "&#106;avascript:alert(9)"},
			{"chain", "javascript&colon;alert(4)"},
		} {
			w.clickText(t, c.scope, c.label)
			if !w.checkPageState(t, page, payloads[0]+" · linkarc") {
				t.Errorf("after clicking %q in .%s", c.label, c.scope)
				break // the page is no longer the one to click in
			}
		}
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
	})

	t.Run("hostile digest", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		page := base + "/digests/" + xssDigest
		w.do(t, chromedp.Navigate(page), chromedp.Sleep(500*time.Millisecond))
		w.checkLivePage(t, page, payloads[2]+" digest · linkarc")
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
		items := get(t, w, chromedp.Evaluate[int](`document.querySelectorAll(".items > li.item").length`))
		if items != len(urls) {
			t.Errorf("%d digest items, want %d", items, len(urls))
		}
		// Every payload is on the page as text, so each had its chance.
		text := w.textNow(t, ".items")
		for _, p := range payloads {
			if !strings.Contains(text, strings.TrimSpace(p)) {
				t.Errorf("digest does not show %q as text", p)
			}
		}
	})

	t.Run("hostile search results", func(t *testing.T) {
		n, ev := w.proxy.count(), w.eventCount()
		page := base + "/search?q=javascript"
		w.do(t, chromedp.Navigate(page), chromedp.Sleep(500*time.Millisecond))
		w.checkLivePage(t, page, "Search: javascript · linkarc")
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
		if title := w.textNow(t, ".results .result-title"); title != payloads[0] {
			t.Errorf("hit title = %q, want the payload shown as text %q", title, payloads[0])
		}
		if snippet := w.textNow(t, ".results .snippet"); !strings.Contains(snippet, "onerror=\"window.xssRan") {
			t.Errorf("snippet does not show the onerror payload as text: %q", snippet)
		}
	})

	t.Run("raw snapshot in sandboxed frame", func(t *testing.T) {
		w.checkFramedSnapshot(t, base+"/articles/"+hostileSlug+"/raw")
	})

	t.Run("earlier capture in sandboxed frame", func(t *testing.T) {
		w.checkFramedSnapshot(t, base+"/articles/"+hostileSlug+"/history/"+hostileOld+"/raw")
	})

	t.Run("raw snapshot opened directly", func(t *testing.T) {
		w.checkDirectSnapshot(t, base+"/articles/"+hostileSlug+"/raw.html")
	})

	t.Run("earlier capture opened directly", func(t *testing.T) {
		w.checkDirectSnapshot(t, base+"/articles/"+hostileSlug+"/history/"+hostileOld+"/raw.html")
	})

	if *updateScreenshots {
		t.Run("screenshots", func(t *testing.T) { w.screenshots(t) })
	}
}

// checkFramedSnapshot opens a viewer page that shows the hostile snapshot
// in its sandboxed iframe, checks that no script ran while it loaded,
// clicks everything the snapshot offers, and then, past the snapshot's meta
// refresh and a second after the last click, asserts that the snapshot
// stayed as served, the viewer page stayed inert and in place, and nothing
// left. The clicks fall inside the refresh's wait so that the check costs
// one wait, not two.
func (w *browserWorld) checkFramedSnapshot(t *testing.T, page string) {
	t.Helper()
	n, ev := w.proxy.count(), w.eventCount()
	w.do(t, chromedp.Navigate(page))
	loaded := time.Now()
	frame := w.frameDocument(t)
	if frame.DocumentURL != page+".html" {
		t.Errorf("the frame shows %s, want %s", frame.DocumentURL, page+".html")
	}
	checkInertSnapshot(t, frame)
	// A reader clicks everything the page offers: the form's submit
	// button, a target=_top link, a target=_blank link, a javascript: link.
	for _, id := range []string{"submit-button", "top-link", "blank-link", "js-link"} {
		w.clickInFrame(t, id)
	}
	w.do(t, chromedp.Sleep(max(snapshotSettle-time.Since(loaded), time.Second)))
	if loc := get(t, w, chromedp.Location()); loc != page {
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
		t.Fatalf("the top window navigated to %s", loc)
	}
	w.checkLivePage(t, page, "Snapshot: A hostile archived page · linkarc")
	checkInertSnapshot(t, w.frameDocument(t))
	w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
}

// snapshotSettle is how long a test watches a freshly opened snapshot:
// twice the delay of its meta refresh, the slowest thing it tries on its own.
const snapshotSettle = 2 * time.Second

// checkDirectSnapshot opens a hostile snapshot as the top document, where
// only its Content-Security-Policy holds it, and asserts that it stayed as
// served and nothing left.
func (w *browserWorld) checkDirectSnapshot(t *testing.T, page string) {
	t.Helper()
	n, ev := w.proxy.count(), w.eventCount()
	w.do(t, chromedp.Navigate(page), chromedp.Sleep(snapshotSettle))
	if loc := get(t, w, chromedp.Location()); loc != page {
		w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
		t.Fatalf("the snapshot navigated to %s", loc)
	}
	checkInertSnapshot(t, w.document(t))
	w.checkNothingLeft(t, n, ev, "/api/", "/healthz")
}

// livePageJS lists what, in the viewer page as the browser built and
// resolved it, could run code or fetch: script, style and embedding
// elements, iframes without an empty sandbox, event-handler attributes, and
// URL attributes whose protocol is not http: or https:. Links are judged by
// a.protocol, the scheme the browser would follow on a click, not by the
// markup, so " javascript:", "JaVaScRiPt:", "java\tscript:" and
// entity-encoded spellings count as javascript:. It reads the top document
// only; snapshots in frames are checked by checkInertSnapshot.
const livePageJS = `(() => {
	const problems = [];
	const show = el => el.outerHTML.slice(0, 160);
	for (const el of document.querySelectorAll("script, style, object, embed, base, applet, frame, frameset, svg, math, img, video, audio, source, picture, meta[http-equiv]")) {
		problems.push("element " + show(el));
	}
	for (const el of document.querySelectorAll("iframe")) {
		if (el.getAttribute("sandbox") !== "") problems.push("iframe without an empty sandbox " + show(el));
	}
	const urlAttrs = ["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping"];
	for (const el of document.querySelectorAll("*")) {
		for (const a of el.attributes) {
			const name = a.name.toLowerCase();
			if (name.startsWith("on")) problems.push("handler " + name + " on " + show(el));
			if (!urlAttrs.includes(name)) continue;
			let protocol;
			if (name === "href" && (el instanceof HTMLAnchorElement || el instanceof HTMLAreaElement)) {
				protocol = el.protocol;
			} else {
				try { protocol = new URL(a.value, document.baseURI).protocol; } catch (e) { protocol = "unparseable"; }
			}
			if (protocol !== "http:" && protocol !== "https:") problems.push(name + " with protocol " + protocol + " on " + show(el));
		}
	}
	return problems;
})()`

// pageState is what a hostile payload changes when it runs.
type pageState struct {
	URL    string `json:"url"`
	Title  string `json:"title"`
	XSSRan string `json:"xssRan"` // the payloads' marker global
}

// checkLivePage asserts that the viewer page open in the tab is still the
// one at wantURL, untouched by any payload (checkPageState), and that
// livePageJS finds nothing in its live DOM.
func (w *browserWorld) checkLivePage(t *testing.T, wantURL, wantTitle string) {
	t.Helper()
	if !w.checkPageState(t, wantURL, wantTitle) {
		return
	}
	for _, p := range get(t, w, chromedp.Evaluate[[]string](livePageJS)) {
		t.Errorf("live DOM: %s", p)
	}
}

// checkPageState asserts that the tab still shows the page at wantURL with
// the title wantTitle (payloads and javascript: URLs change or replace the
// document when they run) and that no payload set its marker global. It
// reports whether all of that held.
func (w *browserWorld) checkPageState(t *testing.T, wantURL, wantTitle string) bool {
	t.Helper()
	st := get(t, w, chromedp.Evaluate[pageState](`({url: location.href, title: document.title,
		xssRan: typeof window.xssRan === "undefined" ? "" : String(window.xssRan)})`))
	if st.URL != wantURL {
		t.Errorf("the page navigated to %s, want %s", st.URL, wantURL)
		return false
	}
	ok := true
	if st.Title != wantTitle {
		t.Errorf("title = %q, want %q: a script ran or the document was replaced", st.Title, wantTitle)
		ok = false
	}
	if st.XSSRan != "" {
		t.Errorf("a payload ran: window.xssRan = %q", st.XSSRan)
		ok = false
	}
	return ok
}

// clickText clicks, with a real mouse event, the innermost element inside
// the element of class scope whose own text contains label: the link when
// the label is a link, its container when it was rendered as text.
func (w *browserWorld) clickText(t *testing.T, scope, label string) {
	t.Helper()
	xpath := chromedp.Search(fmt.Sprintf(`//*[contains(concat(" ", @class, " "), " %s ")]//*[text()[contains(., %q)]]`, scope, label))
	if len(get(t, w, chromedp.Nodes(xpath, chromedp.AtLeast(0)))) == 0 {
		t.Errorf("nothing on the page shows %q", label)
		return
	}
	w.do(t, chromedp.Click(xpath), chromedp.Sleep(100*time.Millisecond))
}

// textNow returns the rendered text of the first element that matches the
// CSS selector, or "" when there is none, without waiting for one: a page
// that a payload navigated away fails the test at once.
func (w *browserWorld) textNow(t *testing.T, css string) string {
	t.Helper()
	return get(t, w, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, css)))
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
	w.do(t, chromedp.MouseClickXY(x, y), chromedp.Sleep(200*time.Millisecond))
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
// README and docs/viewer.md, from a viewer of the demo archive alone.
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
