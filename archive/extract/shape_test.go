package extract

import (
	"bytes"
	"slices"
	"testing"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/hostile"
)

// pageShape is what bounds on extraction's input would look at.
type pageShape struct {
	bytes, nodes, elements, texts, links, depth, textBytes, maxAttr int
}

func shapeOf(page []byte) (pageShape, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return pageShape{}, err
	}
	s := pageShape{bytes: len(page)}
	var walk func(n *html.Node, d int)
	walk = func(n *html.Node, d int) {
		s.nodes++
		s.depth = max(s.depth, d)
		switch n.Type {
		case html.ElementNode:
			s.elements++
			if n.Data == "a" {
				s.links++
			}
			for _, a := range n.Attr {
				s.maxAttr = max(s.maxAttr, len(a.Val))
			}
		case html.TextNode:
			s.texts++
			s.textBytes += len(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, d+1)
		}
	}
	walk(doc, 0)
	return s, nil
}

// TestPageShapes logs the shape of the benchmark pages (the largest and
// the 90th percentile of each measure) beside the hostile pages at 1 MiB:
// the evidence for where input bounds can sit without touching real pages.
func TestPageShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 108 pages")
	}
	var shapes []pageShape
	for _, p := range benchmarkPages(t) {
		s, err := shapeOf(p)
		if err != nil {
			t.Fatal(err)
		}
		shapes = append(shapes, s)
	}
	pick := func(f func(pageShape) int) (p90, top int) {
		v := make([]int, len(shapes))
		for i, s := range shapes {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)*9/10], v[len(v)-1]
	}
	for _, m := range []struct {
		name string
		f    func(pageShape) int
	}{
		{"bytes", func(s pageShape) int { return s.bytes }},
		{"nodes", func(s pageShape) int { return s.nodes }},
		{"elements", func(s pageShape) int { return s.elements }},
		{"text nodes", func(s pageShape) int { return s.texts }},
		{"text bytes", func(s pageShape) int { return s.textBytes }},
		{"links", func(s pageShape) int { return s.links }},
		{"depth", func(s pageShape) int { return s.depth }},
		{"longest attribute", func(s pageShape) int { return s.maxAttr }},
	} {
		p90, top := pick(m.f)
		t.Logf("benchmark pages: %-18s p90 %8d  max %8d", m.name, p90, top)
	}
	for _, p := range hostile.Pages() {
		if p.Unit != hostile.Bytes {
			continue
		}
		n := 1 << 20
		if p.Name == "formatting-bomb-attrs" {
			n = 16 << 10 // 1 MiB parses into ~100 million nodes
		}
		s, err := shapeOf(p.Gen(n))
		t.Logf("%-16s %4d KiB: %+v %v", p.Name, n>>10, s, err)
	}
}
