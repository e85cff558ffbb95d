package warc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"regexp"
	"slices"
	"strings"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// IndexEntry is one line of a CDXJ index (the pywb CDXJ format, as the
// WACZ 1.1.1 specification and Webrecorder's CDXJ 0.1.0 specification
// describe it): a searchable URL key, a 14-digit timestamp, and a JSON
// block locating the record.
type IndexEntry struct {
	// URLKey is the SURT form of URL (see SURT).
	URLKey string `json:"-"`
	// Timestamp is the record's WARC-Date as YYYYMMDDhhmmss, UTC.
	Timestamp string `json:"-"`
	// URL is the record's WARC-Target-URI.
	URL string `json:"url"`
	// Mime is the media type of the payload: the HTTP Content-Type of a
	// response (parameters dropped), "warc/revisit" for a revisit, the
	// record's Content-Type for a resource or metadata record.
	Mime string `json:"mime,omitempty"`
	// Status is the HTTP status of a response or revisit, 0 for none.
	Status int `json:"status,string,omitempty"`
	// Digest is the payload digest without its algorithm label, as pywb
	// and warcio write it (ReplayWeb.page reads an unlabelled digest as
	// SHA-256, which is what this package writes).
	Digest string `json:"digest,omitempty"`
	// Length and Offset locate the record in its WARC file: for a
	// gzip-per-record file, its whole gzip member.
	Length int64 `json:"length,string"`
	Offset int64 `json:"offset,string"`
	// Filename is the WARC file's name; in a WACZ, relative to archive/.
	Filename string `json:"filename"`
}

// String renders the entry as one CDXJ line, without the newline. Offsets,
// lengths and statuses are JSON strings and fields come in the order pywb's
// and warcio's indexers write them, so that the lines are byte-for-byte
// what those tools produce for the same record.
func (e IndexEntry) String() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e) // cannot fail: strings and integers only
	return e.URLKey + " " + e.Timestamp + " " + strings.TrimRight(b.String(), "\n")
}

// SortIndex orders entries as a CDXJ file must be ordered: by the bytes of
// the line (LC_ALL=C sort), i.e. by URL key, then timestamp.
func SortIndex(entries []IndexEntry) {
	slices.SortStableFunc(entries, func(a, b IndexEntry) int {
		return strings.Compare(a.String(), b.String())
	})
}

// WriteCDXJ sorts entries and writes them as a CDXJ file, one line each.
func WriteCDXJ(w io.Writer, entries []IndexEntry) error {
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = e.String()
	}
	slices.Sort(lines)
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

var wwwPrefix = regexp.MustCompile(`^(https?://)www\d*\.`)

// SURT returns the searchable form of a URL that CDXJ lines are keyed and
// sorted by, computed exactly as ReplayWeb.page computes it when it looks a
// URL up (warcio.js getSurt, whose quirks it keeps): a leading lower-case
// "www" label (www, www1, …) dropped, everything lower-cased, the URL
// parsed as a browser does (WHATWG URL), the host's labels reversed and
// joined with commas (an IPv4 address's too), the port if not the scheme's
// default, ")", the path, and the query's parameters sorted.
// "https://www.Example.org:8443/a?b=2&a=1" becomes
// "org,example:8443)/a?a=1&b=2". A URI that is not http(s), or that does
// not parse, is its own key (with spaces escaped: a key holds none).
func SURT(rawURL string) string {
	if !strings.HasPrefix(rawURL, "https:") && !strings.HasPrefix(rawURL, "http:") {
		return strings.ReplaceAll(rawURL, " ", "%20")
	}
	s := strings.ToLower(wwwPrefix.ReplaceAllString(rawURL, "$1"))
	u, err := whatwg.Parse(s)
	if err != nil {
		return strings.ReplaceAll(rawURL, " ", "%20")
	}
	labels := strings.Split(u.Hostname(), ".")
	slices.Reverse(labels)
	var b strings.Builder
	b.WriteString(strings.Join(labels, ","))
	if p := u.Port(); p != "" {
		b.WriteString(":" + p)
	}
	b.WriteString(")")
	b.WriteString(u.Pathname())
	if q := u.Search(); q != "" {
		args := strings.Split(q[1:], "&")
		slices.Sort(args)
		b.WriteString("?" + strings.Join(args, "&"))
	}
	return strings.ReplaceAll(b.String(), " ", "%20")
}

// cdxTimestamp renders a WARC-Date as the 14-digit CDXJ timestamp.
func cdxTimestamp(t time.Time) string { return t.UTC().Format("20060102150405") }

// indexEntryFor builds the index entry of a record this package just wrote.
func indexEntryFor(rec gowarc.WarcRecord, offset, length int64, filename string) IndexEntry {
	h := rec.WarcHeader()
	date, _ := rec.Date()
	var head []byte
	if pb, ok := rec.Block().(gowarc.ProtocolHeaderBlock); ok {
		head = pb.ProtocolHeaderBytes()
	}
	return newIndexEntry(rec.Type().String(), h.Get(gowarc.WarcTargetURI), date, h.Get(gowarc.ContentType), head,
		h.Get(gowarc.WarcPayloadDigest), h.Get(gowarc.WarcBlockDigest), offset, length, filename)
}

// newIndexEntry builds an index entry from a record's parts; httpHead is the
// HTTP head of a response or revisit block, if any.
func newIndexEntry(recType, targetURI string, date time.Time, contentType string, httpHead []byte, payloadDigest, blockDigest string, offset, length int64, filename string) IndexEntry {
	e := IndexEntry{
		URLKey:    SURT(targetURI),
		Timestamp: cdxTimestamp(date),
		URL:       targetURI,
		Digest:    unlabel(payloadDigest),
		Length:    length,
		Offset:    offset,
		Filename:  filename,
	}
	switch recType {
	case "response", "revisit":
		if status, ct, ok := statusAndType(httpHead); ok {
			e.Status = status
			e.Mime = ct
		}
		if recType == "revisit" {
			e.Mime = "warc/revisit"
		}
	default:
		e.Mime = mediaType(contentType)
		if e.Digest == "" {
			e.Digest = unlabel(blockDigest) // a resource's payload is its block (§6.4.1)
		}
	}
	return e
}

// unlabel drops the "algorithm:" label of a labelled digest.
func unlabel(d string) string {
	if _, v, ok := strings.Cut(d, ":"); ok {
		return v
	}
	return d
}

// statusAndType reads the status code and the media type of Content-Type
// from an HTTP response head.
func statusAndType(head []byte) (int, string, bool) {
	if len(head) == 0 {
		return 0, "", false
	}
	lines := strings.Split(string(head), "\n")
	status, err := parseStatusLine(strings.TrimRight(lines[0], "\r"))
	if err != nil {
		return 0, "", false
	}
	ct := ""
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
			ct = mediaType(value)
			break
		}
	}
	return status, ct, true
}

// mediaType drops a Content-Type's parameters, as pywb's and warcio's
// indexers do.
func mediaType(ct string) string {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

// indexable reports whether a record gets a CDXJ line, by the rule of
// pywb's and warcio's indexers: not warcinfo or request records, nor
// metadata or resource records in application/warc-fields.
func indexable(recType, contentType string) bool {
	switch recType {
	case "response", "revisit":
		return true
	case "resource", "metadata":
		return mediaType(contentType) != contentTypeWarcFields
	}
	return false
}

// Index reads a WARC file and returns the CDXJ entries of its indexable
// records, in file order, each naming filename. It reads headers only and
// verifies no digest (see ReaderOptions.HeadersOnly).
func Index(r io.Reader, filename string, opts ReaderOptions) ([]IndexEntry, error) {
	opts.HeadersOnly = true
	rd := NewReader(r, opts)
	var out []IndexEntry
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("indexing %s: %w", filename, err)
		}
		if err := rec.Close(); err != nil {
			return out, fmt.Errorf("indexing %s: %w", filename, err)
		}
		if !indexable(rec.Type, rec.Header.Get("Content-Type")) {
			continue
		}
		out = append(out, newIndexEntry(rec.Type, rec.TargetURI(), rec.Date, rec.Header.Get("Content-Type"), rec.HTTPHead,
			rec.Header.Get("WARC-Payload-Digest"), rec.Header.Get("WARC-Block-Digest"), rec.Offset, rec.Length, filename))
	}
}
