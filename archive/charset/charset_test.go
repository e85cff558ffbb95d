package charset

import (
	"bytes"
	"testing"

	"github.com/linkarc/linkarc/archive/charset/charsettest"
)

func TestToUTF8(t *testing.T) {
	for _, tt := range charsettest.Cases(t) {
		t.Run(tt.Name, func(t *testing.T) {
			orig := bytes.Clone(tt.Raw)
			got, name, source := toUTF8(tt.Raw, tt.ContentType)
			if !bytes.Equal(got, tt.Want) {
				t.Errorf("body =\n%s\nwant\n%s", got, tt.Want)
			}
			if name != tt.Charset || source != tt.Source {
				t.Errorf("charset %q from %s, want %q from %s", name, source, tt.Charset, tt.Source)
			}
			if !bytes.Equal(tt.Raw, orig) {
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
		if got := Declared(in); got != want {
			t.Errorf("Declared(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHeaderCharsetHostile: a Content-Type header with bytes that are not
// UTF-8 before "charset=" must neither crash nor shift where the charset is
// read from (lower-casing such a value changes its length; the fuzzer
// found this).
func TestHeaderCharsetHostile(t *testing.T) {
	tests := map[string]string{
		"text/html; charset=UTF-8":             "UTF-8",
		"text/html; CHARSET=\"koi8-r\"; x=y":   "koi8-r",
		"\xd5ChArset=":                         "",
		"\xff\xfe\xfdcharset=":                 "",
		"text/html; \xd5charset=windows-1251":  "windows-1251",
		"\xd5\xd5\xd5\xd5\xd5\xd5\xd5charset=": "",
		"text/html; charſet=utf-8":             "", // U+017F folds to s in Unicode, not in HTTP
		"text/html":                            "",
		"":                                     "",
	}
	for in, want := range tests {
		if got := Declared(in); got != want {
			t.Errorf("Declared(%q) = %q, want %q", in, got, want)
		}
	}
}
