// Package wacztest replays WACZ packages in ReplayWeb.page for tests: its
// ui.js and sw.js (npm replaywebpage, installed by internal/webtools)
// served with the package from one loopback origin, in headless Chromium
// (internal/browsertest) that resolves nothing but loopback. What the
// replayed page shows is read from its frame, so a test sees what a reader
// of the package would.
package wacztest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/linkarc/linkarc/internal/browsertest"
	"github.com/linkarc/linkarc/internal/webtools"
)

// Replayed is what a replayed page shows.
type Replayed struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	// The page's image: the element with id "photo", else its first <img>.
	ImageSrc    string `json:"imageSrc"`
	ImageWidth  int    `json:"imageWidth"`
	ImageHeight int    `json:"imageHeight"`
	// HeadingColor is the computed colour of the first <h1>.
	HeadingColor string `json:"headingColor"`
}

// Replay serves pkg, a WACZ package, with ReplayWeb.page and opens pageURL
// from it in headless Chromium, reading the replayed page every 250 ms
// until done holds for what it shows; it returns that. After 60 s it fails
// the test with the frames it saw and the paths the replay asked for that
// the replay site does not serve.
func Replay(t testing.TB, pkg []byte, pageURL string, done func(Replayed) bool) Replayed {
	t.Helper()
	ui := webtools.ModulePath(t, "replaywebpage", "ui.js")
	sw := webtools.ModulePath(t, "replaywebpage", "sw.js")
	chromium := browsertest.Path(t)

	// The replay site: ReplayWeb.page's embed, its service worker under
	// /replay/, and the package, all from one loopback origin (service
	// workers need a secure context; loopback is one).
	var mu sync.Mutex
	var missing []string
	created := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><script src="/ui.js"></script></head>
<body><replay-web-page source="/export.wacz" url="%s" replayBase="/replay/" embed="replayonly" style="display:block;height:700px"></replay-web-page></body></html>`, pageURL)
	})
	serveFile := func(path, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(path)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			w.Header().Set("Content-Type", ctype)
			http.ServeContent(w, r, "", created, f)
		}
	}
	mux.HandleFunc("/ui.js", serveFile(ui, "application/javascript"))
	mux.HandleFunc("/replay/ui.js", serveFile(ui, "application/javascript"))
	mux.HandleFunc("/replay/sw.js", serveFile(sw, "application/javascript"))
	mux.HandleFunc("/export.wacz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wacz")
		http.ServeContent(w, r, "export.wacz", created, bytes.NewReader(pkg))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		missing = append(missing, r.URL.Path)
		mu.Unlock()
		http.NotFound(w, r)
	})
	site := httptest.NewServer(mux)
	defer site.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// Resolve nothing but loopback: the replay may not fetch anything
		// from anywhere but the replay site, and cannot.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		// Keep the replay's frames in the tab's process, where the test
		// can read them.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "IsolateSandboxedIframes,Translate,OptimizationHints,MediaRouter"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatalf("start Chromium %s and open the replay site: %v", chromium, err)
	}
	// The replayed page lives in an iframe (inside the embed's own frame)
	// whose URL is the service worker's replay URL of the page.
	var got Replayed
	var frames []string
	// ReplayWeb.page's service worker, installed on the first load, now
	// and then never takes control on a loaded machine, and the replay
	// frame never appears: the site is loaded again (as a reader would),
	// at most reloads times, when no replay frame appeared for a while.
	const (
		reloads     = 2
		reloadAfter = 15 * time.Second
	)
	reloaded, loaded, replaying := 0, time.Now(), false
	for {
		var seen []string
		err := func() error {
			tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
			if err != nil {
				return err
			}
			var visit func(*page.FrameTree) error
			visit = func(ft *page.FrameTree) error {
				seen = append(seen, ft.Frame.URL)
				if strings.Contains(ft.Frame.URL, "mp_/"+pageURL) {
					replaying = true
					if err := inspect(ctx, ft.Frame.ID, &got); err != nil {
						return err
					}
				}
				for _, c := range ft.ChildFrames {
					if err := visit(c); err != nil {
						return err
					}
				}
				return nil
			}
			return visit(tree.FrameTree)
		}()
		if len(seen) > 0 {
			frames = seen
		}
		if err == nil && done(got) {
			break
		}
		if ctx.Err() != nil {
			mu.Lock()
			t.Fatalf("ReplayWeb.page did not show the page within 60 s: last seen %+v (err %v)\nframes: %q\nnot found on the replay site: %q", got, err, frames, missing)
		}
		if !replaying && reloaded < reloads && time.Since(loaded) > reloadAfter {
			reloaded++
			t.Logf("no replay frame after %v; loading the replay site again (%d of %d)", reloadAfter, reloaded, reloads)
			if err := chromedp.Do(ctx, chromedp.Reload()); err != nil && ctx.Err() == nil {
				t.Logf("reload: %v", err)
			}
			loaded = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("ReplayWeb.page replayed %s in %v: title %q, image %dx%d from %s",
		pageURL, time.Since(start).Round(time.Millisecond), got.Title, got.ImageWidth, got.ImageHeight, got.ImageSrc)
	mu.Lock()
	t.Logf("paths the replay site does not serve, asked for anyway: %q", missing)
	mu.Unlock()
	return got
}

// inspect reads the page in frame id through an isolated world (which
// shares the page's DOM, not its scripts).
func inspect(ctx context.Context, id cdp.FrameID, out *Replayed) error {
	world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: id, WorldName: "linkarc-test"})
	if err != nil {
		return err
	}
	const js = `(() => {
		const img = document.getElementById("photo") || document.querySelector("img");
		const h1 = document.querySelector("h1");
		return JSON.stringify({
			title: document.title,
			text: document.body ? document.body.innerText : "",
			imageSrc: img ? img.currentSrc : "",
			imageWidth: img && img.complete ? img.naturalWidth : 0,
			imageHeight: img && img.complete ? img.naturalHeight : 0,
			headingColor: h1 ? getComputedStyle(h1).color : "",
		});
	})()`
	yes := true
	res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: js, ContextID: world.ExecutionContextID, ReturnByValue: &yes})
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return fmt.Errorf("evaluating in the replayed page: %s", res.ExceptionDetails.Text)
	}
	var s string
	if err := json.Unmarshal(res.Result.Value, &s); err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), out)
}

// Files unpacks a WACZ (a ZIP) into its files' contents by path, failing
// the test when it is not a readable ZIP.
func Files(t testing.TB, pkg []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s in the WACZ: %v", zf.Name, err)
		}
		files[zf.Name] = b
	}
	return files
}
