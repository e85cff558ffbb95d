// Package charset turns the bytes of an HTML page into UTF-8 (ToUTF8),
// reading its encoding from a byte order mark, the Content-Type header, a
// <meta> declaration (wherever a browser honours it, not only in the first
// 1024 bytes) or, failing those, statistical sniffing; and it says when
// decoded text looks misdecoded (LooksMisdecoded). The fetcher
// uses it for every page, and so can anything that re-extracts a stored
// raw.html.
package charset

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/saintfish/chardet"
	"golang.org/x/net/html"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// Where ToUTF8 found a page's encoding, for logs and tests.
const (
	charsetFromBOM     = "bom"
	charsetFromHeader  = "header"
	charsetFromMeta    = "meta"
	charsetFromXML     = "xml"
	charsetFromSniff   = "sniff"
	charsetFromDefault = "default"
)

const (
	// sniffLimit bounds the bytes handed to the statistical detector.
	sniffLimit = 64 << 10
	// minSniffConfidence is the chardet confidence (0-100) below which a guess
	// is not trusted and windows-1252, the web's legacy default, is used.
	minSniffConfidence = 30
)

// ToUTF8 transcodes an HTML page to UTF-8 and names the encoding it was in
// (its WHATWG name, e.g. "utf-8", "windows-1251", "shift_jis", "euc-kr").
// raw is not modified. contentType is the response's Content-Type header,
// possibly empty. When raw already is valid UTF-8, body shares raw's memory
// (a page is held once, not twice); callers must treat both as read-only.
//
// The encoding is taken, in order, from a byte order mark, the header's
// charset, a <meta> declaration anywhere a browser would act on it (see
// metaCharset), for XML types the XML declaration, and finally statistical
// sniffing, with two
// corrections for labels that are common lies on the web: a page labelled
// with a legacy encoding whose bytes are valid, non-ASCII UTF-8 is UTF-8 (no
// real legacy text is accidentally valid UTF-8), and a page labelled UTF-8
// whose bytes are mostly not UTF-8 is sniffed instead. A generic Western
// header label (ISO-8859-1, windows-1252, US-ASCII), usually a server
// default, yields to a specific <meta> declaration.
func ToUTF8(raw []byte, contentType string) (body []byte, name string) {
	body, name, _ = toUTF8(raw, contentType)
	return body, name
}

func toUTF8(raw []byte, contentType string) (body []byte, name, source string) {
	enc, name, source := detectCharset(raw, contentType)
	if name == "utf-8" {
		b := bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		if utf8.Valid(b) {
			return b, name, source
		}
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), name, source
	}
	out, err := enc.NewDecoder().Bytes(raw)
	if err != nil {
		// Legacy decoders replace undecodable bytes rather than fail; an error
		// here means the decoder itself gave up, so keep what can be kept.
		return bytes.ToValidUTF8(raw, []byte("\uFFFD")), "utf-8", charsetFromDefault
	}
	return out, name, source
}

// detectCharset implements ToUTF8's precedence rules.
func detectCharset(raw []byte, contentType string) (encoding.Encoding, string, string) {
	if e, n, ok := bomEncoding(raw); ok {
		return e, n, charsetFromBOM
	}
	he, hn := lookupCharset(Declared(contentType))
	if hn == "utf-8" && utf8.Valid(raw) {
		return he, hn, charsetFromHeader // the common case, without scanning for <meta>
	}
	var me encoding.Encoding
	var mn, msource string
	if he == nil || isGenericWestern(hn) {
		label, from := metaCharset(raw), charsetFromMeta
		if label == "" && isXMLType(contentType) {
			// An XHTML page served as XML declares its encoding in the XML
			// declaration (XML 1.0 §4.3.3), which browsers read for XML
			// types only.
			label, from = xmlEncoding(raw), charsetFromXML
		}
		me, mn = lookupCharset(label)
		msource = from
		// The standard's "change the encoding" (HTML §13.2.6.4.4 "in
		// head", meta) and its prescan (§13.2.3.2) map a UTF-16 label found
		// inside the document to UTF-8 (a page that could be read as ASCII
		// to find the tag is not UTF-16) and x-user-defined to
		// windows-1252.
		switch {
		case strings.HasPrefix(mn, "utf-16"):
			me, mn = unicode.UTF8, "utf-8"
		case mn == "x-user-defined":
			me, mn = lookupCharset("windows-1252")
		}
	}

	declared, dn, source := he, hn, charsetFromHeader
	if he == nil || (me != nil && !isGenericWestern(mn)) {
		declared, dn, source = me, mn, msource
	}
	if declared == nil {
		return sniffCharset(raw)
	}
	switch {
	case dn == "utf-8":
		if mostlyUTF8(raw) {
			return declared, dn, source
		}
		return sniffCharset(raw)
	case strings.HasPrefix(dn, "utf-16"):
		return declared, dn, source
	case hasMultibyteUTF8(raw):
		return unicode.UTF8, "utf-8", charsetFromSniff
	}
	return declared, dn, source
}

func bomEncoding(raw []byte) (encoding.Encoding, string, bool) {
	switch {
	case bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")):
		return unicode.UTF8, "utf-8", true
	case bytes.HasPrefix(raw, []byte("\xfe\xff")):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be", true
	case bytes.HasPrefix(raw, []byte("\xff\xfe")):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le", true
	}
	return nil, "", false
}

// lookupCharset maps a label to an encoding and its canonical WHATWG name;
// unknown labels give nil.
func lookupCharset(label string) (encoding.Encoding, string) {
	if label == "" {
		return nil, ""
	}
	e, name := htmlcharset.Lookup(label)
	if e == nil {
		return nil, ""
	}
	if n, err := htmlindex.Name(e); err == nil {
		name = n
	}
	return e, name
}

func isGenericWestern(name string) bool {
	// WHATWG maps iso-8859-1 and us-ascii labels to windows-1252.
	return name == "windows-1252"
}

// Declared returns the charset label a Content-Type value declares, e.g.
// "koi8-r" for `text/html; charset="koi8-r"`, or "" when it declares none.
// It is lenient because mime.ParseMediaType rejects headers that browsers
// accept (trailing semicolons, duplicate parameters).
func Declared(contentType string) string {
	i := indexASCIIFold(contentType, "charset=")
	if i < 0 {
		return ""
	}
	v := strings.TrimSpace(contentType[i+len("charset="):])
	if j := strings.IndexAny(v, "; ,"); j >= 0 {
		v = v[:j]
	}
	return strings.Trim(v, `"'`)
}

// indexASCIIFold is strings.Index ignoring ASCII case; needle must be
// lower case. Unlike searching strings.ToLower(s), it keeps s's byte
// offsets: ToLower turns each invalid UTF-8 byte into a 3-byte U+FFFD, and a
// hostile header or <meta> could then make the offset point past the end.
func indexASCIIFold(s, needle string) int {
next:
	for i := 0; i+len(needle) <= len(s); i++ {
		for j := 0; j < len(needle); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				continue next
			}
		}
		return i
	}
	return -1
}

// lastIndexFold is the last index of needle (lower case ASCII) in b,
// ignoring ASCII case; -1 if none.
func lastIndexFold(b []byte, needle string) int {
next:
	for i := len(b) - len(needle); i >= 0; i-- {
		for j := 0; j < len(needle); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				continue next
			}
		}
		return i
	}
	return -1
}

// metaCharset finds the first charset declared by <meta charset> or <meta
// http-equiv="Content-Type" content="...; charset=...">, wherever a browser
// would act on it. The HTML standard's prescan (§13.2.3.2) reads only the
// first 1024 bytes, but the tree builder honours a later declaration
// while the encoding is still tentative (no BOM, no header charset): a
// <meta> in <head>, and even one in <body>, makes the browser "change the
// encoding" (§13.2.6.4.4 and §13.2.6.4.7, meta; §13.2.3.4) and reparse. So
// the whole document is scanned, as the tokenizer sees it: a <meta> inside
// a comment, a script, a style or a <noscript> is not markup.
//
// Only the first declaration counts: once the encoding changes, the
// browser's confidence is certain and later ones are ignored.
func metaCharset(raw []byte) string {
	// Only the bytes up to the last "<meta" can hold a declaration: a page
	// without one costs a byte search, and one whose last <meta> is in its
	// head is tokenized no further.
	last := lastIndexFold(raw, "<meta")
	if last < 0 {
		return ""
	}
	z := html.NewTokenizer(bytes.NewReader(raw))
	consumed := 0
	for {
		if consumed > last {
			return ""
		}
		tt := z.Next()
		consumed += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "meta":
				if !hasAttr {
					continue
				}
				var cs, httpEquiv, content string
				for {
					k, v, more := z.TagAttr()
					switch string(k) {
					case "charset":
						cs = string(v)
					case "http-equiv":
						httpEquiv = string(v)
					case "content":
						content = string(v)
					}
					if !more {
						break
					}
				}
				if cs = strings.TrimSpace(cs); cs != "" {
					return cs
				}
				if strings.EqualFold(strings.TrimSpace(httpEquiv), "content-type") {
					if cs := Declared(content); cs != "" {
						return cs
					}
				}
			}
		}
	}
}

// isXMLType reports whether a Content-Type names an XML document type, whose
// encoding an XML declaration may give.
func isXMLType(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/xhtml+xml" || mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// xmlEncoding returns the encoding an XML declaration at the very start of
// raw names (<?xml version="1.0" encoding="windows-1250"?>), or "".
func xmlEncoding(raw []byte) string {
	if !bytes.HasPrefix(raw, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(raw, []byte("?>"))
	if end < 0 || end > 1024 {
		return ""
	}
	decl := string(raw[:end])
	i := indexASCIIFold(decl, "encoding")
	if i < 0 {
		return ""
	}
	v := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(v, "=") {
		return ""
	}
	v = strings.TrimLeft(v[1:], " \t\r\n")
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return ""
	}
	q := v[0]
	v = v[1:]
	j := strings.IndexByte(v, q)
	if j < 0 {
		return ""
	}
	return v[:j]
}

// sniffCharset guesses the encoding of an undeclared (or wrongly declared)
// page.
func sniffCharset(raw []byte) (encoding.Encoding, string, string) {
	if utf8.Valid(raw) {
		return unicode.UTF8, "utf-8", charsetFromSniff
	}
	sample := raw
	if len(sample) > sniffLimit {
		sample = sample[:sniffLimit]
	}
	if r, err := chardet.NewHtmlDetector().DetectBest(sample); err == nil && r.Confidence >= minSniffConfidence {
		label := r.Charset
		if label == "GB-18030" { // chardet's spelling; not a WHATWG label
			label = "gb18030"
		}
		if e, n := lookupCharset(label); e != nil && n != "utf-8" {
			return e, n, charsetFromSniff
		}
	}
	e, n := lookupCharset("windows-1252")
	return e, n, charsetFromDefault
}

// mostlyUTF8 reports whether raw is UTF-8 with at most a few stray bytes:
// pages declared UTF-8 sometimes carry a pasted fragment in another
// encoding, and replacing those few bytes beats reading the whole page as
// something else.
func mostlyUTF8(raw []byte) bool {
	var good, bad int
	for len(raw) > 0 {
		if raw[0] < utf8.RuneSelf {
			raw = raw[1:]
			continue
		}
		r, n := utf8.DecodeRune(raw)
		if r == utf8.RuneError && n == 1 {
			bad++
		} else {
			good++
		}
		raw = raw[n:]
	}
	return bad == 0 || bad*20 <= good
}

// hasMultibyteUTF8 reports whether raw is valid UTF-8 containing at least
// one non-ASCII character.
func hasMultibyteUTF8(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for _, b := range raw {
		if b >= utf8.RuneSelf {
			return true
		}
	}
	return false
}
