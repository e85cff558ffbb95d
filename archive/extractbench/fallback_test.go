package extractbench

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/hostile"
)

// The bounded path proposed for pages over budget (issue 10: "the best
// bounded result"): readability alone, on a prefix of the page, refused
// when the parsed prefix is still too complex. Each step is linear or
// capped: the prefix bounds the parse (at most ~5 nodes per byte, the
// formatting bomb), the node bound is checked before readability runs,
// and readability's own MaxElemsToParse is set to the same bound.
const (
	fallbackPrefix = 512 << 10 // bytes of the page the fallback reads
	maxTokens      = 50_000    // tokens of it the fallback parses: benchmark pages have at most ~4,000
	maxFormatting  = 16        // formatting elements left open at once; more are dropped
	maxNodes       = 50_000    // DOM nodes: benchmark pages have at most ~4,000
	maxDepth       = 128       // element depth: benchmark pages reach 52
)

// formatting are the elements the HTML parser reopens after a block
// closes them (HTML Living Standard 13.2.4.3, the list of active
// formatting elements).
var formatting = map[string]bool{"a": true, "b": true, "big": true, "code": true, "em": true, "font": true,
	"i": true, "nobr": true, "s": true, "small": true, "strike": true, "strong": true, "tt": true, "u": true}

// boundTokens re-serialises at most maxTokens tokens of page (a prefix by
// tokens, not bytes), dropping every formatting start tag that would leave
// more than maxOpen formatting elements open. The parser reopens each open
// formatting element at most once per token, so the tree parsed from the
// result has at most maxTokens*(1+maxOpen) nodes whatever the page: the
// bound x/net/html lacks (see hostile.FormattingBombAttrs). One linear
// pass of the tokenizer; text is kept byte for byte.
func boundTokens(page []byte, maxTokens, maxOpen int) (out []byte, truncated bool) {
	z := html.NewTokenizer(bytes.NewReader(page))
	buf := make([]byte, 0, len(page))
	open := map[string]int{}
	total := 0
	for n := 0; ; n++ {
		tt := z.Next()
		if tt == html.ErrorToken {
			return buf, false
		}
		if n == maxTokens {
			return buf, true
		}
		raw := z.Raw()
		switch tt {
		case html.StartTagToken:
			name, _ := z.TagName()
			if formatting[string(name)] {
				if total >= maxOpen {
					continue
				}
				open[string(name)]++
				total++
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if open[string(name)] > 0 {
				open[string(name)]--
				total--
			}
		}
		buf = append(buf, raw...)
	}
}

// errTooComplex is a page over the bounds even in its prefix: the
// pipeline records it as failed/too_complex.
var errTooComplex = errors.New("too_complex")

func fallbackExtract(page []byte, u *url.URL) (string, error) {
	if len(page) > fallbackPrefix {
		page = page[:fallbackPrefix]
	}
	page, _ = boundTokens(page, maxTokens, maxFormatting)
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", err
	}
	if err := withinBounds(doc); err != nil {
		return "", err
	}
	p := readability.NewParser()
	p.MaxElemsToParse = maxNodes
	art, err := p.ParseAndMutate(doc, u)
	if err != nil {
		return "", err
	}
	if art.Node == nil {
		return "", nil
	}
	return render.InnerText(art.Node), nil
}

// withinBounds walks the tree once, stopping at the first bound crossed.
func withinBounds(doc *html.Node) error {
	nodes := 0
	var walk func(n *html.Node, depth int) error
	walk = func(n *html.Node, depth int) error {
		if nodes++; nodes > maxNodes {
			return fmt.Errorf("%w: more than %d nodes", errTooComplex, maxNodes)
		}
		if depth > maxDepth {
			return fmt.Errorf("%w: deeper than %d", errTooComplex, maxDepth)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(doc, 0)
}

// TestFallbackBounded: the fallback ends quickly on every hostile page at
// 16 MiB (it reads 512 KiB of it), with text or too_complex, and extracts
// the benchmark pages. Its wall time is logged, not asserted.
func TestFallbackBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 16 MiB pages")
	}
	u, _ := url.Parse(pageURL)
	for _, p := range hostile.Pages() {
		n := 16 << 20
		if p.Unit == hostile.Depth {
			n = 500
		}
		text, err := fallbackExtract(p.Gen(n), u)
		t.Logf("%-16s %6d bytes of text, %v", p.Name, len(text), err)
		if err != nil && !errors.Is(err, errTooComplex) && !strings.Contains(err.Error(), "open stack of elements") {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	empty := 0
	for _, pg := range benchmarkPages(t) {
		text, err := fallbackExtract(pg, u)
		if err != nil {
			t.Errorf("benchmark page: %v", err)
		}
		if text == "" {
			empty++
		}
	}
	t.Logf("benchmark pages with no text from the fallback: %d", empty)
}

// TestBoundTokensKeepsNormalPages: on the benchmark pages the token pass
// drops nothing and cuts nothing, so it changes no extraction.
func TestBoundTokensKeepsNormalPages(t *testing.T) {
	most := 0
	for _, pg := range benchmarkPages(t) {
		out, cut := boundTokens(pg, maxTokens, maxFormatting)
		if cut || len(out) != len(pg) {
			t.Errorf("page of %d bytes: %d bytes back, cut %v", len(pg), len(out), cut)
		}
		n := 0
		for z := html.NewTokenizer(bytes.NewReader(pg)); z.Next() != html.ErrorToken; n++ {
		}
		most = max(most, n)
	}
	t.Logf("most tokens in a benchmark page: %d", most)
	bomb, _ := boundTokens(hostile.FormattingBombAttrs(1<<20), maxTokens, maxFormatting)
	s, err := shapeOf(bomb)
	if err != nil || s.nodes > maxTokens*(1+maxFormatting) {
		t.Errorf("bounded bomb: %+v %v", s, err)
	}
	t.Logf("formatting-bomb-attrs 1 MiB bounded: %+v", s)
}

// BenchmarkBoundTokens: the token pass on every benchmark page.
func BenchmarkBoundTokens(b *testing.B) {
	pages := benchmarkPages(b)
	for b.Loop() {
		for _, pg := range pages {
			boundTokens(pg, maxTokens, maxFormatting)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(pages)), "µs/page")
}

// BenchmarkBoundsCheck: the cost of withinBounds on a normal page (the
// largest benchmark page by node count), per page.
func BenchmarkBoundsCheck(b *testing.B) {
	var biggest *html.Node
	most := 0
	for _, pg := range benchmarkPages(b) {
		doc, _ := html.Parse(bytes.NewReader(pg))
		if s, _ := shapeOf(pg); s.nodes > most {
			most, biggest = s.nodes, doc
		}
	}
	for b.Loop() {
		if err := withinBounds(biggest); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(most), "nodes")
}
