package archivetest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A world with requisites (WorldOptions.Requisites) serves every article
// page with the requisites news sites use, all on loopback hosts of the
// world, and nothing else:
//
//   - a CDN (World.AssetHosts[0]) shared by every publisher: site.css, which
//     @imports base.css and names a web font and a background image with
//     url(); base.css names another image; a masthead image named by an
//     inline <style>;
//   - image hosts (World.AssetHosts[1:]) shared by the publishers, the
//     articles spread over them round-robin: per article a srcset of three
//     widths (640, 1280 and 2560 px: a desktop picks 1280), a lazy image
//     (data-src behind a placeholder), a <noscript> fallback and the lead
//     image (og:image, 1200×630); a logo shared by every article;
//   - on each publisher: its own stylesheet and favicon.
//
// So a page names 13 requisites: 4 its own (JPEGs of 12 to 93 KiB, 223 KiB
// together) and 9 shared with other articles. Each article's images are distinct
// resources (their bytes differ by a JPEG comment naming the article), made
// when requested from a few base images, so a world of thousands of
// articles holds no more than a few pages' worth of images.
//
// The benchmark pages name their publishers' real CDNs, which no test may
// reach: before the world's requisites are put in, every element and
// attribute through which a page names a requisite (or a script, a frame,
// media) is removed (stripRequisites).

// requisiteWorld is what a world with requisites adds to its pages.
type requisiteWorld struct {
	cdn    *Publisher
	images []*Publisher
	jpegs  map[string][]byte // base JPEG by variant: "640", "1280", "2560", "lead", "lazy", "ns"
	pages  map[string]strippedPage
}

// jpegVariants are the per-article images and their sizes in pixels.
var jpegVariants = []struct {
	name string
	w, h int
}{{"640", 640, 360}, {"1280", 1280, 720}, {"2560", 2560, 1440}, {"lead", 1200, 630}, {"lazy", 800, 450}, {"ns", 400, 225}}

// startRequisites starts the asset hosts on 127.0.0.first and the next
// imageHosts addresses and puts the shared requisites on them and on the
// publishers.
func startRequisites(tb testing.TB, first, imageHosts int, pubs []*Publisher, font []byte) *requisiteWorld {
	tb.Helper()
	if len(font) == 0 {
		tb.Fatal("archivetest: WorldOptions.Font is empty; read testdata/capture/work-sans-300.woff2")
	}
	rw := &requisiteWorld{cdn: StartPublisher(tb, first), jpegs: map[string][]byte{}, pages: map[string]strippedPage{}}
	for i := range imageHosts {
		rw.images = append(rw.images, StartPublisher(tb, first+1+i))
	}
	cdn := rw.cdn
	cdn.Put("/css/site.css", "text/css", []byte(`@import "base.css";
@font-face { font-family: "Work Sans"; src: url(../fonts/work-sans.woff2) format("woff2"); font-weight: 300; }
body { font-family: "Work Sans", sans-serif; background: #fafafa url(/img/paper.png) repeat; }
`))
	cdn.Put("/css/base.css", "text/css", []byte(`h1 { background-image: url("rule.png"); background-repeat: no-repeat; }
`))
	cdn.Put("/fonts/work-sans.woff2", "font/woff2", font)
	cdn.Put("/img/paper.png", "image/png", pngImage(tb, 32, 32, 1))
	cdn.Put("/css/rule.png", "image/png", pngImage(tb, 600, 4, 2))
	cdn.Put("/img/masthead.png", "image/png", pngImage(tb, 960, 90, 3))
	rw.images[0].Put("/shared/logo.png", "image/png", pngImage(tb, 240, 60, 4))
	for i, p := range pubs {
		p.Put("/css/local.css", "text/css", []byte(fmt.Sprintf("article { max-width: 40em; margin: auto; color: #%06x; }\n", i*0x10101)))
		p.Put("/favicon.png", "image/png", pngImage(tb, 32, 32, 5+i))
	}
	for _, v := range jpegVariants {
		rw.jpegs[v.name] = jpegImage(tb, v.w, v.h)
	}
	return rw
}

// addArticle serves page at path on pub with the world's requisites, its
// own images named by id on the image host given by n, and returns the
// page's URL.
func (rw *requisiteWorld) addArticle(tb testing.TB, pub *Publisher, path string, page Page, id string, n int) string {
	tb.Helper()
	sp, ok := rw.pages[page.ID]
	if !ok {
		sp = stripRequisites(page.HTML)
		rw.pages[page.ID] = sp
	}
	img := rw.images[n%len(rw.images)]
	for _, v := range jpegVariants {
		base := rw.jpegs[v.name]
		img.PutFunc(fmt.Sprintf("/%s/%s.jpg", v.name, id), "image/jpeg", func() []byte { return jpegWithComment(base, "article "+id) })
	}
	cdn, im, logo := "http://"+rw.cdn.Host, "http://"+img.Host, "http://"+rw.images[0].Host
	head := fmt.Sprintf(`
<link rel="stylesheet" href="%[1]s/css/site.css"><link rel="stylesheet" href="/css/local.css"><link rel="icon" href="/favicon.png">
<meta property="og:image" content="%[2]s/lead/%[3]s.jpg">
<style>.masthead { height: 90px; background: url(%[1]s/img/masthead.png) no-repeat }</style>
`, cdn, im, id)
	body := fmt.Sprintf(`
<div class="masthead"><img alt="logo" src="%[1]s/shared/logo.png"></div>
<figure><img alt="" src="%[2]s/640/%[3]s.jpg" srcset="%[2]s/640/%[3]s.jpg 640w, %[2]s/1280/%[3]s.jpg 1280w, %[2]s/2560/%[3]s.jpg 2560w"></figure>
<img alt="" class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="%[2]s/lazy/%[3]s.jpg">
<noscript><img alt="" src="%[2]s/ns/%[3]s.jpg"></noscript>
`, logo, im, id)
	return pub.PutFunc(path, "text/html; charset=utf-8", func() []byte { return sp.with(head, body) })
}

// strippedPage is a page without requisites, cut where the world's go in:
// after <head> and after <body> (at the start when the page has neither).
type strippedPage struct {
	beforeHead, beforeBody, rest []byte
}

func (sp strippedPage) with(head, body string) []byte {
	out := make([]byte, 0, len(sp.beforeHead)+len(head)+len(sp.beforeBody)+len(body)+len(sp.rest))
	out = append(append(out, sp.beforeHead...), head...)
	out = append(append(out, sp.beforeBody...), body...)
	return append(out, sp.rest...)
}

// dropped are the elements through which a page names a requisite,
// a script, a frame or media; the ones the tokenizer reads as raw text
// (script, style, noscript, iframe) are dropped with their content.
var dropped = map[atom.Atom]bool{
	atom.Link: true, atom.Img: true, atom.Source: true, atom.Input: true, atom.Base: true, atom.Embed: true,
	atom.Object: true, atom.Track: true, atom.Image: true,
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Iframe: true, atom.Frame: true,
}

// droppedAttr reports whether an attribute of a kept element may name a
// resource: inline styles (url()), src, srcset and sizes, the lazy-loading
// data-* attributes, and the legacy background and poster.
func droppedAttr(key string) bool {
	switch key {
	case "style", "src", "srcset", "sizes", "background", "poster":
		return true
	}
	return strings.HasPrefix(key, "data-")
}

// stripRequisites removes from page every element and attribute through
// which it names a requisite (see dropped and droppedAttr, and <meta
// property="og:image">), keeping its text and structure, and returns it cut
// where the world's requisites go in.
func stripRequisites(page []byte) strippedPage {
	var out bytes.Buffer
	var sp strippedPage
	headAt, bodyAt := -1, -1
	z := html.NewTokenizer(bytes.NewReader(page))
	skipTo := atom.Atom(0) // inside a dropped raw-text element: its end tag
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt == html.TextToken || tt == html.CommentToken || tt == html.DoctypeToken {
			if skipTo == 0 {
				out.Write(z.Raw())
			}
			continue
		}
		tok := z.Token()
		a := tok.DataAtom
		if skipTo != 0 {
			if tt == html.EndTagToken && a == skipTo {
				skipTo = 0
			}
			continue
		}
		if dropped[a] || a == atom.Meta && isLeadImageMeta(tok.Attr) {
			if tt == html.StartTagToken && (a == atom.Script || a == atom.Style || a == atom.Noscript || a == atom.Iframe) {
				skipTo = a
			}
			continue
		}
		kept := tok.Attr[:0]
		for _, at := range tok.Attr {
			if !droppedAttr(at.Key) {
				kept = append(kept, at)
			}
		}
		tok.Attr = kept
		out.WriteString(tok.String())
		switch {
		case tt == html.StartTagToken && a == atom.Head && headAt < 0:
			headAt = out.Len()
		case tt == html.StartTagToken && a == atom.Body && bodyAt < 0:
			bodyAt = out.Len()
		}
	}
	b := out.Bytes()
	if bodyAt < 0 {
		bodyAt = 0
	}
	if headAt < 0 || headAt > bodyAt {
		headAt = bodyAt
	}
	sp.beforeHead, sp.beforeBody, sp.rest = b[:headAt], b[headAt:bodyAt], b[bodyAt:]
	return sp
}

func isLeadImageMeta(attrs []html.Attribute) bool {
	for _, a := range attrs {
		if (a.Key == "property" || a.Key == "name") && strings.Contains(strings.ToLower(a.Val), "image") {
			return true
		}
	}
	return false
}

// jpegImage is a real JPEG of w×h pixels: soft colour waves with a little
// grain, which compresses about as a news photo does.
func jpegImage(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	seed := uint32(w*31 + h)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			grain := int(seed>>28) - 8
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 90*math.Sin(fx*9+fy*3) + float64(grain)
			g := 128 + 80*math.Sin(fy*11-fx*2) + float64(grain)
			b := 128 + 70*math.Cos((fx+fy)*7) + float64(grain)
			img.Set(x, y, color.RGBA{clamp(r), clamp(g), clamp(b), 255})
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 75}); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }

// jpegWithComment is base (a JPEG) with a comment segment (COM, ITU T.81
// B.2.4.5) holding text right after its start-of-image marker: the same
// picture, different bytes.
func jpegWithComment(base []byte, text string) []byte {
	out := make([]byte, 0, len(base)+4+len(text))
	out = append(out, base[:2]...) // SOI
	n := 2 + len(text)
	out = append(out, 0xFF, 0xFE, byte(n>>8), byte(n))
	out = append(out, text...)
	return append(out, base[2:]...)
}

// pngImage is a real PNG of w×h pixels in a colour derived from seed.
func pngImage(tb testing.TB, w, h, seed int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(seed * 40), uint8(x * 255 / w), uint8(y * 255 / h), 255})
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}
