// Package charsettest holds the pages the charset decoder and the fetcher
// are tested on, so that both packages test one table.
package charsettest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

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
	return cases
}
