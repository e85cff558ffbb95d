package singlepage

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/inert"
	"github.com/linkarc/linkarc/internal/thumbnail"
	"github.com/linkarc/linkarc/storage/record"
)

// exchange is one response a test WARC holds.
type exchange struct {
	url    string
	status int
	header string // extra header lines, each ending in \r\n
	body   []byte
}

// page is the URL every test page is archived at.
const pageURL = "https://news.example/2030/story.html"

// writeWARC writes exchanges as a capture's WARC does: a response and its
// request per exchange, one gzip member per record, revisits for payloads
// dedup has seen.
func writeWARC(t testing.TB, name string, dedup warc.Deduper, exs []exchange) Source {
	t.Helper()
	var buf bytes.Buffer
	w, err := warc.NewWriter(&buf, warc.Options{Filename: name, Dedup: dedup})
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, ex := range exs {
		u, err := url.Parse(ex.url)
		if err != nil {
			t.Fatal(err)
		}
		status := ex.status
		if status == 0 {
			status = 200
		}
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: linkarc-test\r\n\r\n", u.RequestURI(), u.Host)
		resp := fmt.Sprintf("HTTP/1.1 %d X\r\n%s\r\n", status, ex.header)
		if _, err := w.WriteExchange(warc.Exchange{URL: ex.url, Date: date, IP: "127.0.0.1", RequestHead: []byte(req), ResponseHead: []byte(resp)}, bytes.NewReader(ex.body)); err != nil {
			t.Fatal(err)
		}
		date = date.Add(time.Second)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return Source{Name: name, R: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len())}
}

func htmlPage(body string) exchange {
	return exchange{url: pageURL, header: "Content-Type: text/html; charset=utf-8\r\n", body: []byte(body)}
}

func res(path, contentType string, body []byte) exchange {
	u := path
	if !strings.Contains(path, "://") {
		u = "https://news.example" + path
	}
	return exchange{url: u, header: "Content-Type: " + contentType + "\r\n", body: body}
}

// Test payloads: distinct bytes, so that which one was embedded shows.
var (
	pngReal  = append([]byte("\x89PNG\r\n\x1a\n"), []byte("real-image")...)
	pngSmall = append([]byte("\x89PNG\r\n\x1a\n"), []byte("small")...)
	pngMid   = append([]byte("\x89PNG\r\n\x1a\n"), []byte("mid")...)
	pngLarge = append([]byte("\x89PNG\r\n\x1a\n"), []byte("large")...)
	pngBG    = append([]byte("\x89PNG\r\n\x1a\n"), []byte("background")...)
	gifPH    = []byte("GIF89a-placeholder")
	woff2    = []byte("wOF2-font-bytes")
)

func dataURI(mt string, b []byte) string {
	return "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func build(t *testing.T, exs []exchange, opts Options) (string, Stats) {
	t.Helper()
	src := writeWARC(t, "capture.warc.gz", nil, exs)
	out, st, err := Build(context.Background(), pageURL, []Source{src}, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return string(out), st
}

// images lists the source of every <img> of a page: its src, or its
// srcset followed by " sizes=" and its sizes when it has them.
func images(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "img" {
			src, hasSrc := inert.Attr(n, "src")
			set, hasSet := inert.Attr(n, "srcset")
			sizes, hasSizes := inert.Attr(n, "sizes")
			switch {
			case hasSrc && hasSet:
				t.Errorf("an image has both a src and a srcset (its data: URI written twice?): %.200s", set)
			case hasSet:
				src = set
			}
			if hasSizes {
				src += " sizes=" + sizes
			}
			out = append(out, src)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func TestBuildImages(t *testing.T) {
	png := func(b []byte) string { return dataURI("image/png", b) }
	assets := []exchange{
		res("/real.png", "image/png", pngReal),
		res("/s.png", "image/png", pngSmall),
		res("/m.png", "image/png", pngMid),
		res("/l.png", "image/png", pngLarge),
		res("/ph.gif", "image/gif", gifPH),
		res("https://cdn.example/img/real.png", "image/png", pngReal),
	}
	for _, tc := range []struct {
		name string
		body string
		want []string // the src of every img, in order
	}{
		{"plain", `<img src="/real.png" alt="x">`, []string{png(pngReal)}},
		{"relative to the page", `<img src="../real.png">`, []string{png(pngReal)}},
		{"base href", `<base href="https://cdn.example/img/"><img src="real.png">`, []string{png(pngReal)}},
		{"lazy data-src over a data: placeholder", `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/real.png" class="lazyload">`, []string{png(pngReal)}},
		{"lazy data-src over a placeholder file", `<img src="/ph.gif" data-lazy-src="/real.png" loading="lazy">`, []string{png(pngReal)}},
		{"lazy data-srcset", `<img src="/ph.gif" data-srcset="/s.png 320w, /m.png 1280w, /l.png 2400w" data-sizes="auto">`, []string{png(pngMid) + " 1280w"}},
		{"noscript fallback replaces a bare placeholder", `<img src="/ph.gif" class="lazy"><noscript><img src="/real.png"></noscript>`, []string{png(pngReal)}},
		{"noscript dropped after a data-src image", `<img data-src="/real.png"><noscript><img src="/real.png"></noscript>`, []string{png(pngReal)}},
		{"noscript image alone is shown", `<div><noscript><img src="/real.png"></noscript></div>`, []string{png(pngReal)}},
		{"noscript text is dropped", `<p>text</p><noscript><p>Enable JavaScript</p><img src="/real.png"></noscript>`, nil},
		// A w or x candidate keeps its descriptor (and a w one its sizes),
		// so that it renders at its live size.
		{"srcset widths: the 1280-px pick", `<img src="/s.png" srcset="/s.png 320w, /m.png 1280w, /l.png 2400w">`, []string{png(pngMid) + " 1280w"}},
		{"srcset with sizes", `<img srcset="/s.png 320w, /m.png 800w, /l.png 2400w" sizes="(min-width: 1000px) 300px, 100vw">`, []string{png(pngSmall) + " 320w sizes=(min-width: 1000px) 300px, 100vw"}},
		{"srcset in a half-width slot", `<img srcset="/s.png 400w, /m.png 800w, /l.png 1600w" sizes="50vw">`, []string{png(pngMid) + " 800w sizes=50vw"}},
		{"srcset densities: the 1x src", `<img src="/s.png" srcset="/m.png 2x">`, []string{png(pngSmall)}},
		{"srcset densities: a 1x candidate is a src", `<img srcset="/s.png 1x, /m.png 2x" sizes="50vw">`, []string{png(pngSmall)}},
		{"srcset densities: a 2x candidate keeps its density", `<img srcset="/m.png 2x, /l.png 3x">`, []string{png(pngMid) + " 2x"}},
		{"srcset densities: fractions", `<img srcset="/m.png 1.5e0x">`, []string{png(pngMid) + " 1.5x"}},
		{"srcset pick missing: another candidate", `<img src="/s.png" srcset="/s.png 320w, /gone.png 1280w">`, []string{png(pngSmall) + " 320w"}},
		{"srcset pick missing: the src", `<img src="/real.png" srcset="/gone.png 1280w">`, []string{png(pngReal)}},
		{"picture: the matching source", `<picture><source media="(max-width: 600px)" srcset="/s.png"><source media="(min-width: 601px)" srcset="/l.png"><img src="/m.png"></picture>`, []string{png(pngLarge)}},
		{"picture: unknown type skipped", `<picture><source type="image/jxl" srcset="/l.png"><img src="/m.png"></picture>`, []string{png(pngMid)}},
		{"picture: the source's widths and sizes", `<picture><source media="(min-width: 900px)" srcset="/s.png 400w, /m.png 800w" sizes="50vw"><img src="/l.png" sizes="10vw"></picture>`, []string{png(pngMid) + " 800w sizes=50vw"}},
		{"picture: the source's densities, the img's src not among them", `<picture><source srcset="/l.png 2x"><img src="/m.png"></picture>`, []string{png(pngLarge) + " 2x"}},
		{"picture: the source's pick missing, the img's src", `<picture><source srcset="/gone.png 2x"><img src="/m.png"></picture>`, []string{png(pngMid)}},
		// sizes="auto": a lazy image's width from its markup, else the
		// entries after auto, else 100vw; 100vw when not lazy (Chromium).
		// A sizes attribute that gives size containment stays, on any
		// image, for the box; another that names auto becomes the slot.
		{"sizes=auto, lazy, a width: its candidate", `<img loading="lazy" sizes="auto" width="300" srcset="/s.png 400w, /m.png 800w, /l.png 1600w">`, []string{png(pngSmall) + " 400w sizes=auto"}},
		{"sizes=auto, lazy, no width: the fallback", `<img loading="lazy" sizes="auto, 50vw" srcset="/s.png 400w, /m.png 800w, /l.png 1600w">`, []string{png(pngMid) + " 800w sizes=auto, 50vw"}},
		{"sizes=auto, not lazy: 100vw", `<img sizes="auto, 50vw" width="300" srcset="/s.png 400w, /m.png 800w, /l.png 1600w">`, []string{png(pngLarge) + " 1600w sizes=auto, 50vw"}},
		{"sizes=auto, lazy script: its width", `<img src="/ph.gif" data-srcset="/s.png 400w, /l.png 1600w" loading="lazy" sizes="auto" style="width: 20em">`, []string{png(pngSmall) + " 400w sizes=auto"}},
		{"sizes=auto stays on a src", `<img loading="lazy" sizes="auto" width="300" src="/s.png">`, []string{png(pngSmall) + " sizes=auto"}},
		{"sizes=auto stays on a 2x", `<img loading="lazy" sizes="Auto, 50vw" srcset="/m.png 2x">`, []string{png(pngMid) + " 2x sizes=Auto, 50vw"}},
		{"sizes=auto stays on an image missing", `<img loading="lazy" sizes="auto" src="/gone.png" width="300">`, []string{" sizes=auto"}},
		{"an auto without containment: the slot", `<img loading="lazy" sizes="AUTO , 50vw" width="300" srcset="/s.png 400w, /l.png 1600w">`, []string{png(pngSmall) + " 400w sizes=300px"}},
		{"picture: a source without sizes takes the img's auto", `<picture><source srcset="/s.png 400w, /l.png 1600w"><img loading="lazy" sizes="auto" width="300"></picture>`, []string{png(pngSmall) + " 400w sizes=auto"}},
		{"picture: the source's auto, the img's width", `<picture><source srcset="/s.png 400w, /l.png 1600w" sizes="auto"><img loading="lazy" width="300"></picture>`, []string{png(pngSmall) + " 400w sizes=300px"}},
		{"picture: the source's sizes choose, the img's auto stays", `<picture><source srcset="/s.png 400w, /m.png 800w, /l.png 1600w" sizes="50vw"><img loading="lazy" sizes="auto" width="300"></picture>`, []string{png(pngMid) + " 800w sizes=auto"}},
		{"picture: the source's width", `<picture><source srcset="/s.png 400w, /l.png 1600w" width="600" height="150"><img loading="lazy" sizes="auto" width="300"></picture>`, []string{png(pngLarge) + " 1600w sizes=auto"}},
		{"missing image loses its src", `<img src="/nowhere.png" alt="gone" width="10">`, []string{""}},
		{"a data: image stays", `<img src="data:image/png;base64,AAAA">`, []string{"data:image/png;base64,AAAA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := build(t, append([]exchange{htmlPage("<!doctype html><title>t</title>" + tc.body)}, assets...), Options{})
			got := images(t, out)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("images:\n got %q\nwant %q\npage: %s", got, tc.want, out)
			}
			for _, attr := range []string{"data-src=", "data-srcset=", "<source", "<noscript", "loading="} {
				if strings.Contains(out, attr) {
					t.Errorf("page still has %s: %s", attr, out)
				}
			}
		})
	}
}

// TestBuildPictureDimensions: the <source> a <picture> is reduced to
// brings its width and height, which browsers use in place of the img's
// when that source is selected; a source without them leaves the img's.
func TestBuildPictureDimensions(t *testing.T) {
	for _, tc := range []struct {
		name, body   string
		want, absent []string
	}{
		{"the source's", `<picture><source srcset="/m.png" width="400" height="100"><img src="/s.png" width="40" height="40"></picture>`,
			[]string{`width="400"`, `height="100"`}, []string{`"40"`}},
		{"the source's width alone", `<picture><source srcset="/m.png" width="400"><img src="/s.png" width="40" height="40"></picture>`,
			[]string{`width="400"`}, []string{`"40"`, "height="}},
		{"the img's", `<picture><source srcset="/m.png"><img src="/s.png" width="40" height="30"></picture>`,
			[]string{`width="40"`, `height="30"`}, nil},
		{"a source not selected", `<picture><source media="(max-width: 600px)" srcset="/m.png" width="400" height="100"><img src="/s.png" width="40" height="30"></picture>`,
			[]string{`width="40"`, `height="30"`}, []string{`"400"`, `"100"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := build(t, []exchange{htmlPage("<!doctype html><title>t</title>" + tc.body),
				res("/s.png", "image/png", pngSmall), res("/m.png", "image/png", pngMid)}, Options{})
			checkPage(t, out, tc.want, tc.absent)
		})
	}
}

func TestBuildStylesheets(t *testing.T) {
	font := dataURI("font/woff2", woff2)
	bg := dataURI("image/png", pngBG)
	for _, tc := range []struct {
		name   string
		page   string
		assets []exchange
		want   []string // substrings of the page built
		absent []string
	}{
		{
			name: "link becomes style, url() relative to the sheet",
			page: `<link rel="stylesheet" href="/css/site.css" media="screen">`,
			assets: []exchange{
				res("/css/site.css", "text/css", []byte(`body{background:url(../img/bg.png) no-repeat}`)),
				res("/img/bg.png", "image/png", pngBG),
			},
			want:   []string{`<style media="screen">body{background:url(` + bg + `) no-repeat}</style>`},
			absent: []string{"<link"},
		},
		{
			name: "@import chain, each relative to its sheet, with conditions",
			page: `<link rel="stylesheet" href="/a.css"><p>x</p>`,
			assets: []exchange{
				res("/a.css", "text/css", []byte(`@charset "utf-8"; @import "sub/b.css" screen and (min-width: 10px); .a{color:red}`)),
				res("/sub/b.css", "text/css", []byte(`@import url('../c.css') layer(base) supports(display: grid); .b{background-image:url("bg.png")}`)),
				res("/sub/bg.png", "image/png", pngBG),
				res("/c.css", "text/css", []byte(`.c{color:blue}`)),
			},
			want:   []string{"@media screen and (min-width: 10px){", "@layer base{@supports (display: grid){", ".c{color:blue}", `.b{background-image:url(` + bg + `)}`, ".a{color:red}"},
			absent: []string{"@import", "@charset"},
		},
		{
			name:   "an @import after a rule is void, as in browsers",
			page:   `<style>.a{color:red} @import "/c.css";</style>`,
			assets: []exchange{res("/c.css", "text/css", []byte(`.c{color:blue}`))},
			want:   []string{".a{color:red}"},
			absent: []string{".c{color:blue}", "@import"},
		},
		{
			name:   "web font",
			page:   `<style>@font-face{font-family:F;src:url(/f.woff2) format("woff2"),url(/f.woff) format("woff")}</style>`,
			assets: []exchange{res("/f.woff2", "font/woff2", woff2)},
			want:   []string{`src:url(` + font + `) format("woff2"),url() format("woff")`},
		},
		{
			name:   "url() in a style attribute",
			page:   `<div style="background: url('/img/bg.png') center / cover">x</div>`,
			assets: []exchange{res("/img/bg.png", "image/png", pngBG)},
			want:   []string{`style="background: url(` + bg + `) center / cover"`},
		},
		{
			name:   "an SVG sprite keeps its fragment; an SVG's own <style> is rewritten",
			page:   `<style>.i{background:url(/s.svg#star)}</style><svg><style>.j{fill:url(/s.svg#grad)}</style></svg>`,
			assets: []exchange{res("/s.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><symbol id="star"/></svg>`))},
			want:   []string{"base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjxzeW1ib2wgaWQ9InN0YXIiLz48L3N2Zz4=#star)", "=#grad)"},
			absent: []string{"/s.svg"},
		},
		{
			name:   "image-set strings",
			page:   `<style>.h{background-image:image-set("/img/bg.png" 1x, url(/img/none.png) 2x)}</style>`,
			assets: []exchange{res("/img/bg.png", "image/png", pngBG)},
			want:   []string{`image-set(url(` + bg + `) 1x, url() 2x)`},
		},
		{
			name: "gzip-encoded stylesheet behind a redirect",
			page: `<link rel=stylesheet href="http://news.example/old.css">`,
			assets: []exchange{
				{url: "http://news.example/old.css", status: 301, header: "Location: https://news.example/new.css\r\n"},
				{url: "https://news.example/new.css", header: "Content-Type: text/css\r\nContent-Encoding: gzip\r\n", body: gz(`.g{color:green}`)},
			},
			want: []string{"<style>.g{color:green}</style>"},
		},
		{
			name:   "a stylesheet cannot end its <style> element",
			page:   `<link rel=stylesheet href="/evil.css">`,
			assets: []exchange{res("/evil.css", "text/css", []byte(`.x{content:"</style><script>alert(1)</script>"}`))},
			want:   []string{`.x{content:"<\/style><script>alert(1)<\/script>"}`},
			absent: []string{"</style><script>"},
		},
		{
			name:   "missing and alternate stylesheets go",
			page:   `<link rel=stylesheet href="/gone.css"><link rel="alternate stylesheet" href="/alt.css">`,
			assets: []exchange{res("/alt.css", "text/css", []byte(`.alt{}`))},
			absent: []string{"<link", ".alt"},
		},
		{
			name: "an import cycle stops",
			page: `<link rel=stylesheet href="/x.css">`,
			assets: []exchange{
				res("/x.css", "text/css", []byte(`@import "/y.css"; .x{}`)),
				res("/y.css", "text/css", []byte(`@import "/x.css"; .y{}`)),
			},
			want: []string{".y{}", ".x{}"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := build(t, append([]exchange{htmlPage("<!doctype html><head>" + tc.page)}, tc.assets...), Options{})
			checkPage(t, out, tc.want, tc.absent)
		})
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// TestBuildInert: what would run or fetch goes, links point at their
// original absolute URLs, and the page says it is UTF-8 first.
func TestBuildInert(t *testing.T) {
	page := `<!doctype html><html><head><meta charset="windows-1252"><base href="https://news.example/section/">
<meta http-equiv="refresh" content="0; url=https://elsewhere.example/">
<link rel="preconnect" href="https://cdn.example"><link rel="canonical" href="story">
<script src="/app.js"></script><script>document.write('x')</script></head>
<body onload="evil()"><a href="other.html" onclick="x()">Other</a> <a href="javascript:alert(1)">js</a> <a href="#top">top</a>
<iframe src="https://ads.example/frame"></iframe><form action="/post"><input name=q></form>
<p>Caf` + "\xe9" + `</p></body></html>`
	src := writeWARC(t, "c.warc.gz", nil, []exchange{{url: pageURL, header: "Content-Type: text/html; charset=windows-1252\r\n", body: []byte(page)}})
	outb, _, err := Build(context.Background(), pageURL, []Source{src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := string(outb)
	if !strings.HasPrefix(out, `<!DOCTYPE html><html><head><meta charset="utf-8"/>`) {
		t.Errorf("the page does not start with a UTF-8 charset meta: %.120s", out)
	}
	for _, w := range []string{`href="https://news.example/section/other.html"`, `href="https://news.example/section/story"`, `href="#top"`, "<p>Café</p>"} {
		if !strings.Contains(out, w) {
			t.Errorf("page lacks %s\n%s", w, out)
		}
	}
	for _, a := range []string{"<script", "onload", "onclick", "javascript:", "<base", "refresh", "preconnect", "<iframe", "action=", "windows-1252"} {
		if strings.Contains(strings.ToLower(out), a) {
			t.Errorf("page has %s\n%s", a, out)
		}
	}
}

// TestBuildRevisits: a payload archived earlier, in the same WARC or in
// another capture's, is embedded from its original.
func TestBuildRevisits(t *testing.T) {
	dedup := warc.NewDedupIndex()
	first := writeWARC(t, "first.warc.gz", dedup, []exchange{
		res("https://shared.example/logo.png", "image/png", pngReal),
		res("https://shared.example/site.css", "text/css", []byte(`.s{background:url(bg.png)}`)),
		res("https://shared.example/bg.png", "image/png", pngBG),
	})
	second := writeWARC(t, "second.warc.gz", dedup, []exchange{
		htmlPage(`<link rel=stylesheet href="https://shared.example/site.css"><img src="https://shared.example/logo.png"><img src="/copy.png">`),
		res("https://shared.example/site.css", "text/css", []byte(`.s{background:url(bg.png)}`)),
		res("https://shared.example/bg.png", "image/png", pngBG),
		res("https://shared.example/logo.png", "image/png", pngReal),
		res("/copy.png", "image/png", pngReal), // the same payload again, within this WARC too
	})
	// The second WARC holds revisits only for the shared payloads.
	var revisits int
	r := warc.NewReader(io.NewSectionReader(second.R, 0, second.Size), warc.ReaderOptions{HeadersOnly: true})
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Type == "revisit" {
			revisits++
		}
	}
	if revisits != 4 {
		t.Fatalf("the second WARC holds %d revisits, want 4", revisits)
	}

	_, st, err := Build(context.Background(), pageURL, []Source{second}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Missing == 0 {
		t.Errorf("without the first WARC nothing should be missing? stats %+v", st)
	}
	var asked []stored.Revisit
	out, st, err := Build(context.Background(), pageURL, []Source{second}, Options{Originals: func(_ context.Context, r stored.Revisit) (Source, bool, error) {
		asked = append(asked, r)
		return first, true, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Missing != 0 || st.Resources != 4 {
		t.Errorf("stats %+v, want 4 resources (css, bg, two images) and none missing", st)
	}
	if len(asked) != 1 {
		t.Errorf("Originals asked %d times, want once (the WARC is indexed then)", len(asked))
	}
	if got := images(t, string(out)); len(got) != 2 || got[0] != dataURI("image/png", pngReal) || got[1] != got[0] {
		t.Errorf("images %q", got)
	}
	if !strings.Contains(string(out), dataURI("image/png", pngBG)) {
		t.Errorf("the stylesheet's background is not embedded: %s", out)
	}
}

func TestBuildLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 4000)
	assets := []exchange{
		res("/a.png", "image/png", append(append([]byte{}, pngReal...), big...)),
		res("/b.png", "image/png", pngSmall),
		res("/c.png", "image/png", pngMid),
		res("/d1.css", "text/css", []byte(`@import "/d2.css"; .d1{}`)),
		res("/d2.css", "text/css", []byte(`@import "/d3.css"; .d2{}`)),
		res("/d3.css", "text/css", []byte(`.d3{}`)),
	}
	page := htmlPage(`<img src="/a.png"><img src="/b.png"><img src="/c.png"><link rel=stylesheet href="/d1.css">`)
	for _, tc := range []struct {
		name   string
		limits Limits
		check  func(Stats) bool
	}{
		{"per resource", Limits{MaxResourceBytes: 1000}, func(s Stats) bool { return s.OverSize == 1 }},
		{"count", Limits{MaxResources: 2}, func(s Stats) bool { return s.OverCount == 2 && s.Resources == 2 }},
		{"total", Limits{MaxBytes: 3000}, func(s Stats) bool { return s.OverTotal >= 1 && s.Bytes <= 3000 }},
		{"references", Limits{MaxReferences: 2}, func(s Stats) bool { return s.OverReferences == 2 }},
		{"css depth", Limits{MaxCSSDepth: 2}, func(s Stats) bool { return s.OverDepth == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, st := build(t, append([]exchange{page}, assets...), Options{Limits: tc.limits})
			if !tc.check(st) {
				t.Errorf("stats %+v", st)
			}
			if st.LeftOut() == 0 {
				t.Error("nothing counted as left out")
			}
		})
	}
	if _, _, err := Build(context.Background(), pageURL, nil, Options{Limits: Limits{MaxBytes: -1}}); err == nil {
		t.Error("a negative limit is accepted")
	}
	src := writeWARC(t, "c.warc.gz", nil, []exchange{htmlPage("<p>" + strings.Repeat("y", 5000))})
	if _, _, err := Build(context.Background(), pageURL, []Source{src}, Options{Limits: Limits{MaxBytes: 1000}}); !errors.Is(err, ErrPageTooLarge) {
		t.Errorf("a page over MaxBytes by itself: %v", err)
	}
}

// TestBuildHostileCSS: a stylesheet of a million url()s (and one of
// @imports nested as deep as it likes) completes within the bounds: the
// references past MaxReferences are left out without a look-up, the page
// stays under MaxBytes.
func TestBuildHostileCSS(t *testing.T) {
	var sheet bytes.Buffer
	for i := range 1_000_000 {
		fmt.Fprintf(&sheet, ".c%d{background:url(x.png)}", i%10)
	}
	img := append(append([]byte{}, pngReal...), bytes.Repeat([]byte("z"), 300)...)
	exs := []exchange{
		htmlPage(`<link rel=stylesheet href="/deep0.css"><link rel=stylesheet href="/hostile.css">`),
		res("/hostile.css", "text/css", sheet.Bytes()),
		res("/x.png", "image/png", img),
	}
	for i := range 50 {
		exs = append(exs, res(fmt.Sprintf("/deep%d.css", i), "text/css", []byte(fmt.Sprintf(`@import "/deep%d.css"; .d%d{}`, i+1, i))))
	}
	limits := Limits{MaxResourceBytes: 64 << 20, MaxBytes: 32 << 20}
	start := time.Now()
	out, st := build(t, exs, Options{Limits: limits})
	took := time.Since(start)
	t.Logf("%d-byte stylesheet: %d bytes built in %v; stats %+v", sheet.Len(), len(out), took, st)
	if int64(len(out)) > limits.MaxBytes {
		t.Errorf("page of %d bytes, over %d", len(out), limits.MaxBytes)
	}
	if st.OverReferences == 0 && st.OverTotal == 0 {
		t.Errorf("a million url()s all embedded? %+v", st)
	}
	if st.OverDepth != 1 || st.Resources > 2+DefaultMaxCSSDepth {
		t.Errorf("deep imports: %+v", st)
	}
	if n := strings.Count(out, "url()"); n+int(st.OverTotal) < 1_000_000-DefaultMaxReferences {
		t.Errorf("%d url()s left out in the page", n)
	}
}

// TestCaptureThumbnail: the lead image (og:image, or the one the caller
// names) becomes a thumbnail; one the archive does not hold, or that is not
// an image, gives none and says why.
func TestCaptureThumbnail(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 320))
	var lead bytes.Buffer
	png.Encode(&lead, img)
	exs := []exchange{
		htmlPage(`<head><meta property="og:image" content="/lead.png"><meta name="twitter:image" content="/tw.png"></head><p>x`),
		res("/lead.png", "image/png", lead.Bytes()),
		res("/fake.png", "image/png", []byte("<html>not an image")),
	}
	src := writeWARC(t, "c.warc.gz", nil, exs)
	for _, tc := range []struct {
		lead, want string
		thumb      bool
	}{
		{"", "https://news.example/lead.png", true},
		{"https://news.example/fake.png", "https://news.example/fake.png", false},
		{"https://news.example/gone.png", "https://news.example/gone.png", false},
	} {
		r, err := Capture(context.Background(), pageURL, tc.lead, []Source{src}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.LeadImage != tc.want || (r.Thumbnail != nil) != tc.thumb || (r.ThumbnailError != nil) == tc.thumb {
			t.Errorf("lead %q: %q, thumbnail %d bytes, error %v", tc.lead, r.LeadImage, len(r.Thumbnail), r.ThumbnailError)
		}
		var names []string
		for _, o := range r.Objects() {
			names = append(names, o.Name)
		}
		want := []string{record.PageFile}
		if tc.thumb {
			want = append(want, record.ThumbFile)
			if err := thumbnail.Check(r.Thumbnail); err != nil {
				t.Error(err)
			}
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("objects %q, want %q", names, want)
		}
	}
}

// formattingBomb opens n formatting elements told apart by their
// attributes, then writes p paragraphs: the parser reopens every one of
// them in every paragraph (n×p elements).
func formattingBomb(n, p int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<b class="c%d">`, i)
	}
	b.WriteString(strings.Repeat("<p>x", p))
	return b.String()
}

func TestBuildTooComplex(t *testing.T) {
	// An ordinary page within the bound is built.
	ok := writeWARC(t, "c.warc.gz", nil, []exchange{htmlPage("<b>bold</b> " + strings.Repeat("<p><i>x</i> y", 200))})
	if _, _, err := Build(context.Background(), pageURL, []Source{ok}, Options{Limits: Limits{MaxNodes: 2000}}); err != nil {
		t.Errorf("ordinary page: %v", err)
	}
	for name, page := range map[string]string{
		"elements":        strings.Repeat("<p>x", 2000),
		"comments":        strings.Repeat("x<!---->", 2000),
		"depth":           strings.Repeat("<div>", 600),
		"formatting bomb": formattingBomb(200, 50),
	} {
		src := writeWARC(t, "c.warc.gz", nil, []exchange{htmlPage(page)})
		if _, _, err := Build(context.Background(), pageURL, []Source{src}, Options{Limits: Limits{MaxNodes: 2000}}); !errors.Is(err, ErrPageTooComplex) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// builtWithInert is the internal/inert rule version each Version of the
// builder was made with.
var builtWithInert = map[int]string{1: "inert2", 2: "inert2", 3: "inert2", 4: "inert2"}

// TestVersionFollowsInert fails when internal/inert's rules change without
// a new builder Version: pages made under the old rules would otherwise
// never be built again by `linkarc reextract`.
func TestVersionFollowsInert(t *testing.T) {
	if got := builtWithInert[Version]; got != inert.Version {
		t.Errorf("singlepage.Version %d was made with inert rules %q, the rules are now %q: bump Version and add it to builtWithInert",
			Version, got, inert.Version)
	}
}
