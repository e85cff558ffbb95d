package wacz_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/wacz"
	"github.com/linkarc/linkarc/archive/warc"
)

var when = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// capture writes one WARC of a page and its stylesheet, the stylesheet
// deduplicated against d.
func capture(t testing.TB, name, page, css string, d warc.Deduper, cssBody io.Reader) ([]byte, warc.Capture) {
	t.Helper()
	var buf bytes.Buffer
	w, err := warc.NewWriter(&buf, warc.Options{Filename: name, Dedup: d})
	if err != nil {
		t.Fatal(err)
	}
	ex := func(u, ctype string) warc.Exchange {
		return warc.Exchange{URL: u, Date: when, IP: "192.0.2.1",
			RequestHead:  []byte("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"),
			ResponseHead: []byte("HTTP/1.1 200 OK\r\nContent-Type: " + ctype + "\r\n\r\n")}
	}
	c, err := w.WriteExchange(ex(page, "text/html"), strings.NewReader("<h1>"+page+"</h1>"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteExchange(ex(css, "text/css"), cssBody); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), c
}

// TestPackageLayout writes a WACZ of two captures that share a stylesheet
// (the second holds a revisit of the first's) and checks it as a reader
// would: the files and how they are stored, every hash in
// datapackage.json and datapackage-digest.json, pages.jsonl, and an index
// that is sorted and whose every line leads to its record.
func TestPackageLayout(t *testing.T) {
	d := warc.NewDedupIndex()
	warcA, pageA := capture(t, "a.warc.gz", "https://example.org/a", "https://example.org/site.css", d, strings.NewReader("h1{}"))
	warcB, pageB := capture(t, "b.warc.gz", "https://www.example.org/b?x=1", "https://cdn.example.org/site.css", d, strings.NewReader("h1{}"))

	var out bytes.Buffer
	zw := wacz.NewWriter(&out, wacz.Options{Title: "Digest", Description: "Two *articles*", Created: when,
		MainPageURL: pageA.URL, MainPageDate: pageA.Date})
	for name, data := range map[string][]byte{"a.warc.gz": warcA, "b.warc.gz": warcB} {
		if err := zw.AddWARC(name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []wacz.Page{
		{URL: pageA.URL, TS: pageA.Date, Title: "A", Text: "text of A"},
		{URL: pageB.URL, TS: pageB.Date, Title: "B <&> \"quoted\""},
	} {
		if err := zw.AddPage(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		wantMethod := zip.Deflate
		if strings.HasPrefix(f.Name, "archive/") {
			wantMethod = zip.Store // WACZ: never compress what is compressed, keep records reachable by range
		}
		if f.Method != wantMethod {
			t.Errorf("%s stored with method %d, want %d", f.Name, f.Method, wantMethod)
		}
		if !f.Modified.Equal(when) {
			t.Errorf("%s modified %v, want %v", f.Name, f.Modified, when)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc) // also checks the CRC
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
	slices.Sort(names)
	want := []string{"archive/a.warc.gz", "archive/b.warc.gz", "datapackage-digest.json", "datapackage.json", "indexes/index.cdxj", "pages/pages.jsonl"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	if !bytes.Equal(files["archive/a.warc.gz"], warcA) || !bytes.Equal(files["archive/b.warc.gz"], warcB) {
		t.Error("a WARC changed on its way into the package")
	}

	var pkg struct {
		Profile      string `json:"profile"`
		WACZVersion  string `json:"wacz_version"`
		Title        string `json:"title"`
		Description  string `json:"description"`
		Created      string `json:"created"`
		Software     string `json:"software"`
		MainPageURL  string `json:"mainPageUrl"`
		MainPageDate string `json:"mainPageDate"`
		Resources    []struct {
			Name, Path, Hash string
			Bytes            int64
		} `json:"resources"`
	}
	if err := json.Unmarshal(files["datapackage.json"], &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Profile != "data-package" || pkg.WACZVersion != "1.1.1" || pkg.Title != "Digest" || pkg.Created != "2024-05-06T07:08:09.000Z" ||
		pkg.Software != "linkarc" || pkg.MainPageURL != pageA.URL || pkg.MainPageDate == "" {
		t.Errorf("datapackage.json: %s", files["datapackage.json"])
	}
	var listed []string
	for _, r := range pkg.Resources {
		listed = append(listed, r.Path)
		if r.Hash != sha(files[r.Path]) || r.Bytes != int64(len(files[r.Path])) || r.Name != filepath.Base(r.Path) {
			t.Errorf("resource %+v does not describe %s (%d bytes, %s)", r, r.Path, len(files[r.Path]), sha(files[r.Path]))
		}
	}
	slices.Sort(listed)
	if want := []string{"archive/a.warc.gz", "archive/b.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl"}; !slices.Equal(listed, want) {
		t.Errorf("datapackage.json lists %q, want %q", listed, want)
	}
	var digest struct{ Path, Hash string }
	if err := json.Unmarshal(files["datapackage-digest.json"], &digest); err != nil {
		t.Fatal(err)
	}
	if digest.Path != "datapackage.json" || digest.Hash != sha(files["datapackage.json"]) {
		t.Errorf("datapackage-digest.json %+v, datapackage.json hashes to %s", digest, sha(files["datapackage.json"]))
	}

	lines := strings.Split(strings.TrimSuffix(string(files["pages/pages.jsonl"]), "\n"), "\n")
	wantPages := []string{
		`{"format":"json-pages-1.0","id":"pages","title":"All Pages"}`,
		`{"id":"` + pageID(lines, 1) + `","url":"https://example.org/a","ts":"2024-05-06T07:08:09.000Z","title":"A","text":"text of A"}`,
		`{"id":"` + pageID(lines, 2) + `","url":"https://www.example.org/b?x=1","ts":"2024-05-06T07:08:09.000Z","title":"B <&> \"quoted\""}`,
	}
	if !slices.Equal(lines, wantPages) {
		t.Errorf("pages.jsonl:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantPages, "\n"))
	}

	// The index: sorted bytewise, and each line leads to its record.
	idx := strings.Split(strings.TrimSuffix(string(files["indexes/index.cdxj"]), "\n"), "\n")
	if !slices.IsSorted(idx) || len(idx) != 4 {
		t.Errorf("index not sorted or not 4 lines:\n%s", strings.Join(idx, "\n"))
	}
	found := map[string]string{}
	for _, line := range idx {
		key, rest, _ := strings.Cut(line, " ")
		_, js, _ := strings.Cut(rest, " ")
		var e struct{ URL, Mime, Filename, Offset, Length string }
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			t.Fatalf("index line %q: %v", line, err)
		}
		if key != warc.SURT(e.URL) {
			t.Errorf("line %q keyed %q, want %q", line, key, warc.SURT(e.URL))
		}
		var off, n int
		fmt.Sscan(e.Offset, &off)
		fmt.Sscan(e.Length, &n)
		data := files["archive/"+e.Filename]
		if off+n > len(data) {
			t.Fatalf("line %q points past its WARC", line)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data[off : off+n]))
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rec, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("line %q: the range is not one whole gzip member: %v", line, err)
		}
		if !bytes.Contains(rec, []byte("\r\nWARC-Target-URI: "+e.URL+"\r\n")) {
			t.Errorf("line %q leads to a record of another URL", line)
		}
		found[e.URL] = e.Mime
	}
	for _, u := range []string{pageA.URL, pageB.URL} {
		if found[u] != "text/html" {
			t.Errorf("the index does not find page %s as text/html (%q)", u, found[u])
		}
	}
	if found["https://cdn.example.org/site.css"] != "warc/revisit" {
		t.Errorf("the second stylesheet is indexed as %q, want warc/revisit", found["https://cdn.example.org/site.css"])
	}
}

func pageID(lines []string, i int) string {
	if i >= len(lines) {
		return ""
	}
	var p struct{ ID string }
	json.Unmarshal([]byte(lines[i]), &p)
	return p.ID
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestWriterRefuses: names that would break the layout, duplicates, pages
// without a URL or time, and broken WARCs (which fail the whole package).
func TestWriterRefuses(t *testing.T) {
	data, _ := capture(t, "a.warc.gz", "https://example.org/a", "https://example.org/s.css", nil, strings.NewReader("x"))
	zw := wacz.NewWriter(io.Discard, wacz.Options{})
	for _, name := range []string{"", "../a.warc.gz", "sub/a.warc.gz", "a.txt", `a\b.warc`} {
		if err := zw.AddWARC(name, bytes.NewReader(data)); err == nil {
			t.Errorf("AddWARC(%q) accepted", name)
		}
	}
	if err := zw.AddWARC("a.warc.gz", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.AddWARC("a.warc.gz", bytes.NewReader(data)); err == nil {
		t.Error("the same name accepted twice")
	}
	if err := zw.AddPage(wacz.Page{URL: "https://example.org/a"}); err == nil {
		t.Error("a page without a time accepted")
	}
	if err := zw.AddWARC("broken.warc.gz", bytes.NewReader(data[:len(data)/2])); err == nil {
		t.Fatal("a truncated WARC accepted")
	}
	if err := zw.Close(); err == nil {
		t.Error("Close after a broken WARC succeeded")
	}
}

// TestAddWARCStreams: a WARC with a 16 MiB record goes into the package
// without being held in memory.
func TestAddWARCStreams(t *testing.T) {
	big := io.LimitReader(bufio.NewReader(&noise{}), 16<<20)
	data, _ := capture(t, "big.warc.gz", "https://example.org/a", "https://example.org/big.bin", nil, big)
	path := filepath.Join(t.TempDir(), "big.warc.gz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	data = nil
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	zw := wacz.NewWriter(io.Discard, wacz.Options{})
	if err := zw.AddWARC("big.warc.gz", f); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("16 MiB WARC packaged and indexed in %v, %.1f MiB allocated", time.Since(start).Round(time.Millisecond), float64(allocated)/(1<<20))
	if allocated > 4<<20 {
		t.Errorf("packaging allocated %d bytes: the WARC is being held in memory", allocated)
	}
}

// noise is a cheap incompressible stream.
type noise struct{ x uint64 }

func (n *noise) Read(p []byte) (int, error) {
	for i := range p {
		n.x = n.x*6364136223846793005 + 1442695040888963407
		p[i] = byte(n.x >> 56)
	}
	return len(p), nil
}
