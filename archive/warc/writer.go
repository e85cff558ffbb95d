package warc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
	gowarc "github.com/nlnwa/gowarc/v3"
)

// Defaults for Options and ReaderOptions fields left at zero.
const (
	// DefaultMemoryLimit is how much of one record block is held in memory
	// before the rest spills to a temporary file. It is also the library's
	// own default.
	DefaultMemoryLimit = 1 << 20
	// DefaultMaxBlockBytes is the largest record block written or read:
	// well above linkarc's 16 MiB body cap, far below what a disk or a
	// hostile file could make of it.
	DefaultMaxBlockBytes = 256 << 20
	// DefaultMaxHeaderBytes bounds an HTTP head (start line and fields), in
	// what the Writer accepts and what the Reader reads: Chromium's own
	// limit on response headers, so nothing a browser could load is
	// refused. The fetcher's http.Transport.MaxResponseHeaderBytes should
	// be the same.
	DefaultMaxHeaderBytes = 256 << 10
	// DefaultMaxWARCHeaderBytes bounds the WARC header of a record read.
	// Parsing a header costs the WARC library up to some 60 times its size
	// in short-lived allocations, hence a bound well above any real header
	// (a few hundred bytes and the target URI) and well below a megabyte.
	DefaultMaxWARCHeaderBytes = 64 << 10
	// MaxTargetURIBytes is the longest target URI the Writer accepts, so
	// that every header it writes is within DefaultMaxWARCHeaderBytes.
	MaxTargetURIBytes = 32 << 10
	// DefaultSoftware names the writing program in the warcinfo record.
	DefaultSoftware = "linkarc"
)

// Media types of record blocks (WARC 1.1 §5.6, §6.2, §6.3.2, §6.5.2).
const (
	contentTypeResponse   = "application/http; msgtype=response"
	contentTypeRequest    = "application/http; msgtype=request"
	contentTypeWarcFields = "application/warc-fields"
)

// ErrClosed is returned by a Writer after Close.
var ErrClosed = errors.New("warc: writer closed")

// ErrBlockTooLarge is returned when a record block would exceed the
// writer's MaxBlockBytes.
var ErrBlockTooLarge = errors.New("warc: record block too large")

// Options configures a Writer. The zero value of every field means the
// documented default.
type Options struct {
	// Software names the writing program and its version in the warcinfo
	// record, e.g. "linkarc/v1.4.0". "" means DefaultSoftware.
	Software string
	// Filename is the name the WARC file will be known by (WARC-Filename,
	// §5.17), e.g. the object name it is stored under; "" leaves it out.
	// It is also recorded in every Original the writer hands out, so that a
	// revisit's original can be found later.
	Filename string
	// Operator, Description, IsPartOf, UserAgent and Robots fill the
	// warcinfo fields of the same names (§6.2, Annex B.1; UserAgent is
	// "http-header-user-agent"); "" leaves a field out.
	Operator    string
	Description string
	IsPartOf    string
	UserAgent   string
	Robots      string

	// MemoryLimit is how many bytes of one record block are held in
	// memory; beyond it the block spills to a file in TempDir. 0 means
	// DefaultMemoryLimit.
	MemoryLimit int64
	// TempDir holds spilled blocks; "" means os.TempDir().
	TempDir string
	// MaxBlockBytes is the largest record block accepted (head and body of
	// a response together). 0 means DefaultMaxBlockBytes; negative means
	// no limit.
	MaxBlockBytes int64
	// GzipLevel is the gzip level (1–9) of each record's member, written
	// with klauspost/compress (the WARC library's own choice, 2–3 times
	// faster than compress/gzip at the same level). 0 means
	// gzip.DefaultCompression.
	GzipLevel int

	// Dedup, when set, turns a 200 response whose payload it has seen into
	// a revisit record, and learns every payload written in full. nil
	// writes every payload.
	Dedup Deduper

	// Now is the clock for records whose time is not given; nil means
	// time.Now. NewRecordID returns a fresh record id as a URI without
	// angle brackets; nil means "urn:uuid:" and a random (version 4) UUID.
	// Both exist for tests.
	Now         func() time.Time
	NewRecordID func() string
}

func (o Options) withDefaults() Options {
	if o.Software == "" {
		o.Software = DefaultSoftware
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.MaxBlockBytes == 0 {
		o.MaxBlockBytes = DefaultMaxBlockBytes
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = gzip.DefaultCompression
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewRecordID == nil {
		o.NewRecordID = newUUID
	}
	return o
}

// Writer writes a WARC 1.1 file to an io.Writer, one gzip member per
// record, a warcinfo record first. It is safe for concurrent use: records
// are assembled concurrently (each in its own spill buffer) and written one
// at a time, a response always adjacent to its request.
//
// An error while writing to the underlying io.Writer leaves a partial
// record behind, so it is sticky: every later call returns it.
type Writer struct {
	opts   Options
	infoID string

	mu      sync.Mutex
	out     countingWriter
	gz      *sync.Pool // of *gzip.Writer at opts.GzipLevel (gzipWriters)
	marshal gowarc.Marshaler
	err     error
	closed  bool
	index   []IndexEntry
}

// NewWriter writes the warcinfo record to w and returns a Writer for the
// rest of the file. It never closes w.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	opts = opts.withDefaults()
	gz, err := gzipWriters(opts.GzipLevel)
	if err != nil {
		return nil, err
	}
	wr := &Writer{
		opts:    opts,
		out:     countingWriter{w: w},
		gz:      gz,
		marshal: gowarc.NewMarshaler(),
	}
	if err := wr.writeWarcinfo(); err != nil {
		return nil, err
	}
	return wr, nil
}

// WarcinfoID is the record id of the file's warcinfo record; every other
// record names it in WARC-Warcinfo-ID (§5.16).
func (w *Writer) WarcinfoID() string { return w.infoID }

// Filename is Options.Filename.
func (w *Writer) Filename() string { return w.opts.Filename }

// Offset is the number of bytes written so far, i.e. where the next record
// will start.
func (w *Writer) Offset() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.n
}

// Index returns the CDXJ entries of the records written so far (responses,
// revisits, resources and non-warc-fields metadata), in the order written;
// SortIndex orders them for a CDXJ file.
func (w *Writer) Index() []IndexEntry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]IndexEntry(nil), w.index...)
}

// Close ends the file. It writes nothing (every record is complete when
// written) and does not close the underlying io.Writer; it makes later
// writes fail with ErrClosed and returns the sticky error, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.err
}

func (w *Writer) writeWarcinfo() error {
	var block bytes.Buffer
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&block, "%s: %s\r\n", name, value)
		}
	}
	field("software", w.opts.Software)
	field("format", "WARC File Format 1.1")
	field("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
	field("operator", w.opts.Operator)
	field("description", w.opts.Description)
	field("isPartOf", w.opts.IsPartOf)
	field("http-header-user-agent", w.opts.UserAgent)
	field("robots", w.opts.Robots)

	w.infoID = w.opts.NewRecordID()
	b := w.newBuilder(gowarc.Warcinfo)
	b.AddWarcHeader(gowarc.WarcRecordID, "<"+w.infoID+">")
	b.AddWarcHeader(gowarc.WarcDate, formatDate(w.opts.Now()))
	if w.opts.Filename != "" {
		b.AddWarcHeader(gowarc.WarcFilename, w.opts.Filename)
	}
	b.AddWarcHeader(gowarc.ContentType, contentTypeWarcFields)
	if _, err := b.Write(block.Bytes()); err != nil {
		b.Close()
		return fmt.Errorf("warc: warcinfo: %w", err)
	}
	rec, err := build(b)
	if err != nil {
		return fmt.Errorf("warc: warcinfo: %w", err)
	}
	defer rec.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _, err = w.writeLocked(rec)
	return err
}

// newBuilder returns a record builder with the writer's digest and spill
// settings. The caller adds the WARC-Record-ID and the other fields in the
// order they should appear; the builder appends Content-Length and the
// digests (§5.3, §5.8, §5.9).
func (w *Writer) newBuilder(t gowarc.RecordType) gowarc.WarcRecordBuilder {
	opts := []gowarc.WarcRecordOption{
		gowarc.WithVersion(gowarc.V1_1),
		gowarc.WithDefaultDigestAlgorithm("sha256"),
		gowarc.WithDefaultDigestEncoding(gowarc.Base16),
		gowarc.WithAddMissingDigest(true),
		gowarc.WithBufferMaxMemBytes(w.opts.MemoryLimit),
		// Findings on the fields this package writes are its own bugs or
		// bad input, reported by build as errors; the block (what a server
		// sent) is never judged.
		gowarc.WithSpecViolationPolicy(gowarc.ErrWarn),
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrWarn),
		gowarc.WithBlockErrorPolicy(gowarc.ErrIgnore),
	}
	if w.opts.TempDir != "" {
		opts = append(opts, gowarc.WithBufferTmpDir(w.opts.TempDir))
	}
	uuidMu.Lock()
	defer uuidMu.Unlock()
	return gowarc.NewRecordBuilder(t, opts...)
}

// uuidMu serialises what touches google/uuid's global pool switch: gowarc's
// option constructor (behind NewRecordBuilder and NewUnmarshaler) calls
// uuid.EnableRandPool on every call, which uuid documents as unsafe to call
// concurrently with itself or with uuid.New.
var uuidMu sync.Mutex

// newUUID returns "urn:uuid:" and a random (version 4) UUID.
func newUUID() string {
	uuidMu.Lock()
	defer uuidMu.Unlock()
	return "urn:uuid:" + uuid.NewString()
}

// build finishes a record, turning any validation finding into an error.
func build(b gowarc.WarcRecordBuilder) (gowarc.WarcRecord, error) {
	rec, findings, err := b.Build()
	if err == nil && len(findings) > 0 {
		err = errors.Join(findings...)
		rec.Close()
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// writeLocked writes one record as one gzip member. w.mu must be held.
func (w *Writer) writeLocked(rec gowarc.WarcRecord) (offset, length int64, err error) {
	if w.closed {
		return 0, 0, ErrClosed
	}
	if w.err != nil {
		return 0, 0, w.err
	}
	offset = w.out.n
	gz := w.gz.Get().(*gzip.Writer)
	defer w.gz.Put(gz)
	gz.Reset(&w.out)
	if _, _, err = w.marshal.Marshal(gz, rec, 0); err == nil {
		err = gz.Close()
	}
	if err != nil {
		w.err = fmt.Errorf("warc: writing record %s: %w", rec.RecordId(), err)
		return 0, 0, w.err
	}
	return offset, w.out.n - offset, nil
}

// gzipPools holds the idle gzip writers of every level used, by level.
//
// A gzip writer's compressor is about 0.9 MiB, allocated on its first
// write and kept by Reset. A run holds one Writer open per capture in
// flight (dozens while their requisites are fetched) but writes a record
// to only a few at any instant, so Writers borrow a gzip writer for each
// record instead of owning one. A pool keeps no state between records: a
// writer is Reset before each member, as it would be if owned.
var gzipPools sync.Map // int -> *sync.Pool

// gzipWriters returns the pool of gzip writers at level, checking the level.
func gzipWriters(level int) (*sync.Pool, error) {
	if p, ok := gzipPools.Load(level); ok {
		return p.(*sync.Pool), nil
	}
	if _, err := gzip.NewWriterLevel(io.Discard, level); err != nil {
		return nil, fmt.Errorf("warc: %w", err)
	}
	p, _ := gzipPools.LoadOrStore(level, &sync.Pool{New: func() any {
		gz, _ := gzip.NewWriterLevel(io.Discard, level) // the level was checked
		return gz
	}})
	return p.(*sync.Pool), nil
}

// id returns a fresh record id.
func (w *Writer) id() string { return w.opts.NewRecordID() }

// formatDate renders a WARC-Date (§5.4): UTC, millisecond precision.
func formatDate(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
