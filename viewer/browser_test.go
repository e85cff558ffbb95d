package viewer

import (
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/linkarc/linkarc/internal/netguard/netguardtest"
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

// The browser runs in a network namespace of its own (browsertest.Network)
// with nothing but loopback. Its /etc/resolv.conf names a DNS server of the
// test on 127.0.0.1:53 that records every question and answers every name
// under trapZone with the loopback addresses, where traps listen on ports
// 80 and 443 and count every TCP connection they accept. So a snapshot that
// makes the browser resolve a name (dns-prefetch, an anchor's DNS
// prefetch), open a bare connection (preconnect) or send a request is seen
// at the trap whichever it does; a proxy, which this test used before, sees
// only the last. No packet can leave the machine: the namespace has no other
// interface.
const trapZone = "trap.example"

// requestLog records every request the viewer gets.
type requestLog struct {
	mu   sync.Mutex
	seen []string // "GET /path?query", in order
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen = append(l.seen, r.Method+" "+r.URL.RequestURI())
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

func (l *requestLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen[n:]...)
}

// browserWorld is a viewer, the trap (DNS server and TCP traps) and a
// headless Chromium, all in one network namespace.
type browserWorld struct {
	net      *browsertest.Network
	viewer   *httptest.Server
	fixture  *fixture
	requests *requestLog
	dns      *netguardtest.DNS
	traps    []*netguardtest.Trap
	control  *httptest.Server // pages of the test's own that hint (controlPage)
	fences   int
	bin, tmp string          // the browser, and where its profiles go
	ctx      context.Context // the browser tab
	stop     func()          // stops the browser
	mu       sync.Mutex
	events   []*netRequest                     // requests the tab's network events reported, in order
	byID     map[network.RequestID]*netRequest // the same, by request id
	dialogs  []string                          // JavaScript dialogs that opened
	popups   []string                          // page targets created after the tab
}

// netRequest is what the tab's network events say about one request.
type netRequest struct {
	url      string
	blocked  string // why the browser blocked it before sending (csp, ...)
	failed   string // the network error, when it failed otherwise
	answered bool   // a response arrived
}

// hostileLinkHeaders are the Link headers of the publisher's response: hints
// a viewer that replayed the archived response's headers would pass on.
func hostileLinkHeaders() []string {
	return []string{
		"<http://link-header-preconnect.trap.example/>; rel=preconnect",
		"<//link-header-dns-prefetch.trap.example>; rel=dns-prefetch, <http://link-header-prefetch.trap.example/n>; rel=prefetch",
		`<http://link-header-preload.trap.example/s.css>; rel="preload"; as=style`,
		"<http://link-header-modulepreload.trap.example/m.js>; rel=modulepreload",
	}
}

// captureHostile fetches the hostile pages from a loopback publisher that
// serves them with hostileLinkHeaders, the way the archiver gets a page, and
// stores each response's body as a capture of hostileSlug: the current one,
// an earlier one with the same page, and an earlier frameset.
func captureHostile(t *testing.T, st storage.Store, viewerURL string) {
	t.Helper()
	pages := map[string]string{
		"/page":   strings.ReplaceAll(readTestdata(t, "hostile-raw.html"), "VIEWER", viewerURL),
		"/frames": readTestdata(t, "hostile-frameset.html"),
	}
	pub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, l := range hostileLinkHeaders() {
			w.Header().Add("Link", l)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, pages[r.URL.Path])
	}))
	defer pub.Close()
	fetch := func(path string) string {
		resp, err := pub.Client().Get(pub.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if len(resp.Header.Values("Link")) != len(hostileLinkHeaders()) {
			t.Fatalf("the publisher sent Link headers %q", resp.Header.Values("Link"))
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page, frames := fetch("/page"), fetch("/frames")
	for key, body := range map[string]string{
		record.ArticleKey(hostileSlug, record.RawFile):                page,
		record.HistoryKey(hostileSlug, hostileOld, record.RawFile):    page,
		record.HistoryKey(hostileSlug, hostileFrames, record.RawFile): frames,
	} {
		if err := st.Put(testContext(t), key, strings.NewReader(body), int64(len(body)), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// listen opens a listener inside the world's namespace.
func (w *browserWorld) listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	ln, err := w.net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen on %s %s in the browser's namespace: %v", network, addr, err)
	}
	return ln
}

// serve serves h inside the world's namespace on a loopback port.
func (w *browserWorld) serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := &httptest.Server{Listener: w.listen(t, "tcp", "127.0.0.1:0"), Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func newBrowserWorld(t *testing.T) *browserWorld {
	t.Helper()
	bin := chromiumPath(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &browserWorld{net: browsertest.NewNetwork(t), requests: &requestLog{}, byID: map[network.RequestID]*netRequest{}}

	// The trap: DNS on 127.0.0.1:53 (UDP; TCP 53 is a trap like the
	// others), and TCP traps where the names resolve.
	loop4, loop6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	pc, err := w.net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	w.dns = netguardtest.StartDNSOn(t, pc, map[string][]netip.Addr{"*." + trapZone: {loop4, loop6}})
	for _, addr := range []string{"127.0.0.1:80", "127.0.0.1:443", "[::1]:80", "[::1]:443", "127.0.0.1:53"} {
		w.traps = append(w.traps, netguardtest.StartTrapOn(t, w.listen(t, "tcp", addr), w.net.DialContext))
	}

	w.control = w.serve(t, http.HandlerFunc(controlPage))

	// The viewer listens first so that the hostile page can name it.
	ln := w.listen(t, "tcp", "127.0.0.1:0")
	viewerURL := "http://" + ln.Addr().String()
	writeDemo(t, st)
	w.fixture = writeFixture(t, st)
	captureHostile(t, st, viewerURL)
	srv := newTestServer(t, st, Options{AllowedHosts: []string{"127.0.0.1"}})
	w.viewer = &httptest.Server{Listener: ln, Config: &http.Server{Handler: w.requests.wrap(srv)}}
	w.viewer.Start()
	t.Cleanup(w.viewer.Close)

	w.bin, w.tmp = bin, t.TempDir()
	t.Cleanup(func() {
		if w.stop != nil {
			w.stop()
		}
	})
	w.startBrowser(t)
	return w
}

// startBrowser starts a headless Chromium in the world's namespace, with a
// new profile, and makes it the one the world drives; the previous one, if
// any, is stopped. A new browser has nothing cached: no host names, no
// idle connections, nothing its predictors learnt from earlier pages, which
// would hide a lookup or a connection the page under test asks for.
func (w *browserWorld) startBrowser(t *testing.T) {
	t.Helper()
	profile, err := os.MkdirTemp(w.tmp, "profile")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(w.bin),
		chromedp.ModifyCmdFunc(w.net.Command),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1200, 900),
		// Keep sandboxed frames in the tab's process so that their DOM is
		// inspectable from the tab (the sandbox rules are the same).
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateSandboxedIframes,AutofillServerCommunication,OptimizationHints,MediaRouter"),
		// Quiet Chromium's own background traffic.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	// Stopping waits for the browser to exit: a browser still winding
	// down could open a connection after the next check has begun.
	alloc := chromedp.FromContext(ctx).Allocator
	stop := func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		alloc.Wait()
	}
	if w.stop != nil {
		w.stop() // the previous browser
	}
	w.mu.Lock()
	w.ctx, w.stop = ctx, stop
	w.events, w.byID, w.dialogs, w.popups = nil, map[network.RequestID]*netRequest{}, nil, nil
	w.mu.Unlock()

	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium %s: %v", w.bin, err)
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

// mark is where a check starts: how much each recorder had seen.
type mark struct {
	requests, events, questions int
	accepts                     []int64 // per trap
}

func (w *browserWorld) mark(t *testing.T) mark {
	t.Helper()
	m := mark{requests: w.requests.count(), events: w.eventCount(), questions: len(w.dns.Questions())}
	for _, tr := range w.traps {
		m.accepts = append(m.accepts, tr.Settle(t))
	}
	return m
}

// trapSince reports the DNS questions the trap got and the TCP connections
// its traps accepted since m.
func (w *browserWorld) trapSince(t *testing.T, m mark) (questions []netguardtest.Question, connects map[string]int64) {
	t.Helper()
	for _, q := range w.dns.Questions()[m.questions:] {
		if !strings.HasSuffix(q.Name, "."+fenceZone+".") {
			questions = append(questions, q)
		}
	}
	connects = map[string]int64{}
	for i, tr := range w.traps {
		if n := tr.Settle(t) - m.accepts[i]; n > 0 {
			connects[tr.Listener.Addr().String()] = n
		}
	}
	return questions, connects
}

// checkNothingLeft asserts that, since m, nothing reached the trap (no DNS
// question, no TCP connection), no request reached the viewer's
// forbiddenPaths, every request the tab reports went to the viewer or was
// blocked by the browser before it was sent, and no dialog and no pop-up
// opened.
func (w *browserWorld) checkNothingLeft(t *testing.T, m mark, forbiddenPaths ...string) {
	t.Helper()
	w.checkTrap(t, m, nil)
	w.checkRequests(t, m, forbiddenPaths...)
}

// clickedLinks are the host names of links a test clicked: see checkTrap.
type clickedLinks []string

func (w *browserWorld) checkNothingLeftButClicks(t *testing.T, m mark, clicked clickedLinks, forbiddenPaths ...string) {
	t.Helper()
	w.checkTrap(t, m, clicked)
	w.checkRequests(t, m, forbiddenPaths...)
}

// checkTrap asserts that, since m, the trap got no DNS question and no TCP
// connection, except for the hosts of links the reader clicked: Chromium
// looks up and preconnects to the host of a link on pointerdown, before it
// knows whether the sandbox lets it follow the link. A question about such
// a host, and up to two connections for each (one per address family), are
// logged, not failed.
func (w *browserWorld) checkTrap(t *testing.T, m mark, clicked clickedLinks) {
	t.Helper()
	questions, connects := w.trapSince(t, m)
	var total int64
	for _, n := range connects {
		total += n
	}
	t.Logf("trap: %d DNS questions, %d TCP connections", len(questions), total)
	names, clickedNames, services := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, q := range questions {
		name := strings.TrimSuffix(q.Name, ".")
		switch {
		case slices.Contains(clicked, name):
			clickedNames[name] = true
		case chromiumService(name):
			services[name] = true
		default:
			names[name] = true
		}
	}
	if len(clickedNames) > 0 {
		t.Logf("looked up on a click on a link to them: %v", slices.Sorted(maps.Keys(clickedNames)))
	}
	if len(services) > 0 {
		t.Logf("Chromium's own services, which it looks up whatever page is open: %v", slices.Sorted(maps.Keys(services)))
	}
	if len(names) > 0 {
		t.Errorf("the browser asked DNS about %d names: %v", len(names), slices.Sorted(maps.Keys(names)))
	}
	if total > int64(2*len(clicked)) {
		t.Errorf("the traps accepted %d TCP connections (%d links clicked): %v", total, len(clicked), connects)
	}
}

// chromiumService reports whether a host name is one of Chromium's own
// background services (updates, sign-in, safe browsing), which the browser
// asks about whatever page is open: the answer is NXDOMAIN, and no page of
// the test names them.
func chromiumService(host string) bool {
	for _, suffix := range []string{".google.com", ".googleapis.com", ".gstatic.com", ".gvt1.com"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// checkRequests asserts that, since m, no request reached the viewer's
// forbiddenPaths, every request the tab reports went to the viewer (or the
// test's control pages) or was blocked by the browser before it was sent,
// and no dialog and no pop-up opened.
func (w *browserWorld) checkRequests(t *testing.T, m mark, forbiddenPaths ...string) {
	t.Helper()
	for _, r := range w.requests.since(m.requests) {
		for _, p := range forbiddenPaths {
			if _, u, _ := strings.Cut(r, " "); strings.HasPrefix(u, p) {
				t.Errorf("archived page reached the viewer: %s", r)
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	blocked := map[string]int{}
	for _, r := range w.events[m.events:] {
		switch {
		case strings.HasPrefix(r.url, w.viewer.URL+"/") || strings.HasPrefix(r.url, w.control.URL+"/") || strings.HasPrefix(r.url, "data:"):
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

// controlPage serves a page, with none of the viewer's headers, that asks
// the browser to preconnect to ?preconnect= and to resolve ?dns-prefetch=:
// what a hostile snapshot does, from a page nobody neutralised.
func controlPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<!doctype html><title>control</title>")
	if h := r.URL.Query().Get("preconnect"); h != "" {
		fmt.Fprintf(&b, `<link rel="preconnect" href="http://%s/">`, html.EscapeString(h))
	}
	if h := r.URL.Query().Get("dns-prefetch"); h != "" {
		fmt.Fprintf(&b, `<link rel="dns-prefetch" href="//%s">`, html.EscapeString(h))
	}
	b.WriteString("<p>control page</p>")
	io.WriteString(w, b.String())
}

// fenceZone holds the names fence asks about; checkNothingLeft ignores them.
const fenceZone = "fence." + trapZone

// fence makes the browser resolve a name no page uses and waits until the
// DNS server has been asked: every lookup the browser started before (the
// page under test is open for snapshotSettle first) has reached the server
// by then, so a count taken now is not a count taken too early.
func (w *browserWorld) fence(t *testing.T) {
	t.Helper()
	w.fences++
	name := fmt.Sprintf("f%d.%s", w.fences, fenceZone)
	w.do(t, chromedp.Navigate(w.control.URL+"/?dns-prefetch="+name))
	deadline := time.Now().Add(stepTimeout)
	for w.dns.Queries(name) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the browser did not resolve %s within %v: the trap cannot see lookups", name, stepTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
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

	// The instrument works: a page nobody neutralised that hints at two
	// names gets both looked up and one connected to.
	t.Run("trap sees hints", func(t *testing.T) {
		m := w.mark(t)
		pre, dns := "control-preconnect."+trapZone, "control-dns-prefetch."+trapZone
		w.do(t, chromedp.Navigate(w.control.URL+"/?preconnect="+pre+"&dns-prefetch="+dns))
		w.fence(t)
		questions, connects := w.trapSince(t, m)
		asked := map[string]bool{}
		for _, q := range questions {
			asked[strings.TrimSuffix(q.Name, ".")] = true
		}
		if !asked[pre] || !asked[dns] {
			t.Errorf("the control page's hints were not looked up: questions %v", questions)
		}
		if connects["127.0.0.1:80"]+connects["[::1]:80"] == 0 {
			t.Errorf("the control page's preconnect did not reach a trap: %v", connects)
		}
	})

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
		m := w.mark(t)
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
		w.checkNothingLeft(t, m, "/api/", "/healthz")
	})

	t.Run("javascript link spellings clicked", func(t *testing.T) {
		m := w.mark(t)
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
		w.checkNothingLeft(t, m, "/api/", "/healthz")
	})

	t.Run("hostile digest", func(t *testing.T) {
		m := w.mark(t)
		page := base + "/digests/" + xssDigest
		w.do(t, chromedp.Navigate(page), chromedp.Sleep(500*time.Millisecond))
		w.checkLivePage(t, page, payloads[2]+" digest · linkarc")
		w.checkNothingLeft(t, m, "/api/", "/healthz")
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
		m := w.mark(t)
		page := base + "/search?q=javascript"
		w.do(t, chromedp.Navigate(page), chromedp.Sleep(500*time.Millisecond))
		w.checkLivePage(t, page, "Search: javascript · linkarc")
		w.checkNothingLeft(t, m, "/api/", "/healthz")
		if title := w.textNow(t, ".results .result-title"); title != payloads[0] {
			t.Errorf("hit title = %q, want the payload shown as text %q", title, payloads[0])
		}
		if snippet := w.textNow(t, ".results .snippet"); !strings.Contains(snippet, "onerror=\"window.xssRan") {
			t.Errorf("snippet does not show the onerror payload as text: %q", snippet)
		}
	})

	// Issue 13's "the viewer, as seen", as a reader sees it.
	t.Run("viewer as seen", func(t *testing.T) {
		m := w.mark(t)
		// The panel shows a 300-character Google News link in a line or
		// two, and no URL column collapses to a character per line.
		w.do(t, chromedp.Navigate(base+"/articles/"+historySlug), chromedp.WaitVisible(chromedp.CSS(".panel")))
		panel := get(t, w, chromedp.Evaluate[[]struct {
			Label string  `json:"label"`
			Lines float64 `json:"lines"`
			Width float64 `json:"width"`
		}](`[...document.querySelectorAll("dl.facts dd")].map(dd => {
			const lh = parseFloat(getComputedStyle(dd).lineHeight) || 1.4 * parseFloat(getComputedStyle(dd).fontSize);
			const r = dd.getBoundingClientRect();
			return {label: dd.previousElementSibling.textContent, lines: r.height / lh, width: r.width};
		})`))
		for _, f := range panel {
			if f.Width < 120 {
				t.Errorf("panel %q is %.0f px wide", f.Label, f.Width)
			}
			if f.Lines > 2.5 {
				t.Errorf("panel %q takes %.1f lines", f.Label, f.Lines)
			}
		}
		if !slices.ContainsFunc(panel, func(f struct {
			Label string  `json:"label"`
			Lines float64 `json:"lines"`
			Width float64 `json:"width"`
		}) bool {
			return f.Label == "Google News link"
		}) {
			t.Error("no Google News link in the panel")
		}
		if text := w.textNow(t, ".panel"); strings.Contains(text, "Redirect chain") {
			t.Error("a one-hop redirect chain is repeated in the panel")
		}

		// A failed article offers no link that leads to a 404.
		w.do(t, chromedp.Navigate(base+"/articles/"+failedSlug), chromedp.WaitVisible(chromedp.CSS(".actions")))
		if buttons := w.textNow(t, ".actions"); strings.Contains(buttons, "Archived page") || strings.Contains(buttons, "Plain text") {
			t.Errorf("a failed article offers %q", buttons)
		}
		if byline := w.textNow(t, ".byline"); strings.Contains(byline, "Archived") {
			t.Errorf("a failed article is labelled %q", byline)
		}

		// A digest's front-matter slug leads to its lead article.
		w.do(t, chromedp.Navigate(base+"/articles/"+namedFMSlug), chromedp.WaitVisible(chromedp.CSS(".prose")))
		if loc := get(t, w, chromedp.Location()); loc != base+"/articles/"+historySlug {
			t.Errorf("/articles/%s led to %s", namedFMSlug, loc)
		}

		// The digest page: decoded description, its source labelled, its
		// tags; a tag leads to the tag's page.
		w.do(t, chromedp.Navigate(base+"/digests/"+namedDigest), chromedp.WaitVisible(chromedp.CSS(".items")))
		if head := w.textNow(t, ".page-head"); !strings.Contains(head, "Tom & Jerry live — 5 < 6") ||
			!strings.Contains(head, "Source: a Google News topic") || strings.Contains(head, "Published at") {
			t.Errorf("digest head reads %q", head)
		}
		w.do(t, chromedp.Click(chromedp.CSS(`.page-head ul.tags a[href="/tags/Space%20travel"]`)), chromedp.WaitVisible(chromedp.CSS(".cards")))
		if h1 := w.textNow(t, "h1"); h1 != "Tag: Space travel" {
			t.Errorf("the tag's page is titled %q", h1)
		}
		if n := get(t, w, chromedp.Evaluate[int](`document.querySelectorAll(".cards > li").length`)); n != 1 {
			t.Errorf("the tag's page lists %d digests, want 1", n)
		}

		// Home: filter by status and sort, with the form.
		w.do(t, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("form.filters")),
			chromedp.SetValue(chromedp.CSS(`form.filters select[name="status"]`), "failed"),
			chromedp.SetValue(chromedp.CSS(`form.filters select[name="sort"]`), "oldest"),
			chromedp.Click(chromedp.CSS(`form.filters button`)),
			chromedp.WaitVisible(chromedp.CSS(".clear")))
		u, err := url.Parse(get(t, w, chromedp.Location()))
		if err != nil || u.Query().Get("status") != "failed" || u.Query().Get("sort") != "oldest" {
			t.Errorf("the filter form led to %v", u)
		}
		if lede := w.textNow(t, ".lede"); !strings.Contains(lede, "match the filter") {
			t.Errorf("the filtered home page says %q", lede)
		}
		w.checkLivePage(t, u.String(), "Digests · linkarc")
		w.checkNothingLeft(t, m, "/api/", "/healthz")
	})

	// The hostile snapshots: the current capture, an earlier one, and an
	// earlier frameset, each in the viewer's sandboxed frame and opened
	// directly as the top document.
	for _, c := range []struct {
		name, path string
		frameset   bool
	}{
		{"current capture", "/articles/" + hostileSlug, false},
		{"earlier capture", "/articles/" + hostileSlug + "/history/" + hostileOld, false},
		{"earlier frameset capture", "/articles/" + hostileSlug + "/history/" + hostileFrames, true},
	} {
		t.Run(c.name+" in sandboxed frame", func(t *testing.T) {
			w.checkFramedSnapshot(t, base+c.path+"/raw", c.frameset)
		})
		t.Run(c.name+" opened directly", func(t *testing.T) {
			w.checkDirectSnapshot(t, base+c.path+"/raw.html", c.frameset)
		})
	}

	if *updateScreenshots {
		t.Run("screenshots", func(t *testing.T) { w.screenshots(t) })
	}
}

// checkFramedSnapshot opens, in a new browser, a viewer page that shows a
// hostile snapshot in its sandboxed iframe and checks that no script ran,
// and that, past the snapshot's meta refresh, the snapshot stayed as served,
// the viewer page stayed inert and in place, and nothing reached the trap or
// left. Then it loads the page again and clicks everything the snapshot
// offers that the sandbox must refuse: the sandbox must hold, and the trap
// may see the host names of the links clicked only (see clickLinks).
func (w *browserWorld) checkFramedSnapshot(t *testing.T, page string, frameset bool) {
	t.Helper()
	w.startBrowser(t)
	m := w.mark(t)
	w.do(t, chromedp.Navigate(page))
	loaded := time.Now()
	frame := w.frameDocument(t)
	if frame.DocumentURL != page+".html" {
		t.Errorf("the frame shows %s, want %s", frame.DocumentURL, page+".html")
	}
	checkInertSnapshot(t, frame, frameset)
	w.do(t, chromedp.Sleep(max(snapshotSettle-time.Since(loaded), 0)))
	w.checkFramedStill(t, m, page, frameset)
	w.fence(t)
	w.checkNothingLeft(t, m, "/api/", "/healthz")
	if frameset {
		return
	}

	// A reader clicks what the page offers that must not leave: the form's
	// submit button, a target=_top link, a target=_blank link, a
	// javascript: link.
	w.do(t, chromedp.Navigate(page))
	w.frameDocument(t)
	m = w.mark(t)
	for _, id := range []string{"submit-button", "top-link", "blank-link", "js-link"} {
		w.clickInFrame(t, id)
	}
	w.do(t, chromedp.Sleep(time.Second))
	w.checkFramedStill(t, m, page, frameset)
	w.fence(t)
	w.checkNothingLeftButClicks(t, m, clickedLinks{"a-target-top." + trapZone, "a-target-blank." + trapZone}, "/api/", "/healthz")
}

// checkFramedStill asserts that the tab still shows the viewer page with
// the snapshot in its frame, both as served.
func (w *browserWorld) checkFramedStill(t *testing.T, m mark, page string, frameset bool) {
	t.Helper()
	if loc := get(t, w, chromedp.Location()); loc != page {
		w.checkNothingLeft(t, m, "/api/", "/healthz")
		t.Fatalf("the top window navigated to %s", loc)
	}
	w.checkLivePage(t, page, "Snapshot: A hostile archived page · linkarc")
	checkInertSnapshot(t, w.frameDocument(t), frameset)
}

// snapshotSettle is how long a test watches a freshly opened snapshot:
// twice the delay of its meta refresh, the slowest thing it tries on its own.
const snapshotSettle = 2 * time.Second

// checkDirectSnapshot opens, in a new browser, a hostile snapshot as the top document, where
// only its Content-Security-Policy holds it, and asserts that it stayed as
// served and nothing left.
func (w *browserWorld) checkDirectSnapshot(t *testing.T, page string, frameset bool) {
	t.Helper()
	w.startBrowser(t)
	m := w.mark(t)
	w.do(t, chromedp.Navigate(page), chromedp.Sleep(snapshotSettle))
	if loc := get(t, w, chromedp.Location()); loc != page {
		w.checkNothingLeft(t, m, "/api/", "/healthz")
		t.Fatalf("the snapshot navigated to %s", loc)
	}
	checkInertSnapshot(t, w.document(t), frameset)
	w.fence(t)
	w.checkNothingLeft(t, m, "/api/", "/healthz")
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
func checkInertSnapshot(t *testing.T, doc *cdp.Node, frameset bool) {
	t.Helper()
	if doc == nil {
		t.Fatal("no snapshot document")
	}
	if got := textOfNode(findNode(doc, func(n *cdp.Node) bool { return n.LocalName == "title" })); got != "ORIGINAL TITLE" {
		t.Errorf("snapshot title = %q: a script ran or the page navigated", got)
	}
	if frameset {
		return // no body, so no marker
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
	demo := w.serve(t, newTestServer(t, st, Options{}))
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
