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
	maxNodes       = 50_000    // DOM nodes: benchmark pages have at most ~4,000
	maxDepth       = 128       // element depth: benchmark pages reach 52
)

// errTooComplex is a page over the bounds even in its prefix: the
// pipeline records it as failed/too_complex.
var errTooComplex = errors.New("too_complex")

func fallbackExtract(page []byte, u *url.URL) (string, error) {
	if len(page) > fallbackPrefix {
		page = page[:fallbackPrefix]
	}
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
