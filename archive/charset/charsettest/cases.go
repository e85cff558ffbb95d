// Package charsettest holds the pages the charset decoder and the fetcher
// are tested on, so that both packages test one table.
package charsettest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Fixture reads a file from the repository's testdata/fetch, whatever the
// calling test's directory.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "fetch", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withMeta is the UTF-8 source of a fixture with the <meta charset> that
// generate.go put into the .meta.html variant.
func withMeta(src []byte, name string) []byte {
	return []byte(strings.Replace(string(src), "<head>\n", "<head>\n<meta charset=\""+name+"\">\n", 1))
}

// Case is a page, how it is labelled, and what it must decode to.
type Case struct {
	Name        string
	Raw         []byte
	ContentType string
	Want        []byte // UTF-8
	Charset     string // WHATWG name
	Source      string // where the encoding is found: bom, header, meta or sniff
}

// Where ToUTF8 finds an encoding, as its tests see it.
const (
	charsetFromBOM    = "bom"
	charsetFromHeader = "header"
	charsetFromMeta   = "meta"
	charsetFromXML    = "xml"
	charsetFromSniff  = "sniff"
)

// Cases are the pages ToUTF8 and the fetcher must decode: Russian, Japanese
// and Korean pages in their legacy encodings, labelled truly, falsely and
// not at all, and the odd labels and byte order marks of the web.
func Cases(t testing.TB) []Case {
	ru, ja, ko := Fixture(t, "ru.utf8.html"), Fixture(t, "ja.utf8.html"), Fixture(t, "ko.utf8.html")
	var cases []Case
	for _, f := range []struct {
		lang, enc string
		utf8      []byte
	}{{"ru", "windows-1251", ru}, {"ja", "shift_jis", ja}, {"ko", "euc-kr", ko}} {
		bare := Fixture(t, f.lang+"."+f.enc+".html")
		meta := Fixture(t, f.lang+"."+f.enc+".meta.html")
		cases = append(cases,
			Case{f.lang + " header", bare, "text/html; charset=" + strings.ToUpper(f.enc), f.utf8, f.enc, charsetFromHeader},
			Case{f.lang + " meta", meta, "text/html", withMeta(f.utf8, f.enc), f.enc, charsetFromMeta},
			Case{f.lang + " undeclared", bare, "text/html", f.utf8, f.enc, charsetFromSniff},
			Case{f.lang + " labelled utf-8", bare, "text/html; charset=utf-8", f.utf8, f.enc, charsetFromSniff},
			Case{f.lang + " server default header, meta", meta, "text/html; charset=ISO-8859-1", withMeta(f.utf8, f.enc), f.enc, charsetFromMeta},
			Case{f.lang + " utf-8 labelled " + f.enc, f.utf8, "text/html; charset=" + f.enc, f.utf8, "utf-8", charsetFromSniff},
		)
	}
	cp1252, _ := charmap.Windows1252.NewEncoder().String("<p>Café crème, naïve façade</p>")
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("<p>Привет</p>")
	cases = append(cases,
		Case{"utf-8 BOM wins over header", append([]byte("\xef\xbb\xbf"), ru...), "text/html; charset=windows-1251", ru, "utf-8", charsetFromBOM},
		Case{"utf-16 BOM", []byte(utf16), "text/html", []byte("<p>Привет</p>"), "utf-16le", charsetFromBOM},
		Case{"latin-1 header", []byte(cp1252), "text/html; charset=iso-8859-1", []byte("<p>Café crème, naïve façade</p>"), "windows-1252", charsetFromHeader},
		Case{"quoted header label", Fixture(t, "ru.windows-1251.html"), `text/html; charset="windows-1251";`, ru, "windows-1251", charsetFromHeader},
		Case{"http-equiv meta", []byte(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>` + "\xcf\xf0\xe8\xe2\xe5\xf2</body></html>"), "",
			[]byte(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>Привет</body></html>`), "windows-1251", charsetFromMeta},
		Case{"ascii", []byte("<p>plain</p>"), "", []byte("<p>plain</p>"), "utf-8", charsetFromSniff},
		Case{"mostly utf-8 with a stray byte", []byte("<p>Привет, мир, как дела у вас сегодня \xff</p>"), "text/html; charset=utf-8",
			[]byte("<p>Привет, мир, как дела у вас сегодня \uFFFD</p>"), "utf-8", charsetFromHeader},
	)
	cases = append(cases, LateDeclarations(t)...)
	return cases
}

// Texts in encodings that statistical sniffing gets wrong: without their
// declaration they turn into mojibake.
var (
	polish     = "Rada miasta zatwierdziła w środę nowy plan rozwoju transportu publicznego. Żółć, gęślą jaźń."
	greek      = "Το δημοτικό συμβούλιο ενέκρινε το νέο σχέδιο για τις δημόσιες συγκοινωνίες."
	lithuanian = "Miesto taryba patvirtino naują viešojo transporto plėtros planą: ąčęėįšųūž."
)

// LongHead is a <head>'s inline style and script, about 22 KiB: enough to
// push a declaration after it past the 1024 bytes of the HTML prescan and
// past any fixed scan window of a few KiB.
var LongHead = "<style>\n" + strings.Repeat(".teaser-grid > .item:nth-child(2n) { margin: 0 0 1.5rem; color: #333 }\n", 230) + "</style>\n" +
	"<script>\n" + strings.Repeat("window.dataLayer = window.dataLayer || []; dataLayer.push({event: 'view'});\n", 60) + "</script>\n"

// encodeTo encodes UTF-8 s in a legacy encoding, failing the test if it
// cannot.
func encodeTo(t testing.TB, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return []byte(b)
}

// LateDeclarations are pages whose only declaration comes where the HTML
// prescan does not look but the browser's tree builder does (issue 12:
// <meta charset> after 16 KiB of inline style and script, stored ok as
// mojibake), and the siblings: the http-equiv form, a <meta> in <body>, a
// decoy inside a script, x-user-defined, and the XML declaration (honoured
// for XML types only, as browsers do).
func LateDeclarations(t testing.TB) []Case {
	page := func(head, body string) string {
		return "<!DOCTYPE html>\n<html>\n<head>\n<title>News</title>\n" + head + "</head>\n<body>\n" + body + "\n</body>\n</html>\n"
	}
	var cases []Case
	add := func(name string, e encoding.Encoding, contentType, utf8Page, charset, source string) {
		cases = append(cases, Case{name, encodeTo(t, e, utf8Page), contentType, []byte(utf8Page), charset, source})
	}
	add("late meta charset after 22 KiB of head", charmap.Windows1250, "text/html",
		page(LongHead+`<meta charset="windows-1250">`+"\n", "<p>"+polish+"</p>"), "windows-1250", charsetFromMeta)
	add("late http-equiv after 22 KiB of head", charmap.Windows1253, "text/html",
		page(LongHead+`<meta http-equiv="Content-Type" content="text/html; charset=windows-1253">`+"\n", "<p>"+greek+"</p>"), "windows-1253", charsetFromMeta)
	add("late meta beats a server's generic Western label", charmap.Windows1250, "text/html; charset=ISO-8859-1",
		page(LongHead+`<meta charset="windows-1250">`+"\n", "<p>"+polish+"</p>"), "windows-1250", charsetFromMeta)
	add("meta after <body>, as the tree builder honours it", charmap.Windows1257, "text/html",
		page(LongHead, `<meta charset="windows-1257"><p>`+lithuanian+"</p>"), "windows-1257", charsetFromMeta)
	add("meta between </head> and <body>", charmap.Windows1250, "",
		"<html><head>"+LongHead+"</head>\n<meta charset=\"windows-1250\">\n<body><p>"+polish+"</p></body></html>", "windows-1250", charsetFromMeta)
	add("a meta quoted in a script is not the declaration", charmap.Windows1250, "text/html",
		page(`<script>document.write('<meta charset="koi8-r">')</script>`+LongHead+`<meta charset="windows-1250">`, "<p>"+polish+"</p>"), "windows-1250", charsetFromMeta)
	add("x-user-defined means windows-1252", charmap.Windows1252, "text/html",
		page(`<meta charset="x-user-defined">`, "<p>Le conseil a approuvé le plan, coût: 5 €.</p>"), "windows-1252", charsetFromMeta)
	add("XHTML served as XML: the XML declaration", charmap.Windows1250, "application/xhtml+xml",
		`<?xml version="1.0" encoding="windows-1250"?>`+"\n"+`<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body><p>`+polish+`</p></body></html>`, "windows-1250", charsetFromXML)
	ru := Fixture(t, "ru.utf8.html")
	cases = append(cases, Case{"XML declaration in text/html is ignored, as browsers do",
		append([]byte(`<?xml version="1.0" encoding="koi8-r"?>`+"\n"), Fixture(t, "ru.windows-1251.html")...), "text/html",
		append([]byte(`<?xml version="1.0" encoding="koi8-r"?>`+"\n"), ru...), "windows-1251", charsetFromSniff})
	return cases
}
