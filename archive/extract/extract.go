package extract

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"golang.org/x/net/html"
)

// Extraction is the readable article found in a page, and what the page
// says about it.
type Extraction struct {
	Title         string // the article's title
	Byline        string // author(s), as the page gives them
	SiteName      string // the publication
	PublishedTime string // RFC 3339 when the page's date could be read, else empty
	Lang          string // BCP 47 tag, e.g. "en", "ru-RU": the page's, or detected in a long text that contradicts it
	Excerpt       string // the page's summary, or the first paragraph
	Image         string // lead image URL, absolute
	HTML          string // readable HTML of the article body
	Text          string // plain text of the article body, paragraphs separated by blank lines
	WordCount     int    // words in Text (each Han/kana character counts as one)
}

// Extract finds the article in a page. body is the page as UTF-8 (a
// fetched Capture's Body); pageURL, the page's final URL, makes links and images
// absolute and may be nil.
//
// The article is readability's, pruned of the blocks that no second
// opinion (trafilatura, the page's schema.org articleBody) contains; see
// extract_combine.go. The metadata comes from the best source the page
// offers (metadata.go), with readability's guesses where it offers none.
//
// A page without a recognisable article is not an error: the Extraction
// then has metadata but no text, which DetectJunk reports as "empty". An
// error means the page could not be processed at all.
func Extract(body []byte, pageURL *url.URL) (ex *Extraction, err error) {
	// readability is a large port of browser code; one hostile page must not
	// take the whole batch down with it. (trafilatura's panics are caught
	// where it runs: they cost only its opinion.)
	defer func() {
		if r := recover(); r != nil {
			ex, err = nil, fmt.Errorf("extract: readability failed on this page: %v", r)
		}
	}()
	// The page is parsed here rather than by readability's own reader entry
	// point, which re-detects the charset of bytes that are already UTF-8
	// (and crashed on a real Korean page). The one tree serves all three
	// readers.
	doc, err := parse(body)
	if err != nil {
		return nil, err
	}
	ex, _, err = extractDocument(doc, pageURL)
	return ex, err
}

// extractDocument extracts a parsed page, which it modifies. It also
// returns the metadata with the source of each field.
func extractDocument(doc *html.Node, pageURL *url.URL) (*Extraction, pageMetadata, error) {
	if pageURL == nil {
		pageURL = &url.URL{}
	}
	// Metadata and the second opinion only read the tree; readability,
	// last, rewrites it.
	meta := readMetadata(doc, pageURL)
	second, secondErr := secondOpinion(doc, pageURL)
	p := readability.NewParser()
	art, err := p.ParseAndMutate(doc, pageURL)
	if err != nil {
		return nil, meta, fmt.Errorf("extract: %w", err)
	}
	if art.Node != nil {
		pruneUnconfirmed(art.Node, []string{meta.ArticleBody, second.text}, pageURL)
	}
	var op *opinion
	if secondErr == nil {
		op = &second
	}
	ex, err := finish(art, &meta, op, pageURL)
	return ex, meta, err
}

// finish renders readability's (possibly pruned) article and completes
// meta with readability's guesses, for Extract and ExtractBounded alike.
// second is trafilatura's opinion, nil when there is none (it failed, or
// it was not asked: ExtractBounded).
func finish(art readability.Article, meta *pageMetadata, second *opinion, pageURL *url.URL) (*Extraction, error) {
	ex := &Extraction{}
	if art.Node != nil {
		var b strings.Builder
		if err := html.Render(&b, art.Node); err != nil {
			return nil, fmt.Errorf("extract: render readable HTML: %w", err)
		}
		ex.HTML = b.String()
		ex.Text = paragraphs(render.InnerText(art.Node))
		ex.WordCount = countWords(ex.Text)
	}
	meta.fillFrom(art, pageURL)
	if meta.Excerpt.Value == "" {
		lead, _, _ := strings.Cut(ex.Text, "\n\n")
		meta.Excerpt = first(sourced{lead, fromArticleText})
	}
	if second != nil {
		meta.detectLang(*second)
	}
	meta.limit()
	ex.Title, ex.Byline, ex.SiteName = meta.Title.Value, meta.Byline.Value, meta.SiteName.Value
	ex.PublishedTime, ex.Lang = meta.PublishedTime.Value, meta.Lang.Value
	ex.Excerpt, ex.Image = meta.Excerpt.Value, meta.Image.Value
	return ex, nil
}

// paragraphs turns rendered inner text into paragraphs separated by one
// blank line: every non-blank line is a paragraph (block elements and <br>
// already end lines), trimmed, with no runs of blank lines.
func paragraphs(text string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimFunc(line, unicode.IsSpace)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(line)
	}
	return b.String()
}

// absoluteURL resolves a metadata URL (readability makes the article's
// links absolute, not the metadata's) against the page's URL.
func absoluteURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(u).String()
}

// countWords counts runs of letters and digits (joined by apostrophes and
// hyphens), counting each character
// of scripts written without spaces (Han, Hiragana, Katakana) as a word,
// the usual convention for their word counts.
func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
			n++
			in = false
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			if !in {
				n++
				in = true
			}
		case in && (r == '\'' || r == '’' || r == '-'):
			// don't, l’état, well-known: one word
		default:
			in = false
		}
	}
	return n
}
