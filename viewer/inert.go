package viewer

import (
	"bufio"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
)

// An archived page is shown rewritten so that a browser opening it contacts
// nobody (issue 10 item 4). The snapshot CSP (snapshotCSP) already stops
// every fetch and script, but Chromium acts on some markup before, or
// outside, the policy's reach: it resolves and connects for
// <link rel=preconnect> and <link rel=dns-prefetch>, and resolves and
// connects for frames before their navigation is refused. The browser test
// (TestBrowser) counted 48 DNS questions and 24 TCP connections for one
// hostile page opened directly, 54 and 26 in the viewer's sandboxed frame.
//
// The rewrite works on the document as an HTML parser builds it, with
// scripting disabled as in the sandbox (so <noscript> content is markup,
// as the browser sees it), never on the bytes with patterns: entity-encoded,
// upper-case, whitespace-padded or duplicated attributes, hints inside
// <noscript>, <template>, <svg> or <math>, are what the parser makes of them.
// Everything a browser acts on without script or a click goes:
//
//   - <link> keeps only the rel keywords in linkRelKept (stylesheets, icons
//     and plain relations); a link left with none is removed, so preconnect,
//     dns-prefetch, prefetch, preload, prerender, modulepreload,
//     compression-dictionary, manifest, search and keywords not invented yet
//     are gone in every spelling;
//   - frames and embedded documents lose what they would load: iframe and
//     frame their src, srcdoc and longdesc; object is replaced by its
//     fallback content; embed, applet, portal and fencedframe are removed;
//   - <meta http-equiv> other than Content-Type (refresh, Link, set-cookie,
//     Accept-CH, origin-trial, x-dns-prefetch-control…), <base>, <script>
//     (speculation rules included), ping, attributionsrc, form actions,
//     event handlers and the manifest attribute are removed;
//   - a <meta http-equiv="x-dns-prefetch-control" content="off"> is added.
//
// What stays is what the page looks like: its elements, text, inline styles,
// stylesheets and images (remote ones stay blocked by the CSP; issue 11's
// self-contained pages carry theirs as data: URIs, which the CSP allows).
// The document is re-encoded as UTF-8.

// maxInertBytes bounds the snapshots the viewer rewrites and shows inline:
// the parse tree takes several times the document's size in memory. It is
// the archiver's default --max-body, so every page archived with the
// defaults is shown; a larger one gets a short notice (inertTooLarge) and
// stays available for download as archived.
const maxInertBytes = 16 << 20

// rewriteBudget bounds the bytes of archived HTML being rewritten at once,
// and so the memory the rewrites take: one page of maxInertBytes, or many
// ordinary ones (a news page is 50 KiB to 2 MiB). Measured, the parse tree
// of a 16 MiB page takes 16 MiB (plain text) to 358 MiB (the most
// node-dense hostile page found: <a><p></a> repeated), 143 MiB for 16 MiB
// of links.
const rewriteBudget = maxInertBytes

// inertVersion names the rewrite rules; it is part of the ETag of a
// rewritten snapshot, so that a change of rules is not answered with a 304.
const inertVersion = "inert1"

// linkRelKept are the <link rel> keywords that survive (lower case): they
// fetch nothing a CSP does not govern, or nothing at all. Any other keyword
// is dropped.
var linkRelKept = map[string]bool{
	"stylesheet": true, "alternate": true,
	"icon": true, "shortcut": true, "apple-touch-icon": true, "apple-touch-icon-precomposed": true, "mask-icon": true,
	"canonical": true, "author": true, "license": true, "help": true, "bookmark": true, "tag": true, "me": true,
	"next": true, "prev": true, "first": true, "last": true, "up": true, "index": true, "archives": true,
	"shortlink": true, "amphtml": true, "edit": true, "nofollow": true, "noopener": true, "noreferrer": true,
}

// removedAttrs are dropped from every element, in any namespace.
var removedAttrs = map[string]bool{
	"srcdoc":         true, // a whole document for an iframe
	"ping":           true, // a POST to each URL on a click
	"attributionsrc": true, // Attribution Reporting: a background request
	"action":         true, // form submission target
	"formaction":     true,
	"manifest":       true, // application cache (<html manifest>)
}

// frameAttrs are dropped from iframe and frame: what they would load.
var frameAttrs = map[string]bool{"src": true, "srcdoc": true, "longdesc": true}

// inertDocument parses the archived HTML document read from r and rewrites
// it as described above. label is the charset the capture was received with
// ("" if unknown); as in a browser, a byte order mark wins over it, and
// without it a <meta charset> in the first 1024 bytes is used. It reads at
// most maxInertBytes of r: the caller finds out whether there was more.
func inertDocument(r io.Reader, label string) (*html.Node, error) {
	ctype := "text/html"
	if label != "" {
		ctype = mime.FormatMediaType("text/html", map[string]string{"charset": label})
	}
	br := bufio.NewReaderSize(io.LimitReader(r, maxInertBytes), 4096)
	head, _ := br.Peek(1024)
	enc, _, _ := charset.DetermineEncoding(head, ctype)
	doc, err := html.ParseWithOptions(enc.NewDecoder().Reader(br), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, fmt.Errorf("parse snapshot: %w", err)
	}
	neutralise(doc)
	addPrefetchOff(doc)
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

// neutralise rewrites the tree under n in place (see the comment above).
func neutralise(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			switch inertAction(c) {
			case remove:
				n.RemoveChild(c)
				c = next
				continue
			case unwrap:
				// The children take the element's place, and are then
				// visited in turn; <param> goes.
				var moved *html.Node
				for gc := c.FirstChild; gc != nil; {
					gnext := gc.NextSibling
					c.RemoveChild(gc)
					if gc.Type != html.ElementNode || !strings.EqualFold(gc.Data, "param") {
						n.InsertBefore(gc, c)
						if moved == nil {
							moved = gc
						}
					}
					gc = gnext
				}
				n.RemoveChild(c)
				if moved != nil {
					next = moved
				}
				c = next
				continue
			}
			cleanAttrs(c)
		}
		neutralise(c)
		c = next
	}
}

type verdict int

const (
	keep   verdict = iota
	remove         // the element and everything in it
	unwrap         // the element, keeping its content in its place
)

// inertAction decides what happens to an element. Names are compared without
// regard to namespace: an <svg><link> or a <math><embed> gets the same
// treatment as the HTML element, whatever a browser makes of it.
func inertAction(n *html.Node) verdict {
	switch strings.ToLower(n.Data) {
	case "script", "base", "embed", "applet", "portal", "fencedframe":
		return remove
	case "object":
		// What a browser shows when the object cannot load; <param> goes.
		return unwrap
	case "noscript":
		// Scripts never run in a snapshot, so <noscript> content is shown.
		// Unwrapped, its text is escaped when rendered: html.Render writes a
		// <noscript>'s text unescaped (right for a scripting browser), which
		// a browser without scripts would parse as markup.
		return unwrap
	case "meta":
		if equiv, ok := nodeAttr(n, "http-equiv"); ok && !strings.EqualFold(strings.TrimSpace(equiv), "content-type") {
			return remove
		}
	case "link":
		var kept []string
		rel, _ := nodeAttr(n, "rel")
		for _, kw := range strings.FieldsFunc(strings.ToLower(rel), isHTMLSpace) {
			if linkRelKept[kw] && !slices.Contains(kept, kw) {
				kept = append(kept, kw)
			}
		}
		if len(kept) == 0 {
			return remove
		}
		setNodeAttr(n, "rel", strings.Join(kept, " "))
	}
	return keep
}

// cleanAttrs drops the attributes a browser acts on (removedAttrs, event
// handlers, and what frames would load) and duplicated ones, and rewrites a meta charset
// declaration to the UTF-8 the document is now in.
func cleanAttrs(n *html.Node) {
	name := strings.ToLower(n.Data)
	seen := make(map[string]bool, len(n.Attr))
	n.Attr = slices.DeleteFunc(n.Attr, func(a html.Attribute) bool {
		k := strings.ToLower(a.Key)
		if a.Namespace != "" {
			k = a.Namespace + ":" + k
		}
		if seen[k] {
			return true // a duplicate: browsers keep the first
		}
		seen[k] = true
		return removedAttrs[k] || strings.HasPrefix(k, "on") ||
			((name == "iframe" || name == "frame") && frameAttrs[k]) ||
			(name == "link" && (k == "imagesrcset" || k == "imagesizes"))
	})
	if name == "meta" {
		for i, a := range n.Attr {
			switch strings.ToLower(a.Key) {
			case "charset":
				n.Attr[i].Val = "utf-8"
			case "content":
				if equiv, _ := nodeAttr(n, "http-equiv"); strings.EqualFold(strings.TrimSpace(equiv), "content-type") {
					n.Attr[i].Val = "text/html; charset=utf-8"
				}
			}
		}
	}
}

// addPrefetchOff puts <meta http-equiv="x-dns-prefetch-control"
// content="off"> at the start of the document's head (after its <meta
// charset>, which belongs first), next to the response header of the same
// name.
func addPrefetchOff(doc *html.Node) {
	head := findElement(doc, atom.Head)
	if head == nil {
		return // html.Parse always makes one
	}
	meta := &html.Node{Type: html.ElementNode, DataAtom: atom.Meta, Data: "meta", Attr: []html.Attribute{
		{Key: "http-equiv", Val: "x-dns-prefetch-control"}, {Key: "content", Val: "off"}}}
	first := head.FirstChild
	for first != nil && first.Type != html.ElementNode {
		first = first.NextSibling
	}
	if first != nil && first.DataAtom == atom.Meta {
		if _, ok := nodeAttr(first, "charset"); ok {
			head.InsertBefore(meta, first.NextSibling)
			return
		}
	}
	head.InsertBefore(meta, head.FirstChild)
}

// findElement returns the first HTML element a under n, depth first.
func findElement(n *html.Node, a atom.Atom) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == a && c.Namespace == "" {
			return c
		}
		if f := findElement(c, a); f != nil {
			return f
		}
	}
	return nil
}

// nodeAttr returns the value of n's attribute key (lower case), and whether it
// has one. The parser keeps the first of duplicated attributes, as browsers
// do.
func nodeAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func setNodeAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// isHTMLSpace reports ASCII whitespace as HTML defines it (tab, LF, FF, CR,
// space): what separates the keywords of a rel attribute.
func isHTMLSpace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\f' || r == '\r' || r == ' '
}
