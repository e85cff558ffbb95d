//go:build ignore

// generate.go writes the legacy-encoded fixture pages from the UTF-8 sources
// next to it. Run from the module root: go run ./testdata/fetch/generate.go
//
// For each source X.utf8.html and encoding E it writes X.E.html (no charset
// declaration: the fetcher must take it from the header or sniff it) and
// X.E.meta.html (with <meta charset="E"> right after <head>).
package main

import (
	"log"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
)

func main() {
	dir := filepath.Join("testdata", "fetch")
	for _, f := range []struct {
		src, name string
		enc       encoding.Encoding
	}{
		{"ru", "windows-1251", charmap.Windows1251},
		{"ja", "shift_jis", japanese.ShiftJIS},
		{"ko", "euc-kr", korean.EUCKR},
	} {
		src, err := os.ReadFile(filepath.Join(dir, f.src+".utf8.html"))
		if err != nil {
			log.Fatal(err)
		}
		meta := strings.Replace(string(src), "<head>\n", "<head>\n<meta charset=\""+f.name+"\">\n", 1)
		for name, text := range map[string]string{
			f.src + "." + f.name + ".html":      string(src),
			f.src + "." + f.name + ".meta.html": meta,
		} {
			b, err := f.enc.NewEncoder().String(text)
			if err != nil {
				log.Fatalf("%s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}
