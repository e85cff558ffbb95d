package extract

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
)

// ErrTooComplex is a page over the extraction budget even in its bounded
// form (ExtractBounded): more DOM nodes or a deeper tree than any article
// has, or nesting the HTML parser refuses. The pipeline records such a
// page as failed with record.ReasonTooComplex.
var ErrTooComplex = errors.New("too complex")

// The bounds of ExtractBounded, the path for pages over the budget of
// the full extraction (issue 10: "the best bounded result"). Each step is
// linear or capped: the prefix bounds the tokenizer, the token pass bounds
// the parse (x/net/html has no node limit of its own: a formatting bomb of
// 16-64 KiB parses into millions of nodes), the tree is checked against
// the node and depth bounds before readability runs, and readability's
// own MaxElemsToParse is set to the node bound. The 123 benchmark pages
// have at most 4,018 nodes, 5,433 tokens, depth 52 and 439 links: the
// bounds are about ten times what any of them needs, and
// TestBoundTokensKeepsNormalPages checks the token pass changes none of
// them. Measured on every internal/hostile page at 16 MiB: at most 1.16 s
// and a peak RSS of 148 MB for a process holding the page
// (TestMeasureHostile, step "bounded").
const (
	// BoundedPrefix is the bytes of the page ExtractBounded reads; the
	// caller may send only these.
	BoundedPrefix = 512 << 10
	// boundedTokens is the tokens of the prefix that are parsed.
	boundedTokens = 50_000
	// boundedFormatting is how many formatting elements may be open at
	// once; further formatting start tags are dropped.
	boundedFormatting = 16
	// boundedNodes and boundedDepth are the DOM bounds past which the
	// page is ErrTooComplex.
	boundedNodes = 50_000
	boundedDepth = 128
)

// formatting are the elements the HTML parser reopens after a block
// closes them (HTML Living Standard 13.2.4.3, the list of active
// formatting elements).
var formatting = map[string]bool{"a": true, "b": true, "big": true, "code": true, "em": true, "font": true,
	"i": true, "nobr": true, "s": true, "small": true, "strike": true, "strong": true, "tt": true, "u": true}

// ExtractBounded is the extraction of a page that was over the budget of
// Extract (time, memory, or a crash): readability alone, with the page's
// own metadata, on a bounded form of the page. It reads at most the first
// BoundedPrefix bytes, parses at most 50,000 tokens of them with at most
// 16 formatting elements open at once, and refuses with ErrTooComplex a
// tree of more than 50,000 nodes or deeper than 128 elements. There is no
// second opinion (trafilatura is what makes large pages slow), so the
// text is readability's whole article, and the language is the page's
// declaration only.
//
// Its time and memory are bounded whatever the page: see the bounds above.
func ExtractBounded(body []byte, pageURL *url.URL) (ex *Extraction, err error) {
	defer func() {
		if r := recover(); r != nil {
			ex, err = nil, fmt.Errorf("extract: readability failed on this page: %v", r)
		}
	}()
	if pageURL == nil {
		pageURL = &url.URL{}
	}
	if len(body) > BoundedPrefix {
		body = body[:BoundedPrefix]
	}
	body, _ = boundTokens(body, boundedTokens, boundedFormatting)
	doc, err := parse(body)
	if err != nil {
		return nil, err
	}
	if err := withinBounds(doc); err != nil {
		return nil, err
	}
	meta := readMetadata(doc, pageURL)
	p := readability.NewParser()
	p.MaxElemsToParse = boundedNodes
	art, err := p.ParseAndMutate(doc, pageURL)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	return finish(art, &meta, nil, pageURL)
}

// parse parses a page, calling the parser's refusal of deep nesting what
// it is.
func parse(body []byte) (*html.Node, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		// x/net/html refuses documents whose stack of open elements
		// exceeds 512 ("html: open stack of elements exceeds 512 nodes").
		if strings.Contains(err.Error(), "open stack of elements") {
			return nil, fmt.Errorf("extract: parse HTML: %w: %v", ErrTooComplex, err)
		}
		return nil, fmt.Errorf("extract: parse HTML: %w", err)
	}
	return doc, nil
}

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

// withinBounds walks the tree once, stopping at the first bound crossed.
func withinBounds(doc *html.Node) error {
	nodes := 0
	var walk func(n *html.Node, depth int) error
	walk = func(n *html.Node, depth int) error {
		if nodes++; nodes > boundedNodes {
			return fmt.Errorf("extract: %w: more than %d DOM nodes in the first %d KiB", ErrTooComplex, boundedNodes, BoundedPrefix>>10)
		}
		if depth > boundedDepth {
			return fmt.Errorf("extract: %w: elements nested deeper than %d", ErrTooComplex, boundedDepth)
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
