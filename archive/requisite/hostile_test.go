package requisite

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/usage"
)

// repeatTo repeats the element made by f(i) until the page reaches size.
func repeatTo(size int, f func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString("<!doctype html><title>t</title><link rel=stylesheet href=/first.css>")
	for i := 0; b.Len() < size; i++ {
		b.WriteString(f(i))
	}
	return b.Bytes()
}

// TestHostilePages: pages of 16 MiB (the fetcher's default body cap) made
// of a million distinct images, lazy images with srcsets, style attributes
// full of url()s, nested <noscript>s and the like are read in one pass:
// at most MaxListed requisites are listed (the stylesheet first among
// them), and the heap grows by 32 MiB at most, besides what the HTML
// tokenizer needs for the longest tag.
func TestHostilePages(t *testing.T) {
	const size = 16 << 20
	tests := []struct {
		name string
		gen  func() []byte
		few  bool // the page names few distinct requisites
		// tag is the longest tag in bytes when it is most of the page: the
		// HTML tokenizer holds a tag whole, in a buffer of up to four times
		// its size while it grows.
		tag int
	}{
		{"a million distinct images", func() []byte {
			return repeatTo(size, func(i int) string { return fmt.Sprintf("<img src=/i/%d.png>", i) })
		}, false, 0},
		{"images with distinct query strings", func() []byte {
			return repeatTo(size, func(i int) string { return fmt.Sprintf(`<img src="/pic.jpg?v=%d">`, i) })
		}, false, 0},
		{"the same image under many URLs", func() []byte {
			return repeatTo(size, func(i int) string { return fmt.Sprintf("<img src=/i/x.png#%d>", i) })
		}, true, 0},
		{"data-srcset on every element", func() []byte {
			return repeatTo(size, func(i int) string {
				return fmt.Sprintf(`<img src="data:," data-srcset="/a/%d-1.jpg 100w, /a/%d-2.jpg 1300w, /a/%d-3.jpg 2000w" data-sizes="auto">`, i, i, i)
			})
		}, false, 0},
		{"style attributes full of url()s", func() []byte {
			return repeatTo(size, func(i int) string {
				return fmt.Sprintf(`<div style="background:url(/s/%d-a.png),url(/s/%d-b.png),url(/s/%d-c.png)"></div>`, i, i, i)
			})
		}, false, 0},
		{"one style attribute of a million url()s", func() []byte {
			return []byte(`<link rel=stylesheet href=/first.css><div style="` + strings.Repeat("background:url(/u.png);", size/23) + `"></div>`)
		}, true, size},
		{"many style elements", func() []byte {
			return repeatTo(size, func(i int) string { return fmt.Sprintf("<style>@import '/c/%d.css';</style>", i) })
		}, false, 0},
		{"noscript in noscript", func() []byte {
			return repeatTo(size, func(i int) string {
				return fmt.Sprintf("<noscript><noscript><img src=/n/%d.png></noscript></noscript>", i)
			})
		}, true, 0},
		{"og:image and icons", func() []byte {
			return repeatTo(size, func(i int) string {
				return fmt.Sprintf(`<meta property=og:image content=/og/%d.png><link rel=icon href=/f/%d.ico>`, i, i)
			})
		}, false, 0},
		{"picture sources", func() []byte {
			return repeatTo(size, func(i int) string {
				return fmt.Sprintf(`<picture><source srcset="/p/%d.webp" type=image/webp><img src=/p/%d.jpg></picture>`, i, i)
			})
		}, false, 0},
		{"one tag of a million attributes", func() []byte {
			return repeatTo(size, func(i int) string {
				if i == 0 {
					return "<img "
				}
				return fmt.Sprintf("a%d=1 ", i)
			})
		}, true, size},
		{"a million links to stylesheets", func() []byte {
			return repeatTo(size, func(i int) string { return fmt.Sprintf("<link rel=stylesheet href=/css/%d.css>", i) })
		}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := tc.gen()
			var (
				got    []Requisite
				capped bool
			)
			u := usage.Measure(func() { got, capped = FromHTML(page, "https://x.example/a/", Limits{}) })
			t.Logf("%d bytes: %d requisites, capped %v, %v (%v of CPU), heap +%d MiB", len(page), len(got), capped, u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), u.Heap>>20)
			if len(got) > MaxListed {
				t.Errorf("%d requisites listed, over %d", len(got), MaxListed)
			}
			if len(got) == 0 || got[0].URL != "https://x.example/first.css" {
				t.Errorf("the page's first stylesheet is not listed first")
			}
			if len(page) >= size && len(got) < MaxListed && !tc.few {
				t.Errorf("%d listed (capped %v), want MaxListed", len(got), capped)
			}
			if u.Heap > uint64(32<<20+4*tc.tag) {
				t.Errorf("the heap grew by %d MiB for a page of %d MiB", u.Heap>>20, len(page)>>20)
			}
			if u.CPU > 5*time.Second {
				t.Errorf("took %v of CPU", u.CPU)
			}
		})
	}
}

// TestHostileStylesheets: stylesheets built to hurt are read to
// MaxCSSBytes and MaxCSSURLs at most, and only http(s) references are
// listed.
func TestHostileStylesheets(t *testing.T) {
	const size = 24 << 20
	rep := func(s string) []byte { return bytes.Repeat([]byte(s), size/len(s)) }
	tests := []struct {
		name   string
		css    []byte
		want   string // the requisites listed, when checked
		capped bool
	}{
		{"one url token of 24 MiB", append(append([]byte("a{background:url(/"), rep("a")...), ")}"...), "", true},
		{"one string of 24 MiB in an import", append(append([]byte(`@import "/`), rep("b")...), `";`...), "", true},
		{"an unterminated comment", append([]byte("/* "), rep("x{background:url(/c.png)} ")...), "", true},
		{"an unterminated string", append([]byte(`a{content:"`), rep(`url(/d.png) `)...), "", true},
		{"an unterminated url", append([]byte(`a{background:url(`), rep(`/e.png `)...), "", true},
		{"a million imports", rep("@import url(/i.css);"), "stylesheet https://x.example/i.css\n", true},
		{"a million distinct imports", nil, "", true},
		{"schemes that are not fetched", []byte(`a{background:url(javascript:alert(1))} b{background:url(file:///etc/passwd)}
c{background:url(ftp://x.example/f.png)} e{background:url(//cdn.example/p.png)} f{background:url(http://10.0.0.1/admin.png)}
@import "about:blank"; d{background:url(data:image/png;base64,` + strings.Repeat("A", 1<<20) + `)}`),
			"image https://cdn.example/p.png\nimage http://10.0.0.1/admin.png\n", true},
	}
	var distinct bytes.Buffer
	for i := 0; distinct.Len() < size; i++ {
		fmt.Fprintf(&distinct, "@import url(/i/%d.css);", i)
	}
	tests[6].css = distinct.Bytes()
	// As the pipeline keeps a stylesheet: its first MaxCSSBytes, cut
	// through a URL.
	kept := bytes.Repeat([]byte("a{background:url(/same.png)}"), DefaultMaxCSSBytes/28+1)[:DefaultMaxCSSBytes]
	kept = append(kept[:len(kept)-10], "url(/cut.p"...)
	tests = append(tests, struct {
		name   string
		css    []byte
		want   string
		capped bool
	}{"kept as the pipeline keeps it, cut through a url", kept, "image https://x.example/same.png\n", false})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				got    []Requisite
				capped bool
			)
			u := usage.Measure(func() { got, capped = FromCSS(tc.css, "https://x.example/css/site.css", Limits{}) })
			t.Logf("%d references, capped %v, %v (%v of CPU), heap +%d KiB", len(got), capped, u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), u.Heap>>10)
			if len(got) > DefaultMaxCSSURLs || capped != tc.capped {
				t.Errorf("%d references, capped %v; want at most %d, capped %v", len(got), capped, DefaultMaxCSSURLs, tc.capped)
			}
			if tc.want != "" && list(got) != tc.want {
				t.Errorf("got\n%swant\n%s", list(got), tc.want)
			}
			if u.Heap > 8<<20 {
				t.Errorf("the heap grew by %d MiB", u.Heap>>20)
			}
			if u.CPU > 2*time.Second {
				t.Errorf("took %v of CPU", u.CPU)
			}
		})
	}
}

// TestTagBomb: TagBomb finds a tag of more attributes than the bound,
// however they are written, and leaves ordinary markup (long quoted
// values, text, comments) alone.
func TestTagBomb(t *testing.T) {
	const max = 1000
	attrs := func(f string) string {
		var b strings.Builder
		for i := range max + 1 {
			fmt.Fprintf(&b, f, i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name string
		page string
		at   int // -1: none
	}{
		{"ordinary", `<p class=a id="b">x</p><img src="/a.png" alt='a b c'>`, -1},
		{"spaced", "<p>x</p><img " + attrs("a%d ") + ">", 8},
		{"no whitespace after quoted values", `<p>x</p><img ` + attrs(`a%d="1"`) + ">", 8},
		{"a quoted > first", `<p>x</p><img a=">" ` + attrs("a%d ") + ">", 8},
		{"slashes", "<p>x</p><img " + attrs("a%d/") + ">", 8},
		{"an end tag", "<p>x</p" + attrs(" a%d") + ">", 4},
		{"words in a quoted value", `<img alt="` + attrs("w%d ") + `">`, -1},
		{"words in text", "<p>" + attrs("w%d ") + "</p>", -1},
		{"words in a comment", "<!-- " + attrs("w%d ") + " -->", -1},
	} {
		if got := TagBomb([]byte(tc.page), max); got != tc.at {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.at)
		}
	}
}
