package warc

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
)

// Exchange is one HTTP request and the head of its response, as they
// crossed the wire. The response body is written separately (Response.Write
// or WriteExchange) so that it never has to sit in memory.
type Exchange struct {
	// URL is the absolute URL requested: WARC-Target-URI (§5.14) of both
	// records.
	URL string
	// Date is when the request was sent: WARC-Date (§5.4) of both records.
	// Zero means the writer's clock when the exchange is begun.
	Date time.Time
	// IP is the numeric address of the server the request went to
	// (WARC-IP-Address, §5.10); "" leaves the field out.
	IP string
	// RequestHead is the request line and header fields as sent, through
	// the empty line that ends them (see RequestHead).
	RequestHead []byte
	// RequestBody is the request's body as sent, if any (nil for a GET).
	RequestBody []byte
	// ResponseHead is the status line and header fields as received,
	// through the empty line that ends them (see ResponseHead).
	ResponseHead []byte
}

// Truncation is a WARC-Truncated reason (§5.15): why a block holds less
// than the whole of what was received.
type Truncation string

// The reasons WARC 1.1 §5.15 defines.
const (
	TruncatedLength      Truncation = "length"      // exceeds a configured size limit
	TruncatedTime        Truncation = "time"        // exceeds a configured time limit
	TruncatedDisconnect  Truncation = "disconnect"  // the network connection was lost
	TruncatedUnspecified Truncation = "unspecified" // another or unknown reason
)

// Capture describes a response (or the revisit standing in for it) once
// written.
type Capture struct {
	URL    string
	Date   time.Time
	Status int
	// ResponseID is the record id of the response or revisit record;
	// RequestID that of its request record.
	ResponseID string
	RequestID  string
	// PayloadDigest is the labelled digest of the payload received
	// ("sha256:…", §5.9); PayloadLength its length in bytes.
	PayloadDigest string
	PayloadLength int64
	// Truncated is set when the payload is not whole.
	Truncated Truncation
	// Revisit is the earlier capture this one refers to when the payload
	// was deduplicated; nil when it was written in full.
	Revisit *Original
	// Offset and Length locate the response or revisit record (its gzip
	// member) in the WARC file, for a CDXJ index.
	Offset, Length int64
}

// Response is an exchange being recorded: the response body is written to
// it as it arrives, then Commit writes the records. Its methods must not be
// called concurrently; different Responses of one Writer may be used from
// different goroutines.
type Response struct {
	w         *Writer
	ex        Exchange
	status    int
	reqID     string
	respID    string
	b         gowarc.WarcRecordBuilder
	n         int64 // body bytes
	max       int64 // largest body accepted, < 0 for none
	truncated Truncation
	done      bool
	spoolErr  error // a failure of the spill buffer met by Tee
}

// Begin checks ex and starts recording its response. Write the body as it
// crossed the wire (see the package comment), then call Commit, or Discard
// to record nothing. Either must be called: until then a temporary file may
// be held.
func (w *Writer) Begin(ex Exchange) (*Response, error) {
	if err := checkTargetURI(ex.URL); err != nil {
		return nil, err
	}
	reqLine, err := checkHead("request", ex.RequestHead, DefaultMaxHeaderBytes)
	if err != nil {
		return nil, err
	}
	if err := checkRequestLine(reqLine); err != nil {
		return nil, &headError{"request", err.Error()}
	}
	statusLine, err := checkHead("response", ex.ResponseHead, DefaultMaxHeaderBytes)
	if err != nil {
		return nil, err
	}
	status, err := parseStatusLine(statusLine)
	if err != nil {
		return nil, &headError{"response", err.Error()}
	}
	if ex.Date.IsZero() {
		ex.Date = w.opts.Now()
	}
	head := keepTransferEncoding(ex.ResponseHead)
	r := &Response{
		w:      w,
		ex:     ex,
		status: status,
		reqID:  w.id(),
		respID: w.id(),
		b:      w.newBuilder(gowarc.Response),
		max:    -1,
	}
	if w.opts.MaxBlockBytes > 0 {
		r.max = w.opts.MaxBlockBytes - int64(len(head))
		if r.max < 0 {
			r.b.Close()
			return nil, fmt.Errorf("response head of %s: %w", ex.URL, ErrBlockTooLarge)
		}
	}
	if _, err := r.b.Write(head); err != nil {
		r.b.Close()
		return nil, fmt.Errorf("warc: spooling the response head: %w", err)
	}
	return r, nil
}

// Write appends body bytes as they crossed the wire: after the transfer
// coding was removed, before any content coding was undone. Past the
// writer's MaxBlockBytes it keeps what fits, marks the response truncated
// (TruncatedLength) and returns ErrBlockTooLarge.
func (r *Response) Write(p []byte) (int, error) {
	if r.done {
		return 0, errors.New("warc: write to a committed or discarded response")
	}
	if r.max >= 0 && r.n+int64(len(p)) > r.max {
		keep := r.max - r.n
		n, err := r.b.Write(p[:keep])
		r.n += int64(n)
		r.truncated = TruncatedLength
		if err != nil {
			return n, fmt.Errorf("warc: spooling the response body: %w", err)
		}
		return n, ErrBlockTooLarge
	}
	n, err := r.b.Write(p)
	r.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("warc: spooling the response body: %w", err)
	}
	return n, nil
}

// ReadFrom copies src to the response body (see Write).
func (r *Response) ReadFrom(src io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			m, werr := r.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Tee returns a reader of src that writes into the record every byte it
// reads, for a fetcher that reads the body anyway (to decode and extract
// it) and records it on the way. The record never fails the read: past
// MaxBlockBytes the record is marked truncated and the rest is only read;
// a failure of the spill buffer is returned by Commit. Wrap the body as
// net/http hands it over (dechunked), before any content decoder.
func (r *Response) Tee(src io.Reader) io.Reader { return &teeReader{src: src, r: r} }

type teeReader struct {
	src io.Reader
	r   *Response
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.src.Read(p)
	if n > 0 && t.r.spoolErr == nil && t.r.truncated != TruncatedLength {
		if _, werr := t.r.Write(p[:n]); werr != nil && !errors.Is(werr, ErrBlockTooLarge) {
			t.r.spoolErr = werr
		}
	}
	return n, err
}

// Truncate records that the body written is not the whole body
// (WARC-Truncated, §5.15), e.g. TruncatedTime when a timeout cut the
// transfer short.
func (r *Response) Truncate(reason Truncation) { r.truncated = reason }

// Discard drops the response, writing nothing.
func (r *Response) Discard() error {
	if r.done {
		return nil
	}
	r.done = true
	return r.b.Close()
}

// Commit writes the response record, or a revisit record when the writer's
// Deduper has seen the payload (status 200, a non-empty payload that is not
// truncated), followed by the request record; the two are adjacent in the
// file whatever other goroutines write.
func (r *Response) Commit() (Capture, error) {
	if r.done {
		return Capture{}, errors.New("warc: response already committed or discarded")
	}
	r.done = true
	w := r.w
	if r.spoolErr != nil {
		r.b.Close()
		return Capture{}, r.spoolErr
	}

	r.b.AddWarcHeader(gowarc.WarcRecordID, "<"+r.respID+">")
	r.b.AddWarcHeader(gowarc.WarcDate, formatDate(r.ex.Date))
	r.b.AddWarcHeader(gowarc.WarcTargetURI, r.ex.URL)
	if r.ex.IP != "" {
		r.b.AddWarcHeader(gowarc.WarcIPAddress, r.ex.IP)
	}
	r.b.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+r.reqID+">")
	r.b.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	r.b.AddWarcHeader(gowarc.ContentType, contentTypeResponse)
	if r.truncated != "" {
		r.b.AddWarcHeader(gowarc.WarcTruncated, string(r.truncated))
	}
	resp, err := build(r.b)
	if err != nil {
		return Capture{}, fmt.Errorf("warc: response record for %s: %w", r.ex.URL, err)
	}
	defer resp.Close()
	c := Capture{
		URL:           r.ex.URL,
		Date:          r.ex.Date,
		Status:        r.status,
		ResponseID:    r.respID,
		RequestID:     r.reqID,
		PayloadDigest: resp.WarcHeader().Get(gowarc.WarcPayloadDigest),
		PayloadLength: r.n,
		Truncated:     r.truncated,
	}

	rec := resp
	if d := w.opts.Dedup; d != nil && r.status == 200 && r.n > 0 && r.truncated == "" {
		if orig, ok := d.Lookup(c.PayloadDigest); ok {
			head := keepTransferEncoding(r.ex.ResponseHead)
			rev, err := w.buildRevisit(r.respID, r.reqID, r.ex, head, c.PayloadDigest, orig)
			if err != nil {
				return Capture{}, fmt.Errorf("warc: revisit record for %s: %w", r.ex.URL, err)
			}
			defer rev.Close()
			rec = rev
			c.Revisit = &orig
		}
	}

	req, err := w.buildRequest(r.reqID, r.respID, r.ex)
	if err != nil {
		return Capture{}, fmt.Errorf("warc: request record for %s: %w", r.ex.URL, err)
	}
	defer req.Close()

	w.mu.Lock()
	defer w.mu.Unlock()
	if c.Offset, c.Length, err = w.writeLocked(rec); err != nil {
		return Capture{}, err
	}
	if _, _, err = w.writeLocked(req); err != nil {
		return Capture{}, err
	}
	w.index = append(w.index, indexEntryFor(rec, c.Offset, c.Length, w.opts.Filename))
	if c.Revisit == nil && w.opts.Dedup != nil && r.status == 200 && r.n > 0 && r.truncated == "" {
		w.opts.Dedup.Remember(Original{
			RecordID:      c.ResponseID,
			TargetURI:     c.URL,
			Date:          c.Date,
			PayloadDigest: c.PayloadDigest,
			Filename:      w.opts.Filename,
		})
	}
	return c, nil
}

// WriteExchange records ex with the body read from body to its end: Begin,
// the copy and Commit in one call. A body over MaxBlockBytes is recorded
// truncated and the error is ErrBlockTooLarge (with the Capture filled in);
// a read error other than io.EOF records the body read so far as truncated
// (TruncatedDisconnect) and is returned with the Capture.
func (w *Writer) WriteExchange(ex Exchange, body io.Reader) (Capture, error) {
	r, err := w.Begin(ex)
	if err != nil {
		return Capture{}, err
	}
	var readErr error
	if body != nil {
		if _, readErr = r.ReadFrom(body); readErr != nil && !errors.Is(readErr, ErrBlockTooLarge) {
			r.Truncate(TruncatedDisconnect)
		}
	}
	c, err := r.Commit()
	if err != nil {
		return Capture{}, err
	}
	return c, readErr
}

// buildRequest builds the request record of an exchange (§6.5).
func (w *Writer) buildRequest(id, responseID string, ex Exchange) (gowarc.WarcRecord, error) {
	b := w.newBuilder(gowarc.Request)
	b.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	b.AddWarcHeader(gowarc.WarcDate, formatDate(ex.Date))
	b.AddWarcHeader(gowarc.WarcTargetURI, ex.URL)
	if ex.IP != "" {
		b.AddWarcHeader(gowarc.WarcIPAddress, ex.IP)
	}
	b.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+responseID+">")
	b.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	b.AddWarcHeader(gowarc.ContentType, contentTypeRequest)
	if _, err := b.Write(ex.RequestHead); err != nil {
		b.Close()
		return nil, err
	}
	if _, err := b.Write(ex.RequestBody); err != nil {
		b.Close()
		return nil, err
	}
	return build(b)
}

// checkTargetURI requires an absolute URI (§5.14) of at most
// MaxTargetURIBytes, without whitespace or control characters (RFC 3986
// §2 has none; a reader splitting header lines or index fields must not
// be given one). Non-ASCII is kept, as IRIs are commonly written.
func checkTargetURI(s string) error {
	if len(s) > MaxTargetURIBytes {
		return fmt.Errorf("warc: target URI of %d bytes, over the %d-byte limit", len(s), MaxTargetURIBytes)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return fmt.Errorf("warc: target URI %q has whitespace or a control character at byte %d", truncate(s), i)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("warc: target URI %q: %w", truncate(s), err)
	}
	if !u.IsAbs() {
		return fmt.Errorf("warc: target URI %q is not absolute", truncate(s))
	}
	return nil
}
