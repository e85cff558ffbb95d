package warc

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
)

// record renders one uncompressed record with the given extra header
// lines; Content-Length is computed unless the lines set one.
func record(lines []string, block string) string {
	var b strings.Builder
	b.WriteString("WARC/1.1\r\n")
	hasLength := false
	for _, l := range lines {
		b.WriteString(l + "\r\n")
		hasLength = hasLength || strings.HasPrefix(strings.ToLower(l), "content-length:")
	}
	if !hasLength {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(block))
	}
	b.WriteString("\r\n" + block + "\r\n\r\n")
	return b.String()
}

func gzipped(records ...string) []byte {
	var b bytes.Buffer
	for _, r := range records {
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(r))
		zw.Close()
	}
	return b.Bytes()
}

func resourceLines(id string) []string {
	return []string{"WARC-Type: resource", "WARC-Record-ID: <urn:uuid:" + id + ">", "WARC-Date: 2024-05-06T07:08:09Z",
		"WARC-Target-URI: http://example.org/" + id, "Content-Type: text/plain"}
}

func responseLines(id string) []string {
	return []string{"WARC-Type: response", "WARC-Record-ID: <urn:uuid:" + id + ">", "WARC-Date: 2024-05-06T07:08:09Z",
		"WARC-Target-URI: http://example.org/" + id, "Content-Type: application/http; msgtype=response"}
}

// TestReaderBounds: hostile or broken files fail with a reason before the
// Reader buffers more than its bounds.
func TestReaderBounds(t *testing.T) {
	small := ReaderOptions{MaxWARCHeaderBytes: 1024, MaxHTTPHeadBytes: 1024, MaxBlockBytes: 1 << 20, MemoryLimit: 4096}
	okResponse := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"WARC header over the bound", []byte(record(append(resourceLines("a"), "X-Long: "+strings.Repeat("a", 2000)), "x")), "WARC header longer than 1024"},
		{"WARC header that never ends", []byte("WARC/1.1\r\nWARC-Type: resource" + strings.Repeat("a", 1<<20)), "WARC header longer than 1024"},
		{"gzipped header that never ends", gzipped("WARC/1.1\r\nWARC-Type: resource" + strings.Repeat("a", 8<<20)), "WARC header longer than 1024"},
		{"block over the bound, declared", []byte(record(append(resourceLines("a"), "Content-Length: 2097152"), "")), "over the 1048576-byte limit"},
		{"HTTP head over the bound", []byte(record(responseLines("a"), "HTTP/1.1 200 OK\r\nX-Long: "+strings.Repeat("a", 2000)+"\r\n\r\nbody")), "HTTP head longer than 1024"},
		{"no Content-Length", []byte("WARC/1.1\r\nWARC-Type: resource\r\n\r\n\r\n\r\n"), "no Content-Length"},
		{"negative Content-Length", []byte(record(append(resourceLines("a"), "Content-Length: -5"), "")), "not a length"},
		{"two Content-Lengths", []byte(record(append(resourceLines("a"), "Content-Length: 1", "Content-Length: 1"), "x")), "more than one Content-Length"},
		{"truncated block", []byte(record(responseLines("a"), okResponse)[:len(record(responseLines("a"), okResponse))-8]), "short of its Content-Length"},
		{"not a WARC", []byte("<html>hello</html>"), "no WARC record at offset 0"},
		{"garbage after a record", append([]byte(record(resourceLines("a"), "x")), "junk"...), "no WARC record at offset"},
		{"gzip bomb after the record", gzipped(record(resourceLines("a"), "x") + strings.Repeat("\x00", 32<<20)), "bytes after the record's end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			fuzzcheck.MaxAlloc(t, 2<<20, "reading "+tt.name, func() {
				rd := NewReader(bytes.NewReader(tt.data), small)
				for {
					var rec *Record
					if rec, err = rd.Next(); err != nil {
						break
					}
					if p, perr := rec.Payload(); perr == nil {
						io.Copy(io.Discard, p)
					}
				}
			})
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("read to %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestReaderDigestMismatch: a record whose content does not match its
// digest is reported, and the next record is still read.
func TestReaderDigestMismatch(t *testing.T) {
	bad := record(append(resourceLines("bad"), "WARC-Block-Digest: sha256:"+strings.Repeat("0", 64)), "tampered")
	good := record(append(resourceLines("good"), "WARC-Block-Digest: "+sha("sha256:", "intact")), "intact")
	for _, data := range [][]byte{[]byte(bad + good), gzipped(bad, good)} {
		rd := NewReader(bytes.NewReader(data), ReaderOptions{})
		_, err := rd.Next()
		var de *DigestError
		if !errors.As(err, &de) || de.RecordID != "urn:uuid:bad" || de.Field != "WARC-Block-Digest" {
			t.Fatalf("tampered record: %v, want a DigestError for its block", err)
		}
		rec, err := rd.Next()
		if err != nil || rec.ID != "urn:uuid:good" {
			t.Fatalf("record after the tampered one: %v, %v", rec, err)
		}
		if _, err := rd.Next(); err != io.EOF {
			t.Fatalf("end: %v", err)
		}
	}
}

// TestReaderFraming reads uncompressed and gzip-per-record files alike:
// types, ids, heads, payloads, and offsets and lengths that add up.
func TestReaderFraming(t *testing.T) {
	recs := []string{
		record(append(resourceLines("one"), "WARC-Block-Digest: "+sha("sha256:", "first")), "first"),
		record(responseLines("two"), "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>gone</p>"),
		record(resourceLines("three"), ""),
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{{"uncompressed", []byte(strings.Join(recs, ""))}, {"gzip per record", gzipped(recs...)}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, headersOnly := range []bool{false, true} {
				rd := NewReader(bytes.NewReader(tc.data), ReaderOptions{HeadersOnly: headersOnly})
				var next int64
				var got []string
				for {
					rec, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					payload := "-"
					if p, err := rec.Payload(); err == nil {
						b, _ := io.ReadAll(p)
						payload = string(b)
					} else if !headersOnly || !errors.Is(err, ErrNoPayload) {
						t.Errorf("payload: %v", err)
					}
					if err := rec.Close(); err != nil {
						t.Fatal(err)
					}
					if rec.Offset != next {
						t.Errorf("%s at offset %d, want %d", rec.ID, rec.Offset, next)
					}
					next = rec.Offset + rec.Length
					got = append(got, fmt.Sprintf("%s %s %s %d %q", rec.Type, rec.ID, rec.TargetURI(), rec.Status, payload))
					if len(rec.Warnings) > 0 {
						t.Errorf("%s: %v", rec.ID, rec.Warnings)
					}
				}
				if next != int64(len(tc.data)) {
					t.Errorf("records cover %d bytes of %d", next, len(tc.data))
				}
				want := []string{
					`resource urn:uuid:one http://example.org/one 0 "first"`,
					`response urn:uuid:two http://example.org/two 404 "<p>gone</p>"`,
					`resource urn:uuid:three http://example.org/three 0 ""`,
				}
				if headersOnly {
					for i := range want {
						want[i] = want[i][:strings.LastIndex(want[i], " ")] + ` "-"`
					}
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("headersOnly=%v:\n%s\nwant\n%s", headersOnly, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// FuzzReader: no input makes the Reader panic, loop, or allocate more than
// its bounds allow.
func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testOptions(Options{Dedup: NewDedupIndex()}))
	if err != nil {
		f.Fatal(err)
	}
	w.WriteExchange(exchange("http://example.org/a", okHTML), strings.NewReader("<p>Hello, world.</p>\n"))
	w.WriteExchange(exchange("http://example.org/b", okHTML), strings.NewReader("<p>Hello, world.</p>\n"))
	w.WriteMetadata(Metadata{TargetURI: "http://example.org/b", Fields: []Field{{"via", "x"}}})
	f.Add(buf.Bytes())
	f.Add([]byte(record(responseLines("a"), "HTTP/1.1 200 OK\r\n\r\nbody") + record(resourceLines("b"), "x")))
	f.Add([]byte("WARC/1.0\r\nContent-Length: 0\r\n\r\n\r\n\r\n"))
	// One spill directory for all inputs: t.TempDir in the fuzz function
	// costs seconds per input under -fuzz.
	opts := ReaderOptions{MaxWARCHeaderBytes: 4096, MaxHTTPHeadBytes: 4096, MaxBlockBytes: 1 << 20, MemoryLimit: 64 << 10, TempDir: f.TempDir()}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Every record may spool up to MemoryLimit; headers are bounded.
		fuzzcheck.MaxAlloc(t, uint64(64*len(data))+4<<20, "reading a fuzzed WARC", func() {
			rd := NewReader(bytes.NewReader(data), opts)
			for i := 0; i < 1000; i++ {
				rec, err := rd.Next()
				var de *DigestError
				if errors.As(err, &de) {
					continue
				}
				if err != nil {
					return
				}
				if p, err := rec.Payload(); err == nil {
					io.Copy(io.Discard, p)
				}
				_ = rec.TargetURI()
				_ = SURT(rec.TargetURI())
			}
			t.Fatal("more than 1000 records from one input")
		})
	})
}

// TestReaderDefaultBounds: with the default bounds, the worst headers
// (many tiny fields, just under the bounds) cost a bounded amount of
// short-lived memory, and headers just over them are refused.
func TestReaderDefaultBounds(t *testing.T) {
	fields := func(n int) string { return strings.Repeat("a:b\r\n", n/5) }
	warcHeader := record(append(resourceLines("a"), fields(DefaultMaxWARCHeaderBytes-500)+"c: d"), "x")
	httpHead := record(responseLines("a"), "HTTP/1.1 200 OK\r\n"+fields(DefaultMaxHeaderBytes-100)+"\r\nbody")
	for _, data := range []string{warcHeader, httpHead} {
		var err error
		n := fuzzcheck.HeapAllocs(func() { _, err = NewReader(strings.NewReader(data), ReaderOptions{}).Next() })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d-byte record of tiny fields: %.1f MiB allocated", len(data), float64(n)/(1<<20))
		if n > 24<<20 {
			t.Errorf("%d-byte record of tiny fields allocated %d bytes", len(data), n)
		}
	}
	over := record(append(resourceLines("a"), fields(DefaultMaxWARCHeaderBytes+10)), "x")
	if _, err := NewReader(strings.NewReader(over), ReaderOptions{}).Next(); err == nil || !strings.Contains(err.Error(), "WARC header longer") {
		t.Errorf("WARC header over the default bound: %v", err)
	}
}
