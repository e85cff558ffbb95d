package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedClock and sequentialIDs make records reproducible.
var fixedTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func testOptions(o Options) Options {
	n := 0
	var mu sync.Mutex
	o.Now = func() time.Time { return fixedTime }
	o.NewRecordID = func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", n)
	}
	if o.Software == "" {
		o.Software = "linkarc/test"
	}
	return o
}

func exchange(url, respHead string) Exchange {
	u, _ := neturlParse(url)
	return Exchange{
		URL:          url,
		Date:         fixedTime.Add(-time.Second),
		IP:           "192.0.2.7",
		RequestHead:  []byte("GET " + u + " HTTP/1.1\r\nHost: example.org\r\nUser-Agent: linkarc/test\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"),
		ResponseHead: []byte(respHead),
	}
}

// neturlParse returns the request target of an absolute URL.
func neturlParse(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	return u.RequestURI(), nil
}

const okHTML = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 21\r\n\r\n"

// TestRecordShapes writes each kind of record with a fixed clock and fixed
// ids and compares every record, decompressed, with a golden file
// (go test -run TestRecordShapes -update rewrites them). It also checks
// that each record is its own gzip member and that every declared digest
// is the SHA-256 of what it covers.
func TestRecordShapes(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		do   func(t *testing.T, w *Writer)
	}{
		{"exchange", Options{}, func(t *testing.T, w *Writer) {
			mustCapture(t)(w.WriteExchange(exchange("http://example.org/a?b=1", okHTML), strings.NewReader("<p>Hello, world.</p>\n")))
		}},
		{"chunked", Options{}, func(t *testing.T, w *Writer) {
			ex := exchange("http://example.org/live", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\ntransfer-encoding:  chunked\r\nContent-Encoding: gzip\r\n\r\n")
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write([]byte("<p>dechunked, still gzipped</p>"))
			zw.Close()
			// A fixed gzip header, so that the golden file is stable.
			body := gz.Bytes()
			mustCapture(t)(w.WriteExchange(ex, bytes.NewReader(body)))
		}},
		{"revisit", Options{Dedup: NewDedupIndex()}, func(t *testing.T, w *Writer) {
			mustCapture(t)(w.WriteExchange(exchange("http://example.org/a.css", okHTML), strings.NewReader("body { color: red; }\n")))
			ex := exchange("http://cdn.example.org/a.css", okHTML)
			ex.Date = fixedTime
			c := mustCapture(t)(w.WriteExchange(ex, strings.NewReader("body { color: red; }\n")))
			if c.Revisit == nil || c.Revisit.TargetURI != "http://example.org/a.css" || c.Revisit.Filename != "test.warc.gz" {
				t.Errorf("second capture: revisit %+v", c.Revisit)
			}
		}},
		{"revisit-without-fetch", Options{}, func(t *testing.T, w *Writer) {
			orig := Original{TargetURI: "http://example.org/logo.png", Date: fixedTime.Add(-time.Hour),
				PayloadDigest: "sha256:0000000000000000000000000000000000000000000000000000000000000001"}
			if _, err := w.WriteRevisit(Exchange{URL: "http://example.org/logo.png"}, orig); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated", Options{MaxBlockBytes: int64(len(okHTML)) + 5}, func(t *testing.T, w *Writer) {
			c, err := w.WriteExchange(exchange("http://example.org/big", okHTML), strings.NewReader("<p>Hello, world.</p>\n"))
			if !errors.Is(err, ErrBlockTooLarge) || c.Truncated != TruncatedLength || c.PayloadLength != 5 {
				t.Errorf("over MaxBlockBytes: %+v, %v; want 5 bytes kept, truncated, ErrBlockTooLarge", c, err)
			}
		}},
		{"metadata", Options{}, func(t *testing.T, w *Writer) {
			c := mustCapture(t)(w.WriteExchange(exchange("http://example.org/final", okHTML), strings.NewReader("<p>Hello, world.</p>\n")))
			_, err := w.WriteMetadata(Metadata{TargetURI: c.URL, ConcurrentTo: []string{c.ResponseID}, Fields: []Field{
				{"via", "https://news.google.com/rss/articles/CBMi"},
				{"redirect", "http://example.org/start 301"},
				{"redirect", "http://example.org/final 200"},
			}})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"resource", Options{}, func(t *testing.T, w *Writer) {
			_, err := w.WriteResource(Resource{TargetURI: "urn:linkarc:page:http://example.org/a", ContentType: "text/html; charset=utf-8"},
				strings.NewReader("<!doctype html><p>self-contained</p>"))
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"warcinfo", Options{Operator: "Jane Doe", Description: "Daily digest", IsPartOf: "digest-2024-05-06",
			UserAgent: "linkarc/test (+https://example.org/bot)", Robots: "obey"}, func(t *testing.T, w *Writer) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := tt.opts
			o.Filename = "test.warc.gz"
			w, err := NewWriter(&buf, testOptions(o))
			if err != nil {
				t.Fatal(err)
			}
			tt.do(t, w)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			recs := members(t, buf.Bytes())
			for _, r := range recs {
				checkDigests(t, r)
			}
			golden(t, filepath.Join("testdata", tt.name+".warc.txt"), []byte(strings.Join(recs, "")))
		})
	}
}

func mustCapture(t *testing.T) func(Capture, error) Capture {
	return func(c Capture, err error) Capture {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// members decompresses a gzip-per-record file member by member; each
// member must hold exactly one record.
func members(t *testing.T, data []byte) []string {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(data))
	var out []string
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("WARC/1.1\r\n")); n != 1 || !bytes.HasPrefix(b, []byte("WARC/1.1\r\n")) {
			t.Fatalf("gzip member %d holds %d records", len(out), n)
		}
		out = append(out, string(b))
	}
}

// checkDigests recomputes a record's block and payload digests.
func checkDigests(t *testing.T, rec string) {
	t.Helper()
	head, rest, ok := strings.Cut(rec, "\r\n\r\n")
	if !ok || !strings.HasSuffix(rest, "\r\n\r\n") {
		t.Fatalf("record not framed by CRLFCRLF: %q", rec)
	}
	block := strings.TrimSuffix(rest, "\r\n\r\n")
	fields := map[string]string{}
	for _, l := range strings.Split(head, "\r\n")[1:] {
		k, v, _ := strings.Cut(l, ": ")
		fields[k] = v
	}
	if fields["Content-Length"] != fmt.Sprint(len(block)) {
		t.Errorf("%s record: Content-Length %s, block %d bytes", fields["WARC-Type"], fields["Content-Length"], len(block))
	}
	if want := sha("sha256:", block); fields["WARC-Block-Digest"] != want {
		t.Errorf("%s record: WARC-Block-Digest %s, want %s", fields["WARC-Type"], fields["WARC-Block-Digest"], want)
	}
	pd, ok := fields["WARC-Payload-Digest"]
	switch {
	case fields["WARC-Type"] == "revisit":
		// The payload is the original's.
	case strings.HasPrefix(fields["Content-Type"], "application/http"):
		_, payload, _ := strings.Cut(block, "\r\n\r\n")
		if want := sha("sha256:", payload); pd != want {
			t.Errorf("%s record: WARC-Payload-Digest %s, want %s", fields["WARC-Type"], pd, want)
		}
	case fields["WARC-Type"] == "resource":
		// §6.4.1: a resource's payload is its block.
		if pd != fields["WARC-Block-Digest"] {
			t.Errorf("resource record: WARC-Payload-Digest %s, block digest %s", pd, fields["WARC-Block-Digest"])
		}
	case ok:
		t.Errorf("%s record has a WARC-Payload-Digest", fields["WARC-Type"])
	}
}

func sha(label, s string) string {
	sum := sha256.Sum256([]byte(s))
	return label + hex.EncodeToString(sum[:])
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestDedupOnlyWholeOKPayloads: a revisit stands in only for a 200
// response whose payload is non-empty and whole.
func TestDedupOnlyWholeOKPayloads(t *testing.T) {
	const body = "the same bytes"
	tests := []struct {
		name     string
		head     string
		body     string
		truncate Truncation
		revisit  bool
	}{
		{"200 seen before", okHTML, body, "", true},
		{"404 with the same body", "HTTP/1.1 404 Not Found\r\n\r\n", body, "", false},
		{"empty payload", okHTML, "", "", false},
		{"truncated", okHTML, body, TruncatedTime, false},
		{"200 not seen", okHTML, "other bytes", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDedupIndex()
			w, err := NewWriter(io.Discard, testOptions(Options{Dedup: d}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteExchange(exchange("http://example.org/first", okHTML), strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			r, err := w.Begin(exchange("http://example.org/second", tt.head))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(r, tt.body)
			if tt.truncate != "" {
				r.Truncate(tt.truncate)
			}
			c, err := r.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if (c.Revisit != nil) != tt.revisit {
				t.Errorf("revisit %v, want %v", c.Revisit != nil, tt.revisit)
			}
			idx := w.Index()
			if got := idx[len(idx)-1].Mime == "warc/revisit"; got != tt.revisit {
				t.Errorf("index entry %+v", idx[len(idx)-1])
			}
		})
	}
}

// TestBeginRefusesBadHeads: what the Writer cannot record faithfully is
// refused before anything is written.
func TestBeginRefusesBadHeads(t *testing.T) {
	good := exchange("http://example.org/", okHTML)
	tests := []struct {
		name string
		edit func(*Exchange)
		want string
	}{
		{"relative URL", func(e *Exchange) { e.URL = "/a" }, "not absolute"},
		{"huge URL", func(e *Exchange) { e.URL = "http://example.org/" + strings.Repeat("a", MaxTargetURIBytes) }, "over the"},
		{"request head without its empty line", func(e *Exchange) { e.RequestHead = []byte("GET / HTTP/1.1\r\nHost: x\r\n") }, "no empty line"},
		{"request head with a body after it", func(e *Exchange) { e.RequestHead = append(e.RequestHead, "x"...) }, "bytes after the empty line"},
		{"request line", func(e *Exchange) { e.RequestHead = []byte("GET /\r\n\r\n") }, "METHOD TARGET"},
		{"status line", func(e *Exchange) { e.ResponseHead = []byte("HTTP/1.1 OK\r\n\r\n") }, "three-digit"},
		{"not HTTP", func(e *Exchange) { e.ResponseHead = []byte("SSH-2.0 hello\r\n\r\n") }, "does not start with HTTP/"},
		{"empty head", func(e *Exchange) { e.ResponseHead = []byte("\r\n") }, "no empty line"},
		{"huge head", func(e *Exchange) {
			e.ResponseHead = []byte("HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", DefaultMaxHeaderBytes) + "\r\n\r\n")
		}, "over the"},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	size := buf.Len()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := good
			tt.edit(&ex)
			if _, err := w.Begin(ex); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Begin: %v, want an error saying %q", err, tt.want)
			}
		})
	}
	if buf.Len() != size {
		t.Errorf("refused exchanges wrote %d bytes", buf.Len()-size)
	}
}

// TestHeadsFromNetHTTP: RequestHead and ResponseHead render what net/http
// sent and received; a body net/http decoded is refused.
func TestHeadsFromNetHTTP(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://example.org/a%20b?q=1", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", "linkarc/1")
	want := "GET /a%20b?q=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: linkarc/1\r\nAccept-Encoding: gzip\r\n\r\n"
	if got := string(RequestHead(req)); got != want {
		t.Errorf("RequestHead:\n%q\nwant\n%q", got, want)
	}
	req.Header.Del("User-Agent")
	if got := string(RequestHead(req)); !strings.Contains(got, "User-Agent: Go-http-client/1.1\r\n") {
		t.Errorf("RequestHead without a User-Agent: %q lacks Go's default", got)
	}

	resp := &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, StatusCode: 200, Status: "200 OK",
		Header: http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"a=1", "b=2"}}, TransferEncoding: []string{"chunked"}}
	head, err := ResponseHead(resp)
	if err != nil {
		t.Fatal(err)
	}
	want = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\n\r\n"
	if string(head) != want {
		t.Errorf("ResponseHead:\n%q\nwant\n%q", head, want)
	}
	if got := string(keepTransferEncoding(head)); !strings.Contains(got, "\r\nX-Crawler-Transfer-Encoding: chunked\r\n") || strings.Contains(got, "\nTransfer-Encoding") {
		t.Errorf("the writer keeps %q", got)
	}
	resp.Uncompressed = true
	if _, err := ResponseHead(resp); !errors.Is(err, ErrDecodedBody) {
		t.Errorf("ResponseHead of a body net/http decoded: %v, want ErrDecodedBody", err)
	}
}

// TestConcurrentCommitsStayPaired: responses recorded from many goroutines
// come out each followed by its own request.
func TestConcurrentCommitsStayPaired(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testOptions(Options{MemoryLimit: 64}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := fmt.Sprintf("http://example.org/%d", i)
			r, err := w.Begin(exchange(u, okHTML))
			if err != nil {
				t.Error(err)
				return
			}
			for j := 0; j < 20; j++ {
				fmt.Fprintf(r, "chunk %d of %s\n", j, u)
			}
			if _, err := r.Commit(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rd := NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{})
	var prev *Record
	pairs := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type == "request" {
			if prev == nil || prev.Type != "response" || rec.Header.Get("WARC-Concurrent-To") != "<"+prev.ID+">" || rec.TargetURI() != prev.TargetURI() {
				t.Fatalf("request %s does not follow its response", rec.TargetURI())
			}
			pairs++
		}
		r := *rec
		prev = &r
	}
	if pairs != 16 {
		t.Errorf("%d pairs, want 16", pairs)
	}
	if len(w.Index()) != 16 {
		t.Errorf("%d index entries, want 16", len(w.Index()))
	}
}

// TestWriteErrorsAreSticky: once the destination fails, the file is
// broken, and every later write says so.
func TestWriteErrorsAreSticky(t *testing.T) {
	fw := &failingWriter{after: 1 << 20}
	w, err := NewWriter(fw, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	fw.after = 0
	if _, err := w.WriteExchange(exchange("http://example.org/", okHTML), strings.NewReader("x")); err == nil {
		t.Fatal("write to a failing destination succeeded")
	}
	fw.after = 1 << 20
	if _, err := w.WriteExchange(exchange("http://example.org/", okHTML), strings.NewReader("x")); err == nil {
		t.Fatal("write after a failed write succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed write returned nil")
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.after {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

// BenchmarkWriteExchange16MiB records a 16 MiB incompressible body:
// go test -run '^$' -bench 16MiB -benchmem ./archive/warc/
func BenchmarkWriteExchange16MiB(b *testing.B) {
	body := make([]byte, 16<<20)
	for i := range body {
		body[i] = byte(i*7919 ^ i>>8)
	}
	w, err := NewWriter(io.Discard, Options{TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.WriteExchange(exchange("http://example.org/big", okHTML), bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTeeNeverFailsTheRead: a fetcher reading a body through Tee reads all
// of it, whatever the record can hold.
func TestTeeNeverFailsTheRead(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testOptions(Options{MaxBlockBytes: int64(len(okHTML)) + 10}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.Begin(exchange("http://example.org/", okHTML))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("0123456789", 100)
	got, err := io.ReadAll(r.Tee(iotestOneByte(strings.NewReader(body))))
	if err != nil || string(got) != body {
		t.Fatalf("read through Tee: %d bytes, %v", len(got), err)
	}
	c, err := r.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if c.PayloadLength != 10 || c.Truncated != TruncatedLength || c.PayloadDigest != sha("sha256:", body[:10]) {
		t.Errorf("recorded %+v, want the first 10 bytes, truncated", c)
	}
}

// iotestOneByte reads one byte at a time, as a slow connection delivers.
func iotestOneByte(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if len(p) > 1 {
			p = p[:1]
		}
		return r.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestOpenWritersHoldNoCompressor: a run keeps one Writer open per
// capture in flight, so an open Writer must not keep a gzip compressor
// (about 0.9 MiB) between records; writers borrow one per record.
func TestOpenWritersHoldNoCompressor(t *testing.T) {
	const open = 64
	body := bytes.Repeat([]byte("<p>a paragraph of an article</p>\n"), 2000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	writers := make([]*Writer, open)
	for i := range writers {
		w, err := NewWriter(io.Discard, testOptions(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteExchange(exchange("http://example.org/", okHTML), bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		writers[i] = w
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(writers)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / open
	t.Logf("%d B held per open writer", per)
	if per > 64<<10 {
		t.Errorf("each open Writer holds %d KiB after a record, want at most 64 KiB (no compressor of its own)", per>>10)
	}
	if _, err := NewWriter(io.Discard, Options{GzipLevel: 42}); err == nil {
		t.Error("NewWriter accepted gzip level 42")
	}
}
