package requisite

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxNoscriptDepth bounds <noscript> within <noscript>: its text is
// tokenized again, once.
const maxNoscriptDepth = 1

// FromHTML lists the requisites of a page (see the package comment),
// resolved against its <base href> or else pageURL, each URL once:
// stylesheets first, in document order, then images, the lead image and
// the favicon, in document order. The second result reports whether a
// bound (Limits.MaxCSSURLs in an inline style) cut the list short. The
// caps on count and bytes are the fetcher's to apply (see Limits).
func FromHTML(page []byte, pageURL string, lim Limits) ([]Requisite, bool) {
	lim = lim.withDefaults()
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, false
	}
	s := &scan{lim: lim, base: base, seen: map[string]bool{}}
	s.tokens(page, 0)
	return append(s.sheets, s.others...), s.capped
}

type scan struct {
	lim     Limits
	base    *url.URL
	baseSet bool
	seen    map[string]bool
	sheets  []Requisite
	others  []Requisite
	capped  bool

	picture  int    // depth of open <picture> elements
	chosen   string // a <source> of the open picture matched: its candidate
	inStyle  bool   // inside <style>
	styleBuf []byte // its text so far
}

func (s *scan) add(raw string, k Kind) {
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
				s.chosen = ""
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := string(k)
				if _, dup := attrs[key]; !dup {
					attrs[key] = string(v)
				}
			}
			if st, ok := attrs["style"]; ok && strings.Contains(strings.ToLower(st), "url(") {
				s.css([]byte("x{" + st + "}"))
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
			s.chosen = ""
		}
	case atom.Source:
		if s.picture == 0 || s.chosen != "" {
			return // a <source> of <video>/<audio>, or after the one chosen
		}
		set := first(attrs["data-srcset"], attrs["srcset"])
		if set == "" || !MediaMatches(attrs["media"]) || !supportedImage(attrs["type"]) {
			return
		}
		s.chosen = Choose(set, attrs["sizes"])
	case atom.Img:
		if s.picture > 0 && s.chosen != "" {
			s.add(s.chosen, Image)
			return
		}
		if u := ImageURL(attrs); u != "" {
			s.add(u, Image)
		}
	case atom.Input:
		if strings.EqualFold(attrs["type"], "image") {
			s.add(attrs["src"], Image)
		}
	}
}

// ImageURL is the image an <img> with these attributes shows to a reader
// whose browser runs the page's lazy-loading script, on the reference
// display: the srcset candidate (data-srcset before srcset), else the
// lazy source (data-src, data-lazy-src, data-original) before src.
// Placeholders (data: URIs) are never chosen over a real URL.
func ImageURL(attrs map[string]string) string {
	sizes := attrs["sizes"]
	if v := attrs["data-sizes"]; v != "" && v != "auto" {
		sizes = v
	}
	for _, set := range []string{attrs["data-srcset"], attrs["data-lazy-srcset"], attrs["srcset"]} {
		if u := Choose(set, sizes); u != "" && !isData(u) {
			return u
		}
	}
	for _, k := range []string{"data-src", "data-lazy-src", "data-original", "src"} {
		if v := strings.TrimSpace(attrs[k]); v != "" && !isData(v) {
			return v
		}
	}
	return ""
}

func isData(u string) bool {
	return len(u) >= 5 && strings.EqualFold(u[:5], "data:")
}

func first(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
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
