package extract

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/textscore"
)

// Readability finds the article's container well but keeps what sits inside
// it: captions, "read more" lists, newsletter boxes, repeated credits. A
// second extractor built on different rules (trafilatura) and, where the
// page has it, the publisher's own schema.org articleBody are independent
// opinions of what the article text is. linkarc keeps readability's tree and
// drops the blocks that no other opinion contains; when the opinions and
// readability disagree on most of the text, readability's whole article is
// kept, so the result is never far worse than readability alone.
//
// The two numbers below are majorities, not fitted values: a block is
// kept when most of its text was found by another opinion, and the pruning
// is applied only when the opinions confirm most of readability's text.
// On either half of the benchmark pages any support threshold from 0.3 to
// 0.9 gives the same mean F1 within 0.003, so the result does not hinge on
// the choice (TestPruneRuleNotFitted).
const (
	// minBlockSupport is the share of a block's word 4-grams (or, for a
	// block under four words, the whole block) that another opinion must
	// contain for the block to be kept.
	minBlockSupport = 0.5
	// minAgreement is the share of readability's words that must survive
	// pruning; below it readability and the other opinions picked different
	// text, and readability's article is kept whole.
	minAgreement = 0.5
	// minArticleBodyWords is the smallest schema.org articleBody taken as
	// an opinion; shorter ones are teasers of paywalled articles.
	minArticleBodyWords = 50
)

// opinion is trafilatura's reading of the page.
type opinion struct {
	text string // the article text, "" when it found none
	lang string // ISO 639-1 code of the language it detected in the text
}

// secondOpinion runs trafilatura on the parsed page. It must run before
// readability, which rewrites the tree; trafilatura itself works on copies
// (its ExtractDocument clones the document before cleaning it, and reads
// only metadata from the original; TestSecondOpinionLeavesTree checks it).
func secondOpinion(doc *html.Node, pageURL *url.URL) (op opinion, err error) {
	// trafilatura is a large port too; its failure on a page costs only its
	// opinion, never the extraction.
	defer func() {
		if r := recover(); r != nil {
			op, err = opinion{}, fmt.Errorf("trafilatura failed on this page: %v", r)
		}
	}()
	res, err := trafilatura.ExtractDocument(doc, trafilatura.Options{
		OriginalURL:     pageURL,
		ExcludeComments: true,
		// Dates come from the page's metadata (metadata.go); trafilatura's
		// date search over the whole page is slow, and on the benchmark
		// pages it was often a day off.
		HtmlDateMode: trafilatura.Disabled,
	})
	if err != nil {
		// "text and comments are not long enough" and the like: no opinion.
		return opinion{}, fmt.Errorf("trafilatura: %w", err)
	}
	return opinion{text: res.ContentText, lang: res.Metadata.Language}, nil
}

// pruneUnconfirmed removes from readability's article the blocks that no
// opinion contains and reports how many words it kept and removed. It
// changes nothing when there is no opinion or when too little of the
// article is confirmed (see minAgreement).
func pruneUnconfirmed(article *html.Node, opinions []string, pageURL *url.URL) (kept, removed int) {
	return pruneRule{support: minBlockSupport, agreement: minAgreement}.apply(article, opinions, pageURL)
}

// pruneRule is the combination's two thresholds. Extract uses the
// constants; tests vary them to show the result does not hinge on them.
type pruneRule struct {
	support   float64 // share of a block an opinion must contain to keep it
	agreement float64 // share of the article's words that must be kept, else nothing is removed
}

func (r pruneRule) apply(article *html.Node, opinions []string, pageURL *url.URL) (kept, removed int) {
	var ops []*gramCounts
	for _, o := range opinions {
		if toks := textscore.Tokens(o); len(toks) > 0 {
			ops = append(ops, newGramCounts(toks))
		}
	}
	blocks := articleBlocks(article)
	confirmed := make([]bool, len(blocks))
	for i, b := range blocks {
		if confirmed[i] = r.confirm(b.tokens, ops); confirmed[i] {
			kept += len(b.tokens)
		} else {
			removed += len(b.tokens)
		}
	}
	if len(ops) == 0 || removed == 0 || float64(kept) < r.agreement*float64(kept+removed) {
		return kept + removed, 0
	}
	for i, b := range blocks {
		if confirmed[i] || linkParagraphAmongText(blocks, confirmed, i, pageURL) {
			continue
		}
		for _, n := range b.nodes {
			removeEmptying(n)
		}
	}
	return kept, removed
}

// minLinkParagraphWords is the length of a sentence: shorter link-only
// paragraphs are "Read more" and the like.
const minLinkParagraphWords = 6

// linkParagraphAmongText tells whether blocks[i] is a summary paragraph
// wrapped in a link, set between two confirmed paragraphs of ordinary
// text: the summaries of a live blog (<p><a href="#post-3"><strong>12:40
// …</strong></a></p>). The second opinions drop every link-only
// paragraph as navigation; between article paragraphs such a summary is
// the article's. What is kept is a paragraph of a sentence or more, with
// no image, all of whose text is in links that either stay on this page
// (a fragment or this page's own URL) or wrap emphasised text (<strong>,
// <b>) that does not open with a label ("READ MORE: …"). Related-links
// boxes are not brought back: their items are list items, or runs of
// link paragraphs, or promos to other pages in plain or labelled text.
func linkParagraphAmongText(blocks []textBlock, confirmed []bool, i int, pageURL *url.URL) bool {
	if i == 0 || i == len(blocks)-1 || !confirmed[i-1] || !confirmed[i+1] {
		return false
	}
	return isLinkSummary(blocks[i], pageURL) && isTextParagraph(blocks[i-1]) && isTextParagraph(blocks[i+1])
}

// labelRe is a label opening a promo: up to four words and a colon
// ("READ MORE:", "Lesen Sie auch:"). A time ("12:40") is not one.
var labelRe = regexp.MustCompile(`^\s*(?:[^\s:]+\s+){0,3}[^\s:]+:(?:\s|$)`)

// isLinkSummary: see linkParagraphAmongText.
func isLinkSummary(b textBlock, pageURL *url.URL) bool {
	if len(b.nodes) != 1 || b.nodes[0].Type != html.ElementNode || b.nodes[0].Data != "p" || len(b.tokens) < minLinkParagraphWords {
		return false
	}
	p := b.nodes[0]
	all, linked := textLengths(p, false)
	if all == 0 || linked != all || hasMedia(p) {
		return false
	}
	var text strings.Builder
	appendText(&text, p)
	emphasised := !labelRe.MatchString(text.String())
	onPage := true
	var walk func(n *html.Node, strong bool)
	walk = func(n *html.Node, strong bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "strong", "b":
				strong = true
			case "a":
				if !sameDocument(attrValue(n, "href"), pageURL) {
					onPage = false
				}
			}
		}
		if n.Type == html.TextNode && strings.TrimSpace(n.Data) != "" && !strong {
			emphasised = false
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, strong)
		}
	}
	walk(p, false)
	return onPage || emphasised
}

// sameDocument tells whether href leads to this page (a fragment, or
// this page's URL with another fragment or query).
func sameDocument(href string, pageURL *url.URL) bool {
	href = strings.TrimSpace(href)
	if strings.HasPrefix(href, "#") {
		return true
	}
	if pageURL == nil || pageURL.Host == "" {
		return false
	}
	u, err := pageURL.Parse(href)
	return err == nil && strings.EqualFold(u.Host, pageURL.Host) && strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(pageURL.Path, "/")
}

// hasMedia tells whether an image or other embedded media is below n.
func hasMedia(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			switch c.Data {
			case "img", "picture", "video", "audio", "iframe", "svg", "figure":
				return true
			}
			if hasMedia(c) {
				return true
			}
		}
	}
	return false
}

// isTextParagraph: a <p> with text outside links.
func isTextParagraph(b textBlock) bool {
	if len(b.nodes) != 1 || b.nodes[0].Type != html.ElementNode || b.nodes[0].Data != "p" {
		return false
	}
	all, linked := textLengths(b.nodes[0], false)
	return all > linked
}

// textLengths counts the non-space bytes of text below n, and those inside
// an <a href>.
func textLengths(n *html.Node, inLink bool) (all, linked int) {
	if n.Type == html.TextNode {
		k := len(strings.Join(strings.Fields(n.Data), ""))
		if inLink {
			return k, k
		}
		return k, 0
	}
	if n.Type == html.ElementNode && n.Data == "a" && hasAttr(n, "href") {
		inLink = true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		a, l := textLengths(c, inLink)
		all, linked = all+a, linked+l
	}
	return all, linked
}

// confirm tells whether any opinion contains most of a block, and if so
// uses up the matched n-grams of the opinions that do, so that text the
// page repeats (a caption under every photo) is confirmed only as often as
// the opinion has it.
func (r pruneRule) confirm(toks []string, ops []*gramCounts) bool {
	grams := blockGrams(toks)
	ok := false
	for _, o := range ops {
		if o.support(grams) >= r.support {
			o.use(grams)
			ok = true
		}
	}
	return ok
}

// textBlock is one paragraph-like unit of the article: a block element with
// no block elements inside, or a run of inline nodes between blocks.
type textBlock struct {
	nodes  []*html.Node
	tokens []string
}

// blockElements end a line of text (render.InnerText breaks lines at
// them), so each is a unit a reader sees as separate. Table cells are not
// among them: a row reads as one line.
var blockElements = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "caption": true,
	"dd": true, "details": true, "dialog": true, "div": true, "dl": true, "dt": true,
	"fieldset": true, "figcaption": true, "figure": true, "footer": true, "form": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"header": true, "hr": true, "li": true, "main": true, "nav": true, "ol": true,
	"p": true, "picture": true, "pre": true, "section": true, "summary": true,
	"table": true, "tbody": true, "tfoot": true, "thead": true,
	"tr": true, "ul": true,
}

// articleBlocks splits an article into its text blocks, in document order.
func articleBlocks(root *html.Node) []textBlock {
	var out []textBlock
	var run []*html.Node
	flush := func() {
		if len(run) == 0 {
			return
		}
		var b strings.Builder
		for _, n := range run {
			appendText(&b, n)
		}
		if toks := textscore.Tokens(b.String()); len(toks) > 0 {
			out = append(out, textBlock{nodes: run, tokens: toks})
		}
		run = nil
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.ElementNode && containsBlock(c):
				flush()
				walk(c)
			case c.Type == html.ElementNode && blockElements[c.Data]:
				flush()
				run = []*html.Node{c}
				flush()
			default:
				run = append(run, c)
			}
		}
		flush()
	}
	walk(root)
	return out
}

// containsBlock tells whether a block element is somewhere below n.
func containsBlock(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (blockElements[c.Data] || containsBlock(c)) {
			return true
		}
	}
	return false
}

// appendText writes the text of n, a space after each text node so that
// words in adjacent elements stay apart.
func appendText(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		b.WriteByte(' ')
		return
	case html.ElementNode:
		if n.Data == "script" || n.Data == "style" {
			return
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		appendText(b, c)
	}
}

// removeEmptying removes n and then each ancestor left without text or
// media, so the readable HTML keeps no empty shells of removed blocks.
func removeEmptying(n *html.Node) {
	for p := n.Parent; p != nil; n, p = p, p.Parent {
		p.RemoveChild(n)
		if p.Parent == nil || hasContent(p) {
			return
		}
	}
}

// hasContent tells whether n holds visible text or an embedded image or
// media element.
func hasContent(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if strings.TrimSpace(c.Data) != "" {
				return true
			}
		case html.ElementNode:
			switch c.Data {
			case "img", "picture", "video", "audio", "iframe", "svg", "math", "object", "embed":
				return true
			}
			if hasContent(c) {
				return true
			}
		}
	}
	return false
}

// gramCounts counts the word 1- to 4-grams of an opinion's text, by hash.
type gramCounts struct {
	n map[uint64]int
}

func newGramCounts(toks []string) *gramCounts {
	g := &gramCounts{n: make(map[uint64]int, 4*len(toks))}
	for k := 1; k <= textscore.ShingleSize; k++ {
		for i := 0; i+k <= len(toks); i++ {
			g.n[hashGram(toks[i:i+k])]++
		}
	}
	return g
}

// blockGrams is what a block is matched by: its 4-grams, or the whole
// block when it has fewer words.
func blockGrams(toks []string) []uint64 {
	if len(toks) < textscore.ShingleSize {
		return []uint64{hashGram(toks)}
	}
	grams := make([]uint64, 0, len(toks)-textscore.ShingleSize+1)
	for i := 0; i+textscore.ShingleSize <= len(toks); i++ {
		grams = append(grams, hashGram(toks[i:i+textscore.ShingleSize]))
	}
	return grams
}

// support is the share of grams the opinion still has, counting repeats.
func (g *gramCounts) support(grams []uint64) float64 {
	if len(grams) == 0 {
		return 0
	}
	need := make(map[uint64]int, len(grams))
	hit := 0
	for _, h := range grams {
		need[h]++
		if need[h] <= g.n[h] {
			hit++
		}
	}
	return float64(hit) / float64(len(grams))
}

// use takes the block's grams out of the opinion.
func (g *gramCounts) use(grams []uint64) {
	for _, h := range grams {
		if g.n[h] > 0 {
			g.n[h]--
		}
	}
}

// hashGram is the 64-bit FNV-1a hash of the words, each followed by a zero
// byte (words never contain one). Inlined because hash/fnv allocates per
// call and there is one call per word of every page; a collision, about
// 1 in 10^15 per pair of pages' n-grams, would at worst keep one block.
func hashGram(toks []string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for _, t := range toks {
		for i := 0; i < len(t); i++ {
			h ^= uint64(t[i])
			h *= prime
		}
		h *= prime // the zero separator: h ^= 0 is a no-op
	}
	return h
}
