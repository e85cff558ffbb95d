package viewer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// maxReadableBytes bounds the readable HTML or text shown on an article
// page; longer articles are cut with a note and a link to text.txt.
const maxReadableBytes = 2 << 20

// readablePolicy is the allow-list for readable.html. The archiver's
// extractor works on hostile pages and its output is not trusted: only text
// structure survives (paragraphs, headings, lists, quotes, tables, emphasis)
// and links to http(s) pages, which open without a referrer. Images,
// media, forms, styles, classes, ids and every event handler are dropped, so
// nothing on an article page can run or fetch.
func readablePolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
		"ul", "ol", "li", "dl", "dt", "dd", "blockquote", "q", "cite", "pre", "code",
		"em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "abbr",
		"figure", "figcaption", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
		"div", "span", "section", "article", "header", "footer", "time")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^[0-9]{1,3}$`)).OnElements("td", "th")
	p.AllowAttrs("datetime").Matching(regexp.MustCompile(`^[0-9T:+\-.Z ]{1,40}$`)).OnElements("time")
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).OnElements("abbr")
	return p
}

// readableBody is an article's text as shown on its page.
type readableBody struct {
	HTML       template.HTML // sanitized readable.html, when there is one
	Paragraphs []string      // text.txt split into paragraphs, when there is no HTML
	Truncated  bool          // the article was longer than maxReadableBytes
}

// loadReadable reads an article's readable.html and sanitizes it, falling
// back to text.txt. Neither existing is not an error (failed captures have
// neither); a store failure is.
func (s *Server) loadReadable(ctx context.Context, slug string) (readableBody, error) {
	var body readableBody
	rc, err := s.store.Get(ctx, record.ArticleKey(slug, record.ReadableFile))
	if err == nil {
		defer rc.Close()
		var out bytes.Buffer
		lr := &io.LimitedReader{R: rc, N: maxReadableBytes}
		if err := s.policy.SanitizeReaderToWriter(lr, &out); err != nil {
			return body, fmt.Errorf("read readable.html: %w", err)
		}
		body.Truncated = lr.N == 0 && moreToRead(rc)
		// The one place the viewer trusts HTML it did not write: the output
		// of the allow-list policy above.
		body.HTML = template.HTML(out.String())
		return body, nil
	}
	if !storage.IsNotExist(err) {
		return body, fmt.Errorf("open readable.html: %w", err)
	}
	rc, err = s.store.Get(ctx, record.ArticleKey(slug, record.TextFile))
	if storage.IsNotExist(err) {
		return body, nil
	}
	if err != nil {
		return body, fmt.Errorf("open text.txt: %w", err)
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: maxReadableBytes}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 64<<10), maxReadableBytes)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			body.Paragraphs = append(body.Paragraphs, strings.ToValidUTF8(line, "\uFFFD"))
		}
	}
	if err := sc.Err(); err != nil {
		return body, fmt.Errorf("read text.txt: %w", err)
	}
	body.Truncated = lr.N == 0 && moreToRead(rc)
	return body, nil
}

// moreToRead reports whether r has at least one more byte.
func moreToRead(r io.Reader) bool {
	var b [1]byte
	n, _ := io.ReadFull(r, b[:])
	return n > 0
}
