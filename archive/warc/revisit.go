package warc

import (
	"errors"
	"fmt"
	"sync"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
)

// ProfileIdenticalPayloadDigest is the revisit profile this package writes
// (WARC 1.1 §6.7.2).
const ProfileIdenticalPayloadDigest = gowarc.ProfileIdenticalPayloadDigestV1_1

// Original identifies a response whose payload was archived in full, for a
// revisit record to point at (§6.7.2).
type Original struct {
	// RecordID is its WARC-Record-ID (without angle brackets), written as
	// WARC-Refers-To (§5.11); "" leaves that field out.
	RecordID string
	// TargetURI and Date are its WARC-Target-URI and WARC-Date, written as
	// WARC-Refers-To-Target-URI and WARC-Refers-To-Date (§5.12, §5.13).
	// Replay tools (pywb, ReplayWeb.page) find the original by these two.
	TargetURI string
	Date      time.Time
	// PayloadDigest is its labelled payload digest.
	PayloadDigest string
	// Filename is the WARC file that holds it (the writer's
	// Options.Filename). A package of WARCs (a WACZ) that holds a revisit
	// must hold this file too, or the revisit cannot be replayed.
	Filename string
}

// Deduper remembers archived payloads by digest. Implementations must be
// safe for concurrent use.
type Deduper interface {
	// Lookup returns the original capture of a payload with this labelled
	// digest, if one was archived.
	Lookup(payloadDigest string) (Original, bool)
	// Remember records a payload archived in full.
	Remember(Original)
}

// DedupIndex is an in-memory Deduper: the first capture of each payload
// is the original of every later one.
type DedupIndex struct {
	mu sync.Mutex
	m  map[string]Original
}

// NewDedupIndex returns an empty DedupIndex.
func NewDedupIndex() *DedupIndex { return &DedupIndex{m: make(map[string]Original)} }

// Lookup implements Deduper.
func (d *DedupIndex) Lookup(digest string) (Original, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, ok := d.m[digest]
	return o, ok
}

// Remember implements Deduper; an earlier original of the same digest is
// kept.
func (d *DedupIndex) Remember(o Original) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.m[o.PayloadDigest]; !ok && o.PayloadDigest != "" {
		d.m[o.PayloadDigest] = o
	}
}

// WriteRevisit records an exchange whose payload was not stored because
// orig holds it (§6.7.2): a revisit record whose block is ex.ResponseHead
// (or empty when ex.ResponseHead is nil, e.g. when the payload was known by
// its digest and not fetched again), followed by the request record when
// ex.RequestHead is set.
func (w *Writer) WriteRevisit(ex Exchange, orig Original) (Capture, error) {
	if err := checkTargetURI(ex.URL); err != nil {
		return Capture{}, err
	}
	if orig.PayloadDigest == "" || orig.TargetURI == "" || orig.Date.IsZero() {
		return Capture{}, errors.New("warc: a revisit needs the original's payload digest, target URI and date")
	}
	var head []byte
	status := 0
	if ex.ResponseHead != nil {
		line, err := checkHead("response", ex.ResponseHead, DefaultMaxHeaderBytes)
		if err != nil {
			return Capture{}, err
		}
		if status, err = parseStatusLine(line); err != nil {
			return Capture{}, &headError{"response", err.Error()}
		}
		head = keepTransferEncoding(ex.ResponseHead)
	}
	if ex.Date.IsZero() {
		ex.Date = w.opts.Now()
	}
	c := Capture{
		URL:           ex.URL,
		Date:          ex.Date,
		Status:        status,
		ResponseID:    w.id(),
		PayloadDigest: orig.PayloadDigest,
		Revisit:       &orig,
	}
	if ex.RequestHead != nil {
		line, err := checkHead("request", ex.RequestHead, DefaultMaxHeaderBytes)
		if err != nil {
			return Capture{}, err
		}
		if err := checkRequestLine(line); err != nil {
			return Capture{}, &headError{"request", err.Error()}
		}
		c.RequestID = w.id()
	}
	rev, err := w.buildRevisit(c.ResponseID, c.RequestID, ex, head, orig.PayloadDigest, orig)
	if err != nil {
		return Capture{}, fmt.Errorf("warc: revisit record for %s: %w", ex.URL, err)
	}
	defer rev.Close()
	var req gowarc.WarcRecord
	if c.RequestID != "" {
		if req, err = w.buildRequest(c.RequestID, c.ResponseID, ex); err != nil {
			return Capture{}, fmt.Errorf("warc: request record for %s: %w", ex.URL, err)
		}
		defer req.Close()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.Offset, c.Length, err = w.writeLocked(rev); err != nil {
		return Capture{}, err
	}
	if req != nil {
		if _, _, err = w.writeLocked(req); err != nil {
			return Capture{}, err
		}
	}
	w.index = append(w.index, indexEntryFor(rev, c.Offset, c.Length, w.opts.Filename))
	return c, nil
}

// buildRevisit builds a revisit record (§6.7.2) whose block is head, the
// response head received (nil for none).
func (w *Writer) buildRevisit(id, requestID string, ex Exchange, head []byte, payloadDigest string, orig Original) (gowarc.WarcRecord, error) {
	b := w.newBuilder(gowarc.Revisit)
	b.AddWarcHeader(gowarc.WarcRecordID, "<"+id+">")
	b.AddWarcHeader(gowarc.WarcDate, formatDate(ex.Date))
	b.AddWarcHeader(gowarc.WarcTargetURI, ex.URL)
	if ex.IP != "" {
		b.AddWarcHeader(gowarc.WarcIPAddress, ex.IP)
	}
	if requestID != "" {
		b.AddWarcHeader(gowarc.WarcConcurrentTo, "<"+requestID+">")
	}
	b.AddWarcHeader(gowarc.WarcWarcinfoID, "<"+w.infoID+">")
	b.AddWarcHeader(gowarc.WarcProfile, ProfileIdenticalPayloadDigest)
	if orig.RecordID != "" {
		b.AddWarcHeader(gowarc.WarcRefersTo, "<"+orig.RecordID+">")
	}
	b.AddWarcHeader(gowarc.WarcRefersToTargetURI, orig.TargetURI)
	b.AddWarcHeader(gowarc.WarcRefersToDate, formatDate(orig.Date))
	b.AddWarcHeader(gowarc.WarcPayloadDigest, payloadDigest)
	if len(head) > 0 {
		b.AddWarcHeader(gowarc.ContentType, contentTypeResponse)
		// §6.7.2: "A WARC-Truncated header with reason 'length' shall be
		// used for any identical-digest truncation."
		b.AddWarcHeader(gowarc.WarcTruncated, string(TruncatedLength))
		if _, err := b.Write(head); err != nil {
			b.Close()
			return nil, err
		}
	}
	return build(b)
}
