package fetch

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
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/internal/weburl"
)

// errTooLarge is returned by a response body that goes over the size cap,
// counted both on the wire and after content decoding (a gzip bomb is small
// on the wire).
var errTooLarge = errors.New("body too large")

// sniffLen is how much of a body is examined to tell HTML from other
// content, as in net/http.DetectContentType.
const sniffLen = 512

// notHTMLError reports that a response is not an HTML page.
type notHTMLError struct{ contentType string }

func (e *notHTMLError) Error() string {
	return fmt.Sprintf("the server sent %s, not an HTML page", e.contentType)
}

// decodeError reports a Content-Encoding the body could not be decoded from.
type decodeError struct {
	encoding string
	err      error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("could not decode the %s-encoded body: %v", e.encoding, e.err)
}

func (e *decodeError) Unwrap() error { return e.err }

// errReadIdle is the cancellation cause when no body byte arrived for
// ReadTimeout.
var errReadIdle = errors.New("no data received within the read timeout")

// request is the per-request state the transport and the colly callbacks
// share. It travels in the request's context, so that every hop of a
// redirect chain and colly's own calls see the same one.
type request struct {
	page   bool                    // a publisher page (robots.txt requests are not)
	cancel context.CancelCauseFunc // aborts the request; used by the idle watchdog

	// host whose rate-limiter slot the caller already took before the
	// request's timeout started; the first round trip to it does not wait
	// again.
	reservedHost string
	reserved     atomic.Bool

	idleFired   atomic.Bool
	deadlineHit bool // the attempt's total timeout ran out (set after the request)

	mu           sync.Mutex
	requested    bool     // colly got as far as sending
	chain        []string // URLs visited, redirects included
	status       int
	header       http.Header
	contentType  string // media type, lower case
	notHTML      string // declared non-HTML content type
	raw          []byte // bytes as received, when colly would re-encode its copy
	body         []byte // colly's copy of the body
	tee          bool
	finalURL     string
	responseTime time.Time
}

type requestKey struct{}

func withRequest(ctx context.Context, r *request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestFrom(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// takeReservation reports whether a round trip to host may use the slot
// the caller reserved, using it up.
func (r *request) takeReservation(host string) bool {
	return r != nil && r.reservedHost == host && r.reserved.CompareAndSwap(false, true)
}

func (r *request) setChain(chain []string) {
	r.mu.Lock()
	r.chain = chain
	r.mu.Unlock()
}

// transport is the fetcher's http.RoundTripper: it waits for the host's
// turn, sends the request, and hands back a body that decodes
// gzip/deflate/br, enforces the size cap, aborts on an idle connection and,
// for pages, refuses content that is plainly not HTML.
type transport struct {
	base *http.Transport
	f    *Fetcher
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := requestFrom(req.Context())
	host := weburl.Host(req.URL)
	if !st.takeReservation(host) {
		if err := t.f.waitTurn(req.Context(), host); err != nil {
			return nil, err
		}
	}
	if err := t.f.markSend(req.Context(), host); err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	limit := t.f.opts.MaxBody
	page := st != nil && st.page && resp.StatusCode/100 == 2
	if page && resp.ContentLength > limit && classifyType(mediaType(resp.Header.Get("Content-Type"))) != typeNotHTML {
		// Believe a Content-Length over the cap: reading it would either
		// prove it or waste the time. (A declared PDF or video is left to
		// be refused as not HTML, the more useful reason.)
		resp.Body.Close()
		return nil, fmt.Errorf("Content-Length %d: %w", resp.ContentLength, errTooLarge)
	}
	w := &wireReader{r: resp.Body, limit: limit}
	if st != nil && t.f.opts.ReadTimeout > 0 {
		w.idle = time.AfterFunc(t.f.opts.ReadTimeout, func() {
			st.idleFired.Store(true)
			st.cancel(errReadIdle)
		})
		w.timeout = t.f.opts.ReadTimeout
	}
	encodings := contentEncodings(resp.Header.Get("Content-Encoding"))
	b := &body{wire: w, decoded: w, limit: limit, encodings: encodings}
	if page {
		b.sniff = true
		b.declared = resp.Header.Get("Content-Type")
		if needsTee(b.declared) {
			st.mu.Lock()
			st.tee = true
			st.raw = nil
			st.mu.Unlock()
			b.tee = st
		}
	}
	resp.Body = b
	// The body is decoded here, so the client must not decode it again;
	// the header stays as the server sent it, for the record.
	resp.Uncompressed = len(encodings) > 0
	if len(encodings) > 0 {
		resp.ContentLength = -1
	}
	return resp, nil
}

// needsTee reports whether colly would re-encode a body with this
// Content-Type (it transcodes non-UTF-8 declared charsets in place, see
// colly's Response.fixCharset), in which case the bytes as received must be
// kept aside.
func needsTee(contentType string) bool {
	cs := strings.ToLower(charset.Declared(contentType))
	return cs != "" && cs != "utf-8" && cs != "utf8"
}

// contentEncodings lists the codings applied to a body, in the order they
// were applied; identity is dropped.
func contentEncodings(h string) []string {
	var out []string
	for _, e := range strings.Split(h, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && e != "identity" {
			out = append(out, e)
		}
	}
	return out
}

// wireReader counts the bytes that arrive, caps them, and feeds the idle
// watchdog.
type wireReader struct {
	r       io.ReadCloser
	n       int64
	limit   int64
	idle    *time.Timer
	timeout time.Duration
	err     error // first error from the connection, io.EOF included
}

func (w *wireReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 && w.idle != nil {
		w.idle.Reset(w.timeout)
	}
	w.n += int64(n)
	if err == nil && w.n > w.limit {
		err = errTooLarge
	}
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		w.stopIdle()
	}
	return n, err
}

func (w *wireReader) stopIdle() {
	if w.idle != nil {
		w.idle.Stop()
	}
}

// body is the response body the client sees: decoded, capped, checked.
type body struct {
	wire      *wireReader
	decoded   io.Reader // wire, or a decoder chain over it
	encodings []string
	started   bool
	n         int64
	limit     int64

	sniff    bool   // pages: check the first bytes are HTML
	declared string // Content-Type as sent
	br       *bufio.Reader

	tee *request // keep the bytes as received here
	err error
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if !b.started {
		b.started = true
		if err := b.start(); err != nil {
			b.err = err
			return 0, err
		}
	}
	var n int
	var err error
	if b.br != nil {
		n, err = b.br.Read(p)
	} else {
		n, err = b.decoded.Read(p)
	}
	if err != nil && err != io.EOF {
		err = b.attribute(err)
	}
	b.n += int64(n)
	if b.n > b.limit && (err == nil || err == io.EOF) {
		err = errTooLarge
	}
	if b.tee != nil && n > 0 {
		b.tee.mu.Lock()
		b.tee.raw = append(b.tee.raw, p[:n]...)
		b.tee.mu.Unlock()
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// start sets up decoding and, for pages, sniffs the first bytes.
func (b *body) start() error {
	// Codings are listed in the order they were applied: undo the last first.
	for i := len(b.encodings) - 1; i >= 0; i-- {
		enc := b.encodings[i]
		r, err := newDecoder(enc, b.decoded)
		if err != nil {
			return b.attribute(&decodeError{encoding: enc, err: err})
		}
		b.decoded = r
	}
	if !b.sniff {
		return nil
	}
	b.br = bufio.NewReaderSize(b.decoded, sniffLen)
	head, err := b.br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return b.attribute(err)
	}
	if ct, ok := notHTMLContent(b.declared, head); ok {
		return &notHTMLError{contentType: ct}
	}
	return nil
}

// attribute blames a read error on the connection when the connection
// failed first (a gzip reader reports a cut-off stream as its own error),
// and on the decoder otherwise.
func (b *body) attribute(err error) error {
	if w := b.wire.err; w != nil && w != io.EOF {
		return w
	}
	var de *decodeError
	if len(b.encodings) > 0 && !errors.As(err, &de) && !errors.Is(err, errTooLarge) {
		return &decodeError{encoding: strings.Join(b.encodings, ", "), err: err}
	}
	return err
}

func (b *body) Close() error {
	b.wire.stopIdle()
	if c, ok := b.decoded.(io.Closer); ok && b.decoded != io.Reader(b.wire) {
		c.Close()
	}
	return b.wire.r.Close()
}

// newDecoder returns a reader that undoes one content coding.
func newDecoder(enc string, r io.Reader) (io.Reader, error) {
	switch enc {
	case "gzip", "x-gzip":
		return gzip.NewReader(r)
	case "br":
		return brotli.NewReader(r), nil
	case "deflate":
		// "deflate" is zlib-wrapped by the standard, raw DEFLATE in some
		// servers' reading of it: look at the header to tell.
		br := bufio.NewReader(r)
		h, err := br.Peek(2)
		if err != nil {
			if err == io.EOF {
				return bytes.NewReader(nil), nil
			}
			return nil, err
		}
		if h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			return zlib.NewReader(br)
		}
		return flate.NewReader(br), nil
	}
	return nil, fmt.Errorf("unsupported content coding %q (linkarc asks only for gzip, deflate and br)", enc)
}

// Verdicts on a declared Content-Type.
const (
	typeHTML      = iota // HTML: read it (unless the bytes are plainly binary)
	typeAmbiguous        // could be HTML: read the first bytes and decide
	typeNotHTML          // not HTML: do not read the body at all
)

// mediaType returns the lower-case media type of a Content-Type value.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

func classifyType(mt string) int {
	switch mt {
	case "text/html", "application/xhtml+xml":
		return typeHTML
	case "", "text/plain", "application/octet-stream", "binary/octet-stream",
		"application/unknown", "unknown/unknown", "application/x-unknown",
		"text/xml", "application/xml":
		return typeAmbiguous
	}
	return typeNotHTML
}

// notHTMLContent decides from the first bytes of a body whether it is not
// HTML after all, and if so what it looks like.
func notHTMLContent(declared string, head []byte) (string, bool) {
	if len(head) == 0 {
		return "", false // empty: junk detection reports it
	}
	sniffed := http.DetectContentType(head)
	st := mediaType(sniffed)
	if classifyType(mediaType(declared)) == typeHTML {
		// Trust the label unless the bytes are unmistakably something else.
		if isBinaryType(st) {
			return st, true
		}
		return "", false
	}
	if st == "text/html" || looksLikeHTML(head) {
		return "", false
	}
	if mt := mediaType(declared); mt != "" && !isBinaryType(st) {
		return mt, true
	}
	return st, true
}

func isBinaryType(mt string) bool {
	switch {
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"),
		strings.HasPrefix(mt, "video/"), strings.HasPrefix(mt, "font/"):
		return true
	}
	switch mt {
	case "application/pdf", "application/postscript", "application/zip",
		"application/x-gzip", "application/x-rar-compressed", "application/wasm",
		"application/vnd.ms-fontobject", "application/ogg", "application/octet-stream":
		return true
	}
	return false
}

// looksLikeHTML finds an HTML document marker in the first bytes, for
// pages that start with an XML declaration or a byte order mark, which
// http.DetectContentType does not look past.
func looksLikeHTML(head []byte) bool {
	h := bytes.ToLower(head)
	for _, m := range []string{"<!doctype html", "<html", "<head", "<body", "<title", "<meta "} {
		if bytes.Contains(h, []byte(m)) {
			return true
		}
	}
	return false
}
