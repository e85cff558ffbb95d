package wacz_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/wacz"
	"github.com/linkarc/linkarc/archive/wacz/wacztest"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
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

	got := wacztest.Replay(t, pkg.Bytes(), articleURL, func(r wacztest.Replayed) bool {
		return strings.Contains(r.Text, phrase) && r.ImageWidth == photoW && r.ImageHeight == photoH && r.HeadingColor != ""
	})
	if got.HeadingColor != "rgb(10, 20, 30)" {
		t.Errorf("heading colour %q: the archived stylesheet was not applied", got.HeadingColor)
	}
}
