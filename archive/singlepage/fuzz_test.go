package singlepage

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzRewriteCSS: any stylesheet, as a sheet or as a style attribute,
// rewrites without a panic; what the rewrite adds is the data: URIs it
// spent budget on (a reference left out never grows the sheet); and once
// escaped for a <style> element nothing in it can end the element.
func FuzzRewriteCSS(f *testing.F) {
	for _, seed := range []string{
		`@import "a.css" screen; body{background:url(x.png)}`,
		`@import url(a.css) layer(l) supports(display:grid) print;`,
		`.a{background:image-set("x.png" 1x, url(y.png) 2x)}`,
		`@font-face{src:url( "f.woff2" ) format("woff2")}`,
		`a{b:url(\61 .png)} c{d:"</style><script>"}`,
		`@charset "x"; @import "a.css"`,
		`url(`, `@import`, `"unterminated`, `u\rl(x.png)`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	src := writeWARC(f, "f.warc.gz", nil, []exchange{
		res("/x.png", "image/png", pngReal),
		res("/a.css", "text/css", []byte(`.a{background:url(x.png)} @import "a.css";`)),
	})
	a, err := OpenArchive(context.Background(), []Source{src}, nil)
	if err != nil {
		f.Fatal(err)
	}
	base, _ := url.Parse("https://news.example/")
	f.Fuzz(func(t *testing.T, css string, inline bool) {
		limits, _ := Limits{MaxBytes: 1 << 20}.withDefaults()
		b := &builder{ctx: context.Background(), archive: a, limits: limits, cache: map[string]*cached{}, unlazied: map[*html.Node]bool{}, fromSource: map[*html.Node]bool{}}
		out := b.rewriteCSS(css, base, 1, inline, nil)
		if int64(len(out)) > int64(len(css))+b.spent+int64(64*b.refs)+64 {
			t.Errorf("%d bytes in, %d out, %d spent", len(css), len(out), b.spent)
		}
		if strings.Contains(strings.ToLower(escapeStyleEnd(out)), "</style") {
			t.Errorf("the escaped sheet can end its element: %q", out)
		}
	})
}
