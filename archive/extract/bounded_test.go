package extract

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/hostile"
)

// TestBoundedOnHostilePages: ExtractBounded ends quickly on every hostile
// page at 16 MiB (it reads 512 KiB of it), with text or ErrTooComplex, and
// extracts the benchmark pages. Wall time is logged, not asserted (a busy
// machine); the bound is the work, which the caps make independent of the
// page's size.
func TestBoundedOnHostilePages(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 16 MiB pages")
	}
	u, _ := url.Parse(pageURL)
	for _, p := range hostile.Pages() {
		n := 16 << 20
		if p.Unit == hostile.Depth {
			n = 500
		}
		page := p.Gen(n)
		start := time.Now()
		ex, err := ExtractBounded(page, u)
		took := time.Since(start)
		words := 0
		if ex != nil {
			words = ex.WordCount
		}
		t.Logf("%-22s %5.2fs %7d words, %v", p.Name, took.Seconds(), words, err)
		if err != nil && !errors.Is(err, ErrTooComplex) {
			t.Errorf("%s: %v, want text or ErrTooComplex", p.Name, err)
		}
	}
	empty := 0
	for _, pg := range loadBenchmark(t) {
		ex, err := ExtractBounded(pg.html, pg.url)
		if err != nil {
			t.Errorf("%s: %v", pg.id, err)
			continue
		}
		if ex.Text == "" {
			empty++
		}
	}
	t.Logf("benchmark pages with no text from the bounded extraction: %d", empty)
}

// TestBoundedTooDeep: nesting the parser refuses, or deeper than the
// bound, is ErrTooComplex for both paths, not a generic failure.
func TestBoundedTooDeep(t *testing.T) {
	refused := []byte(strings.Repeat("<div>", 5000) + "deep" + strings.Repeat("</div>", 5000))
	if _, err := Extract(refused, nil); !errors.Is(err, ErrTooComplex) {
		t.Errorf("Extract(5000 nested divs) = %v, want ErrTooComplex", err)
	}
	deep := []byte(strings.Repeat("<div>", 300) + "deep" + strings.Repeat("</div>", 300))
	if _, err := ExtractBounded(deep, nil); !errors.Is(err, ErrTooComplex) {
		t.Errorf("ExtractBounded(300 nested divs) = %v, want ErrTooComplex", err)
	}
}

// TestBoundTokensKeepsNormalPages: on the benchmark pages the token pass
// drops nothing and cuts nothing, so it changes no extraction; on the
// formatting bomb it bounds the tree.
func TestBoundTokensKeepsNormalPages(t *testing.T) {
	most := 0
	for _, pg := range loadBenchmark(t) {
		out, cut := boundTokens(pg.html, boundedTokens, boundedFormatting)
		if cut || len(out) != len(pg.html) {
			t.Errorf("%s: %d bytes back of %d, cut %v", pg.id, len(out), len(pg.html), cut)
		}
		n := 0
		for z := html.NewTokenizer(bytes.NewReader(pg.html)); z.Next() != html.ErrorToken; n++ {
		}
		most = max(most, n)
	}
	t.Logf("most tokens in a benchmark page: %d", most)
	bomb, _ := boundTokens(hostile.FormattingBombAttrs(1<<20), boundedTokens, boundedFormatting)
	s, err := shapeOf(bomb)
	if err != nil || s.nodes > boundedTokens*(1+boundedFormatting) {
		t.Errorf("bounded bomb: %+v %v", s, err)
	}
	t.Logf("formatting-bomb-attrs 1 MiB bounded: %+v", s)
}

// BenchmarkBoundTokens: the token pass on every benchmark page.
func BenchmarkBoundTokens(b *testing.B) {
	pages := benchmarkPages(b)
	for b.Loop() {
		for _, pg := range pages {
			boundTokens(pg, boundedTokens, boundedFormatting)
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
