package requisite

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/linkarc/linkarc/internal/srcset"
)

// maxNoscriptDepth bounds <noscript> within <noscript>: its text is
// tokenized again, once.
const maxNoscriptDepth = 1

// FromHTML lists the requisites of a page (see the package comment),
// resolved against its <base href> or else pageURL, each URL once:
// stylesheets first, in document order, then images, the lead image and
// the favicon, in document order. The second result reports whether a
// bound (Limits.MaxCSSURLs in an inline style) cut the list short. At
// most MaxListed requisites are listed, whatever the page holds; the
// caps on count and bytes are the pipeline's to apply (see Limits).
func FromHTML(page []byte, pageURL string, lim Limits) ([]Requisite, bool) {
	lim = lim.withDefaults()
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, false
	}
	s := &scan{lim: lim, base: base, seen: map[string]bool{}}
	if i := TagBomb(page, MaxTagAttributes); i >= 0 {
		page = page[:i] // the tokenizer would hold every attribute of that tag at once
	}
	s.tokens(page, 0)
	return append(s.sheets, s.others...)[:min(len(s.sheets)+len(s.others), MaxListed)], s.capped
}

type scan struct {
	lim     Limits
	base    *url.URL
	baseSet bool
	seen    map[string]bool
	sheets  []Requisite
	others  []Requisite
	capped  bool

	picture    int               // depth of open <picture> elements
	chosen     map[string]string // a <source> of the open picture matched: its srcset, sizes, width and height
	pictureImg bool              // the open picture's <img> was seen
	full       bool              // a list reached MaxListed
	inStyle    bool              // inside <style>
	styleBuf   []byte            // its text so far
}

func (s *scan) add(raw string, k Kind) {
	list := &s.others
	if k == Stylesheet {
		list = &s.sheets
	}
	if len(*list) >= MaxListed {
		s.full = true
		return
	}
	u, ok := resolve(s.base, raw)
	if !ok || s.seen[u] {
		return
	}
	s.seen[u] = true
	if k == Stylesheet {
		s.sheets = append(s.sheets, Requisite{URL: u, Kind: k})
	} else {
		s.others = append(s.others, Requisite{URL: u, Kind: k})
	}
}

func (s *scan) css(text []byte) {
	rs, capped := FromCSS(text, s.base.String(), s.lim)
	s.capped = s.capped || capped
	for _, r := range rs {
		s.add(r.URL, r.Kind)
	}
}

func (s *scan) tokens(page []byte, noscript int) {
	z := html.NewTokenizer(bytes.NewReader(page))
	z.SetMaxBuf(0)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if s.inStyle {
				if int64(len(s.styleBuf)) < s.lim.MaxCSSBytes {
					s.styleBuf = append(s.styleBuf, z.Text()...)
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Style:
				if s.inStyle {
					s.css(s.styleBuf)
					s.inStyle, s.styleBuf = false, nil
				}
			case atom.Picture:
				if s.picture > 0 {
					s.picture--
				}
				s.chosen = nil
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if !wanted[string(k)] {
					continue // a tag of a million attributes keeps a dozen
				}
				key := string(k)
				if _, dup := attrs[key]; !dup {
					// No URL, srcset or style worth reading is longer.
					attrs[key] = string(v[:min(int64(len(v)), s.lim.MaxCSSBytes)])
				}
			}
			if st, ok := attrs["style"]; ok && !s.full && strings.Contains(strings.ToLower(st), "url(") {
				rule := make([]byte, 0, len(st)+3)
				s.css(append(append(append(rule, "x{"...), st...), '}'))
			}
			s.element(a, attrs, tt == html.SelfClosingTagToken)
			if a == atom.Noscript && tt == html.StartTagToken {
				// The tokenizer reads <noscript> as raw text (scripting
				// on): read its markup as a reader without scripts gets it.
				if z.Next() == html.TextToken && noscript < maxNoscriptDepth {
					s.tokens(append([]byte(nil), z.Text()...), noscript+1)
				}
			}
		}
	}
}

func (s *scan) element(a atom.Atom, attrs map[string]string, selfClosing bool) {
	switch a {
	case atom.Base:
		if h, ok := attrs["href"]; ok && !s.baseSet {
			if u, err := s.base.Parse(strings.TrimSpace(h)); err == nil && u.IsAbs() {
				s.base, s.baseSet = u, true
			}
		}
	case atom.Link:
		rel := " " + strings.ToLower(strings.Join(strings.Fields(attrs["rel"]), " ")) + " "
		_, disabled := attrs["disabled"]
		switch {
		case strings.Contains(rel, " stylesheet ") && !strings.Contains(rel, " alternate ") && !disabled:
			s.add(attrs["href"], Stylesheet)
		case strings.Contains(rel, " icon "):
			s.add(attrs["href"], Icon)
		}
	case atom.Style:
		if !selfClosing {
			s.inStyle, s.styleBuf = true, nil
		}
	case atom.Meta:
		p := strings.ToLower(strings.TrimSpace(attrs["property"]))
		if p == "" {
			p = strings.ToLower(strings.TrimSpace(attrs["name"]))
		}
		if p == "og:image" || p == "og:image:url" || p == "og:image:secure_url" {
			s.add(attrs["content"], LeadImage)
		}
	case atom.Picture:
		if !selfClosing {
			s.picture++
			s.chosen = nil
			s.pictureImg = false
		}
	case atom.Source:
		if s.picture == 0 || s.chosen != nil || s.pictureImg {
			return // a <source> of <video>/<audio>, or after the one chosen or the <img>
		}
		set := lazyFirst(attrs, srcsetAttrs)
		if set == "" || !MediaMatches(attrs["media"]) || !supportedImage(attrs["type"]) {
			return
		}
		s.chosen = map[string]string{"srcset": set}
		for _, k := range []string{"sizes", "width", "height"} {
			if v, ok := attrs[k]; ok {
				s.chosen[k] = v
			}
		}
		if v := lazyFirst(attrs, sizesAttrs); v != "" {
			s.chosen["sizes"] = v
		}
	case atom.Img:
		if s.picture > 0 {
			s.pictureImg = true
			if s.chosen != nil {
				// The <img> takes the chosen source's srcset and sizes, as
				// the self-contained page shows it, and its width and
				// height when it has either (HTML "dimension attribute
				// source"). A source without sizes takes the img's when
				// those allow auto-sizes (HTML "parse a sizes attribute").
				a := map[string]string{}
				for k, v := range attrs {
					a[k] = v
				}
				for _, k := range append(slices.Clone(srcsetAttrs), sizesAttrs...) {
					delete(a, k)
				}
				a["srcset"] = s.chosen["srcset"]
				if v, ok := s.chosen["sizes"]; ok {
					a["sizes"] = v
				} else if own := attrs["sizes"]; srcset.SizeContained(own) {
					a["sizes"] = own
				}
				_, hasW := s.chosen["width"]
				_, hasH := s.chosen["height"]
				if hasW || hasH {
					a["width"] = s.chosen["width"]
				}
				// The browser chooses from the source alone: the img's
				// src is no candidate beside it (only a fallback).
				if u := srcset.Choose(srcset.Parse(a["srcset"]), a["sizes"], imageOf(a), "", srcset.Desktop); u != "" && !isData(u) {
					s.add(u, Image)
					return
				}
				attrs = a
			}
		}
		if u := ImageURL(attrs); u != "" {
			s.add(u, Image)
		}
	case atom.Script:
		if src := strings.TrimSpace(attrs["src"]); src != "" {
			s.add(src, Script)
		}
	case atom.Input:
		if strings.EqualFold(attrs["type"], "image") {
			s.add(attrs["src"], Image)
		}
	}
}

// The lazy-loading attributes that stand for src, srcset and sizes, in the
// order the self-contained page (archive/singlepage) reads them, the plain
// attribute last.
var (
	srcAttrs    = []string{"data-src", "data-lazy-src", "data-original", "data-lazy", "data-echo", "data-hi-res-src", "data-url", "src"}
	srcsetAttrs = []string{"data-srcset", "data-lazy-srcset", "data-original-set", "srcset"}
	sizesAttrs  = []string{"data-sizes", "sizes"}
)

// MaxTagAttributes bounds the attributes of one tag FromHTML reads: the
// HTML tokenizer holds a tag's attributes all at once (a 16 MiB tag of a
// million attributes took 245 MiB), so a page is read up to a tag that
// may have more (TagBomb), and no further.
const MaxTagAttributes = 100_000

// TagBomb returns the offset of the first tag of page that may have more
// than max attributes, or -1, in one pass that allocates nothing. It follows the HTML tokenizer's tag states
// (HTML §13.2.5.6–§13.2.5.40: a tag opens at "<" or "</" before a letter,
// attribute values may be quoted) and counts every place an attribute may
// start, so that it never counts fewer than the tokenizer would make; the
// contents of <script> and <style> are read as if they were markup, which
// can only count more.
func TagBomb(page []byte, max int) int {
	const (
		text = iota
		name
		between
		attr
		beforeValue
		quoted
		unquoted
	)
	state, start, n := text, 0, 0
	var quote byte
	isLetter := func(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
	for i := 0; i < len(page); i++ {
		c := page[i]
		switch state {
		case text:
			if c == '<' && i+1 < len(page) && (isLetter(page[i+1]) || page[i+1] == '/' && i+2 < len(page) && isLetter(page[i+2])) {
				state, start, n = name, i, 0
			}
			continue
		case name:
			switch {
			case c == '>':
				state = text
			case isSpace(c) || c == '/':
				state = between
			}
			continue
		case between:
			switch {
			case c == '>':
				state = text
			case c == '=':
				state = beforeValue
			case !isSpace(c) && c != '/':
				state = attr
				n++
			}
		case attr:
			switch {
			case c == '>':
				state = text
			case c == '=':
				state = beforeValue
			case isSpace(c) || c == '/':
				state = between
			}
		case beforeValue:
			switch {
			case c == '>':
				state = text
			case c == '"' || c == '\'':
				state, quote = quoted, c
			case !isSpace(c):
				state = unquoted
			}
		case quoted:
			if c == quote {
				state = between
			}
		case unquoted:
			switch {
			case c == '>':
				state = text
			case isSpace(c):
				state = between
			}
		}
		if n > max {
			return start
		}
	}
	return -1
}

// wanted are the attributes FromHTML reads; the others are not kept.
var wanted = func() map[string]bool {
	m := map[string]bool{"href": true, "rel": true, "disabled": true, "style": true, "property": true, "name": true,
		"content": true, "media": true, "type": true, "loading": true, "width": true, "height": true}
	for _, names := range [][]string{srcAttrs, srcsetAttrs, sizesAttrs} {
		for _, n := range names {
			m[n] = true
		}
	}
	return m
}()

// lazyFirst is the first of names with a value (placeholders, data: URIs,
// do not count for sources, nor does data-sizes="auto": lazysizes' own
// keyword, which its script turns into a width; sizes="auto" is HTML's,
// read by internal/srcset).
func lazyFirst(attrs map[string]string, names []string) string {
	for _, k := range names {
		v := strings.TrimSpace(attrs[k])
		if v == "" || strings.EqualFold(v, "auto") && k != "sizes" || isData(v) {
			continue
		}
		return v
	}
	return ""
}

// ImageURL is the image an <img> with these attributes shows to a reader
// whose browser runs the page's lazy-loading script, on the reference
// display: the lazy attributes (data-src, data-srcset, data-sizes and the
// like) in place of src, srcset and sizes, then the srcset candidate
// chosen with src as its 1x fallback (internal/srcset; sizes="auto" of a
// lazy image is its width attribute or inline style width). Placeholders
// (data: URIs) are never chosen.
func ImageURL(attrs map[string]string) string {
	src := lazyFirst(attrs, srcAttrs)
	set := lazyFirst(attrs, srcsetAttrs)
	if u := srcset.Choose(srcset.Parse(set), lazyFirst(attrs, sizesAttrs), imageOf(attrs), src, srcset.Desktop); u != "" && !isData(u) {
		return u
	}
	return src
}

// imageOf is what sizes="auto" needs of an img with these attributes.
func imageOf(attrs map[string]string) srcset.Image {
	return srcset.ImageOf(attrs["loading"], attrs["style"], attrs["width"], srcset.Desktop)
}

func isData(u string) bool {
	return len(u) >= 5 && strings.EqualFold(u[:5], "data:")
}

// supportedImage reports whether a <source type> is an image format a
// current desktop browser shows.
func supportedImage(t string) bool {
	t = strings.ToLower(strings.TrimSpace(t))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "", "image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/avif",
		"image/svg+xml", "image/apng", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon":
		return true
	}
	return false
}
