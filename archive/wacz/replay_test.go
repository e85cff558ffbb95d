package wacz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
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

	"github.com/linkarc/linkarc/archive/wacz"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
	"github.com/linkarc/linkarc/internal/browsertest"
	"github.com/linkarc/linkarc/internal/webtools"
)

// The phrase the replayed page must show, and the size of its image.
const (
	phrase       = "Archived by linkarc, replayed by ReplayWeb.page"
	photoW       = 240
	photoH       = 120
	articleTitle = "A page worth keeping"
)

// publisher serves an article with a stylesheet and an image.
func publisher(t *testing.T) *httptest.Server {
	img := image.NewRGBA(image.Rect(0, 0, photoW, photoH))
	for y := 0; y < photoH; y++ {
		for x := 0; x < photoW; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var photo bytes.Buffer
	if err := png.Encode(&photo, img); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/2024/article.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title><link rel="stylesheet" href="/static/site.css"></head>
<body><h1>%s</h1><p id="lead">%s.</p><img id="photo" src="/media/photo.png" alt="a photo"></body></html>`, articleTitle, articleTitle, phrase)
	})
	mux.HandleFunc("/static/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "h1 { color: rgb(10, 20, 30); }\n")
	})
	mux.HandleFunc("/media/photo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(photo.Bytes())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestReplayWebPageReplaysExport archives a page with its stylesheet and
// image into a WARC, packages it as a WACZ, stops the publisher, and has
// ReplayWeb.page (its ui.js and sw.js, served from loopback) replay it in
// headless Chromium: the replayed page must show its text and its image.
func TestReplayWebPageReplaysExport(t *testing.T) {
	ui := webtools.ModulePath(t, "replaywebpage", "ui.js")
	sw := webtools.ModulePath(t, "replaywebpage", "sw.js")
	chromium := browsertest.Path(t)

	pub := publisher(t)
	articleURL := pub.URL + "/2024/article.html"
	var warcFile bytes.Buffer
	w, err := warc.NewWriter(&warcFile, warc.Options{Filename: "article.warc.gz"})
	if err != nil {
		t.Fatal(err)
	}
	client := warctest.Client()
	captured := warctest.Get(t, client, w, articleURL)
	warctest.Get(t, client, w, pub.URL+"/static/site.css")
	warctest.Get(t, client, w, pub.URL+"/media/photo.png")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pub.Close() // from here on, only the archive has the page

	var pkg bytes.Buffer
	zw := wacz.NewWriter(&pkg, wacz.Options{Title: "linkarc export", MainPageURL: articleURL, MainPageDate: captured.Date})
	if err := zw.AddWARC("article.warc.gz", bytes.NewReader(warcFile.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := zw.AddPage(wacz.Page{URL: articleURL, TS: captured.Date, Title: articleTitle, Text: phrase}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

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
<body><replay-web-page source="/export.wacz" url="%s" replayBase="/replay/" embed="replayonly" style="display:block;height:700px"></replay-web-page></body></html>`, articleURL)
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
		http.ServeContent(w, r, "export.wacz", created, bytes.NewReader(pkg.Bytes()))
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
	// whose URL is the service worker's replay URL of the article.
	var got replayed
	var frames []string
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
				if strings.Contains(ft.Frame.URL, "mp_/"+articleURL) {
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
		if err == nil && got.done() {
			break
		}
		if ctx.Err() != nil {
			mu.Lock()
			t.Fatalf("ReplayWeb.page did not show the page within 60 s: last seen %+v (err %v)\nframes: %q\nnot found on the replay site: %q", got, err, frames, missing)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("ReplayWeb.page replayed the page in %v: title %q, image %dx%d from %s",
		time.Since(start).Round(time.Millisecond), got.Title, got.ImageWidth, got.ImageHeight, got.ImageSrc)
	mu.Lock()
	t.Logf("paths the replay site does not serve, asked for anyway: %q", missing)
	mu.Unlock()
	if got.HeadingColor != "rgb(10, 20, 30)" {
		t.Errorf("heading colour %q: the archived stylesheet was not applied", got.HeadingColor)
	}
}

// replayed is what the replayed page shows.
type replayed struct {
	Title        string `json:"title"`
	Text         string `json:"text"`
	ImageSrc     string `json:"imageSrc"`
	ImageWidth   int    `json:"imageWidth"`
	ImageHeight  int    `json:"imageHeight"`
	HeadingColor string `json:"headingColor"`
}

func (r replayed) done() bool {
	return strings.Contains(r.Text, phrase) && r.ImageWidth == photoW && r.ImageHeight == photoH && r.HeadingColor != ""
}

// inspect reads the page in frame id through an isolated world (which
// shares the page's DOM, not its scripts).
func inspect(ctx context.Context, id cdp.FrameID, out *replayed) error {
	world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: id, WorldName: "linkarc-test"})
	if err != nil {
		return err
	}
	const js = `(() => {
		const img = document.getElementById("photo");
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
