package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
)

// ReaderOptions configures a Reader. The zero value of every field means
// the documented default.
type ReaderOptions struct {
	// MaxWARCHeaderBytes bounds a record's WARC header; 0 means
	// DefaultMaxWARCHeaderBytes.
	MaxWARCHeaderBytes int
	// MaxHTTPHeadBytes bounds the HTTP head of an application/http block;
	// 0 means DefaultMaxHeaderBytes.
	MaxHTTPHeadBytes int
	// MaxBlockBytes bounds a record's block (its Content-Length). 0 means
	// DefaultMaxBlockBytes; negative means no limit.
	MaxBlockBytes int64
	// HeadersOnly reads headers and skips blocks: nothing is spooled, no
	// digest is verified, Record.Payload fails. For indexing.
	HeadersOnly bool
	// MemoryLimit and TempDir set the spill buffer a block is verified in
	// (see Reader); as in Options.
	MemoryLimit int64
	TempDir     string
}

func (o ReaderOptions) withDefaults() ReaderOptions {
	if o.MaxWARCHeaderBytes <= 0 {
		o.MaxWARCHeaderBytes = DefaultMaxWARCHeaderBytes
	}
	if o.MaxHTTPHeadBytes <= 0 {
		o.MaxHTTPHeadBytes = DefaultMaxHeaderBytes
	}
	if o.MaxBlockBytes == 0 {
		o.MaxBlockBytes = DefaultMaxBlockBytes
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	return o
}

// ErrNoPayload is returned by Record.Payload when the Reader reads headers
// only, or after the record was closed.
var ErrNoPayload = errors.New("warc: payload not available")

// DigestError reports a record whose block or payload does not match its
// declared digest (§5.8, §5.9).
type DigestError struct {
	RecordID string
	Field    string // "WARC-Block-Digest" or "WARC-Payload-Digest"
	Declared string
	Computed string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("warc: record %s: %s is %s, the content hashes to %s", e.RecordID, e.Field, e.Declared, e.Computed)
}

// Fields is a record's WARC header, in file order.
type Fields []Field

// Get returns the first value of the named field (case-insensitive), or "".
func (f Fields) Get(name string) string {
	for _, x := range f {
		if strings.EqualFold(x.Name, name) {
			return x.Value
		}
	}
	return ""
}

// Values returns every value of the named field (case-insensitive).
func (f Fields) Values(name string) []string {
	var out []string
	for _, x := range f {
		if strings.EqualFold(x.Name, name) {
			out = append(out, x.Value)
		}
	}
	return out
}

// Record is one record read from a WARC file.
type Record struct {
	// Type is WARC-Type ("response", "request", "revisit", …).
	Type string
	// ID is WARC-Record-ID without its angle brackets.
	ID string
	// Date is WARC-Date.
	Date time.Time
	// Header holds every WARC header field.
	Header Fields
	// HTTPHead is the HTTP head (start line and fields, through the empty
	// line) of an application/http block, as stored; nil for other blocks.
	HTTPHead []byte
	// Status is the HTTP status of a response or revisit with a head, else
	// 0.
	Status int
	// Offset is where the record starts in the file (for a gzip-per-record
	// file, its gzip member); Length how many bytes it takes, set once the
	// record is closed (Close, or the next call to Next).
	Offset int64
	Length int64
	// Warnings lists what the WARC library found non-conforming without
	// making the record unreadable (a missing field, an odd line ending).
	Warnings []error

	rd     *Reader
	rec    gowarc.WarcRecord
	closed bool
}

// TargetURI is WARC-Target-URI, without the angle brackets WARC 1.0 writers
// sometimes put around it.
func (r *Record) TargetURI() string {
	return strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("WARC-Target-URI"), "<"), ">")
}

// Payload returns the record's payload (§3.1.3), streamed from the spill
// buffer the block was verified in: for an application/http block, the
// bytes after the HTTP head as stored (for a response, the entity-body with
// any content coding intact); for a revisit, nothing; otherwise the whole
// block. It may be called once, before the record is closed.
func (r *Record) Payload() (io.Reader, error) {
	if r.rd.opts.HeadersOnly || r.closed || r.rec == nil {
		return nil, ErrNoPayload
	}
	switch b := r.rec.Block().(type) {
	case gowarc.PayloadBlock:
		return b.PayloadBytes()
	default:
		return b.RawBytes()
	}
}

// Close releases the record's spill buffer and skips the rest of it in the
// file.
func (r *Record) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.rec != nil {
		err = r.rec.Close()
	}
	if ferr := r.rd.finish(r); ferr != nil {
		return ferr
	}
	return err
}

// Reader reads the records of a WARC file, gzip-per-record or
// uncompressed, one at a time, with bounded memory: a header over
// MaxWARCHeaderBytes, an HTTP head over MaxHTTPHeadBytes or a block over
// MaxBlockBytes is an error before it is
// buffered, and a block is verified against its digests in a spill buffer
// (MemoryLimit bytes in memory, the rest in a temporary file) before Next
// returns it. Records are parsed and digested by the WARC library; the
// Reader does the framing and the bounds.
type Reader struct {
	opts  ReaderOptions
	src   *countingReader
	br    *bufio.Reader
	gz    *gzip.Reader
	gzBuf *bufio.Reader // over gz
	unm   gowarc.Unmarshaler
	cur   *Record
	guard *guard
	gzip  bool // the current record is a gzip member
	err   error
}

// NewReader returns a Reader of the WARC file r.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	opts = opts.withDefaults()
	src := &countingReader{r: r}
	ropts := []gowarc.WarcRecordOption{
		gowarc.WithBufferMaxMemBytes(opts.MemoryLimit),
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrWarn),
		gowarc.WithUnknownRecordTypePolicy(gowarc.ErrWarn),
		gowarc.WithBlockErrorPolicy(gowarc.ErrIgnore),
	}
	if opts.TempDir != "" {
		ropts = append(ropts, gowarc.WithBufferTmpDir(opts.TempDir))
	}
	if opts.HeadersOnly {
		// With spec checks off the library neither spools the block nor
		// verifies digests: it parses the heads and skips the rest.
		ropts = append(ropts, gowarc.WithSpecViolationPolicy(gowarc.ErrIgnore))
	} else {
		ropts = append(ropts, gowarc.WithSpecViolationPolicy(gowarc.ErrWarn))
	}
	uuidMu.Lock()
	unm := gowarc.NewUnmarshaler(ropts...)
	uuidMu.Unlock()
	return &Reader{
		opts: opts,
		src:  src,
		br:   bufio.NewReaderSize(src, 64<<10),
		unm:  unm,
	}
}

// Next returns the next record, closing the previous one; io.EOF after the
// last. A *DigestError leaves the Reader usable (the next call reads the
// following record); any other error is returned again by every later call.
func (r *Reader) Next() (*Record, error) {
	if r.cur != nil {
		cur := r.cur
		if err := cur.Close(); err != nil {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	var de *DigestError
	if err != nil && !errors.As(err, &de) {
		r.err = err
	}
	return rec, err
}

func (r *Reader) next() (*Record, error) {
	offset := r.src.n - int64(r.br.Buffered())
	magic, err := r.br.Peek(5)
	if len(magic) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	var dec *bufio.Reader
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		if r.gz == nil {
			r.gz, err = gzip.NewReader(r.br)
		} else {
			err = r.gz.Reset(r.br)
		}
		if err != nil {
			return nil, fmt.Errorf("warc: gzip member at offset %d: %w", offset, err)
		}
		r.gz.Multistream(false)
		if r.gzBuf == nil {
			r.gzBuf = bufio.NewReaderSize(r.gz, 64<<10)
		} else {
			r.gzBuf.Reset(r.gz)
		}
		dec, r.gzip = r.gzBuf, true
	case bytes.Equal(magic, []byte("WARC/")):
		dec, r.gzip = r.br, false
	default:
		return nil, fmt.Errorf("warc: no WARC record at offset %d", offset)
	}
	r.guard = &guard{src: dec, maxHeader: r.opts.MaxWARCHeaderBytes, maxHead: r.opts.MaxHTTPHeadBytes, maxBlock: r.opts.MaxBlockBytes}
	rec := &Record{rd: r, Offset: offset}
	r.cur = rec
	wr, _, findings, err := r.unm.Unmarshal(bufio.NewReaderSize(r.guard, 4096))
	if gerr := r.guard.err; gerr != nil {
		if wr != nil {
			wr.Close()
		}
		return nil, fmt.Errorf("warc: record at offset %d: %w", offset, gerr)
	}
	if err != nil {
		return nil, fmt.Errorf("warc: record at offset %d: %w", offset, err)
	}
	rec.rec = wr
	h := wr.WarcHeader()
	for _, f := range *h {
		rec.Header = append(rec.Header, Field{Name: f.Name, Value: f.Value})
	}
	rec.Type = h.Get(gowarc.WarcType)
	rec.ID = h.GetId(gowarc.WarcRecordID)
	rec.Date, _ = time.Parse(time.RFC3339Nano, h.Get(gowarc.WarcDate))
	if pb, ok := wr.Block().(gowarc.ProtocolHeaderBlock); ok && strings.HasPrefix(strings.ToLower(h.Get(gowarc.ContentType)), "application/http") {
		rec.HTTPHead = pb.ProtocolHeaderBytes()
		if rec.Type == "response" || rec.Type == "revisit" {
			rec.Status, _, _ = statusAndType(rec.HTTPHead)
		}
	}
	var digestErr error
	for _, f := range findings {
		var de *gowarc.DigestError
		if errors.As(f, &de) {
			field := "WARC-Block-Digest"
			if strings.HasPrefix(f.Error(), "payload") {
				field = "WARC-Payload-Digest"
			}
			if digestErr == nil {
				digestErr = &DigestError{RecordID: rec.ID, Field: field, Declared: de.Expected, Computed: de.Computed}
			}
			continue
		}
		rec.Warnings = append(rec.Warnings, f)
	}
	if digestErr != nil {
		return nil, digestErr
	}
	return rec, nil
}

// maxTrailing bounds the bytes a gzip member may hold after its record's
// end marker.
const maxTrailing = 64 << 10

// finish skips what is left of rec in the file and sets its Length.
func (r *Reader) finish(rec *Record) error {
	if r.cur != rec {
		return nil
	}
	r.cur = nil
	if r.err != nil {
		return r.err
	}
	g := r.guard
	if _, err := io.Copy(io.Discard, g); err != nil {
		r.err = fmt.Errorf("warc: record at offset %d: %w", rec.Offset, err)
		return r.err
	}
	if r.gzip {
		n, err := io.Copy(io.Discard, io.LimitReader(r.gzBuf, maxTrailing+1))
		if err == nil && n > maxTrailing {
			err = fmt.Errorf("more than %d bytes after the record's end in its gzip member", maxTrailing)
		}
		if err != nil {
			r.err = fmt.Errorf("warc: record at offset %d: %w", rec.Offset, err)
			return r.err
		}
	}
	rec.Length = r.src.n - int64(r.br.Buffered()) - rec.Offset
	return nil
}

// guard passes one record's bytes from the decompressed stream to the WARC
// library and enforces the bounds on the way: the WARC header must end
// within maxHeader bytes, its Content-Length must be a number within
// maxBlock, an HTTP head within maxHead bytes, and nothing past the
// block and its CRLFCRLF end marker is let through, so that neither a long
// line, nor a huge block, nor a gzip bomb reaches a buffer.
type guard struct {
	src       *bufio.Reader
	maxHeader int // WARC header
	maxHead   int // HTTP head
	maxBlock  int64

	phase     int // 0: WARC header, 1: HTTP head, 2: rest of the block and end marker
	header    []byte
	lineStart bool // the next byte starts a line
	lineCR    bool // the current line so far is a lone CR
	headSeen  int  // bytes of the HTTP head seen
	remaining int64
	err       error
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	// Header phases go byte by byte, so that not a byte past the record is
	// taken from an uncompressed file and every byte is judged.
	n := 0
	for g.phase < 2 && n < len(p) {
		c, err := g.src.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			g.err = fmt.Errorf("record ends inside its header: %w", err)
			return 0, g.err
		}
		if err := g.feed(c); err != nil {
			g.err = err
			return 0, err
		}
		p[n] = c
		n++
	}
	if n > 0 {
		return n, nil
	}
	if g.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.remaining {
		p = p[:g.remaining]
	}
	n, err := g.src.Read(p)
	g.remaining -= int64(n)
	if err == io.EOF && g.remaining > 0 {
		g.err = fmt.Errorf("record ends %d bytes short of its Content-Length and end marker: %w", g.remaining, io.ErrUnexpectedEOF)
		return n, g.err
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// feed judges one byte of a header phase.
func (g *guard) feed(c byte) error {
	if g.phase == 0 {
		g.header = append(g.header, c)
		if len(g.header) > g.maxHeader {
			return fmt.Errorf("WARC header longer than %d bytes", g.maxHeader)
		}
	} else {
		g.headSeen++
		g.remaining--
		if g.headSeen > g.maxHead {
			return fmt.Errorf("HTTP head longer than %d bytes", g.maxHead)
		}
	}
	end := false
	switch {
	case c == '\n':
		end = g.lineStart || g.lineCR
		g.lineStart, g.lineCR = true, false
	case c == '\r' && g.lineStart:
		g.lineStart, g.lineCR = false, true
	default:
		g.lineStart, g.lineCR = false, false
	}
	if g.phase == 1 {
		if end || g.remaining <= 4 {
			// The head ended, or the block ended inside it (the library
			// reports that).
			g.phase = 2
		}
		return nil
	}
	if !end {
		return nil
	}
	length, isHTTP, err := blockOf(g.header)
	if err != nil {
		return err
	}
	if g.maxBlock >= 0 && length > g.maxBlock {
		return fmt.Errorf("block of %d bytes, over the %d-byte limit", length, g.maxBlock)
	}
	g.remaining = length + 4 // the block and its CRLFCRLF end marker
	g.lineStart, g.lineCR = true, false
	g.phase = 2
	if isHTTP && length > 0 {
		g.phase = 1
	}
	return nil
}

// blockOf reads Content-Length and whether the block is application/http
// from a WARC header.
func blockOf(header []byte) (length int64, isHTTP bool, err error) {
	found := false
	for _, line := range strings.Split(string(header), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			if found {
				return 0, false, errors.New("more than one Content-Length")
			}
			found = true
			length, err = strconv.ParseInt(value, 10, 64)
			if err != nil || length < 0 {
				return 0, false, fmt.Errorf("Content-Length %q is not a length", truncate(value))
			}
		case "content-type":
			isHTTP = strings.HasPrefix(strings.ToLower(value), "application/http")
		}
	}
	if !found {
		return 0, false, errors.New("no Content-Length")
	}
	return length, isHTTP, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
