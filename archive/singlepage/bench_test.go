package singlepage

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/inert"
)

// benchCapture is a news page as captures hold them: 100 KiB of HTML, a
// stylesheet importing another (60 url()s between them, to 8 background
// images), a web font, 12 photos (about 40 KiB each), some lazy and in
// srcset.
func benchCapture(b *testing.B) (Source, []byte) {
	b.Helper()
	photo := func(seed int) []byte {
		img := image.NewRGBA(image.Rect(0, 0, 320, 200))
		for y := range 200 {
			for x := range 320 {
				img.Set(x, y, color.RGBA{uint8(x*seed + y), uint8(y * seed), uint8(x ^ y), 255})
			}
		}
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92})
		return buf.Bytes()
	}
	var page strings.Builder
	page.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>A story</title><meta property="og:image" content="/img/p0.jpg">
<link rel="stylesheet" href="/css/site.css"><script src="/app.js"></script></head><body><header><img src="/img/logo.png"></header><article>`)
	exs := []exchange{}
	for i := range 12 {
		exs = append(exs, res(fmt.Sprintf("/img/p%d.jpg", i), "image/jpeg", photo(i+1)))
		switch i % 3 {
		case 0:
			fmt.Fprintf(&page, `<img src="/img/p%d.jpg" alt="">`, i)
		case 1:
			fmt.Fprintf(&page, `<img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/img/p%d.jpg"><noscript><img src="/img/p%d.jpg"></noscript>`, i, i)
		case 2:
			fmt.Fprintf(&page, `<img src="/img/small.jpg" srcset="/img/small.jpg 320w, /img/p%d.jpg 1280w" alt="">`, i)
		}
	}
	for page.Len() < 100<<10 {
		page.WriteString(`<p class="body">Lorem ipsum dolor sit amet, <a href="/other" onclick="track()">consectetur</a> adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>`)
	}
	page.WriteString(`</article></body></html>`)
	var css, theme strings.Builder
	css.WriteString(`@import "theme.css"; @font-face{font-family:F;src:url(/f.woff2) format("woff2")}`)
	for i := range 30 {
		fmt.Fprintf(&css, ".c%d{background:url(/bg/%d.png) no-repeat;padding:%dpx}\n", i, i%8, i)
		fmt.Fprintf(&theme, ".t%d{background-image:url(../bg/%d.png);color:#%03x}\n", i, i%8, i)
	}
	for css.Len() < 40<<10 {
		css.WriteString(".pad{margin:0 auto;max-width:60rem;font:16px/1.5 F,serif}\n")
	}
	exs = append(exs, htmlPage(page.String()),
		res("/css/site.css", "text/css", []byte(css.String())),
		res("/css/theme.css", "text/css", []byte(theme.String())),
		res("/f.woff2", "font/woff2", bytes.Repeat([]byte("wOF2"), 8<<10)),
		res("/img/logo.png", "image/png", pngReal),
	)
	for i := range 8 {
		exs = append(exs, res(fmt.Sprintf("/bg/%d.png", i), "image/png", append(append([]byte{}, pngBG...), byte(i))))
	}
	return writeWARC(b, "bench.warc.gz", nil, exs), []byte(page.String())
}

// BenchmarkCapture builds a capture's page.html and thumbnail from its
// WARC, against the baseline of what the viewer does to raw.html when it
// shows it (parse, inert rewrite, render) in the same run.
//
//	go test ./archive/singlepage -run '^$' -bench Capture -benchmem
func BenchmarkCapture(b *testing.B) {
	src, page := benchCapture(b)
	b.Run("page.html", func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for b.Loop() {
			r, err := Capture(context.Background(), pageURL, "", []Source{src}, Options{})
			if err != nil || r.Stats.Missing > 0 || r.Thumbnail == nil {
				b.Fatalf("%v %+v %v", err, r.Stats, r.ThumbnailError)
			}
			size = len(r.Page)
		}
		b.ReportMetric(float64(size)/float64(len(page)), "page.html/raw.html")
	})
	b.Run("baseline-inert-raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			doc, err := html.ParseWithOptions(bytes.NewReader(page), html.ParseOptionEnableScripting(false))
			if err != nil {
				b.Fatal(err)
			}
			inert.Neutralise(doc)
			var out bytes.Buffer
			html.Render(&out, doc)
		}
	})
}
