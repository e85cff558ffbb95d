// Package wacz writes WACZ packages: web archives (WARC files), their CDXJ
// index, a list of pages and a manifest with hashes, in one ZIP file that
// ReplayWeb.page and pywb open. It follows the WACZ 1.1.1 specification
// (https://specs.webrecorder.net/wacz/1.1.1/), cited below as "WACZ §…".
//
// The layout written:
//
//	archive/<name>.warc.gz      each WARC as given, stored (not deflated) so
//	                            that a reader can fetch one record by range
//	indexes/index.cdxj          one sorted CDXJ index of every WARC
//	pages/pages.jsonl           a header line, then one page per line
//	datapackage.json            the manifest: every file's path, size and
//	                            sha256 (a Frictionless data package)
//	datapackage-digest.json     the manifest's own sha256
//
// The index is plain CDXJ rather than a compressed index.cdx.gz with an
// index.idx: ReplayWeb.page loads a plain CDXJ whole when it opens the
// package, which for linkarc's exports (a page and its requisites per
// article) is one small read, while the compressed form is meant for
// archives too large to load. WARCs are streamed into the ZIP and indexed
// on the way, so no WARC is ever held in memory, and each is read once.
package wacz

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
)

// Version is the WACZ version written (WACZ §datapackage.json,
// wacz_version).
const Version = "1.1.1"

// DefaultMaxIndexEntries bounds the CDXJ lines of one package, which are
// held in memory to be sorted (a few hundred bytes each).
const DefaultMaxIndexEntries = 1_000_000

// DefaultSoftware names the writing program in datapackage.json.
const DefaultSoftware = "linkarc"

// Page is one entry of pages/pages.jsonl (WACZ §pages.jsonl): a page a
// reader of the archive starts from.
type Page struct {
	// URL is the page's URL as archived (the WARC-Target-URI of its
	// response); required.
	URL string
	// TS is when it was captured (the WARC-Date of its response);
	// required. Replay opens the capture closest to it.
	TS time.Time
	// ID identifies the page in the package; "" derives one from URL and
	// TS.
	ID string
	// Title and Text are shown and searched by ReplayWeb.page; optional.
	Title string
	Text  string
	// Size is the bytes of the page and its resources; 0 leaves it out.
	Size int64
}

// Options describes the package. The zero value of every field means the
// documented default.
type Options struct {
	// Title and Description (Markdown) describe the collection.
	Title       string
	Description string
	// Software names the writing program; "" means DefaultSoftware.
	Software string
	// Created is the package's creation time (also every file's modified
	// time in the ZIP); zero means now.
	Created time.Time
	// MainPageURL and MainPageDate name the page replay opens first;
	// optional.
	MainPageURL  string
	MainPageDate time.Time
	// MaxIndexEntries bounds the index; 0 means DefaultMaxIndexEntries.
	MaxIndexEntries int
	// Reader bounds the reading of each WARC while it is indexed.
	Reader warc.ReaderOptions
}

// resource is one file of the package, for datapackage.json.
type resource struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Hash  string `json:"hash"`
	Bytes int64  `json:"bytes"`
}

// Writer writes one WACZ file: AddWARC for each WARC, AddPage for each
// page, then Close. Its methods must not be called concurrently.
type Writer struct {
	opts      Options
	zw        *zip.Writer
	resources []resource
	index     []warc.IndexEntry
	lastWARC  int // where the entries of the WARC added last start in index
	pages     []Page
	names     map[string]bool
	closed    bool
	err       error
}

// NewWriter returns a Writer of a WACZ file to w. It never closes w.
func NewWriter(w io.Writer, opts Options) *Writer {
	if opts.Software == "" {
		opts.Software = DefaultSoftware
	}
	if opts.Created.IsZero() {
		opts.Created = time.Now()
	}
	opts.Created = opts.Created.UTC()
	if opts.MaxIndexEntries <= 0 {
		opts.MaxIndexEntries = DefaultMaxIndexEntries
	}
	return &Writer{opts: opts, zw: zip.NewWriter(w), names: make(map[string]bool)}
}

// AddWARC copies the WARC file read from r into archive/<name>, stored,
// and indexes its records. name must be a plain file name ending in
// ".warc.gz" or ".warc", unique in the package; it is what the index's
// filename field names. A WARC that cannot be read to its end (a record
// over the Reader bounds, a truncated file) fails the package: every
// later call returns the error.
func (w *Writer) AddWARC(name string, r io.Reader) error {
	if err := w.usable(); err != nil {
		return err
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name != path.Base(name) ||
		!(strings.HasSuffix(name, ".warc.gz") || strings.HasSuffix(name, ".warc")) {
		return fmt.Errorf("wacz: WARC name %q: want a file name ending in .warc.gz or .warc", name)
	}
	if w.names[name] {
		return fmt.Errorf("wacz: WARC %q added twice", name)
	}
	w.names[name] = true
	f, err := w.create("archive/"+name, zip.Store)
	if err != nil {
		return w.fail(err)
	}
	tee := io.TeeReader(r, f)
	entries, err := warc.Index(tee, name, w.opts.Reader)
	if err == nil {
		// Index reads to the end of the file; nothing should be left.
		_, err = io.Copy(io.Discard, tee)
	}
	if err != nil {
		return w.fail(fmt.Errorf("wacz: archive/%s: %w", name, err))
	}
	if len(w.index)+len(entries) > w.opts.MaxIndexEntries {
		return w.fail(fmt.Errorf("wacz: more than %d index entries", w.opts.MaxIndexEntries))
	}
	w.lastWARC = len(w.index)
	w.index = append(w.index, entries...)
	w.resources = append(w.resources, f.resource())
	return nil
}

// LastWARC returns the index entries of the WARC added last, in file
// order: where a caller finds the record its page is (the URL and time an
// AddPage needs) without copying the whole index, as Index does.
func (w *Writer) LastWARC() []warc.IndexEntry {
	return append([]warc.IndexEntry(nil), w.index[w.lastWARC:]...)
}

// AddPage adds a page to pages/pages.jsonl.
func (w *Writer) AddPage(p Page) error {
	if err := w.usable(); err != nil {
		return err
	}
	if p.URL == "" || p.TS.IsZero() {
		return errors.New("wacz: a page needs a URL and a time")
	}
	if p.ID == "" {
		sum := sha256.Sum256([]byte(p.URL + " " + p.TS.UTC().Format(time.RFC3339Nano)))
		p.ID = hex.EncodeToString(sum[:8])
	}
	w.pages = append(w.pages, p)
	return nil
}

// Index returns the index entries of the WARCs added so far, unsorted.
func (w *Writer) Index() []warc.IndexEntry { return append([]warc.IndexEntry(nil), w.index...) }

// Close writes the index, the pages and the manifest, then the ZIP's
// central directory. It does not close the underlying io.Writer.
func (w *Writer) Close() error {
	if err := w.usable(); err != nil {
		return err
	}
	w.closed = true

	var pages bytes.Buffer
	enc := json.NewEncoder(&pages)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})
	for _, p := range w.pages {
		_ = enc.Encode(pageLine{ID: p.ID, URL: p.URL, TS: formatTS(p.TS), Title: p.Title, Text: p.Text, Size: p.Size})
	}
	if err := w.writeFile("pages/pages.jsonl", pages.Bytes()); err != nil {
		return w.fail(err)
	}

	var idx bytes.Buffer
	if err := warc.WriteCDXJ(&idx, w.index); err != nil {
		return w.fail(err)
	}
	if err := w.writeFile("indexes/index.cdxj", idx.Bytes()); err != nil {
		return w.fail(err)
	}

	pkg := datapackage{
		Profile:     "data-package",
		WACZVersion: Version,
		Title:       w.opts.Title,
		Description: w.opts.Description,
		Created:     formatTS(w.opts.Created),
		Modified:    formatTS(w.opts.Created),
		Software:    w.opts.Software,
		MainPageURL: w.opts.MainPageURL,
		Resources:   w.resources,
	}
	if !w.opts.MainPageDate.IsZero() {
		pkg.MainPageDate = formatTS(w.opts.MainPageDate)
	}
	manifest, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		return w.fail(err)
	}
	if err := w.writeFile("datapackage.json", manifest); err != nil {
		return w.fail(err)
	}
	sum := sha256.Sum256(manifest)
	digest, _ := json.MarshalIndent(map[string]string{"path": "datapackage.json", "hash": "sha256:" + hex.EncodeToString(sum[:])}, "", "  ")
	if err := w.writeFile("datapackage-digest.json", digest); err != nil {
		return w.fail(err)
	}
	if err := w.zw.Close(); err != nil {
		return w.fail(fmt.Errorf("wacz: %w", err))
	}
	return nil
}

type pageLine struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	TS    string `json:"ts"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"`
	Size  int64  `json:"size,omitempty"`
}

type datapackage struct {
	Profile      string     `json:"profile"`
	WACZVersion  string     `json:"wacz_version"`
	Title        string     `json:"title,omitempty"`
	Description  string     `json:"description,omitempty"`
	Created      string     `json:"created"`
	Modified     string     `json:"modified"`
	Software     string     `json:"software"`
	MainPageURL  string     `json:"mainPageUrl,omitempty"`
	MainPageDate string     `json:"mainPageDate,omitempty"`
	Resources    []resource `json:"resources"`
}

// formatTS renders an RFC 3339 time, UTC, to the millisecond, as WARC-Date
// is written.
func formatTS(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// writeFile writes a small generated file, deflated (WACZ §Zip
// Compression allows it for JSON, JSONL and CDXJ files).
func (w *Writer) writeFile(name string, data []byte) error {
	f, err := w.create(name, zip.Deflate)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("wacz: %s: %w", name, err)
	}
	w.resources = append(w.resources, f.resource())
	return nil
}

func (w *Writer) create(name string, method uint16) (*entry, error) {
	zf, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: w.opts.Created})
	if err != nil {
		return nil, fmt.Errorf("wacz: %s: %w", name, err)
	}
	return &entry{name: name, w: zf, h: sha256.New()}, nil
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("wacz: writer closed")
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// entry is a file being written into the ZIP, hashed and counted on the
// way for datapackage.json.
type entry struct {
	name string
	w    io.Writer
	h    hash.Hash
	n    int64
}

func (e *entry) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	e.h.Write(p[:n])
	e.n += int64(n)
	return n, err
}

func (e *entry) resource() resource {
	return resource{Name: path.Base(e.name), Path: e.name, Hash: "sha256:" + hex.EncodeToString(e.h.Sum(nil)), Bytes: e.n}
}
