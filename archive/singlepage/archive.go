package singlepage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
)

// Source is one WARC file to read resources from, read at the offsets of
// its records: a local file (OpenFile) or anything else with random
// access.
type Source struct {
	// Name identifies the file in errors, e.g. its WARC-Filename.
	Name string
	R    io.ReaderAt
	Size int64
}

// OpenFile opens the WARC file at path as a Source. Close the file when
// done.
func OpenFile(path string) (Source, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return Source{}, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return Source{}, nil, err
	}
	return Source{Name: path, R: f, Size: info.Size()}, f, nil
}

// OriginalFunc opens a WARC holding the original of a revisit that none of
// the sources given holds: in a run that deduplicates across captures, the
// WARC of the capture that fetched the payload first (warc.Original
// names its file). ok false means it is not to be had. The WARC may still
// be being written: records after the last whole one are ignored.
//
// The revisit is as archive/stored reads it (stored.RevisitOf), and
// StoreOriginals is the OriginalFunc that finds originals in a store the
// one way archive/stored resolves them.
type OriginalFunc func(ctx context.Context, r stored.Revisit) (src Source, ok bool, err error)

// entry is one response or revisit record of a source.
type entry struct {
	src      int
	offset   int64
	revisit  bool
	status   int
	id       string
	date     time.Time
	digest   string
	location string // Location of a redirect
	refersTo stored.Revisit
}

// Archive finds resources by URL in the response and revisit records of
// one or more WARC files, following redirects and revisits to the payload
// they stand for. It reads record heads once when opened and each payload
// when asked for; nothing is held but the index.
type Archive struct {
	sources   []Source
	byURL     map[string][]entry
	byID      map[string]entry
	byDigest  map[string]entry // full responses, by payload digest
	originals OriginalFunc
	asked     map[string]bool // revisit originals asked of originals
	tempDir   string          // Options.TempDir
}

// maxIndexRecords bounds the records indexed per source: a capture's WARC
// holds a page and at most a few thousand requisites.
const maxIndexRecords = 100_000

// ErrNotArchived is returned (wrapped) by Archive.Get for a URL no record
// answers.
var ErrNotArchived = errors.New("not in the archive")

// OpenArchive indexes the records of sources. originals, when not nil,
// is asked for revisits whose original is in none of them.
func OpenArchive(ctx context.Context, sources []Source, originals OriginalFunc) (*Archive, error) {
	a := &Archive{
		byURL:     map[string][]entry{},
		byID:      map[string]entry{},
		byDigest:  map[string]entry{},
		originals: originals,
		asked:     map[string]bool{},
	}
	for _, s := range sources {
		if err := a.add(ctx, s, false); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// add indexes one more source. A tolerant add keeps the records indexed
// before one that does not read (a WARC still being written ends in a
// partial record), and fails only if none does.
func (a *Archive) add(ctx context.Context, s Source, tolerant bool) error {
	idx := len(a.sources)
	a.sources = append(a.sources, s)
	r := warc.NewReader(io.NewSectionReader(s.R, 0, s.Size), warc.ReaderOptions{HeadersOnly: true})
	for n := 0; ; n++ {
		if n%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if n >= maxIndexRecords {
			return fmt.Errorf("singlepage: %s: more than %d records", s.Name, maxIndexRecords)
		}
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && tolerant && n > 0 && ctx.Err() == nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("singlepage: index %s: %w", s.Name, err)
		}
		if rec.Type != "response" && rec.Type != "revisit" {
			continue
		}
		e := entry{src: idx, offset: rec.Offset, revisit: rec.Type == "revisit", status: rec.Status,
			id: rec.ID, date: rec.Date, digest: rec.Header.Get("WARC-Payload-Digest")}
		if rec.HTTPHead != nil && e.status >= 300 && e.status < 400 {
			if resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(rec.HTTPHead)), nil); err == nil {
				e.location = resp.Header.Get("Location")
			}
		}
		if rv, ok := stored.RevisitOf(rec); ok {
			e.refersTo = rv
		}
		key := urlKey(rec.TargetURI())
		if key == "" {
			continue
		}
		a.byURL[key] = append(a.byURL[key], e)
		if e.id != "" {
			a.byID[e.id] = e
		}
		if !e.revisit && e.status == http.StatusOK && e.digest != "" && rec.Header.Get("WARC-Truncated") == "" {
			if _, ok := a.byDigest[e.digest]; !ok {
				a.byDigest[e.digest] = e
			}
		}
	}
}

// urlKey is the form URLs are looked up by: absolute http(s), no
// fragment, scheme and host in lower case, no default port.
func urlKey(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if u.Scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	} else {
		host = strings.TrimSuffix(host, ":443")
	}
	u.Host = host
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	return u.String()
}

// Resource is a payload the archive holds.
type Resource struct {
	// URL is where it was received: the URL asked for, or where its
	// redirects led.
	URL string
	// ContentType is the response's Content-Type header.
	ContentType string
	// Body is the payload, its content coding undone.
	Body []byte
}

// maxRedirects bounds the redirects Get follows within the archive.
const maxRedirects = 10

// ErrTooLarge is returned (wrapped) by Get for a payload over its limit.
var ErrTooLarge = errors.New("over the size limit")

// Get returns the payload the archive holds for rawURL, following
// redirects and revisits, decoded, of at most limit bytes (ErrTooLarge
// beyond). A URL no record answers is ErrNotArchived.
func (a *Archive) Get(ctx context.Context, rawURL string, limit int64) (*Resource, error) {
	u := rawURL
	for range maxRedirects + 1 {
		key := urlKey(u)
		e, ok := a.pick(key)
		if !ok {
			return nil, fmt.Errorf("%s: %w", rawURL, ErrNotArchived)
		}
		if e.location != "" {
			base, err := url.Parse(u)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rawURL, ErrNotArchived)
			}
			next, err := base.Parse(e.location)
			if err != nil {
				return nil, fmt.Errorf("%s: redirect to %q: %w", rawURL, e.location, ErrNotArchived)
			}
			u = next.String()
			continue
		}
		if !e.revisit && (e.status < 200 || e.status >= 300) {
			return nil, fmt.Errorf("%s: archived with status %d: %w", rawURL, e.status, ErrNotArchived)
		}
		res, err := a.read(ctx, e, limit)
		if err != nil {
			return nil, err
		}
		res.URL = u
		return res, nil
	}
	return nil, fmt.Errorf("%s: more than %d redirects: %w", rawURL, maxRedirects, ErrNotArchived)
}

// pick chooses the record answering a URL: the last 2xx response or
// revisit, else the last redirect, else the last record.
func (a *Archive) pick(key string) (entry, bool) {
	list := a.byURL[key]
	if len(list) == 0 {
		return entry{}, false
	}
	for i := len(list) - 1; i >= 0; i-- {
		if s := list[i].status; (s >= 200 && s < 300) || (list[i].revisit && s == 0) {
			return list[i], true
		}
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].location != "" {
			return list[i], true
		}
	}
	return list[len(list)-1], true
}

// read reads the payload of e, resolving a revisit to its original.
func (a *Archive) read(ctx context.Context, e entry, limit int64) (*Resource, error) {
	if e.revisit {
		orig, ok, err := a.original(ctx, e.refersTo)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s: the original of its revisit record: %w", e.refersTo.URL, ErrNotArchived)
		}
		e = orig
	}
	s := a.sources[e.src]
	r := warc.NewReader(io.NewSectionReader(s.R, e.offset, s.Size-e.offset), warc.ReaderOptions{MaxBlockBytes: limit + warc.DefaultMaxHeaderBytes, TempDir: a.tempDir})
	rec, err := r.Next()
	if err != nil {
		if strings.Contains(err.Error(), "over the") {
			return nil, fmt.Errorf("%s: %w", s.Name, ErrTooLarge)
		}
		return nil, fmt.Errorf("singlepage: read %s at %d: %w", s.Name, e.offset, err)
	}
	defer rec.Close()
	head := rec.HTTPHead
	if head == nil {
		return nil, fmt.Errorf("%s: a record without an HTTP head: %w", rec.TargetURI(), ErrNotArchived)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: HTTP head: %w", rec.TargetURI(), err)
	}
	payload, err := rec.Payload()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rec.TargetURI(), err)
	}
	body, err := stored.DecodeBody(payload, resp.Header.Values("Content-Encoding"), limit)
	if errors.Is(err, stored.ErrBodyTooLarge) {
		return nil, fmt.Errorf("%s: %w", rec.TargetURI(), ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rec.TargetURI(), err)
	}
	return &Resource{ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}

// original finds the full response a revisit stands for: by record id,
// else by payload digest, in the sources, else from Archive.originals.
func (a *Archive) original(ctx context.Context, r stored.Revisit) (entry, bool, error) {
	find := func() (entry, bool) {
		if e, ok := a.byID[r.RefersTo]; ok && r.RefersTo != "" && !e.revisit {
			return e, true
		}
		if e, ok := a.byDigest[r.PayloadDigest]; ok && r.PayloadDigest != "" {
			return e, true
		}
		return entry{}, false
	}
	if e, ok := find(); ok {
		return e, true, nil
	}
	key := r.RefersTo + " " + r.PayloadDigest
	if a.originals == nil || a.asked[key] {
		return entry{}, false, nil
	}
	a.asked[key] = true
	src, ok, err := a.originals(ctx, r)
	if err != nil {
		return entry{}, false, fmt.Errorf("singlepage: the original of %s: %w", r.URL, err)
	}
	if !ok {
		return entry{}, false, nil
	}
	if err := a.add(ctx, src, true); err != nil {
		return entry{}, false, err
	}
	e, ok := find()
	return e, ok, nil
}

// MaxSpillBytes bounds a WARC Spill copies: a capture's WARC holds one
// page and its requisites, each under the fetcher's caps.
const MaxSpillBytes = 1 << 30

// Spill copies the WARC read from r to a temporary file in dir (""
// means os.TempDir()) and opens it as a Source named name, for the random
// access Archive needs: a WARC in a store is read as a stream. Close the
// returned Closer to remove the file. A WARC over MaxSpillBytes is an
// error, as is any failure to read r or write the file.
func Spill(r io.Reader, name, dir string) (Source, io.Closer, error) {
	tmp, err := os.CreateTemp(dir, "linkarc-warc-*.warc.gz")
	if err != nil {
		return Source{}, nil, fmt.Errorf("singlepage: spill %s: %w", name, err)
	}
	rm := removeOnClose{tmp}
	n, err := io.Copy(tmp, io.LimitReader(r, MaxSpillBytes+1))
	if err == nil && n > MaxSpillBytes {
		err = fmt.Errorf("over %d MiB", MaxSpillBytes>>20)
	}
	if err != nil {
		rm.Close()
		return Source{}, nil, fmt.Errorf("singlepage: spill %s: %w", name, err)
	}
	return Source{Name: name, R: tmp, Size: n}, rm, nil
}

// removeOnClose is a temporary file removed when closed.
type removeOnClose struct{ f *os.File }

func (r removeOnClose) Close() error {
	r.f.Close()
	return os.Remove(r.f.Name())
}

// StoreOriginals is the OriginalFunc of a capture already stored: the
// original of a revisit is found the one way archive/stored resolves it
// (stored.FindOriginal: the requisite index; stored.OpenOriginal: the
// capture the entry names, current or in history), and that WARC is
// spilled to a temporary file in dir (Spill). Close the returned Closer
// once the page is built: it removes the files. An original the store
// does not have is not an error (ok false): the page is built without
// that resource. Other errors are the store's.
func StoreOriginals(st storage.Store, dir string) (OriginalFunc, io.Closer) {
	o := &storeOriginals{st: st, dir: dir}
	return o.open, o
}

type storeOriginals struct {
	st     storage.Store
	dir    string
	opened []io.Closer
}

func (o *storeOriginals) open(ctx context.Context, r stored.Revisit) (Source, bool, error) {
	ref, err := stored.FindOriginal(ctx, o.st, r)
	if errors.Is(err, stored.ErrNoOriginal) {
		return Source{}, false, nil
	}
	if err != nil {
		return Source{}, false, err
	}
	src, closer, err := OpenStoredOriginal(ctx, o.st, ref, o.dir)
	if errors.Is(err, stored.ErrNoOriginal) {
		return Source{}, false, nil
	}
	if err != nil {
		return Source{}, false, err
	}
	o.opened = append(o.opened, closer)
	return src, true, nil
}

func (o *storeOriginals) Close() error {
	for _, c := range o.opened {
		c.Close()
	}
	o.opened = nil
	return nil
}

// OpenStoredOriginal opens the WARC holding ref's record
// (stored.OpenOriginal) as a Source spilled to a temporary file in dir,
// named by its key. Close the Closer to remove the file. A record the
// store does not have is stored.ErrNoOriginal.
func OpenStoredOriginal(ctx context.Context, st storage.Store, ref stored.OriginalRef, dir string) (Source, io.Closer, error) {
	rc, key, err := stored.OpenOriginal(ctx, st, ref)
	if err != nil {
		return Source{}, nil, err
	}
	defer rc.Close()
	return Spill(rc, key, dir)
}
