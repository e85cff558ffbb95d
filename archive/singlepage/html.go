package singlepage

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/linkarc/linkarc/internal/inert"
	"github.com/linkarc/linkarc/internal/srcset"
)

// documentBase is the URL the page's relative references resolve
// against: its first <base href>, else where it was received.
func documentBase(doc *html.Node, page *url.URL) *url.URL {
	if b := inert.FindElement(doc, atom.Base); b != nil {
		if href, ok := inert.Attr(b, "href"); ok {
			if u, err := page.Parse(strings.TrimSpace(href)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
				return u
			}
		}
	}
	return page
}

// rewriteDocument makes doc the self-contained page (see the package
// comment).
func (b *builder) rewriteDocument(doc *html.Node) {
	b.lazyImages(doc)
	b.walk(doc)
	inert.Neutralise(doc)
	setCharset(doc)
}

// lazyAttrs are the attributes lazy-loading scripts read the real image
// from, by the attribute they fill; the first present wins.
var lazyAttrs = []struct {
	target string
	from   []string
}{
	{"src", []string{"data-src", "data-lazy-src", "data-original", "data-lazy", "data-echo", "data-hi-res-src", "data-url"}},
	{"srcset", []string{"data-srcset", "data-lazy-srcset", "data-original-set"}},
	{"sizes", []string{"data-sizes"}},
}

// lazyImages puts lazy images as a reader with scripts saw them: their
// data-src and data-srcset in place of the placeholder, and <noscript>
// fallbacks used where the placeholder has no such attribute. Every other
// <noscript> goes: a reader with scripts never saw it.
func (b *builder) lazyImages(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type != html.ElementNode {
			c = next
			continue
		}
		switch c.DataAtom {
		case atom.Img, atom.Source:
			if unlazy(c) {
				b.unlazied[c] = true
			}
		case atom.Noscript:
			b.noscript(n, c)
			c = next
			continue
		}
		b.lazyImages(c)
		c = next
	}
}

// unlazy moves the lazy-loading attributes of an img or source to the
// attributes they stand for. It reports whether there were any.
func unlazy(n *html.Node) bool {
	found := false
	for _, la := range lazyAttrs {
		for _, from := range la.from {
			v, ok := inert.Attr(n, from)
			if !ok || strings.TrimSpace(v) == "" || (la.target == "sizes" && strings.EqualFold(strings.TrimSpace(v), "auto")) {
				continue
			}
			if la.target != "sizes" {
				found = true
			}
			inert.SetAttr(n, la.target, v)
			removeAttr(n, from)
			break
		}
	}
	return found // loading stays until img reads it (sizes="auto")
}

// noscript decides what becomes of a <noscript> (parsed as markup: the
// page is parsed without scripting) under parent. One that holds only
// images is the fallback of a lazy image: dropped when the image before it
// names its real source itself, else put in place of that placeholder, or
// in its own place when there is none. Any other is removed.
func (b *builder) noscript(parent, ns *html.Node) {
	onlyImages, hasImage := true, false
	for c := ns.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode && strings.TrimSpace(c.Data) == "":
		case c.Type == html.ElementNode && (c.DataAtom == atom.Img || c.DataAtom == atom.Picture):
			hasImage = true
		default:
			onlyImages = false
		}
	}
	if !onlyImages || !hasImage {
		parent.RemoveChild(ns)
		return
	}
	prev := ns.PrevSibling
	for prev != nil && prev.Type == html.TextNode && strings.TrimSpace(prev.Data) == "" {
		prev = prev.PrevSibling
	}
	if prev != nil && prev.Type == html.ElementNode && (prev.DataAtom == atom.Img || prev.DataAtom == atom.Picture) {
		if b.unlazied[prev] || (realSource(prev) && !lazyClass(prev)) {
			parent.RemoveChild(ns) // the script showed the image before it
			return
		}
		parent.RemoveChild(prev) // a placeholder the script would have replaced
	}
	for c := ns.FirstChild; c != nil; {
		next := c.NextSibling
		ns.RemoveChild(c)
		parent.InsertBefore(c, ns)
		b.lazyImages(c)
		c = next
	}
	parent.RemoveChild(ns)
}

// realSource reports whether an img (or a picture's) names a real image
// rather than a placeholder: a srcset, or a src that is not a data: URI.
func realSource(n *html.Node) bool {
	if n.DataAtom == atom.Picture {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Img && realSource(c) {
				return true
			}
		}
		return false
	}
	if v, ok := inert.Attr(n, "srcset"); ok && strings.TrimSpace(v) != "" {
		return true
	}
	v, ok := inert.Attr(n, "src")
	v = strings.TrimSpace(v)
	return ok && v != "" && !hasScheme(v, "data") && !strings.Contains(strings.ToLower(v), "placeholder") &&
		!strings.Contains(strings.ToLower(v), "blank.gif") && !strings.Contains(strings.ToLower(v), "spacer.gif")
}

// lazyClass reports whether an element's class names it lazy ("lazy",
// "lazyload", "lazy-image"…): a placeholder whatever its src.
func lazyClass(n *html.Node) bool {
	if n.DataAtom == atom.Picture {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Img && lazyClass(c) {
				return true
			}
		}
	}
	class, _ := inert.Attr(n, "class")
	return strings.Contains(strings.ToLower(class), "lazy")
}

// walk rewrites the elements under n.
func (b *builder) walk(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if b.ctx.Err() != nil {
			return
		}
		if c.Type != html.ElementNode {
			c = next
			continue
		}
		if !b.element(n, c) {
			c = next
			continue
		}
		b.walk(c)
		c = next
	}
}

// element rewrites one element under parent; false when it was removed or
// replaced (and needs no walk).
func (b *builder) element(parent, n *html.Node) bool {
	if n.Namespace == "svg" {
		if strings.EqualFold(n.Data, "style") {
			b.styleElement(n)
			return false
		}
		b.svgElement(n)
		b.styleAttr(n)
		return true
	}
	if n.Namespace != "" {
		return true
	}
	switch n.DataAtom {
	case atom.Iframe, atom.Frame:
		parent.RemoveChild(n)
		return false
	case atom.Link:
		return b.link(parent, n)
	case atom.Style:
		b.styleElement(n)
		b.styleAttr(n)
		return false
	case atom.Picture:
		b.picture(n)
	case atom.Img:
		b.img(n)
	case atom.Input:
		if t, _ := inert.Attr(n, "type"); strings.EqualFold(strings.TrimSpace(t), "image") {
			b.imageAttr(n, "src")
		}
	case atom.Video, atom.Audio:
		b.imageAttr(n, "poster")
		removeAttr(n, "src")
	case atom.Source, atom.Track:
		if parent.DataAtom == atom.Video || parent.DataAtom == atom.Audio {
			removeAttr(n, "src")
		}
	case atom.Body, atom.Table, atom.Td, atom.Th, atom.Tr:
		b.imageAttr(n, "background")
	case atom.A, atom.Area:
		b.absolute(n, "href")
	case atom.Blockquote, atom.Q, atom.Del, atom.Ins:
		b.absolute(n, "cite")
	case atom.Form:
		removeAttr(n, "action")
	case atom.Meta:
		b.metaImage(n)
	}
	removeAttr(n, "integrity") // the bytes are the archive's; a hash check only gets in the way
	b.styleAttr(n)
	return true
}

// metaImage notes the page's lead image: its first og:image, else its
// first twitter:image.
func (b *builder) metaImage(n *html.Node) {
	prop, _ := inert.Attr(n, "property")
	name, _ := inert.Attr(n, "name")
	content, _ := inert.Attr(n, "content")
	var og bool
	switch {
	case strings.EqualFold(prop, "og:image"), strings.EqualFold(prop, "og:image:url"), strings.EqualFold(name, "og:image"):
		og = true
	case strings.EqualFold(name, "twitter:image"), strings.EqualFold(prop, "twitter:image"):
	default:
		return
	}
	abs, ok := resolve(b.base, content)
	if !ok || (b.leadImage != "" && !(og && !b.leadFromOG)) {
		return
	}
	b.leadImage, b.leadFromOG = abs, og
}

// link rewrites a <link>: a stylesheet becomes a <style>, an icon a data:
// URI, any other relation an absolute URL.
func (b *builder) link(parent, n *html.Node) bool {
	rel, _ := inert.Attr(n, "rel")
	kws := strings.FieldsFunc(strings.ToLower(rel), inert.IsHTMLSpace)
	href, _ := inert.Attr(n, "href")
	switch {
	case slices.Contains(kws, "stylesheet"):
		if slices.Contains(kws, "alternate") {
			parent.RemoveChild(n) // not applied unless a reader picks it
			return false
		}
		if b.overReferences() {
			parent.RemoveChild(n)
			return false
		}
		abs, ok := resolve(b.base, href)
		var sheet string
		if ok {
			sheet, ok = b.stylesheet(abs, 1, nil)
		}
		if !ok {
			parent.RemoveChild(n)
			return false
		}
		style := &html.Node{Type: html.ElementNode, DataAtom: atom.Style, Data: "style"}
		if v, ok := inert.Attr(n, "media"); ok {
			style.Attr = append(style.Attr, html.Attribute{Key: "media", Val: v})
		}
		style.AppendChild(&html.Node{Type: html.TextNode, Data: escapeStyleEnd(sheet)})
		parent.InsertBefore(style, n)
		parent.RemoveChild(n)
		return false
	case slices.ContainsFunc(kws, func(k string) bool {
		return k == "icon" || k == "apple-touch-icon" || k == "apple-touch-icon-precomposed" || k == "mask-icon"
	}):
		if !b.imageAttr(n, "href") {
			parent.RemoveChild(n)
			return false
		}
	default:
		b.absolute(n, "href")
	}
	return true
}

// styleElement rewrites the stylesheet a <style> element holds.
func (b *builder) styleElement(n *html.Node) {
	var text strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			text.WriteString(c.Data)
		}
	}
	for n.FirstChild != nil {
		n.RemoveChild(n.FirstChild)
	}
	out := b.rewriteCSS(text.String(), b.base, 1, false, nil)
	n.AppendChild(&html.Node{Type: html.TextNode, Data: escapeStyleEnd(out)})
}

// styleAttr rewrites the url()s of a style attribute.
func (b *builder) styleAttr(n *html.Node) {
	for i, a := range n.Attr {
		if strings.EqualFold(a.Key, "style") && a.Namespace == "" && strings.Contains(strings.ToLower(a.Val), "url") ||
			strings.EqualFold(a.Key, "style") && strings.Contains(strings.ToLower(a.Val), "image-set") {
			n.Attr[i].Val = b.rewriteCSS(a.Val, b.base, 1, true, nil)
		}
	}
}

// picture reduces a <picture> to its <img>, with the source a 1280-px
// desktop would load (the first <source> whose media matches and whose
// type an image decoder knows) as its srcset and sizes, and its width and
// height when it has them.
func (b *builder) picture(n *html.Node) {
	var img *html.Node
	var chosen *html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.DataAtom {
		case atom.Img:
			if img == nil {
				img = c
			}
		case atom.Source:
			if chosen != nil || img != nil {
				continue
			}
			media, _ := inert.Attr(c, "media")
			typ, _ := inert.Attr(c, "type")
			if set, _ := inert.Attr(c, "srcset"); strings.TrimSpace(set) != "" && srcset.MediaMatches(media, srcset.Desktop) && knownImageType(typ) {
				chosen = c
			}
		}
	}
	if img != nil && chosen != nil {
		set, _ := inert.Attr(chosen, "srcset")
		inert.SetAttr(img, "srcset", set)
		b.fromSource[img] = true
		// The img's own sizes, when it gives size containment, stays
		// for img to write back: the containment follows the img's
		// attribute, whatever sizes the source brings.
		own, hasOwn := inert.Attr(img, "sizes")
		if hasOwn && srcset.SizeContained(own) {
			b.autoSized[img] = own
		}
		// A source without sizes takes the img's when those allow
		// auto-sizes (HTML "parse a sizes attribute"; so does Chromium).
		if sizes, ok := inert.Attr(chosen, "sizes"); ok {
			inert.SetAttr(img, "sizes", sizes)
		} else if !hasOwn || !srcset.SizeContained(own) {
			removeAttr(img, "sizes")
		}
		// The selected source's width and height, when it has either, are
		// the image's dimension attributes (HTML "dimension attribute
		// source").
		w, hasW := inert.Attr(chosen, "width")
		h, hasH := inert.Attr(chosen, "height")
		if hasW || hasH {
			removeAttr(img, "width")
			removeAttr(img, "height")
			if hasW {
				inert.SetAttr(img, "width", w)
			}
			if hasH {
				inert.SetAttr(img, "height", h)
			}
		}
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode && c.DataAtom == atom.Source {
			n.RemoveChild(c)
		}
		c = next
	}
}

// knownImageType reports whether a <source type> is one Chromium decodes
// ("" is).
func knownImageType(t string) bool {
	t = strings.ToLower(strings.TrimSpace(t))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "", "image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/avif", "image/svg+xml", "image/apng", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon":
		return true
	}
	return false
}

// img gives an <img> the data: URI of the candidate a 1280-px desktop
// loads, or, when the archive does not hold that one, of another candidate
// it holds; without any, the image loses its source.
//
// A candidate keeps its descriptor, so that the image renders at the size
// it did live: a browser divides an image's natural width by the density
// of the candidate it picked (HTML "update the source set", "density-
// corrected natural width"), so an 800w candidate in a 640-px slot
// (sizes="50vw" at 1280 px) shows 640 px wide, and a 2x candidate at half
// its width. Such a candidate becomes a one-candidate srcset (srcset="data:…
// 800w" with the sizes kept, or srcset="data:… 2x"), with no src: the data:
// URI is written once. A candidate of density 1 (a plain src, a 1x, a
// descriptor-less one) becomes the src.
//
// sizes="auto" takes a lazy image's width from its markup
// (internal/srcset). The page loses loading="lazy" (a lazy image out of
// view would not load until scrolled to, data: URI or not), and Chromium
// reads auto on an image that is not lazy as 100vw, so what is written is
// chosen for the box: a sizes attribute that gave the image size
// containment (srcset.SizeContained: a 300×150 box unless its width and
// height are set, whatever image it shows) stays as it was, on every
// image, since without it the box would change; any other sizes that
// names auto becomes the slot width worked out here ("300px"), which
// gives the candidate the density it had live.
func (b *builder) img(n *html.Node) {
	src, _ := inert.Attr(n, "src")
	set, _ := inert.Attr(n, "srcset")
	sizes, hasSizes := inert.Attr(n, "sizes")
	loading, _ := inert.Attr(n, "loading")
	style, _ := inert.Attr(n, "style")
	width, _ := inert.Attr(n, "width")
	image := srcset.ImageOf(loading, style, width, srcset.Desktop)
	// The containment follows the img's own attribute: a picture's img
	// has the selected source's by now.
	contained, isContained := b.autoSized[n]
	if !b.fromSource[n] && hasSizes && srcset.SizeContained(sizes) {
		contained, isContained = sizes, true
	}
	written, hasWritten := sizes, hasSizes
	switch {
	case isContained:
		written, hasWritten = contained, true
	case srcset.HasAuto(sizes):
		written = strconv.FormatFloat(srcset.SlotWidth(sizes, image, srcset.Desktop), 'f', -1, 64) + "px"
	}
	cands := srcset.Parse(set)
	src = strings.TrimSpace(src)
	// The references to try, in order, each with the candidate it is (nil
	// for a src that is none, which is a 1x).
	type try struct {
		ref  string
		cand *srcset.Candidate
	}
	byURL := func(u string) *srcset.Candidate {
		for i := range cands {
			if cands[i].URL == u {
				return &cands[i]
			}
		}
		return nil
	}
	// The src is a candidate of its own unless a <picture>'s source gave
	// the srcset (a browser then chooses from that source alone); it stays
	// a fallback either way.
	fallback := src
	if b.fromSource[n] {
		fallback = ""
	}
	var order []try
	if best := srcset.Choose(cands, sizes, image, fallback, srcset.Desktop); best != "" {
		order = append(order, try{best, byURL(best)})
	}
	if src != "" {
		order = append(order, try{src, byURL(src)})
	}
	for i := len(cands) - 1; i >= 0; i-- { // then the largest first
		order = append(order, try{cands[i].URL, &cands[i]})
	}
	removeAttr(n, "src")
	removeAttr(n, "srcset")
	removeAttr(n, "sizes")
	removeAttr(n, "loading")
	if isContained {
		inert.SetAttr(n, "sizes", contained) // its box, whatever it shows
	}
	seen := map[string]bool{}
	for _, t := range order {
		if seen[t.ref] {
			continue
		}
		seen[t.ref] = true
		uri, ok := t.ref, true
		if !hasScheme(t.ref, "data") {
			uri, ok = b.embed(b.base, t.ref, kindImage)
		}
		if ok {
			setImageSource(n, uri, t.cand, written, hasWritten)
			return
		}
		if len(seen) >= 4 {
			break
		}
	}
}

// setImageSource gives img n the image uri, a candidate cand of its srcset
// (nil for its src) whose sizes attribute was sizes: as a one-candidate
// srcset keeping the candidate's descriptor, or as its src when the
// candidate is of density 1 (see img).
func setImageSource(n *html.Node, uri string, cand *srcset.Candidate, sizes string, hasSizes bool) {
	// A srcset URL ends at whitespace, and loses trailing commas: a data:
	// URI with either (a page's own, an SVG fragment "…#a,") is a src.
	plain := strings.ContainsFunc(uri, inert.IsHTMLSpace) || strings.HasSuffix(uri, ",")
	switch {
	case cand == nil || plain:
	case cand.Width > 0:
		inert.SetAttr(n, "srcset", uri+" "+strconv.Itoa(cand.Width)+"w")
		if hasSizes {
			inert.SetAttr(n, "sizes", sizes)
		}
		return
	case cand.Density > 0 && cand.Density != 1:
		inert.SetAttr(n, "srcset", uri+" "+strconv.FormatFloat(cand.Density, 'g', -1, 64)+"x")
		return
	}
	inert.SetAttr(n, "src", uri)
}

// imageAttr replaces the URL in attribute key by the data: URI of the
// image the archive holds, or removes the attribute; it reports whether
// the image is embedded.
func (b *builder) imageAttr(n *html.Node, key string) bool {
	v, ok := inert.Attr(n, key)
	if !ok {
		return false
	}
	v = strings.TrimSpace(v)
	if hasScheme(v, "data") {
		return true
	}
	if uri, ok := b.embed(b.base, v, kindImage); ok {
		inert.SetAttr(n, key, uri)
		return true
	}
	removeAttr(n, key)
	return false
}

// svgElement rewrites the references of SVG elements: <image> and
// <feImage> embed their image; <use> keeps only references into the page.
func (b *builder) svgElement(n *html.Node) {
	switch strings.ToLower(n.Data) {
	case "image", "feimage":
		for i := 0; i < len(n.Attr); i++ {
			a := n.Attr[i]
			if strings.EqualFold(a.Key, "href") {
				v := strings.TrimSpace(a.Val)
				if hasScheme(v, "data") {
					continue
				}
				if uri, ok := b.embed(b.base, v, kindImage); ok {
					n.Attr[i].Val = uri
					continue
				}
				n.Attr = slices.Delete(n.Attr, i, i+1)
				i--
			}
		}
	case "use", "a":
		for i := 0; i < len(n.Attr); i++ {
			a := n.Attr[i]
			if !strings.EqualFold(a.Key, "href") {
				continue
			}
			v := strings.TrimSpace(a.Val)
			if strings.ToLower(n.Data) == "a" {
				if abs, ok := resolveLink(b.base, v); ok {
					n.Attr[i].Val = abs
				}
				continue
			}
			if !strings.HasPrefix(v, "#") {
				n.Attr = slices.Delete(n.Attr, i, i+1)
				i--
			}
		}
	}
}

// absolute makes the URL in attribute key absolute, resolved against the
// page's base; a reference into the page itself (#…) stays as it is.
func (b *builder) absolute(n *html.Node, key string) {
	for i, a := range n.Attr {
		if strings.EqualFold(a.Key, key) && a.Namespace == "" {
			if abs, ok := resolveLink(b.base, a.Val); ok {
				n.Attr[i].Val = abs
			}
		}
	}
}

// resolveLink resolves a link's target: absolute, except a fragment of
// the page itself.
func resolveLink(base *url.URL, v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.HasPrefix(v, "#") {
		return "", false
	}
	u, err := base.Parse(v)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// removeAttr removes every attribute named key (any case, no namespace).
func removeAttr(n *html.Node, key string) {
	n.Attr = slices.DeleteFunc(n.Attr, func(a html.Attribute) bool {
		return a.Namespace == "" && strings.EqualFold(a.Key, key)
	})
}

// setCharset makes the document say it is UTF-8: every charset
// declaration goes and <meta charset="utf-8"> comes first in <head>.
func setCharset(doc *html.Node) {
	head := inert.FindElement(doc, atom.Head)
	if head == nil {
		return
	}
	var drop []*html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Meta && c.Namespace == "" {
				if _, ok := inert.Attr(c, "charset"); ok {
					drop = append(drop, c)
				} else if equiv, _ := inert.Attr(c, "http-equiv"); strings.EqualFold(strings.TrimSpace(equiv), "content-type") {
					drop = append(drop, c)
				}
			}
			find(c)
		}
	}
	find(doc)
	for _, d := range drop {
		d.Parent.RemoveChild(d)
	}
	head.InsertBefore(&html.Node{Type: html.ElementNode, DataAtom: atom.Meta, Data: "meta",
		Attr: []html.Attribute{{Key: "charset", Val: "utf-8"}}}, head.FirstChild)
}
