package fetch

import (
	"context"
	"net/http"
	"testing"
)

// TestFetchHostileContentType: a Content-Type header, or a <meta> content
// attribute, with bytes that are not UTF-8 before "charset=" must neither
// crash the fetcher nor shift where the charset is read from (lower-casing
// such a value changes its length; the fuzzer found this).
func TestFetchHostileContentType(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		charset                 string // "" when any sniffed answer will do
	}{
		{"header, value cut short", "text/html; \xd5\xd5charset=", "<p>\xcf\xf0\xe8\xe2\xe5\xf2</p>", ""},
		{"header, value after invalid bytes", "text/html; \xd5charset=windows-1251", "<p>\xcf\xf0\xe8\xe2\xe5\xf2</p>", "windows-1251"},
		{"meta, value cut short", "text/html", "<meta http-equiv=\"Content-Type\" content=\"\xd5\xd5charset=\"><p>\xf0\xd2\xc9</p>", ""},
		{"meta, value after invalid bytes", "text/html", "<meta http-equiv=\"Content-Type\" content=\"\xd5\xd5CHARSET=koi8-r\"><p>\xf0\xd2\xc9</p>", "koi8-r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.contentType}
				w.Write([]byte(tt.body))
			}))
			f := newTestFetcher(t, testOptions())
			c, err := f.Fetch(context.Background(), pub.URL+"/a")
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if c.Charset == "" || len(c.Body) == 0 || (tt.charset != "" && c.Charset != tt.charset) {
				t.Errorf("charset %q, body %q; want charset %q", c.Charset, c.Body, tt.charset)
			}
		})
	}
}
