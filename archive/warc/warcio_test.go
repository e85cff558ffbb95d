package warc_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
	"github.com/linkarc/linkarc/internal/webtools"
)

// bigSize is the body the streaming claim is about: linkarc's body cap.
const bigSize = 16 << 20

// publisher serves what the interoperability test archives: a gzip-encoded
// page sent chunked, a 16 MiB image that does not compress, and one
// stylesheet under two names (the second fetch is a revisit).
func publisher(t *testing.T) (*httptest.Server, []byte) {
	page := []byte(strings.Repeat("<p>An article worth keeping.</p>\n", 200))
	css := []byte("body { font-family: serif; }\n")
	mux := http.NewServeMux()
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("the client asked for %q, not gzip", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		for i := 0; i < len(page); i += 1000 { // flushing makes net/http chunk the response
			zw.Write(page[i:min(i+1000, len(page))])
			zw.Flush()
			w.(http.Flusher).Flush()
		}
		zw.Close()
	})
	mux.HandleFunc("/photo.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", fmt.Sprint(bigSize))
		io.CopyN(w, noise(1), bigSize)
	})
	for _, p := range []string{"/a/style.css", "/b/style.css"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css")
			w.Write(css)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, page
}

// noise is an endless, incompressible, reproducible byte stream.
func noise(seed uint64) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		r := rand.New(rand.NewPCG(seed, seed))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		seed++
		return len(p), nil
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// warcioRecord is one line of scripts/warcio-check.mjs.
type warcioRecord struct {
	Pass                 string `json:"pass"`
	Offset               int64  `json:"offset"`
	Type                 string `json:"type"`
	ID                   string `json:"id"`
	URI                  string `json:"uri"`
	Date                 string `json:"date"`
	Status               int    `json:"status"`
	HTTPContentEncoding  string `json:"httpContentEncoding"`
	HTTPTransferEncoding string `json:"httpTransferEncoding"`
	RefersToURI          string `json:"refersToURI"`
	RefersToDate         string `json:"refersToDate"`
	Profile              string `json:"profile"`
	Truncated            string `json:"truncated"`
	ConcurrentTo         string `json:"concurrentTo"`
	PayloadLength        int64  `json:"payloadLength"`
	PayloadDigest        string `json:"payloadDigest"`
	PayloadDigestOK      *bool  `json:"payloadDigestOK"`
	ContentLength        int64  `json:"contentLength"`
	ContentSha256        string `json:"contentSha256"`
	Line                 string `json:"line"`
}

// TestWarcioReadsWhatWeWrite writes a WARC from real HTTP exchanges (a
// chunked gzip page, a 16 MiB body, a revisit) and has warcio.js, the
// library ReplayWeb.page reads WARCs with, read it record by record: every
// payload digest must verify, the revisit must point at its original, the
// page must decode to what the server sent, and warcio's own CDXJ index of
// the file must equal ours line for line.
func TestWarcioReadsWhatWeWrite(t *testing.T) {
	webtools.Dir(t) // install first: its time is not the writer's
	srv, page := publisher(t)
	client := warctest.Client()
	spill := t.TempDir()
	path := filepath.Join(t.TempDir(), "capture.warc.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := warc.NewWriter(f, warc.Options{
		Software: "linkarc/test", Filename: "capture.warc.gz", TempDir: spill,
		UserAgent: "linkarc-test/1.0", Robots: "obey", Dedup: warc.NewDedupIndex(),
	})
	if err != nil {
		t.Fatal(err)
	}

	article := warctest.Get(t, client, w, srv.URL+"/article")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	photo := warctest.Get(t, client, w, srv.URL+"/photo.jpg")
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("16 MiB response fetched and recorded in %v; %.1f MiB allocated meanwhile (client, server and writer), %.1f MiB record",
		elapsed.Round(time.Millisecond), float64(allocated)/(1<<20), float64(photo.Length)/(1<<20))
	// Holding the body whole would allocate at least its 16 MiB; the spill
	// buffer keeps the writer's share near its 1 MiB memory limit.
	if allocated > 8<<20 {
		t.Errorf("recording a %d-byte body allocated %d bytes: the body is being held in memory", bigSize, allocated)
	}

	css1 := warctest.Get(t, client, w, srv.URL+"/a/style.css")
	css2 := warctest.Get(t, client, w, srv.URL+"/b/style.css")
	if css1.Revisit != nil || css2.Revisit == nil || css2.Revisit.TargetURI != css1.URL {
		t.Fatalf("second stylesheet: revisit %+v, want one pointing at %s", css2.Revisit, css1.URL)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Errorf("spill files left behind: %v", left)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start = time.Now()
	out := webtools.RunScript(t, ctx, "warcio-check.mjs", path)
	t.Logf("warcio.js read %s in %v", path, time.Since(start).Round(time.Millisecond))

	var raw, content []warcioRecord
	var theirIndex []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r warcioRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("warcio-check output %q: %v", sc.Text(), err)
		}
		switch r.Pass {
		case "raw":
			raw = append(raw, r)
		case "content":
			content = append(content, r)
		case "cdxj":
			theirIndex = append(theirIndex, r.Line)
		}
	}

	var types []string
	for _, r := range raw {
		types = append(types, r.Type)
		if r.Type == "revisit" {
			continue // its payload is the original's (checked below)
		}
		if r.Type != "warcinfo" && (r.PayloadDigestOK == nil || !*r.PayloadDigestOK) {
			t.Errorf("warcio: %s record %s: payload digest %s does not verify (payload %d bytes)", r.Type, r.URI, r.PayloadDigest, r.PayloadLength)
		}
	}
	wantTypes := []string{"warcinfo", "response", "request", "response", "request", "response", "request", "revisit", "request"}
	if !slices.Equal(types, wantTypes) {
		t.Errorf("warcio saw records %v, want %v", types, wantTypes)
	}
	byURI := func(typ, uri string) warcioRecord {
		for _, r := range raw {
			if r.Type == typ && r.URI == uri {
				return r
			}
		}
		t.Fatalf("warcio saw no %s record for %s", typ, uri)
		return warcioRecord{}
	}

	a := byURI("response", article.URL)
	if a.HTTPContentEncoding != "gzip" || a.HTTPTransferEncoding != "" || a.Status != 200 {
		t.Errorf("article as warcio reads it: Content-Encoding %q, Transfer-Encoding %q, status %d; want gzip kept, the dechunked body no longer announced as chunked, 200",
			a.HTTPContentEncoding, a.HTTPTransferEncoding, a.Status)
	}
	if a.ConcurrentTo != "<"+article.RequestID+">" || byURI("request", article.URL).ConcurrentTo != "<"+article.ResponseID+">" {
		t.Errorf("response and request are not linked both ways by WARC-Concurrent-To")
	}
	sum := sha256.Sum256(page)
	found := false
	for _, c := range content {
		if c.URI == article.URL {
			found = true
			if c.ContentSha256 != hex.EncodeToString(sum[:]) {
				t.Errorf("warcio decodes the article to %d bytes that differ from the %d the server sent", c.ContentLength, len(page))
			}
		}
	}
	if !found {
		t.Errorf("warcio decoded no content for %s", article.URL)
	}

	p := byURI("response", photo.URL)
	if p.PayloadLength != bigSize || p.PayloadDigest != photo.PayloadDigest {
		t.Errorf("photo as warcio reads it: %d bytes, digest %s; want %d bytes, %s", p.PayloadLength, p.PayloadDigest, bigSize, photo.PayloadDigest)
	}

	rv := byURI("revisit", css2.URL)
	orig := byURI("response", css1.URL)
	if rv.Profile != warc.ProfileIdenticalPayloadDigest || rv.RefersToURI != css1.URL || rv.RefersToDate != orig.Date ||
		rv.PayloadDigest != orig.PayloadDigest || rv.Truncated != "length" || rv.Status != 200 || rv.PayloadLength != 0 {
		t.Errorf("revisit as warcio reads it: %+v\noriginal: %+v", rv, orig)
	}

	var ours []string
	for _, e := range w.Index() {
		ours = append(ours, e.String())
	}
	slices.Sort(ours)
	slices.Sort(theirIndex)
	if !slices.Equal(ours, theirIndex) {
		t.Errorf("CDXJ differs from warcio's\nours:\n%s\nwarcio's:\n%s", strings.Join(ours, "\n"), strings.Join(theirIndex, "\n"))
	}

	// And our own reader verifies every block and payload digest, the
	// 16 MiB one in bounded memory.
	rf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	runtime.GC()
	runtime.ReadMemStats(&before)
	start = time.Now()
	rd := warc.NewReader(rf, warc.ReaderOptions{TempDir: spill})
	n := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading back record %d: %v", n, err)
		}
		if len(rec.Warnings) > 0 {
			t.Errorf("record %d (%s %s): %v", n, rec.Type, rec.TargetURI(), rec.Warnings)
		}
		if rec.Offset != raw[n].Offset {
			t.Errorf("record %d at offset %d, warcio says %d", n, rec.Offset, raw[n].Offset)
		}
		if rec.Type == "response" && rec.TargetURI() == photo.URL {
			p, err := rec.Payload()
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if n, err := io.Copy(h, p); err != nil || n != bigSize || "sha256:"+hex.EncodeToString(h.Sum(nil)) != photo.PayloadDigest {
				t.Errorf("photo read back: %d bytes, %v", n, err)
			}
		}
		n++
	}
	runtime.ReadMemStats(&after)
	allocated = after.TotalAlloc - before.TotalAlloc
	t.Logf("our reader verified %d records (16 MiB payload streamed) in %v, %.1f MiB allocated", n, time.Since(start).Round(time.Millisecond), float64(allocated)/(1<<20))
	if allocated > 8<<20 {
		t.Errorf("reading back allocated %d bytes: a block is being held in memory", allocated)
	}
	if n != len(raw) {
		t.Errorf("our reader saw %d records, warcio %d", n, len(raw))
	}
	if left, _ := os.ReadDir(spill); len(left) != 0 {
		t.Errorf("spill files left behind by the reader: %v", left)
	}
}

// TestWeReadWhatWarcioWrites reads a WARC that warcio.js wrote, with
// SHA-256 digests and with Base32 SHA-1 ones, verifying every digest.
func TestWeReadWhatWarcioWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "theirs.warc.gz")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	webtools.RunScript(t, ctx, "warcio-write.mjs", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := warc.NewReader(f, warc.ReaderOptions{})
	var got []string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := rec.Payload()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		got = append(got, fmt.Sprintf("%s %s %d %q %d warnings", rec.Type, rec.TargetURI(), rec.Status, b, len(rec.Warnings)))
	}
	want := []string{
		`warcinfo  0 "software: warcio.js\r\n" 0 warnings`,
		`response https://example.org/page 200 "<p>written by warcio.js</p>" 0 warnings`,
		`resource https://example.org/notes.txt 0 "a resource" 0 warnings`,
		`response https://example.org/old 200 "sha-1, base32" 0 warnings`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("read:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
