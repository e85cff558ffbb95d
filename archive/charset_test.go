package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// fixture reads a file from testdata/fetch.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fetch", name))
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

// charsetCase is a page, how it is labelled, and what it must decode to.
type charsetCase struct {
	name        string
	raw         []byte
	contentType string
	want        []byte // UTF-8
	charset     string
	source      string
}

func charsetCases(t testing.TB) []charsetCase {
	ru, ja, ko := fixture(t, "ru.utf8.html"), fixture(t, "ja.utf8.html"), fixture(t, "ko.utf8.html")
	var cases []charsetCase
	for _, f := range []struct {
		lang, enc string
		utf8      []byte
	}{{"ru", "windows-1251", ru}, {"ja", "shift_jis", ja}, {"ko", "euc-kr", ko}} {
		bare := fixture(t, f.lang+"."+f.enc+".html")
		meta := fixture(t, f.lang+"."+f.enc+".meta.html")
		cases = append(cases,
			charsetCase{f.lang + " header", bare, "text/html; charset=" + strings.ToUpper(f.enc), f.utf8, f.enc, charsetFromHeader},
			charsetCase{f.lang + " meta", meta, "text/html", withMeta(f.utf8, f.enc), f.enc, charsetFromMeta},
			charsetCase{f.lang + " undeclared", bare, "text/html", f.utf8, f.enc, charsetFromSniff},
			charsetCase{f.lang + " labelled utf-8", bare, "text/html; charset=utf-8", f.utf8, f.enc, charsetFromSniff},
			charsetCase{f.lang + " server default header, meta", meta, "text/html; charset=ISO-8859-1", withMeta(f.utf8, f.enc), f.enc, charsetFromMeta},
			charsetCase{f.lang + " utf-8 labelled " + f.enc, f.utf8, "text/html; charset=" + f.enc, f.utf8, "utf-8", charsetFromSniff},
		)
	}
	cp1252, _ := charmap.Windows1252.NewEncoder().String("<p>Café crème, naïve façade</p>")
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("<p>Привет</p>")
	cases = append(cases,
		charsetCase{"utf-8 BOM wins over header", append([]byte("\xef\xbb\xbf"), ru...), "text/html; charset=windows-1251", ru, "utf-8", charsetFromBOM},
		charsetCase{"utf-16 BOM", []byte(utf16), "text/html", []byte("<p>Привет</p>"), "utf-16le", charsetFromBOM},
		charsetCase{"latin-1 header", []byte(cp1252), "text/html; charset=iso-8859-1", []byte("<p>Café crème, naïve façade</p>"), "windows-1252", charsetFromHeader},
		charsetCase{"quoted header label", fixture(t, "ru.windows-1251.html"), `text/html; charset="windows-1251";`, ru, "windows-1251", charsetFromHeader},
		charsetCase{"http-equiv meta", []byte(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>` + "\xcf\xf0\xe8\xe2\xe5\xf2</body></html>"), "",
			[]byte(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>Привет</body></html>`), "windows-1251", charsetFromMeta},
		charsetCase{"ascii", []byte("<p>plain</p>"), "", []byte("<p>plain</p>"), "utf-8", charsetFromSniff},
		charsetCase{"mostly utf-8 with a stray byte", []byte("<p>Привет, мир, как дела у вас сегодня \xff</p>"), "text/html; charset=utf-8",
			[]byte("<p>Привет, мир, как дела у вас сегодня \uFFFD</p>"), "utf-8", charsetFromHeader},
	)
	return cases
}

func TestToUTF8(t *testing.T) {
	for _, tt := range charsetCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			orig := bytes.Clone(tt.raw)
			got, name, source := toUTF8(tt.raw, tt.contentType)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("body =\n%s\nwant\n%s", got, tt.want)
			}
			if name != tt.charset || source != tt.source {
				t.Errorf("charset %q from %s, want %q from %s", name, source, tt.charset, tt.source)
			}
			if !bytes.Equal(tt.raw, orig) {
				t.Error("raw bytes were modified")
			}
		})
	}
}

func TestHeaderCharset(t *testing.T) {
	for in, want := range map[string]string{
		"":                                  "",
		"text/html":                         "",
		"text/html; charset=UTF-8":          "UTF-8",
		`text/html; charset="Shift_JIS"`:    "Shift_JIS",
		"text/html;charset=euc-kr;":         "euc-kr",
		"text/html; Charset = koi8-r":       "",
		"text/html; CHARSET=windows-1251 ;": "windows-1251",
	} {
		if got := headerCharset(in); got != want {
			t.Errorf("headerCharset(%q) = %q, want %q", in, got, want)
		}
	}
}
