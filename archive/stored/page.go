package stored

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// WARCFile is the name of a capture's WARC among its objects
// (articles/<slug>/capture.warc.gz, and the same under
// history/<capture-id>/); storage/record's layout owns it.
const WARCFile = record.WARCFile

// WARCKey is the key of the WARC of an article's current capture
// (captureID "") or of an earlier one.
func WARCKey(slug, captureID string) string {
	if captureID == "" {
		return record.ArticleKey(slug, WARCFile)
	}
	return record.HistoryKey(slug, captureID, WARCFile)
}

// MaxPageBytes bounds the page ReadPage returns, after its content coding
// is undone: twice the fetcher's default cap on a page (16 MiB), so that
// pages fetched with a raised --max-body still read, and a hostile
// compressed body cannot inflate without end.
const MaxPageBytes = 32 << 20

// Page is what a capture received for its article page.
type Page struct {
	// Body is the page as received, its content coding (gzip, br, …)
	// undone, not yet decoded to UTF-8.
	Body []byte
	// ContentType is the response's Content-Type header (for a page read
	// from raw.html, the one meta.json recorded).
	ContentType string
	// URL is where it was received.
	URL string
	// From says where it was read: FromWARC or FromRaw.
	From string
}

// Where ReadPage found a page.
const (
	FromWARC = "warc"     // the capture's WARC (WARCFile)
	FromRaw  = "raw.html" // raw.html, for captures made before WARC recording
)

// PageError is a page ReadPage found but could not read: a WARC that does
// not read, a content coding that does not decode, a page over
// MaxPageBytes. The store's own failures are returned as they are.
type PageError struct {
	Slug string
	Err  error
}

func (e *PageError) Error() string { return e.Slug + ": " + e.Err.Error() }
func (e *PageError) Unwrap() error { return e.Err }

// ErrNoPage is returned (wrapped) by ReadPage for a capture that kept no
// page: neither a WARC response for it nor raw.html.
var ErrNoPage = errors.New("the capture kept no page")

// ReadPage reads the page the current capture of m received: from its
// WARC, the response at its final URL (else at its URL); failing that from
// raw.html, the page as received, which every capture with a page has
// had. A capture with neither is ErrNoPage; a page that does not read is a
// *PageError; any other error is the store's. A WARC record over
// warc.DefaultMemoryLimit is read through a spill file in tempDir (""
// means os.TempDir()).
func ReadPage(ctx context.Context, st storage.Store, m *record.ArticleMeta, tempDir string) (*Page, error) {
	p, err := pageFromWARC(ctx, st, m, tempDir)
	if p != nil || err != nil {
		return p, err
	}
	rc, err := st.Get(ctx, record.ArticleKey(m.Slug, record.RawFile))
	if storage.IsNotExist(err) {
		return nil, fmt.Errorf("%s: %w", m.Slug, ErrNoPage)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, MaxPageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", m.Slug, record.RawFile, err) // the store failed mid-read
	}
	if len(body) > MaxPageBytes {
		return nil, &PageError{m.Slug, fmt.Errorf("%s is larger than %d MiB", record.RawFile, MaxPageBytes>>20)}
	}
	return &Page{Body: body, ContentType: m.ContentType, URL: cmpOr(m.FinalURL, m.URL), From: FromRaw}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pageFromWARC returns the page from the capture's WARC, or nil when there
// is no WARC or no full response for the page in it.
func pageFromWARC(ctx context.Context, st storage.Store, m *record.ArticleMeta, tempDir string) (*Page, error) {
	rc, err := st.Get(ctx, WARCKey(m.Slug, ""))
	if storage.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	want := map[string]bool{}
	for _, u := range []string{m.FinalURL, m.URL} {
		if u != "" {
			want[u] = true
		}
	}
	var found *Page
	r := warc.NewReader(rc, warc.ReaderOptions{TempDir: tempDir})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A digest error, a record over the reader's bounds, a
			// truncated file, or the store failing mid-read: which, the
			// reader cannot say, and the article is not read either way.
			return nil, &PageError{m.Slug, fmt.Errorf("read %s: %w", WARCFile, err)}
		}
		if rec.Type != "response" || !want[rec.TargetURI()] || rec.HTTPHead == nil {
			continue
		}
		// The final URL's response wins over the first URL's (a redirect);
		// a later one over an earlier (a retry).
		if found != nil && found.URL == m.FinalURL && rec.TargetURI() != m.FinalURL {
			continue
		}
		p, err := readResponse(rec)
		if err != nil {
			return nil, &PageError{m.Slug, fmt.Errorf("%s: %s: %w", WARCFile, rec.TargetURI(), err)}
		}
		found = p
	}
	return found, nil
}

// readResponse decodes a WARC response record's payload.
func readResponse(rec *warc.Record) (*Page, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(rec.HTTPHead)), nil)
	if err != nil {
		return nil, fmt.Errorf("HTTP head: %w", err)
	}
	payload, err := rec.Payload()
	if err != nil {
		return nil, err
	}
	body, err := DecodeBody(payload, resp.Header.Values("Content-Encoding"), MaxPageBytes)
	if errors.Is(err, ErrBodyTooLarge) {
		return nil, fmt.Errorf("the page is larger than %d MiB decoded", MaxPageBytes>>20)
	}
	if err != nil {
		return nil, err
	}
	return &Page{Body: body, ContentType: resp.Header.Get("Content-Type"), URL: rec.TargetURI(), From: FromWARC}, nil
}

// ErrBodyTooLarge is returned (wrapped) by DecodeBody for a body over its
// limit once decoded.
var ErrBodyTooLarge = errors.New("the body is over the size limit once decoded")

// DecodeBody undoes the content codings of a body as a WARC response keeps
// it (its Content-Encoding header values, RFC 9110 §8.4: listed in the
// order they were applied), reading at most limit bytes of the result: more
// is ErrBodyTooLarge, so that a hostile compressed body cannot inflate
// without end. gzip, deflate (zlib or raw), br and zstd are decoded.
func DecodeBody(r io.Reader, headers []string, limit int64) ([]byte, error) {
	var codings []string
	for _, h := range headers {
		for _, c := range strings.Split(h, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for i := len(codings) - 1; i >= 0; i-- {
		switch codings[i] {
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("gzip: %w", err)
			}
			closers = append(closers, zr)
			r = zr
		case "deflate":
			// Servers send zlib (as RFC 9110 says) or raw deflate (as some
			// do); the zlib header tells them apart.
			br := bufio.NewReader(r)
			if head, err := br.Peek(2); err == nil && head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
				zr, err := zlib.NewReader(br)
				if err != nil {
					return nil, fmt.Errorf("deflate: %w", err)
				}
				closers = append(closers, zr)
				r = zr
			} else {
				fr := flate.NewReader(br)
				closers = append(closers, fr)
				r = fr
			}
		case "br":
			r = brotli.NewReader(r)
		case "zstd":
			zr, err := zstd.NewReader(r, zstd.WithDecoderMaxMemory(uint64(max(limit, 1<<20))))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			closers = append(closers, zr.IOReadCloser())
			r = zr
		default:
			return nil, fmt.Errorf("content coding %q is not one linkarc decodes", codings[i])
		}
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", strings.Join(codings, ", "), err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, limit)
	}
	return body, nil
}
