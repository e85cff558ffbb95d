// Package inert rewrites an archived HTML document, as an HTML parser
// builds it, so that a browser opening it contacts nobody and runs nothing.
// It is the one owner of those rules: the viewer applies them to every
// archived page it shows (raw.html, page.html), and archive/singlepage to
// the self-contained page it builds.
//
// The snapshot CSP of the viewer already stops every fetch and script, but
// Chromium acts on some markup before, or outside, the policy's reach: it
// resolves and connects for <link rel=preconnect> and <link
// rel=dns-prefetch>, and resolves and connects for frames before their
// navigation is refused. The viewer's browser test (TestBrowser) counted 48
// DNS questions and 24 TCP connections for one hostile page opened
// directly, 54 and 26 in the viewer's sandboxed frame.
//
// The rewrite works on the document as an HTML parser builds it, with
// scripting disabled as in the sandbox (so <noscript> content is markup, as
// the browser sees it), never on the bytes with patterns: entity-encoded,
// upper-case, whitespace-padded or duplicated attributes, hints inside
// <noscript>, <template>, <svg> or <math>, are what the parser makes of
// them. Everything a browser acts on without script or a click goes:
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
//   - URL attributes whose value is a javascript: or vbscript: URL are
//     removed (they run nothing in a sandbox; a downloaded page has none);
//   - a <meta http-equiv="x-dns-prefetch-control" content="off"> is added.
//
// What stays is what the page looks like: its elements, text, inline
// styles, stylesheets and images (remote ones stay blocked by the viewer's
// CSP; self-contained pages carry theirs as data: URIs, which the CSP
// allows).
package inert

import (
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Version names the rewrite rules. The viewer puts it in the ETag of a
// rewritten snapshot, so that a change of rules is not answered with a 304.
const Version = "inert2"

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

// KeptLinkRel reports whether a <link rel> keyword (lower case) survives
// the rewrite.
func KeptLinkRel(kw string) bool { return linkRelKept[kw] }

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

// urlAttrs are attributes holding a URL that a click or the page itself
// would follow; a script URL in one of them is removed.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "xlink:href": true, "poster": true, "background": true,
	"cite": true, "data": true, "lowsrc": true, "dynsrc": true, "usemap": true, "codebase": true,
}

// Neutralise rewrites the tree under n in place (see the package comment),
// then adds the x-dns-prefetch-control meta when n is a document.
func Neutralise(n *html.Node) {
	neutralise(n)
	if n.Type == html.DocumentNode {
		addPrefetchOff(n)
	}
}

func neutralise(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			switch action(c) {
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

// action decides what happens to an element. Names are compared without
// regard to namespace: an <svg><link> or a <math><embed> gets the same
// treatment as the HTML element, whatever a browser makes of it.
func action(n *html.Node) verdict {
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
		if equiv, ok := Attr(n, "http-equiv"); ok && !strings.EqualFold(strings.TrimSpace(equiv), "content-type") {
			return remove
		}
	case "link":
		var kept []string
		rel, _ := Attr(n, "rel")
		for _, kw := range strings.FieldsFunc(strings.ToLower(rel), IsHTMLSpace) {
			if linkRelKept[kw] && !slices.Contains(kept, kw) {
				kept = append(kept, kw)
			}
		}
		if len(kept) == 0 {
			return remove
		}
		SetAttr(n, "rel", strings.Join(kept, " "))
	}
	return keep
}

// cleanAttrs drops the attributes a browser acts on (removedAttrs, event
// handlers, script URLs and what frames would load) and duplicated ones,
// and rewrites a meta charset declaration to the UTF-8 the document is now
// in.
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
			(name == "link" && (k == "imagesrcset" || k == "imagesizes")) ||
			(urlAttrs[k] && IsScriptURL(a.Val))
	})
	if name == "meta" {
		for i, a := range n.Attr {
			switch strings.ToLower(a.Key) {
			case "charset":
				n.Attr[i].Val = "utf-8"
			case "content":
				if equiv, _ := Attr(n, "http-equiv"); strings.EqualFold(strings.TrimSpace(equiv), "content-type") {
					n.Attr[i].Val = "text/html; charset=utf-8"
				}
			}
		}
	}
}

// IsScriptURL reports whether a URL attribute's value is a javascript: or
// vbscript: URL as a browser's URL parser reads it: leading and trailing C0
// controls and spaces trimmed, tabs and newlines anywhere ignored, the
// scheme in any case.
func IsScriptURL(v string) bool {
	v = strings.TrimLeft(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	if len(v) > 64 {
		v = v[:64]
	}
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	v = strings.ToLower(v)
	return strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:")
}

// addPrefetchOff puts <meta http-equiv="x-dns-prefetch-control"
// content="off"> at the start of the document's head (after its <meta
// charset>, which belongs first), next to the response header of the same
// name.
func addPrefetchOff(doc *html.Node) {
	head := FindElement(doc, atom.Head)
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
		if _, ok := Attr(first, "charset"); ok {
			head.InsertBefore(meta, first.NextSibling)
			return
		}
	}
	head.InsertBefore(meta, head.FirstChild)
}

// FindElement returns the first HTML element a under n, depth first.
func FindElement(n *html.Node, a atom.Atom) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == a && c.Namespace == "" {
			return c
		}
		if f := FindElement(c, a); f != nil {
			return f
		}
	}
	return nil
}

// Attr returns the value of n's attribute key (without regard to case),
// and whether it has one. The parser keeps the first of duplicated
// attributes, as browsers do.
func Attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

// SetAttr sets n's attribute key, adding it when missing.
func SetAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// IsHTMLSpace reports ASCII whitespace as HTML defines it (tab, LF, FF,
// CR, space): what separates the keywords of a rel attribute.
func IsHTMLSpace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\f' || r == '\r' || r == ' '
}
