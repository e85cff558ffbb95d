package resolver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// Provenance: the exchanges that resolved a link.
//
// A capture's WARC records, beside the publisher's page, the requests that
// produced its URL: for a link Google News resolved, the signature GET for
// its id (with any locale or consent redirect before it) and the
// batchexecute POST whose answer named the URL; for a short link (t.co,
// bit.ly, see IsShortLink), each hop of its redirect chain, a 3xx or a
// page that refreshes, up to the publisher URL it names. Stream hands them
// over with each result it resolved with requests when the Sink asks for
// them (Sink.Provenance), in a neutral shape (Exchange): the Resolver
// knows HTTP, not WARC; the caller (package archive) turns them into
// records.
//
// Memory is bounded however many results wait to be captured: a body is
// held in memory only up to MemoryBodyBytes (redirects, 429s, error
// rows); a larger one (a signature page is 120–175 KB gzipped on the wire,
// up to 1.1 MB not) is spilled to a temporary file in Options.TempDir as
// it is read, and cut at Options.MaxBody. A redirect hop's body is kept as
// far as the Resolver read it (64 KiB, or the 512 KiB scanned for a meta
// refresh, and 64 KiB more). A batchexecute POST is one
// Exchange shared by every result of its batch: its form and answer are
// held once, however many articles name it. What stays in memory per
// exchange is its heads (bounded by net/http's MaxResponseHeaderBytes),
// the POST's form (about 0.5 KB per id of the batch) and MemoryBodyBytes.
// Each Provenance holds a reference on its exchanges; the last Release of
// an exchange removes its file. The file of an exchange that is never
// released is removed once the garbage collector finds the exchange
// unreachable (a safety net, not the contract; a process killed first
// leaves its files in TempDir, named linkarc-resolve-*.body: the commands
// give each process a TempDir of its own that the next run removes, see
// internal/tempdir).

// MemoryBodyBytes is the largest response body an Exchange keeps in
// memory; a larger body is spilled to a temporary file.
const MemoryBodyBytes = 4 << 10

// Exchange is one HTTP request the Resolver made (to Google, or to a hop
// of a redirect chain) and the answer it received, as they crossed the
// wire. It is immutable once handed over
// and safe for concurrent use; its body is readable until the last
// Provenance naming it is released.
type Exchange struct {
	// Method and URL are the request's ("GET" or "POST", absolute URL).
	Method string
	URL    string
	// Sent is when the request was written to the connection (zero if
	// the transport did not say).
	Sent time.Time
	// RemoteIP is the address connected to (through a proxy, the
	// proxy's); "" if unknown.
	RemoteIP string
	// RequestHeader holds the header fields the Resolver set, with the
	// Cookie a redirect chain sent (Host and Content-Length are the
	// transport's: from URL and RequestBody).
	RequestHeader http.Header
	// RequestBody is the request body as sent (the POST's form); nil for
	// a GET.
	RequestBody []byte

	// Proto, Status ("200 OK"), StatusCode, ResponseHeader and
	// TransferEncoding are the response's, as net/http read them.
	Proto            string
	Status           string
	StatusCode       int
	ResponseHeader   http.Header
	TransferEncoding []string
	// Truncated is "" when the body kept is the whole body received;
	// otherwise why not, in the words of WARC 1.1 §5.15: "length" (cut at
	// Options.MaxBody), "disconnect" (the connection failed mid-body) or
	// "unspecified" (not read to its end: a redirect's or a 429's body is
	// read to at most 64 KiB, a hop page's to what its refresh scan
	// needed).
	Truncated string

	body *spool
}

// Body opens the response body as received: before any content coding
// was undone (a gzip-encoded answer stays gzip-encoded), after the
// transfer coding was removed. Each call returns a new reader.
func (e *Exchange) Body() (io.ReadCloser, error) { return e.body.open() }

// BodySize is the length of what Body returns.
func (e *Exchange) BodySize() int64 { return e.body.size }

// Provenance is the exchanges that resolved one link, in the order they
// were made: a redirect chain's hops (a short link's; or those that led to
// a Google News link), then Google's: the signature GET's hops and the
// batchexecute POST. The holder owns one reference on each; Release gives
// it up.
type Provenance struct {
	Exchanges []*Exchange
	released  atomic.Bool
}

// Release gives up the Provenance's references; the file of an exchange
// no other Provenance names is removed. It may be called more than once
// and on a nil Provenance.
func (p *Provenance) Release() {
	if p == nil || p.released.Swap(true) {
		return
	}
	for _, e := range p.Exchanges {
		e.body.release()
	}
}

// newProvenance takes a reference on each exchange.
func newProvenance(exs ...*Exchange) *Provenance {
	for _, e := range exs {
		e.body.retain()
	}
	return &Provenance{Exchanges: exs}
}

// clone is another Provenance naming the same exchanges, with references
// of its own.
func (p *Provenance) clone() *Provenance {
	if p == nil {
		return nil
	}
	return newProvenance(p.Exchanges...)
}

// releaseAll releases each exchange's initial reference (the one the
// Resolver held while collecting it).
func releaseAll(exs []*Exchange) {
	for _, e := range exs {
		e.body.release()
	}
}

// spool is a response body as received: in memory up to MemoryBodyBytes,
// else in a temporary file. It starts with one reference.
type spool struct {
	mem  []byte
	file *spoolFile // nil when the body is in mem
	size int64
	refs atomic.Int32
}

// spoolFile is a spilled body's file, removed once.
type spoolFile struct {
	path    string
	removed atomic.Bool
}

func (f *spoolFile) remove() {
	if !f.removed.Swap(true) {
		os.Remove(f.path)
	}
}

func (s *spool) open() (io.ReadCloser, error) {
	if s.file == nil {
		return io.NopCloser(bytes.NewReader(s.mem)), nil
	}
	if s.file.removed.Load() {
		return nil, errors.New("resolver: exchange body read after its last Release")
	}
	return os.Open(s.file.path)
}

func (s *spool) retain() { s.refs.Add(1) }

func (s *spool) release() {
	if s.refs.Add(-1) == 0 && s.file != nil {
		s.file.remove()
	}
}

// spoolWriter collects a body as it is read, up to max bytes. Writes never
// fail (recording must not fail the read); finish reports a failure.
type spoolWriter struct {
	dir string
	max int64
	buf []byte
	f   *os.File
	n   int64
	cut bool // bytes past max were dropped
	err error
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.err != nil {
		return n, nil
	}
	if w.n+int64(len(p)) > w.max {
		p = p[:max(w.max-w.n, 0)]
		w.cut = true
	}
	if w.f == nil && len(w.buf)+len(p) <= MemoryBodyBytes {
		w.buf = append(w.buf, p...)
		w.n += int64(len(p))
		return n, nil
	}
	if w.f == nil {
		f, err := os.CreateTemp(w.dir, "linkarc-resolve-*.body")
		if err != nil {
			w.err = err
			return n, nil
		}
		w.f = f
		if _, err := f.Write(w.buf); err != nil {
			w.err = err
			return n, nil
		}
		w.buf = nil
	}
	if _, err := w.f.Write(p); err != nil {
		w.err = err
	}
	w.n += int64(len(p))
	return n, nil
}

// finish closes the file and returns the spool, with one reference; on a
// failure to spill, the file is removed and the error returned.
func (w *spoolWriter) finish() (*spool, error) {
	if w.f == nil {
		if w.err != nil {
			return nil, w.err
		}
		s := &spool{mem: w.buf, size: w.n}
		s.refs.Store(1)
		return s, nil
	}
	f := w.f
	w.f = nil
	cerr := f.Close()
	if err := errors.Join(w.err, cerr); err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	s := &spool{file: &spoolFile{path: f.Name()}, size: w.n}
	s.refs.Store(1)
	// The safety net: a body nobody released goes when its spool is
	// garbage.
	runtime.AddCleanup(s, (*spoolFile).remove, s.file)
	return s, nil
}

// abandon removes what was spilled, when the exchange is not kept.
func (w *spoolWriter) abandon() {
	if w.f != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		w.f = nil
	}
}

// tap notes one round trip as it crosses the wire, for its Exchange: when
// the request was written, the address that answered and, when the
// exchange is kept, the response body as the caller reads it.
type tap struct {
	now    func() time.Time
	sent   atomic.Int64 // UnixNano when the request was written; 0 if unknown
	remote atomic.Value // string: the address connected to
	wire   *wireBody    // nil unless the body is kept
}

// traced returns ctx with a client trace that feeds t.
func (t *tap) traced(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			if ci.Conn != nil {
				if host, _, err := net.SplitHostPort(ci.Conn.RemoteAddr().String()); err == nil {
					t.remote.Store(host)
				}
			}
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { t.sent.Store(t.now().UnixNano()) },
	})
}

// sentAt is when the request was written; zero if the transport did not
// say.
func (t *tap) sentAt() time.Time {
	if ns := t.sent.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// keep has resp's body spooled as it is read (in dir, cut at max bytes),
// for exchange.
func (t *tap) keep(resp *http.Response, dir string, max int64) {
	t.wire = &wireBody{rc: resp.Body, spool: &spoolWriter{dir: dir, max: max}}
	resp.Body = t.wire
}

// exchange returns what was noted of the round trip, once the caller has
// read what it needed of the body: nil when the body was not kept, an
// error when its spool failed (its file is then gone). reqHeader is the
// request's header as the Resolver set it, reqBody its body (nil for a
// GET).
func (t *tap) exchange(req *http.Request, reqHeader http.Header, reqBody []byte, resp *http.Response) (*Exchange, error) {
	if t.wire == nil {
		return nil, nil
	}
	sp, err := t.wire.spool.finish()
	if err != nil {
		return nil, err
	}
	ex := &Exchange{
		Method: req.Method, URL: req.URL.String(), Sent: t.sentAt(),
		RequestHeader: reqHeader, RequestBody: reqBody,
		Proto: resp.Proto, Status: resp.Status, StatusCode: resp.StatusCode,
		ResponseHeader: resp.Header.Clone(), TransferEncoding: slices.Clone(resp.TransferEncoding),
		body: sp,
	}
	ex.RemoteIP, _ = t.remote.Load().(string)
	switch {
	case t.wire.spool.cut:
		ex.Truncated = "length"
	case t.wire.err != nil:
		ex.Truncated = "disconnect"
	case !t.wire.eof:
		ex.Truncated = "unspecified"
	}
	return ex, nil
}

// abandon removes what was spilled when the exchange is not kept; a no-op
// once exchange has handed it over.
func (t *tap) abandon() {
	if t.wire != nil {
		t.wire.spool.abandon()
	}
}

// wireBody is a response body whose bytes, as they cross the wire, are
// also spooled for the exchange's record.
type wireBody struct {
	rc    io.ReadCloser
	spool *spoolWriter
	eof   bool
	err   error
}

func (b *wireBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.spool.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil && b.err == nil:
		b.err = err
	}
	return n, err
}

func (b *wireBody) Close() error { return b.rc.Close() }
