package fetch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/weburl"
)

// Recording writes the HTTP exchanges of one capture into its WARC: every
// round trip a Fetch or FetchAsset makes under a context carrying it (see
// WithRecording) becomes a response/request record pair, redirect hops,
// retries and robots.txt included, with the request as sent, the response
// head as received, the body as it crossed the wire (streamed into the
// writer's spill buffer, never held whole) and the remote address
// connected to (WARC-IP-Address).
//
// robots.txt is fetched once per origin and run: the capture whose fetch
// asked for it records the exchange; every other capture that relies on
// the same rules records a revisit of it (WARC 1.1 §6.7.2), so that each
// WARC names the robots.txt its fetches obeyed.
type Recording struct {
	w *warc.Writer

	mu     sync.Mutex
	robots map[string]bool // origins whose robots.txt this WARC holds
	last   map[string]warc.Capture
	err    error
	n      int
}

// Captured returns the record of the last response recorded for url
// (a response, or a revisit when the writer deduplicated its payload).
func (r *Recording) Captured(url string) (warc.Capture, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.last[url]
	return c, ok
}

// NewRecording records into w.
func NewRecording(w *warc.Writer) *Recording {
	return &Recording{w: w, robots: map[string]bool{}, last: map[string]warc.Capture{}}
}

// Err is the first failure to record (a full disk, a head the writer
// refused); the fetches themselves go on regardless.
func (r *Recording) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Exchanges is how many exchanges were recorded (revisits included).
func (r *Recording) Exchanges() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *Recording) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *Recording) counted() {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

type recordingKey struct{}

// WithRecording returns a context under which the fetcher records every
// exchange into rec.
func WithRecording(ctx context.Context, rec *Recording) context.Context {
	return context.WithValue(ctx, recordingKey{}, rec)
}

func recordingFrom(ctx context.Context) *Recording {
	r, _ := ctx.Value(recordingKey{}).(*Recording)
	return r
}

// robotsRecord is a robots.txt exchange as recorded, for revisits by later
// captures.
type robotsRecord struct {
	ex   warc.Exchange // heads only
	orig warc.Original
}

// wireTrace notes, for one round trip, the address connected to and when
// the request was written.
type wireTrace struct {
	mu   sync.Mutex
	ip   string
	sent time.Time
}

func (t *wireTrace) gotConn(ci net.Conn) {
	if ci == nil {
		return
	}
	host := ci.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	t.mu.Lock()
	t.ip = host
	t.mu.Unlock()
}

func (t *wireTrace) wrote(at time.Time) {
	t.mu.Lock()
	t.sent = at
	t.mu.Unlock()
}

func (t *wireTrace) get() (string, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ip, t.sent
}

// begin starts recording one round trip; nil when it cannot be recorded
// (the failure is kept in r.Err).
func (r *Recording) begin(req *http.Request, resp *http.Response, tr *wireTrace) *warc.Response {
	head, err := warc.ResponseHead(resp)
	if err != nil {
		r.fail(err)
		return nil
	}
	ip, sent := tr.get()
	wr, err := r.w.Begin(warc.Exchange{
		URL:          req.URL.String(),
		Date:         sent,
		IP:           ip,
		RequestHead:  warc.RequestHead(req),
		ResponseHead: head,
	})
	if err != nil {
		r.fail(err)
		return nil
	}
	return wr
}

// recordBody is a response body whose bytes, as they cross the wire, go
// into the WARC; Close writes the records.
type recordBody struct {
	rc   io.ReadCloser
	tee  io.Reader
	resp *warc.Response
	rec  *Recording
	st   *request
	ex   warc.Exchange // heads, for robots.txt revisits
	wire *wireReader   // the reader above, to tell a size cap from a cut

	eof  bool
	err  error
	once sync.Once
}

func newRecordBody(rc io.ReadCloser, resp *warc.Response, rec *Recording, st *request) *recordBody {
	return &recordBody{rc: rc, tee: resp.Tee(rc), resp: resp, rec: rec, st: st}
}

func (b *recordBody) Read(p []byte) (int, error) {
	n, err := b.tee.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil && b.err == nil:
		b.err = err
	}
	return n, err
}

func (b *recordBody) Close() error {
	err := b.rc.Close()
	b.commit()
	return err
}

// commit writes the records once, marking a body not read to its end as
// truncated (WARC 1.1 §5.15) with the reason that cut it.
func (b *recordBody) commit() {
	b.once.Do(func() {
		if !b.eof {
			switch {
			case b.wire != nil && errors.Is(b.wire.err, errTooLarge):
				b.resp.Truncate(warc.TruncatedLength)
			case b.st != nil && (b.st.idleFired.Load()):
				b.resp.Truncate(warc.TruncatedTime)
			case b.err != nil:
				b.resp.Truncate(warc.TruncatedDisconnect)
			default:
				// Not read to its end: a redirect's or an error's body, a
				// page refused by its type.
				b.resp.Truncate(warc.TruncatedUnspecified)
			}
		}
		c, err := b.resp.Commit()
		if err != nil {
			b.rec.fail(err)
			return
		}
		b.rec.counted()
		b.rec.mu.Lock()
		b.rec.last[c.URL] = c
		b.rec.mu.Unlock()
		if b.st != nil && b.st.kind == kindRobots {
			b.st.mu.Lock()
			b.st.robotsRecords = append(b.st.robotsRecords, robotsRecord{ex: b.ex, orig: warc.Original{
				RecordID: c.ResponseID, TargetURI: c.URL, Date: c.Date,
				PayloadDigest: c.PayloadDigest, Filename: b.rec.w.Filename(),
			}})
			b.st.mu.Unlock()
			b.rec.mu.Lock()
			b.rec.robots[robotsOrigin(c.URL)] = true
			b.rec.mu.Unlock()
		}
	})
}

// commitEmpty records a response whose body was never read (refused by its
// Content-Length or its codings).
func commitEmpty(rec *Recording, resp *warc.Response, why warc.Truncation) {
	resp.Truncate(why)
	if _, err := resp.Commit(); err != nil {
		rec.fail(err)
		return
	}
	rec.counted()
}

func robotsOrigin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return weburl.Origin(u)
}

// noteRobots makes sure the recording holds the robots.txt of origin that
// the fetch obeyed: a revisit of each recorded exchange when another
// capture fetched it.
func (r *Recording) noteRobots(origin string, recs []robotsRecord) {
	if len(recs) == 0 {
		return
	}
	r.mu.Lock()
	done := r.robots[origin]
	r.robots[origin] = true
	r.mu.Unlock()
	if done {
		return
	}
	for _, x := range recs {
		if _, err := r.w.WriteRevisit(x.ex, x.orig); err != nil {
			r.fail(err)
			return
		}
		r.counted()
	}
}
