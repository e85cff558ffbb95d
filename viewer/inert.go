package viewer

import (
	"bufio"
	"fmt"
	"io"
	"mime"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	inertrules "github.com/linkarc/linkarc/internal/inert"
	"github.com/linkarc/linkarc/storage/record"
)

// An archived page is shown rewritten so that a browser opening it contacts
// nobody (issue 10 item 4): the rules are package internal/inert's, shared
// with the self-contained pages of archive/singlepage. The document is
// re-encoded as UTF-8.

// maxInertBytes bounds the snapshots the viewer rewrites and shows inline:
// the parse tree takes several times the document's size in memory. It is
// the archiver's default --max-body, so every page archived with the
// defaults is shown; a larger one gets a short notice (inertTooLarge) and
// stays available for download as archived.
const maxInertBytes = 16 << 20

// maxInertPageBytes bounds the self-contained pages (page.html) shown
// inline: archive/singlepage's own limit on them (DefaultMaxBytes). Most of such a page is
// data: URIs, which the parse tree holds as one string each, so it takes
// far less memory per byte than a raw page of markup; it still counts
// against rewriteBudget (up to the whole of it).
const maxInertPageBytes = 64 << 20

// inertLimit is the largest object of the name that is shown inline.
func inertLimit(name string) int64 {
	if name == record.PageFile {
		return maxInertPageBytes
	}
	return maxInertBytes
}

// rewriteBudget bounds the bytes of archived HTML being rewritten at once,
// and so the memory the rewrites take: one page of maxInertBytes, or many
// ordinary ones (a news page is 50 KiB to 2 MiB). Measured, the parse tree
// of a 16 MiB page takes 16 MiB (plain text) to 358 MiB (the most
// node-dense hostile page found: <a><p></a> repeated), 143 MiB for 16 MiB
// of links.
const rewriteBudget = maxInertBytes

// inertVersion names the rewrite rules; it is part of the ETag of a
// rewritten snapshot, so that a change of rules is not answered with a 304.
const inertVersion = inertrules.Version

// inertDocument parses the archived HTML document read from r and rewrites
// it as described above. label is the charset the capture was received with
// ("" if unknown); as in a browser, a byte order mark wins over it, and
// without it a <meta charset> in the first 1024 bytes is used. It reads at
// most maxInertBytes of r: the caller finds out whether there was more.
func inertDocument(r io.Reader, label string) (*html.Node, error) {
	return inertDocumentMax(r, label, maxInertBytes)
}

// inertDocumentMax is inertDocument reading at most limit bytes.
func inertDocumentMax(r io.Reader, label string, limit int64) (*html.Node, error) {
	ctype := "text/html"
	if label != "" {
		ctype = mime.FormatMediaType("text/html", map[string]string{"charset": label})
	}
	br := bufio.NewReaderSize(io.LimitReader(r, limit), 4096)
	head, _ := br.Peek(1024)
	enc, _, _ := charset.DetermineEncoding(head, ctype)
	doc, err := html.ParseWithOptions(enc.NewDecoder().Reader(br), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, fmt.Errorf("parse snapshot: %w", err)
	}
	inertrules.Neutralise(doc)
	return doc, nil
}

// renderInert writes a document made by inertDocument as UTF-8 HTML.
func renderInert(w io.Writer, doc *html.Node) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := html.Render(bw, doc); err != nil {
		return fmt.Errorf("render snapshot: %w", err)
	}
	return bw.Flush()
}

// writeInert is inertDocument then renderInert.
func writeInert(w io.Writer, r io.Reader, label string) error {
	doc, err := inertDocument(r, label)
	if err != nil {
		return err
	}
	return renderInert(w, doc)
}

// findElement, nodeAttr and isHTMLSpace are internal/inert's.
func findElement(n *html.Node, a atom.Atom) *html.Node { return inertrules.FindElement(n, a) }
func nodeAttr(n *html.Node, key string) (string, bool) { return inertrules.Attr(n, key) }
func isHTMLSpace(r rune) bool                          { return inertrules.IsHTMLSpace(r) }
