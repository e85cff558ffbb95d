package export

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/internal/browsertest"
	"github.com/linkarc/linkarc/storage/record"
)

// TestSiteInBrowser exports a site of part of an archive and crawls it in
// headless Chromium from file://, link by link from index.html: every
// link between pages leads to a file of the site, no page (archived pages
// included) has a script element, the viewer's pages carry its policy and
// its stylesheet applies, and no request leaves the folder: every request
// is for a file of the site, or one an archived page's own policy stops
// inside the browser (its remote images), and host names resolve to
// nothing.
func TestSiteInBrowser(t *testing.T) {
	f := newArchive(t, 12)
	ctx := testContext(t)
	// Two of the three digests: links to the third's articles and pages
	// must be text, not broken links.
	sel := f.sel(t, stored.Filter{Digests: f.gen.Digests[1:]})
	dir := filepath.Join(t.TempDir(), "site")
	if err := PrepareDir(dir, FormatSite); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteSite(ctx, sel, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Digests != 2 || rep.Articles != 8 || rep.Files < 30 {
		t.Errorf("report %+v", rep)
	}
	first, err := record.ReadDigest(ctx, f.st, f.gen.Digests[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range first.Articles {
		if _, err := os.Stat(filepath.Join(dir, "articles", a.Slug)); err == nil {
			t.Errorf("%s of the digest left out was written", a.Slug)
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browsertest.Path(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		// No host name resolves: a request that tried to leave would fail,
		// and is seen below whether it fails or not.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		// Frames in the tab's process, where their requests are seen.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "IsolateSandboxedIframes,Translate,OptimizationHints,MediaRouter"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	// Every request the pages make, by id, and the ones the page's own
	// policy stopped inside the browser (loadingFailed with blockedReason
	// "csp": no DNS question, no connection).
	var mu sync.Mutex
	requested := map[network.RequestID]string{}
	blockedByPolicy := map[network.RequestID]bool{}
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested[e.RequestID] = e.Request.URL
		case *network.EventLoadingFailed:
			if e.BlockedReason == network.BlockedReasonCsp {
				blockedByPolicy[e.RequestID] = true
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	root := (&url.URL{Scheme: "file", Path: dir + "/"}).String()
	inSite := func(u string) (string, bool) {
		if !strings.HasPrefix(u, root) {
			return "", false
		}
		p, err := url.Parse(u)
		if err != nil {
			return "", false
		}
		return p.Path, true
	}
	type pageView struct {
		Links   []string `json:"links"`   // a[href]
		Loads   []string `json:"loads"`   // src of img, iframe, script; href of link
		Scripts int      `json:"scripts"` // script elements
		CSP     string   `json:"csp"`
		Color   string   `json:"color"` // the header's background, set by the stylesheet
	}
	const inspect = `JSON.stringify({
		links: [...document.querySelectorAll("a[href]")].map(a => a.href),
		loads: [...document.querySelectorAll("img[src], iframe[src], script[src], link[href]")].map(e => e.src || e.href),
		scripts: document.getElementsByTagName("script").length,
		csp: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {content: ""}).content,
		color: getComputedStyle(document.body).fontFamily,
	})`
	queue, seen := []string{root + "index.html"}, map[string]bool{root + "index.html": true}
	pages, snapshots := 0, 0
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if err := chromedp.Do(bctx, chromedp.Navigate(u)); err != nil {
			t.Fatalf("open %s: %v", u, err)
		}
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](inspect))
		if err != nil {
			t.Fatalf("read %s: %v", u, err)
		}
		var v pageView
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatal(err)
		}
		if v.Scripts != 0 {
			t.Errorf("%s has %d script elements", u, v.Scripts)
		}
		p, _ := inSite(u)
		if base := filepath.Base(p); base != "index.html" && !strings.HasPrefix(base, "page-") {
			snapshots++ // an archived page: its links lead out of the archive
			if !strings.Contains(v.CSP, "default-src 'none'") {
				t.Errorf("archived page %s: policy %q", u, v.CSP)
			}
			continue
		}
		pages++
		if !strings.Contains(v.CSP, "default-src 'none'") || !strings.Contains(v.CSP, "style-src 'self'") {
			t.Errorf("%s: policy %q", u, v.CSP)
		}
		if !strings.Contains(v.Color, "system-ui") && !strings.Contains(v.Color, "sans") {
			t.Errorf("%s: the viewer's stylesheet did not apply (body font %q)", u, v.Color)
		}
		for _, l := range slices.Concat(v.Links, v.Loads) {
			l, _, _ = strings.Cut(l, "#")
			path, ok := inSite(l)
			if !ok {
				if slices.Contains(v.Loads, l) || !(strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")) {
					t.Errorf("%s: %s leads out of the site", u, l)
				}
				continue // a link to the publisher: not followed
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: broken link to %s", u, l)
				continue
			}
			if !seen[l] && (strings.HasSuffix(l, ".html")) {
				seen[l] = true
				queue = append(queue, l)
			}
		}
	}
	t.Logf("crawled %d pages and %d archived pages from file://", pages, snapshots)
	if pages < 15 || snapshots < 6 {
		t.Errorf("crawled only %d pages and %d archived pages", pages, snapshots)
	}
	mu.Lock()
	defer mu.Unlock()
	stopped := 0
	for id, r := range requested {
		switch _, ok := inSite(r); {
		case ok, strings.HasPrefix(r, "data:"):
		case blockedByPolicy[id]:
			stopped++
		default:
			t.Errorf("a request left the folder: %s", r)
		}
	}
	// The archived pages ask for their remote images; their policy, a
	// <meta> first in the head, stops each before it leaves.
	if stopped == 0 {
		t.Errorf("no archived page's remote resource was stopped by its policy: did they load none?")
	}
	t.Logf("%d requests in all, %d remote ones stopped by the archived pages' policy", len(requested), stopped)
}
