package warc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
)

// Field is one "name: value" line of an application/warc-fields block
// (§4, §6.2, §6.6).
type Field struct {
	Name, Value string
}

// Metadata is a metadata record (§6.6): what linkarc knows about a capture
// besides the wire, e.g. the redirect chain that led to it or the link it
// was resolved from. Field names linkarc uses are listed in the package
// documentation of its callers; WARC 1.1 Annex B.5 suggests "via",
// "hopsFromSeed" and "outlink".
type Metadata struct {
	// TargetURI is the URI the metadata is about (§5.14).
	TargetURI string
	// Date is WARC-Date; zero means the writer's clock.
	Date time.Time
	// ConcurrentTo lists record ids of records created in the same capture
	// event (§5.7), typically the response the metadata is about.
	ConcurrentTo []string
	// RefersTo is the record id of the one record the metadata describes
	// (§5.11); "" leaves it out.
	RefersTo string
	// Fields is the block.
	Fields []Field
}

// WriteMetadata writes a metadata record whose block is m.Fields as
// application/warc-fields and returns its record id.
func (w *Writer) WriteMetadata(m Metadata) (string, error) {
	if err := checkTargetURI(m.TargetURI); err != nil {
		return "", err
	}
	var block bytes.Buffer
	for _, f := range m.Fields {
		if !validFieldName(f.Name) || strings.ContainsAny(f.Value, "\r\n") {
			return "", fmt.Errorf("warc: metadata field %q: a name must be a token and a value one line", truncate(f.Name))
		}
		fmt.Fprintf(&block, "%s: %s\r\n", f.Name, f.Value)
	}
	if m.Date.IsZero() {
		m.Date = w.opts.Now()
	}
	id := w.id()
	b := w.newBuilder(gowarc.Metadata)
	b.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	b.AddWarcHeader(gowarc.WarcDate, formatDate(m.Date))
	b.AddWarcHeader(gowarc.WarcTargetURI, m.TargetURI)
	for _, c := range m.ConcurrentTo {
		b.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+c+">")
	}
	if m.RefersTo != "" {
		b.AddWarcHeader(gowarc.WarcRefersTo, "<"+m.RefersTo+">")
	}
	b.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	b.AddWarcHeader(gowarc.ContentType, contentTypeWarcFields)
	if _, err := b.Write(block.Bytes()); err != nil {
		b.Close()
		return "", err
	}
	rec, err := build(b)
	if err != nil {
		return "", fmt.Errorf("warc: metadata record for %s: %w", m.TargetURI, err)
	}
	defer rec.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, _, err := w.writeLocked(rec); err != nil {
		return "", err
	}
	return id, nil
}

// Resource is a resource record (§6.4): content without protocol
// information, e.g. a file linkarc derived from a capture.
type Resource struct {
	// TargetURI names the resource (§5.14); a derived file may use a URI
	// linkarc makes up, e.g. "urn:linkarc:page:<url>".
	TargetURI string
	// Date is WARC-Date; zero means the writer's clock.
	Date time.Time
	// ContentType is the media type of the block (§5.6), required.
	ContentType string
	// ConcurrentTo lists record ids of records created in the same capture
	// event (§5.7).
	ConcurrentTo []string
}

// WriteResource writes a resource record whose block is read from body to
// its end, spilling past the memory limit like a response body. It returns
// the record's Capture (Status 0; its payload is the whole block).
func (w *Writer) WriteResource(res Resource, body io.Reader) (Capture, error) {
	if err := checkTargetURI(res.TargetURI); err != nil {
		return Capture{}, err
	}
	if res.ContentType == "" || strings.ContainsAny(res.ContentType, "\r\n") {
		return Capture{}, errors.New("warc: a resource needs a one-line content type")
	}
	if res.Date.IsZero() {
		res.Date = w.opts.Now()
	}
	id := w.id()
	b := w.newBuilder(gowarc.Resource)
	b.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	b.AddWarcHeader(gowarc.WarcDate, formatDate(res.Date))
	b.AddWarcHeader(gowarc.WarcTargetURI, res.TargetURI)
	for _, c := range res.ConcurrentTo {
		b.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+c+">")
	}
	b.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	b.AddWarcHeader(gowarc.ContentType, res.ContentType)
	var src io.Reader = body
	if w.opts.MaxBlockBytes > 0 {
		src = io.LimitReader(body, w.opts.MaxBlockBytes+1)
	}
	n, err := io.Copy(b, src)
	if err == nil && w.opts.MaxBlockBytes > 0 && n > w.opts.MaxBlockBytes {
		err = ErrBlockTooLarge
	}
	if err != nil {
		b.Close()
		return Capture{}, fmt.Errorf("warc: resource %s: %w", res.TargetURI, err)
	}
	rec, err := build(b)
	if err != nil {
		return Capture{}, fmt.Errorf("warc: resource record for %s: %w", res.TargetURI, err)
	}
	defer rec.Close()
	c := Capture{
		URL:           res.TargetURI,
		Date:          res.Date,
		ResponseID:    id,
		PayloadDigest: rec.WarcHeader().Get(gowarc.WarcBlockDigest),
		PayloadLength: n,
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.Offset, c.Length, err = w.writeLocked(rec); err != nil {
		return Capture{}, err
	}
	w.index = append(w.index, indexEntryFor(rec, c.Offset, c.Length, w.opts.Filename))
	return c, nil
}

// validFieldName reports whether s is an RFC 9110 token.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
