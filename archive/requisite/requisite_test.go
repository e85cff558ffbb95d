package requisite

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

func list(rs []Requisite) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s\n", r.Kind, r.URL)
	}
	return b.String()
}

func TestFromHTML(t *testing.T) {
	const page = "https://news.example/world/story.html"
	tests := []struct {
		name, html, want string
	}{
		{"stylesheets first, then images in order", `<html><head>
<link rel="icon" href="/fav.png"><link rel=stylesheet href="/a.css"><link rel="alternate stylesheet" href="/alt.css">
<link rel="stylesheet" href="/off.css" disabled><meta property="og:image" content="https://cdn.example/lead.jpg">
</head><body><img src="one.jpg"><link rel="Stylesheet" href="//cdn.example/b.css"></body></html>`,
			"stylesheet https://news.example/a.css\nstylesheet https://cdn.example/b.css\nicon https://news.example/fav.png\nlead_image https://cdn.example/lead.jpg\nimage https://news.example/world/one.jpg\n"},
		{"base href", `<base href="https://static.example/s/"><img src="x.png"><base href="https://other.example/">`,
			"image https://static.example/s/x.png\n"},
		{"lazy images take the place of the placeholder", `<img src="data:image/gif;base64,R0lGOD" data-src="/real.jpg">
<img src="/spacer.gif" data-lazy-src="/lazy2.jpg"><img data-original="/orig.jpg">`,
			"image https://news.example/real.jpg\nimage https://news.example/lazy2.jpg\nimage https://news.example/orig.jpg\n"},
		{"srcset candidate for a 1280px desktop", `<img src="s.jpg" srcset="a-640.jpg 640w, a-1280.jpg 1280w, a-2560.jpg 2560w">
<img src="x1.jpg" srcset="x1.jpg 1x, x2.jpg 2x"><img data-srcset="l-400.jpg 400w, l-800.jpg 800w" sizes="(min-width: 1000px) 700px, 100vw" src="data:,">`,
			"image https://news.example/world/a-1280.jpg\nimage https://news.example/world/x1.jpg\nimage https://news.example/world/l-800.jpg\n"},
		// sizes="auto" is a lazy image's width (as Chromium reads it;
		// internal/srcset): its width attribute or inline style width,
		// else the entries after auto, else 100vw; an image that is not
		// lazy is 100vw.
		{"sizes=auto", `<img loading="lazy" sizes="auto" width="300" srcset="a-200.jpg 200w, a-400.jpg 400w, a-1600.jpg 1600w">
<img loading="lazy" sizes="auto" width="300" style="width: 500px" srcset="b-400.jpg 400w, b-800.jpg 800w, b-1600.jpg 1600w">
<img loading="lazy" sizes="auto, 50vw" srcset="c-400.jpg 400w, c-800.jpg 800w, c-1600.jpg 1600w">
<img loading="lazy" sizes="auto" srcset="d-400.jpg 400w, d-800.jpg 800w, d-1600.jpg 1600w">
<img sizes="auto, 50vw" width="300" srcset="e-400.jpg 400w, e-800.jpg 800w, e-1600.jpg 1600w">
<picture><source srcset="f-400.jpg 400w, f-1600.jpg 1600w"><img loading="lazy" sizes="auto" width="300"></picture>
<picture><source srcset="g-400.jpg 400w, g-1600.jpg 1600w" width="600" height="150"><img loading="lazy" sizes="auto" width="300"></picture>
<picture><source srcset="h-400.jpg 400w, h-1600.jpg 1600w" sizes="auto"><img loading="lazy" width="300"></picture>`,
			"image https://news.example/world/a-400.jpg\nimage https://news.example/world/b-800.jpg\nimage https://news.example/world/c-800.jpg\n" +
				"image https://news.example/world/d-1600.jpg\nimage https://news.example/world/e-1600.jpg\nimage https://news.example/world/f-400.jpg\n" +
				"image https://news.example/world/g-1600.jpg\nimage https://news.example/world/h-400.jpg\n"},
		{"picture: the first matching source", `<picture><source media="(max-width: 600px)" srcset="m.jpg"><source type="image/jxl" srcset="j.jxl">
<source type="image/webp" srcset="w-1x.webp 1x, w-2x.webp 2x"><img src="fallback.jpg"></picture><img src="after.jpg">`,
			"image https://news.example/world/w-1x.webp\nimage https://news.example/world/after.jpg\n"},
		{"picture: the source's candidates alone, not the img's src", `<picture><source srcset="hi.jpg 2x"><img src="fallback.jpg"></picture>`,
			"image https://news.example/world/hi.jpg\n"},
		{"noscript fallback and inline styles", `<div style="background-image: url('/bg.png')"></div>
<noscript><img src="/ns.jpg"><link rel=stylesheet href="/ns.css"></noscript>
<style>@import url(/imp.css); .h { background: url("hero.webp") }</style>`,
			"stylesheet https://news.example/ns.css\nstylesheet https://news.example/imp.css\nimage https://news.example/bg.png\nimage https://news.example/ns.jpg\nimage https://news.example/world/hero.webp\n"},
		{"not requisites", `<script src="/app.js"></script><iframe src="/frame"></iframe><video poster="/p.jpg"><source src="/v.mp4"></video>
<img src="javascript:alert(1)"><img src="#x"><a href="/link.css">x</a><img src="ok.png"><img src="ok.png#frag">`,
			"script https://news.example/app.js\nimage https://news.example/world/ok.png\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := FromHTML([]byte(tt.html), page, Limits{})
			if l := list(got); l != tt.want {
				t.Errorf("got\n%swant\n%s", l, tt.want)
			}
		})
	}
}

func TestFromCSS(t *testing.T) {
	const sheet = "https://cdn.example/css/site.css"
	tests := []struct {
		name, css, want string
	}{
		{"imports, fonts and images", `@charset "utf-8"; @import "base.css"; @import url('print.css') print;
@namespace svg url(http://www.w3.org/2000/svg);
@font-face { font-family: Serif; src: url(../fonts/serif.woff2) format("woff2"), url("../fonts/serif.ttf") format("truetype"); }
body { background: #fff url( "img/bg.png" ) repeat-x; } .logo{background-image:url(data:image/png;base64,AAAA)}
@media screen { .x { background: url(img/x.svg#frag) } }`,
			"stylesheet https://cdn.example/css/base.css\nstylesheet https://cdn.example/css/print.css\nfont https://cdn.example/fonts/serif.woff2\nfont https://cdn.example/fonts/serif.ttf\nimage https://cdn.example/css/img/bg.png\nimage https://cdn.example/css/img/x.svg\n"},
		{"escapes", `a { background: url(im\ g.png) } b { background: url("\69 mg2.png") }`,
			"image https://cdn.example/css/im%20g.png\nimage https://cdn.example/css/img2.png\n"},
		{"a url after the font face is an image", `@font-face{src:url(f.woff)} p{background:url(p.png)}`,
			"font https://cdn.example/css/f.woff\nimage https://cdn.example/css/p.png\n"},
		{"image-set candidates", `.h{background-image:image-set("h1.png" 1x, url(h2.png) 2x); content:"not a url"}`,
			"image https://cdn.example/css/h1.png\nimage https://cdn.example/css/h2.png\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, capped := FromCSS([]byte(tt.css), sheet, Limits{})
			if l := list(got); l != tt.want || capped {
				t.Errorf("got (capped %v)\n%swant\n%s", capped, l, tt.want)
			}
		})
	}
}

// TestHostileCSSIsBounded: a stylesheet of a million url()s (and one of a
// megabyte of nested braces) is read to its byte bound, yields at most
// MaxCSSURLs references, and takes little time and memory.
func TestHostileCSSIsBounded(t *testing.T) {
	var b bytes.Buffer
	for i := 0; b.Len() < 24<<20; i++ {
		fmt.Fprintf(&b, "a{background:url(/i/%d.png)}", i)
	}
	hostile := b.Bytes()
	nested := bytes.Repeat([]byte("{"), 8<<20)
	for _, tc := range []struct {
		name string
		css  []byte
	}{{"million urls", hostile}, {"nested braces", nested}} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, capped := FromCSS(tc.css, "https://x.example/", Limits{})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if len(got) > DefaultMaxCSSURLs || !capped {
				t.Errorf("%d references, capped %v; want at most %d and capped", len(got), capped, DefaultMaxCSSURLs)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if took > 2*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	// The same in a page's <style> and style attributes: bounded per
	// stylesheet.
	page := append(append([]byte("<style>"), hostile[:4<<20]...), "</style><img src=/last.png>"...)
	got, capped := FromHTML(page, "https://x.example/", Limits{})
	if !capped || len(got) > DefaultMaxCSSURLs+1 || got[len(got)-1].URL != "https://x.example/last.png" {
		t.Errorf("page with a hostile <style>: %d requisites, capped %v", len(got), capped)
	}
}

func TestChoose(t *testing.T) {
	tests := []struct{ srcset, sizes, want string }{
		{"a.jpg 300w, b.jpg 1300w, c.jpg 2000w", "", "b.jpg"},
		{"a.jpg 300w, b.jpg 600w", "", "b.jpg"}, // none big enough: the largest
		{"a.jpg 300w, b.jpg 700w", "(min-width: 64em) 640px, 100vw", "b.jpg"},
		{"a.jpg 300w, b.jpg 700w", "(max-width: 700px) 100vw, 300px", "a.jpg"},
		{"a.jpg, b.jpg 2x", "", "a.jpg"},
		{"a.jpg 1.5x, b.jpg 3x", "", "a.jpg"},
		{"https://x.example/a,b.jpg 1x", "", "https://x.example/a,b.jpg"},
		{"bad.jpg 1q, good.jpg 2x", "", "good.jpg"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Choose(tt.srcset, tt.sizes); got != tt.want {
			t.Errorf("Choose(%q, %q) = %q, want %q", tt.srcset, tt.sizes, got, tt.want)
		}
	}
}

func TestMediaMatches(t *testing.T) {
	for q, want := range map[string]bool{
		"": true, "all": true, "screen": true, "print": false, "not print": false,
		"(min-width: 1024px)": true, "(max-width: 767px)": false, "screen and (min-width: 48em) and (max-width: 90em)": true,
		"(max-width: 600px), (min-width: 1200px)": true, "(min-resolution: 2dppx)": false, "(hover: hover)": false, // as internal/srcset reads them
	} {
		if got := MediaMatches(q); got != want {
			t.Errorf("MediaMatches(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestTokenValues: the values of url() and string tokens, escapes undone
// (CSS Syntax §4.3.5–4.3.7), as both the requisite listing and the
// self-contained page read them.
func TestTokenValues(t *testing.T) {
	for _, tc := range []struct {
		url  bool
		in   string
		want string
	}{
		{true, `url(a.png)`, "a.png"},
		{true, `url( "a b.png" )`, "a b.png"},
		{true, `url('a\'b.png')`, "a'b.png"},
		{true, `url(a\ b.png)`, "a b.png"},
		{true, `URL(\61 .png)`, "a.png"},
		{true, `url(\000061.png)`, "a.png"},
		{true, `url(\61` + "\t" + `.png)`, "a.png"},
		{true, `url("a\` + "\n" + `b")`, "ab"},
		{true, `url("a\` + "\r" + `b")`, "ab"},
		{true, `url("a\` + "\f" + `b")`, "ab"},
		{true, `url(\0.png)`, "\uFFFD.png"},
		{true, `url(\D800.png)`, "\uFFFD.png"},
		{true, `url(\110000.png)`, "\uFFFD.png"},
		{true, `url(`, ""},
		{true, `nourl`, ""},
		{false, `"a.css"`, "a.css"},
		{false, `'a\"b.css'`, `a"b.css`},
		{false, `"unterminated.css`, "unterminated.css"},
		{false, `"ends in a backslash\`, `ends in a backslash\`},
		{false, `""`, ""},
	} {
		got := StringTokenValue([]byte(tc.in))
		if tc.url {
			got = URLTokenValue([]byte(tc.in))
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.in, got, tc.want)
		}
	}
}
