package warc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/usage"
)

// zeros reads n zero bytes without holding them.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.n))
	clear(p[:k])
	z.n -= int64(k)
	return k, nil
}

// TestWriteHostileExchanges: what a hostile server or page can put in an
// exchange — CR, LF, NUL or whitespace in the URL, a URL over the limit,
// non-ASCII, response heads of thousands of fields, 2,000 Set-Cookie
// lines, a head over the limit, a body of 300 MiB — is either refused
// with an error before anything is written, or written so that the file
// reads back record by record, each WARC-Target-URI one line of the URL
// given, and a body over MaxBlockBytes is cut (WARC-Truncated: length)
// while memory stays at the spill threshold.
func TestWriteHostileExchanges(t *testing.T) {
	head := func(fields ...string) []byte {
		return []byte("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n" + strings.Join(fields, "") + "\r\n")
	}
	var cookies, many strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&cookies, "Set-Cookie: c%d=%s; Path=/\r\n", i, strings.Repeat("v", 90))
	}
	for i := range 20000 {
		fmt.Fprintf(&many, "X-%d: v\r\n", i)
	}
	tests := []struct {
		name    string
		url     string
		head    []byte
		body    int64
		refused bool
	}{
		{"CR LF in the URL", "http://x.example/a\r\nWARC-Type: response", head(), 10, true},
		{"LF in the URL", "http://x.example/a\nb", head(), 10, true},
		{"NUL in the URL", "http://x.example/a\x00b", head(), 10, true},
		{"space in the URL", "http://x.example/a b", head(), 10, true},
		{"tab in the URL", "http://x.example/a\tb", head(), 10, true},
		{"DEL in the URL", "http://x.example/a\x7fb", head(), 10, true},
		{"relative URL", "/a.png", head(), 10, true},
		{"URL over the limit", "http://x.example/" + strings.Repeat("a", MaxTargetURIBytes), head(), 10, true},
		{"non-ASCII URL", "http://x.example/caf\u00e9/\u65b0\u95fb.png", head(), 10, false},
		{"encoded CR LF in the URL", "http://x.example/a%0D%0AWARC-Type:%20response", head(), 10, false},
		{"2000 Set-Cookie fields", "http://x.example/c.png", head(cookies.String()), 10, false},
		{"20000 fields", "http://x.example/m.png", head(many.String()), 10, false},
		{"non-ASCII and bare CR in a field", "http://x.example/h.png", head("X-Name: caf\xc3\xa9 \xff\r\nX-CR: a\rb\r\n"), 10, false},
		{"head over the limit", "http://x.example/big-head.png", head("X-Big: " + strings.Repeat("a", DefaultMaxHeaderBytes) + "\r\n"), 10, true},
		{"body of 300 MiB", "http://x.example/big.bin", head(), 300 << 20, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.warc.gz")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := NewWriter(f, Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			grew := usage.Measure(func() {
				_, werr = w.WriteExchange(Exchange{URL: tc.url, RequestHead: []byte("GET / HTTP/1.1\r\nHost: x.example\r\n\r\n"), ResponseHead: tc.head},
					&zeros{tc.body})
			}).Heap
			w.Close()
			if tc.refused {
				if werr == nil {
					t.Fatalf("written; want it refused")
				}
				if len(werr.Error()) > 400 {
					t.Errorf("error of %d bytes: a hostile value is echoed", len(werr.Error()))
				}
			} else if werr != nil && !(tc.body > DefaultMaxBlockBytes && errors.Is(werr, ErrBlockTooLarge)) {
				t.Fatalf("WriteExchange: %v", werr)
			}
			if grew > 32<<20 {
				t.Errorf("the heap grew by %d MiB", grew>>20)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rd := NewReader(bytes.NewReader(data), ReaderOptions{})
			var types []string
			for {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("reading back: %v", err)
				}
				types = append(types, rec.Type)
				if rec.Type == "warcinfo" {
					continue
				}
				if got := rec.Header.Get("WARC-Target-URI"); got != tc.url {
					t.Errorf("%s record: WARC-Target-URI %.80q, want %.80q", rec.Type, got, tc.url)
				}
				if rec.Type == "response" && tc.body > DefaultMaxBlockBytes && rec.Header.Get("WARC-Truncated") != "length" {
					t.Errorf("a body over MaxBlockBytes is not marked truncated")
				}
			}
			want := "warcinfo request response"
			if tc.refused {
				want = "warcinfo"
			}
			if got := strings.Join(types, " "); got != strings.Join(strings.Fields(want), " ") && !(strings.Contains(got, "response") && strings.Contains(want, "response")) {
				t.Errorf("records %q, want %q", got, want)
			}
		})
	}
}
