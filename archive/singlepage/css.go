package singlepage

import (
	"bytes"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/linkarc/linkarc/archive/requisite"
	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"
	"golang.org/x/net/html"
	"golang.org/x/text/encoding/htmlindex"
)

// rewriteCSS rewrites a stylesheet (or, inline, the declarations of a
// style attribute) read at base: every url() and image-set() string
// becomes the data: URI of the resource the archive holds for it (or
// about:invalid), and every @import is replaced by the stylesheet it
// imports, rewritten in turn and wrapped in the @media, @supports and
// @layer blocks its conditions name, up to MaxCSSDepth levels. The
// tokenizer is tdewolff/parse's CSS lexer (CSS Syntax Level 3), so that
// comments, strings and escapes are what a browser makes of them.
func (b *builder) rewriteCSS(text string, base *url.URL, depth int, inline bool, chain []string) string {
	lx := css.NewLexer(parse.NewInputString(text))
	var out strings.Builder
	out.Grow(len(text))
	rulesSeen := false // a rule other than @charset, @import, @layer: later @imports are void
	imageSet := 0      // parenthesis depth inside image-set(), 0 outside
	parens := 0
	for {
		tt, data := lx.Next()
		if tt == css.ErrorToken {
			break
		}
		switch tt {
		case css.URLToken:
			out.WriteString(b.cssURL(requisite.URLTokenValue(data), base))
			continue
		case css.FunctionToken:
			parens++
			name := strings.ToLower(string(data))
			if imageSet == 0 && (name == "image-set(" || name == "-webkit-image-set(") {
				imageSet = parens
			}
		case css.LeftParenthesisToken:
			parens++
		case css.RightParenthesisToken:
			if parens == imageSet {
				imageSet = 0
			}
			if parens > 0 {
				parens--
			}
		case css.StringToken:
			if imageSet > 0 {
				out.WriteString(b.cssURL(requisite.StringTokenValue(data), base))
				continue
			}
		case css.AtKeywordToken:
			kw := strings.ToLower(string(data))
			if !inline && (kw == "@import" || kw == "@charset") {
				prelude, ok := readPrelude(lx)
				if !ok || kw == "@charset" {
					continue // an @charset says nothing in a UTF-8 page; a broken @import is void
				}
				if rulesSeen {
					continue // after a rule, an @import is ignored by browsers
				}
				out.WriteString(b.importRule(prelude, base, depth, chain))
				continue
			}
			if kw != "@layer" {
				rulesSeen = true
			}
		case css.WhitespaceToken, css.CommentToken, css.CDOToken, css.CDCToken, css.SemicolonToken:
		default:
			rulesSeen = true
		}
		out.Write(data)
	}
	return out.String()
}

// readPrelude reads the tokens of an at-rule up to its semicolon; false
// when a block or the end comes first.
func readPrelude(lx *css.Lexer) ([]token, bool) {
	var toks []token
	for {
		tt, data := lx.Next()
		switch tt {
		case css.ErrorToken:
			return toks, true // a rule the end of the sheet closes
		case css.SemicolonToken:
			return toks, true
		case css.LeftBraceToken:
			// Skip the block so that the rest of the sheet reads on.
			for depth := 1; depth > 0; {
				tt, _ := lx.Next()
				switch tt {
				case css.ErrorToken:
					return nil, false
				case css.LeftBraceToken:
					depth++
				case css.RightBraceToken:
					depth--
				}
			}
			return nil, false
		}
		if len(toks) < 1024 {
			toks = append(toks, token{tt, string(data)})
		}
	}
}

type token struct {
	tt   css.TokenType
	data string
}

// importRule returns what replaces an @import: the imported stylesheet,
// rewritten, inside the blocks its conditions name; "" when it is not to
// be had.
func (b *builder) importRule(prelude []token, base *url.URL, depth int, chain []string) string {
	i := 0
	for i < len(prelude) && (prelude[i].tt == css.WhitespaceToken || prelude[i].tt == css.CommentToken) {
		i++
	}
	if i == len(prelude) {
		return ""
	}
	var ref string
	switch prelude[i].tt {
	case css.URLToken:
		ref = requisite.URLTokenValue([]byte(prelude[i].data))
	case css.StringToken:
		ref = requisite.StringTokenValue([]byte(prelude[i].data))
	default:
		return ""
	}
	var layer, supports, media strings.Builder
	rest := prelude[i+1:]
	for j := 0; j < len(rest); j++ {
		t := rest[j]
		lower := strings.ToLower(t.data)
		switch {
		case t.tt == css.WhitespaceToken && strings.TrimSpace(media.String()) == "":
		case t.tt == css.IdentToken && lower == "layer" && media.Len() == 0:
			layer.WriteString("@layer")
		case t.tt == css.FunctionToken && (lower == "layer(" || lower == "supports(") && media.Len() == 0:
			inner, k := balanced(rest, j+1)
			if lower == "layer(" {
				layer.WriteString("@layer " + inner)
			} else {
				supports.WriteString("@supports (" + inner + ")")
			}
			j = k
		default:
			media.WriteString(t.data)
		}
	}
	if b.overReferences() {
		return ""
	}
	abs, ok := resolve(base, ref)
	if !ok {
		return ""
	}
	sheet, ok := b.stylesheet(abs, depth+1, chain)
	if !ok {
		return ""
	}
	var out strings.Builder
	closing := 0
	for _, open := range []string{layer.String(), supports.String()} {
		if open != "" {
			out.WriteString(open + "{")
			closing++
		}
	}
	if m := strings.TrimSpace(media.String()); m != "" && !strings.EqualFold(m, "all") {
		out.WriteString("@media " + m + "{")
		closing++
	}
	out.WriteString("\n" + sheet + "\n")
	out.WriteString(strings.Repeat("}", closing))
	return out.String()
}

// balanced returns the text of the tokens from i up to the parenthesis
// closing the function before i, and the index of that parenthesis.
func balanced(toks []token, i int) (string, int) {
	var s strings.Builder
	depth := 1
	for ; i < len(toks); i++ {
		switch toks[i].tt {
		case css.FunctionToken, css.LeftParenthesisToken:
			depth++
		case css.RightParenthesisToken:
			if depth--; depth == 0 {
				return s.String(), i
			}
		}
		s.WriteString(toks[i].data)
	}
	return s.String(), i
}

// cssURL returns the url() token for a reference in a stylesheet read at
// base.
func (b *builder) cssURL(ref string, base *url.URL) string {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "" || strings.HasPrefix(ref, "#"):
		// An empty url() loads nothing; url(#id) names an SVG element of
		// the page.
		return "url(" + quoteCSS(ref) + ")"
	case hasScheme(ref, "data"):
		return "url(" + quoteCSS(ref) + ")"
	}
	if uri, ok := b.embed(base, ref, kindAny); ok {
		return "url(" + uri + ")" // a data: URI of base64 needs no quotes
	}
	// CSS Values 4 §4.5.1: an empty url() resolves to an invalid resource,
	// like about:invalid, and is never longer than the reference it
	// replaces, so that what is left out never grows the page.
	return "url()"
}

// stylesheet returns the stylesheet the archive holds for abs, rewritten
// at nesting depth depth (1 for a sheet a page links, one more per
// @import); false when it is not to be had or over a limit. chain lists
// the sheets importing it, so that an @import cycle stops.
func (b *builder) stylesheet(abs string, depth int, chain []string) (string, bool) {
	key := urlKey(abs)
	for _, c := range chain {
		if c == key {
			b.stats.OverDepth++
			return "", false
		}
	}
	if depth > b.limits.MaxCSSDepth {
		b.stats.OverDepth++
		return "", false
	}
	res, ok := b.fetch(abs, true)
	if !ok {
		return "", false
	}
	c := b.cache[key]
	if !b.usableStylesheet(abs, res) {
		b.notUsable(c)
		return "", false
	}
	base, err := url.Parse(res.URL)
	if err != nil {
		return "", false
	}
	if c.text == "" && res.Body != nil {
		c.text = decodeCSS(res.Body, res.ContentType)
		res.Body = nil
	}
	text := c.text
	if !b.spend(len(text)) {
		return "", false
	}
	out := b.rewriteCSS(text, base, depth, false, append(chain, key))
	return out, true
}

// usableStylesheet reports whether a browser applies the stylesheet res,
// fetched for abs (a <link rel=stylesheet> or an @import), as Chromium
// and Firefox do: a sheet served with a Content-Type other than text/css
// is refused (HTML §4.6.7.21 "link type stylesheet": "If the resource's
// Content-Type metadata is not text/css, then set success to false"),
// unless the document is in quirks mode and the sheet is same-origin with
// it (HTML §2.2.1 quirks, "the Content-Type metadata of a same-origin
// stylesheet is ignored"). A response without a Content-Type is taken as
// text/css, the default type of the stylesheet keyword, and so is
// Chromium's "application/x-unknown-content-type".
func (b *builder) usableStylesheet(abs string, res *Resource) bool {
	mt, _, err := mime.ParseMediaType(res.ContentType)
	switch {
	case strings.TrimSpace(res.ContentType) == "", err == nil && (mt == "text/css" || mt == "application/x-unknown-content-type"):
		return true
	case !b.quirks || b.page == nil:
		return false
	}
	// Same origin all the way: as asked, and where redirects led.
	for _, s := range []string{abs, res.URL} {
		u, err := url.Parse(s)
		if err != nil || !sameOrigin(u, b.page) {
			return false
		}
	}
	return true
}

// sameOrigin compares the origins of two http(s) URLs (scheme, host,
// port, the port defaulting by scheme).
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// quirksMode reports whether a parsed document is in quirks mode, by its
// doctype as HTML's parser decides it (HTML §13.2.6.4.1, the "initial"
// insertion mode): no doctype, a name other than html, or a legacy public
// identifier (quirkyPublicIDs).
func quirksMode(doc *html.Node) bool {
	var dt *html.Node
	for c := doc.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.DoctypeNode {
			dt = c
			break
		}
		if c.Type == html.ElementNode {
			break
		}
	}
	if dt == nil || !strings.EqualFold(dt.Data, "html") {
		return true
	}
	var public, system string
	hasSystem := false
	for _, a := range dt.Attr {
		switch a.Key {
		case "public":
			public = strings.ToLower(a.Val)
		case "system":
			system, hasSystem = strings.ToLower(a.Val), true
		}
	}
	switch public {
	case "-//w3o//dtd w3 html strict 3.0//en//", "-/w3c/dtd html 4.0 transitional/en", "html":
		return true
	}
	if system == "http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd" {
		return true
	}
	for _, p := range quirkyPublicIDs {
		if strings.HasPrefix(public, p) {
			return true
		}
	}
	if !hasSystem && (strings.HasPrefix(public, "-//w3c//dtd html 4.01 frameset//") || strings.HasPrefix(public, "-//w3c//dtd html 4.01 transitional//")) {
		return true
	}
	return false
}

// quirkyPublicIDs are the public identifier prefixes that put a document
// in quirks mode (HTML §13.2.6.4.1), in lower case.
var quirkyPublicIDs = []string{
	"+//silmaril//dtd html pro v0r11 19970101//",
	"-//as//dtd html 3.0 aswedit + extensions//",
	"-//advasoft ltd//dtd html 3.0 aswedit + extensions//",
	"-//ietf//dtd html 2.0 level 1//",
	"-//ietf//dtd html 2.0 level 2//",
	"-//ietf//dtd html 2.0 strict level 1//",
	"-//ietf//dtd html 2.0 strict level 2//",
	"-//ietf//dtd html 2.0 strict//",
	"-//ietf//dtd html 2.0//",
	"-//ietf//dtd html 2.1e//",
	"-//ietf//dtd html 3.0//",
	"-//ietf//dtd html 3.2 final//",
	"-//ietf//dtd html 3.2//",
	"-//ietf//dtd html 3//",
	"-//ietf//dtd html level 0//",
	"-//ietf//dtd html level 1//",
	"-//ietf//dtd html level 2//",
	"-//ietf//dtd html level 3//",
	"-//ietf//dtd html strict level 0//",
	"-//ietf//dtd html strict level 1//",
	"-//ietf//dtd html strict level 2//",
	"-//ietf//dtd html strict level 3//",
	"-//ietf//dtd html strict//",
	"-//ietf//dtd html//",
	"-//metrius//dtd metrius presentational//",
	"-//microsoft//dtd internet explorer 2.0 html strict//",
	"-//microsoft//dtd internet explorer 2.0 html//",
	"-//microsoft//dtd internet explorer 2.0 tables//",
	"-//microsoft//dtd internet explorer 3.0 html strict//",
	"-//microsoft//dtd internet explorer 3.0 html//",
	"-//microsoft//dtd internet explorer 3.0 tables//",
	"-//netscape comm. corp.//dtd html//",
	"-//netscape comm. corp.//dtd strict html//",
	"-//o'reilly and associates//dtd html 2.0//",
	"-//o'reilly and associates//dtd html extended 1.0//",
	"-//o'reilly and associates//dtd html extended relaxed 1.0//",
	"-//sq//dtd html 2.0 hotmetal + extensions//",
	"-//softquad software//dtd hotmetal pro 6.0::19990601::extensions to html 4.0//",
	"-//softquad//dtd hotmetal pro 4.0::19971010::extensions to html 4.0//",
	"-//spyglass//dtd html 2.0 extended//",
	"-//sun microsystems corp.//dtd hotjava html//",
	"-//sun microsystems corp.//dtd hotjava strict html//",
	"-//w3c//dtd html 3 1995-03-24//",
	"-//w3c//dtd html 3.2 draft//",
	"-//w3c//dtd html 3.2 final//",
	"-//w3c//dtd html 3.2//",
	"-//w3c//dtd html 3.2s draft//",
	"-//w3c//dtd html 4.0 frameset//",
	"-//w3c//dtd html 4.0 transitional//",
	"-//w3c//dtd html experimental 19960712//",
	"-//w3c//dtd html experimental 970421//",
	"-//w3c//dtd w3 html//",
	"-//w3o//dtd w3 html 3.0//",
	"-//webtechs//dtd mozilla html 2.0//",
	"-//webtechs//dtd mozilla html//",
}

// decodeCSS decodes a stylesheet as a browser does (CSS Syntax §3.2): a
// byte order mark, else the Content-Type charset, else an @charset rule,
// else UTF-8.
func decodeCSS(body []byte, contentType string) string {
	switch {
	case bytes.HasPrefix(body, []byte("\xef\xbb\xbf")):
		return toValidUTF8(body[3:])
	case bytes.HasPrefix(body, []byte("\xfe\xff")), bytes.HasPrefix(body, []byte("\xff\xfe")):
		label := "utf-16le"
		if body[0] == 0xfe {
			label = "utf-16be"
		}
		return decodeLabel(body[2:], label)
	}
	label := ""
	if _, params, ok := strings.Cut(contentType, ";"); ok {
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "charset") {
				label = strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	if label == "" && bytes.HasPrefix(body, []byte(`@charset "`)) {
		if end := bytes.IndexByte(body[10:], '"'); end > 0 && end < 64 {
			label = string(body[10 : 10+end])
		}
	}
	if label == "" {
		return toValidUTF8(body)
	}
	return decodeLabel(body, label)
}

func decodeLabel(body []byte, label string) string {
	enc, err := htmlindex.Get(label)
	if err != nil {
		return toValidUTF8(body)
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return toValidUTF8(body)
	}
	return toValidUTF8(out)
}

func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// quoteCSS quotes s as a CSS string, escaping what would end it or the
// <style> element it is in.
func quoteCSS(s string) string {
	var out strings.Builder
	out.Grow(len(s) + 2)
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '<', '>':
			out.WriteString(`\` + strconv.FormatInt(int64(c), 16) + " ")
		case '\n', '\r', '\f':
			out.WriteString(`\` + strconv.FormatInt(int64(c), 16) + " ")
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte('"')
	return out.String()
}

// escapeStyleEnd makes the text of a <style> element unable to end it: a
// "</style" anywhere (in a string or a comment, where CSS allows it) would
// close the element and let what follows be markup. "<\/style" means the
// same to CSS.
func escapeStyleEnd(s string) string {
	if !strings.Contains(s, "</") {
		return s
	}
	var out strings.Builder
	for {
		i := strings.Index(s, "</")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i])
		out.WriteString(`<\/`)
		s = s[i+2:]
	}
}
