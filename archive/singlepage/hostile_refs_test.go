package singlepage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/usage"
)

// fakePNG is a PNG signature followed by n bytes: a 10 MiB "image" the
// builder embeds by its declared type.
func fakePNG(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, n)...)
}

// TestBuildHostileReferences: pages that name the same large resource
// thousands of times (in <img>, in a stylesheet, in style attributes, in
// image-set()), thousands of distinct resources, @import diamonds that
// double at every level, and deeply nested inline SVG are built within
// MaxBytes, or refused as too complex, in bounded time, with what was left
// out counted, and with the builder's heap growing by at most
// hostileRefsHeap: a data: URI is repeated up to MaxRepeatBytes, the page
// is rendered into one buffer of its final size.
// hostileRefsHeap bounds the heap one Build of a hostile page may take:
// its data: URIs and the page rendered, each at most MaxBytes, and room
// for its parse tree. Before the repeat bound and the one render buffer,
// 2,000 style attributes naming one 10 MiB image took 253 MiB.
const hostileRefsHeap = 2*DefaultMaxBytes + 32<<20

func TestBuildHostileReferences(t *testing.T) {
	const big = 10 << 20
	var img, styleRules, styleAttrs, imageSet, distinct strings.Builder
	for i := range 2000 {
		img.WriteString(`<img src="/big.png">`)
		fmt.Fprintf(&styleRules, ".c%d{background:url(/big.png)}\n", i)
		styleAttrs.WriteString(`<div style="background:url(/big.png)"></div>`)
		fmt.Fprintf(&distinct, `<img src="/d/%d.png">`, i)
	}
	for range 1000 {
		imageSet.WriteString(`url(/big.png) 1x, "/big.png" 2x, `)
	}
	var many []exchange
	for i := range 2100 {
		many = append(many, res(fmt.Sprintf("/d/%d.png", i), "image/png", fakePNG(40<<10)))
	}
	// An @import diamond: each level imports the next twice (2^12 paths),
	// and the last names the big image.
	var diamond []exchange
	for i := range 12 {
		diamond = append(diamond, res(fmt.Sprintf("/dia/%d.css", i), "text/css",
			fmt.Appendf(nil, `@import "%d.css"; @import "%d.css?b"; @import url(%d.css) screen; .x%d{color:red}`, i+1, i+1, i+1, i)))
		diamond = append(diamond, res(fmt.Sprintf("/dia/%d.css?b", i), "text/css",
			fmt.Appendf(nil, `@import "%d.css"; .y%d{background:url(/big.png)}`, i+1, i)))
	}
	diamond = append(diamond, res("/dia/12.css", "text/css", []byte(`.z{background:url(/big.png)}`)))
	bigRes := res("/big.png", "image/png", fakePNG(big))
	for _, tc := range []struct {
		name    string
		page    string
		assets  []exchange
		complex bool // refused as too complex
	}{
		{"2000 img of one 10 MiB image", "<body>" + img.String(), []exchange{bigRes}, false},
		{"2000 rules of one 10 MiB image", "<style>" + styleRules.String() + "</style>", []exchange{bigRes}, false},
		{"2000 style attributes of one 10 MiB image", "<body>" + styleAttrs.String(), []exchange{bigRes}, false},
		{"image-set of 2000 candidates", `<div style='background:image-set(` + imageSet.String() + `url(/big.png) 3x)'></div>`, []exchange{bigRes}, false},
		{"2000 distinct images", "<body>" + distinct.String(), many, false},
		{"@import diamond", `<link rel=stylesheet href="/dia/0.css">`, append(diamond, bigRes), false},
		{"inline svg 100000 deep", "<body><svg>" + strings.Repeat("<g>", 100_000) + `<image href="/big.png"/>`, []exchange{bigRes}, true},
		{"a tag of 500,000 attributes", "<body><img " + manyAttrs(4<<20) + ">", nil, true},
		{"style attribute of 4 MiB of url()s", `<div style="` + strings.Repeat("background:url(/missing.png);", (4<<20)/29) + `"></div>`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := writeWARC(t, "h.warc.gz", nil, append([]exchange{htmlPage(tc.page)}, tc.assets...))
			var (
				out []byte
				st  Stats
				err error
			)
			u := usage.Measure(func() { out, st, err = Build(context.Background(), pageURL, []Source{src}, Options{}) })
			t.Logf("%v (%v of CPU), heap +%d MiB, page %d MiB, %d resources, left out %d (over total %d), err %v",
				u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), u.Heap>>20, len(out)>>20, st.Resources, st.LeftOut(), st.OverTotal, err)
			if tc.complex {
				if !errors.Is(err, ErrPageTooComplex) {
					t.Errorf("err %v, want ErrPageTooComplex", err)
				}
			} else if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if int64(len(out)) > DefaultMaxBytes {
				t.Errorf("page of %d MiB, over MaxBytes", len(out)>>20)
			}
			if u.Heap > hostileRefsHeap {
				t.Errorf("the heap grew by %d MiB, over %d MiB", u.Heap>>20, hostileRefsHeap>>20)
			}
			if u.CPU > 10*time.Second {
				t.Errorf("took %v of CPU", u.CPU)
			}
			if len(tc.assets) == 1 && tc.assets[0].url == bigRes.url && !tc.complex &&
				(st.OverRepeat == 0 || bytes.Count(out, []byte("data:image/png;base64,")) != 1) {
				t.Errorf("the 10 MiB image named thousands of times is embedded %d times, %d repeats left out; want once",
					bytes.Count(out, []byte("data:image/png;base64,")), st.OverRepeat)
			}
		})
	}
}

// manyAttrs is distinct attributes (a0 a1 …) up to n bytes.
func manyAttrs(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "a%d ", i)
	}
	return b.String()
}
