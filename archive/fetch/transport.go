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
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/textnorm"
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

// What a request is for: the body checks and the Accept header differ.
type requestKind int

const (
	kindRobots requestKind = iota // /robots.txt: any text
	kindPage                      // a publisher page: HTML only
	kindFeed                      // a feed: RSS, Atom, JSON Feed
	kindAsset                     // a page requisite: any type, streamed, not sniffed
)

// request is the per-request state the transport and the colly callbacks
// share. It travels in the request's context, so that every hop of a
// redirect chain and colly's own calls see the same one.
type request struct {
	kind   requestKind
	cancel context.CancelCauseFunc // aborts the request; used by the idle watchdog
	jar    *boundedJar             // the Fetch's cookies; nil: none sent or kept

	// turn is the host's turn the caller took before the request's timeout
	// started; the first round trip to its host uses it instead of waiting
	// again.
	turn *ticket

	idleFired   atomic.Bool
	deadlineHit bool // the attempt's total timeout ran out (set after the request)

	mu           sync.Mutex
	requested    bool     // colly got as far as sending
	prior        []string // URLs of earlier hops (refreshes) of this attempt
	chain        []string // URLs visited, redirects included
	status       int
	header       http.Header
	contentType  string // media type, lower case
	notWanted    string // declared content type the kind does not take
	raw          []byte // bytes as received, when colly would re-encode its copy
	body         []byte // colly's copy of the body
	tee          bool
	finalURL     string
	responseTime time.Time

	robotsRecords []robotsRecord // robots.txt exchanges recorded (kindRobots)
}

// document reports whether the request is for a document (page or feed) whose
// status and body the caller judges, as opposed to robots.txt.
func (r *request) document() bool { return r != nil && r.kind != kindRobots }

type requestKey struct{}

func withRequest(ctx context.Context, r *request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestFrom(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// takeTurn returns the turn the caller took for host, if it is unused.
func (r *request) takeTurn(host string) *ticket {
	if r == nil || r.turn == nil || r.turn.host != host {
		return nil
	}
	t := r.turn
	r.turn = nil
	return t
}

func (r *request) setChain(chain []string) {
	r.mu.Lock()
	r.chain = chain
	r.mu.Unlock()
}

// transport is the fetcher's http.RoundTripper: it waits for the host's
// turn, sends the request with the Fetch's cookies, notes when it was
// written (the host's next turn counts from then), and hands back a body
// that decodes gzip/deflate/br, enforces the size cap, aborts on an idle
// connection and, for pages and feeds, refuses content of the wrong kind.
type transport struct {
	base *http.Transport
	f    *Fetcher
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := requestFrom(req.Context())
	host := weburl.Host(req.URL)
	if st != nil && (st.kind == kindPage || st.kind == kindFeed) {
		t.f.markPageHost(host) // a redirect hop of a page
	}
	turn := st.takeTurn(host)
	if turn == nil {
		var err error
		if turn, err = t.f.acquire(req.Context(), host); err != nil {
			return nil, err
		}
	}
	if st != nil && st.jar != nil {
		if cs := st.jar.Cookies(req.URL); len(cs) > 0 {
			req = req.Clone(req.Context()) // a RoundTripper must not change the request
			for _, c := range cs {
				req.AddCookie(c)
			}
		}
	}
	wt := &wireTrace{}
	trace := &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) { wt.gotConn(ci.Conn) },
		WroteRequest: func(httptrace.WroteRequestInfo) {
			now := time.Now()
			wt.wrote(now)
			turn.sent(now, req.URL.Redacted())
		},
	}
	resp, err := t.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	turn.release(true) // no-op when the write was seen
	if err != nil {
		if isHeaderTooLarge(err) {
			return nil, &headerTooLargeError{limit: t.base.MaxResponseHeaderBytes, err: err}
		}
		return nil, err
	}
	// Recorded before anything touches the response: the head as received.
	var rb *recordBody
	if rec := recordingFrom(req.Context()); rec != nil {
		if wr := rec.begin(req, resp, wt); wr != nil {
			rb = newRecordBody(resp.Body, wr, rec, st)
			if st != nil && st.kind == kindRobots {
				rb.ex = warc.Exchange{URL: req.URL.String(), RequestHead: warc.RequestHead(req)}
				rb.ex.IP, rb.ex.Date = wt.get()
				rb.ex.ResponseHead, _ = warc.ResponseHead(resp)
			}
			resp.Body = rb
		}
	}
	if st != nil && st.jar != nil {
		st.jar.SetCookies(req.URL, resp.Cookies())
	}
	encodings, err := contentEncodings(resp.Header)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	limit := t.f.opts.MaxBody
	doc := st.document() && resp.StatusCode/100 == 2
	if doc && resp.ContentLength > limit && st.accepts(mediaType(resp.Header.Get("Content-Type"))) {
		// Believe a Content-Length over the cap: reading it would either
		// prove it or waste the time. (A declared PDF or video is left to
		// be refused as not HTML, the more useful reason.)
		if rb != nil {
			rb.once.Do(func() { commitEmpty(rb.rec, rb.resp, warc.TruncatedLength) })
		}
		resp.Body.Close()
		return nil, fmt.Errorf("Content-Length %d: %w", resp.ContentLength, errTooLarge)
	}
	w := &wireReader{r: resp.Body, limit: limit}
	if rb != nil {
		rb.wire = w
	}
	if st != nil && t.f.opts.ReadTimeout > 0 {
		w.idle = time.AfterFunc(t.f.opts.ReadTimeout, func() {
			st.idleFired.Store(true)
			st.cancel(errReadIdle)
		})
		w.timeout = t.f.opts.ReadTimeout
	}
	b := &body{wire: w, decoded: w, limit: limit, encodings: encodings}
	if doc && st.kind != kindAsset {
		b.sniff = st.kind
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
	// The body is decoded here, so neither the client nor colly (which
	// gunzips bodies by their Content-Type or a .gz path) may decode it
	// again; the header stays as the server sent it, for the record.
	resp.Uncompressed = true
	if len(encodings) > 0 {
		resp.ContentLength = -1
	}
	return resp, nil
}

// accepts reports whether a document of this kind may have the declared
// media type, before its body is read.
func (r *request) accepts(mt string) bool {
	if r == nil {
		return true
	}
	switch r.kind {
	case kindPage:
		return classifyType(mt) != typeNotHTML
	case kindFeed:
		return acceptsFeedType(mt)
	}
	return true
}

// headerTooLargeError reports response headers over
// Options.MaxHeaderBytes.
type headerTooLargeError struct {
	limit int64
	err   error
}

func (e *headerTooLargeError) Error() string {
	return fmt.Sprintf("the response headers are larger than the %s limit (%v)", formatSize(e.limit), e.err)
}

func (e *headerTooLargeError) Unwrap() error { return e.err }

// isHeaderTooLarge recognises net/http's error for headers over
// Transport.MaxResponseHeaderBytes, which has no type of its own.
func isHeaderTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server response headers exceeded")
}

// needsTee reports whether colly would re-encode a body with this
// Content-Type (it transcodes non-UTF-8 declared charsets in place, see
// colly's Response.fixCharset), in which case the bytes as received must be
// kept aside.
func needsTee(contentType string) bool {
	cs := strings.ToLower(charset.Declared(contentType))
	return cs != "" && cs != "utf-8" && cs != "utf8"
}

// MaxContentCodings is how many content codings one response may stack.
// A server applies one; a proxy that compresses again makes two (issue 12:
// "gzip" sent as two header lines over a body gzipped twice). Nobody
// applies three, and each coding costs a decoder with its own window (up to
// 16 MiB for br), so a longer list fails the page before any decoder is
// built (issue 10 item 1: a million "br" codings took gigabytes).
const MaxContentCodings = 2

// codingsError reports a Content-Encoding list over MaxContentCodings.
type codingsError struct {
	n    int    // codings listed (identity left out)
	list string // the header, shortened for messages
}

func (e *codingsError) Error() string {
	return fmt.Sprintf("the server stacked %d content codings (Content-Encoding: %s); linkarc undoes at most %d", e.n, e.list, MaxContentCodings)
}

// contentEncodings lists the codings applied to a body, in the order they
// were applied; identity is dropped. Several Content-Encoding lines are
// one list, in order (RFC 9110 §5.3, §8.4). More than MaxContentCodings
// is a *codingsError, found by counting before any list is built, so a
// header of any length costs one pass.
func contentEncodings(h http.Header) ([]string, error) {
	lines := h.Values("Content-Encoding")
	n := 0
	for _, line := range lines {
		for e := range strings.SplitSeq(line, ",") {
			e = strings.TrimSpace(e)
			if e != "" && !strings.EqualFold(e, "identity") {
				n++
			}
		}
	}
	if n > MaxContentCodings {
		return nil, &codingsError{n: n, list: textnorm.Shorten(strings.Join(lines, ", "), 100)}
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]string, 0, n)
	for _, line := range lines {
		for e := range strings.SplitSeq(line, ",") {
			e = strings.ToLower(strings.TrimSpace(e))
			if e != "" && e != "identity" {
				out = append(out, e)
			}
		}
	}
	return out, nil
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

	sniff    requestKind // pages and feeds: check the first bytes; kindRobots: no check
	declared string      // Content-Type as sent
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

// start sets up decoding and, for pages and feeds, sniffs the first bytes.
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
	if b.sniff == kindRobots || b.sniff == kindAsset {
		return nil
	}
	b.br = bufio.NewReaderSize(b.decoded, sniffLen)
	head, err := b.br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return b.attribute(err)
	}
	if http.DetectContentType(head) == "application/x-gzip" &&
		(len(b.encodings) > 0 || (b.sniff == kindPage && classifyType(mediaType(b.declared)) == typeHTML)) {
		// Still gzip after every declared coding was undone: say so,
		// rather than that the server sent a gzip file.
		return &stillEncodedError{declared: b.encodings}
	}
	if b.sniff == kindFeed {
		if ct, ok := notFeedContent(b.declared, head); ok {
			return &notFeedError{contentType: ct}
		}
		return nil
	}
	if ct, ok := notHTMLContent(b.declared, head); ok {
		return &notHTMLError{contentType: ct}
	}
	return nil
}

// stillEncodedError reports a body that is still gzip data once the
// declared codings are undone: the server compressed it more times than
// its Content-Encoding says.
type stillEncodedError struct{ declared []string }

func (e *stillEncodedError) Error() string {
	if len(e.declared) == 0 {
		return "the body is gzip-compressed but the server declared no Content-Encoding"
	}
	return fmt.Sprintf("the body is still gzip-compressed after undoing its declared Content-Encoding (%s): the server compressed it more times than it says",
		strings.Join(e.declared, ", "))
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
		zr, err := gzip.NewReader(r)
		if errors.Is(err, gzip.ErrHeader) {
			return nil, fmt.Errorf("the body is not gzip data, though Content-Encoding says it is: %w", err)
		}
		return zr, err
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

// notFeedError reports that a feed URL answered with something that is not
// a feed.
type notFeedError struct{ contentType string }

func (e *notFeedError) Error() string {
	return fmt.Sprintf("the server sent %s, not a feed", e.contentType)
}

// FeedAccept is the Accept header of feed requests: the feed media types
// (RSS, Atom, JSON Feed), then XML, then anything.
const FeedAccept = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// acceptsFeedType reports whether a feed URL's answer with this declared
// media type is read: feed and XML types, JSON, text (feeds are often served
// as text/html or text/plain) and the unknown ones; not images, video,
// PDFs and the like.
func acceptsFeedType(mt string) bool {
	switch {
	case mt == "", strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+xml"), strings.HasSuffix(mt, "+json"),
		mt == "application/xml", mt == "application/json", mt == "application/rss", mt == "application/atom",
		mt == "application/octet-stream", mt == "binary/octet-stream", mt == "application/unknown", mt == "unknown/unknown",
		mt == "application/x-unknown":
		return true
	}
	return false
}

// notFeedContent decides from the first bytes whether a feed URL's body is
// plainly not a feed (a binary file, whatever its label).
func notFeedContent(declared string, head []byte) (string, bool) {
	if len(head) == 0 {
		return "", false // the feed parser says it is empty
	}
	if st := mediaType(http.DetectContentType(head)); isBinaryType(st) && st != "application/octet-stream" {
		return st, true
	}
	return "", false
}
