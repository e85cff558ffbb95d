package archive

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/resolver"
)

// Provenance: how a capture's URL was found, in its WARC.
//
// A link resolved with requests in this run brings the exchanges that
// resolved it (resolver.Provenance): for a Google News link, its signature
// GET, with any redirect hop before it, and the batchexecute POST whose
// answer named the URL, which every article of that batch records; for a
// short link (t.co, bit.ly…), each hop of its redirect chain up to the
// publisher URL it named (and, when the chain led to a Google News link,
// Google's exchanges after them). They are written first, as
// response/request pairs like the page's, at the time they were made
// (WARC-Date), with the address that answered (WARC-IP-Address). After
// the page, a metadata record says how the URL was found, names those
// records and, when no exchange is recorded, says why: decoded offline
// from the id, found in the resolution cache (and when that entry was
// resolved), linked directly.

// Values of the metadata record's resolve-note field, by method.
const (
	noteBatchexecute = "resolved by Google News in this run; its signature GET and batchexecute POST are the Google records of this WARC (resolve-record)"
	noteNotKept      = "resolved by Google News in this run; its exchanges with Google could not be kept"
	noteCache        = "found in linkarc's resolution cache (cache/gnews/): Google was asked in an earlier run (resolved-at, when the cache knows), so this WARC holds no exchange with Google"
	noteOffline      = "decoded offline from the Google News link itself; no request was made"
	noteRedirect     = "found by following the short link's redirects in this run; each hop is a request/response pair of this WARC (resolve-record), the publisher URL it names was not requested before the page"
	noteRedirectLost = "found by following the short link's redirects in this run; those exchanges could not be kept"
	noteLinkCache    = "found in linkarc's resolution cache (cache/links/): the short link's redirects were followed in an earlier run (resolved-at, when the cache knows), so this WARC holds no exchange with the shortener"
	noteDirect       = "the digest links to the publisher itself"
)

// provenance returns the exchanges that resolved the article's link, nil
// once dropped.
func (a *article) provenance() *resolver.Provenance {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.prov
}

// dropProvenance releases the exchanges that resolved the article's link
// (once captured, or at the end of the run for an article never captured).
func (a *article) dropProvenance() {
	a.mu.Lock()
	p := a.prov
	a.prov = nil
	a.mu.Unlock()
	p.Release()
}

// resolveExchanges writes the exchanges that resolved an article's link
// into w and returns the record ids of their responses. One that cannot
// be written is logged and left out.
func (c *capturer) resolveExchanges(w *warc.Writer, prov *resolver.Provenance) []string {
	if prov == nil {
		return nil
	}
	var ids []string
	for _, ex := range prov.Exchanges {
		capt, err := writeExchange(w, ex)
		if err != nil {
			c.a.log.Warn("capture: an exchange that resolved the link not recorded", "url", ex.URL, "err", err)
			continue
		}
		ids = append(ids, capt.ResponseID)
	}
	return ids
}

// writeExchange records one exchange as a response/request pair. The heads
// are rendered as warc.RequestHead and warc.ResponseHead render the
// fetcher's; the body is copied from where the resolver spilled it.
func writeExchange(w *warc.Writer, ex *resolver.Exchange) (warc.Capture, error) {
	u, err := url.Parse(ex.URL)
	if err != nil {
		return warc.Capture{}, err
	}
	req := &http.Request{Method: ex.Method, URL: u, Host: u.Host, Header: ex.RequestHeader, ContentLength: int64(len(ex.RequestBody))}
	respHead, err := warc.ResponseHead(&http.Response{
		Proto: ex.Proto, Status: ex.Status, StatusCode: ex.StatusCode,
		Header: ex.ResponseHeader, TransferEncoding: ex.TransferEncoding,
	})
	if err != nil {
		return warc.Capture{}, err
	}
	body, err := ex.Body()
	if err != nil {
		return warc.Capture{}, err
	}
	defer body.Close()
	wr, err := w.Begin(warc.Exchange{
		URL: ex.URL, Date: ex.Sent, IP: ex.RemoteIP,
		RequestHead: warc.RequestHead(req), RequestBody: ex.RequestBody, ResponseHead: respHead,
	})
	if err != nil {
		return warc.Capture{}, err
	}
	if _, err := wr.ReadFrom(body); err != nil && !errors.Is(err, warc.ErrBlockTooLarge) {
		wr.Discard()
		return warc.Capture{}, fmt.Errorf("reading the kept body: %w", err)
	}
	if ex.Truncated != "" {
		wr.Truncate(warc.Truncation(ex.Truncated))
	}
	return wr.Commit()
}

// provenance writes the metadata record saying how the article's URL was
// found: the link (Google News or short) and the method, with the records
// of the exchanges that resolved it (resolveRecords), or why there are
// none; and the page's redirect chain.
func (c *capturer) provenance(w *warc.Writer, art *article, cap *fetch.Capture, resolveRecords []string) {
	var fields []warc.Field
	if g := googleLink(art.link); g != "" {
		fields = append(fields, warc.Field{Name: "via", Value: g}, warc.Field{Name: "google-news-url", Value: g})
	} else if art.link != "" && art.link != art.url {
		fields = append(fields, warc.Field{Name: "via", Value: art.link})
	}
	if art.method != "" {
		fields = append(fields, warc.Field{Name: "resolve-method", Value: art.method})
	}
	if !art.resolvedAt.IsZero() {
		fields = append(fields, warc.Field{Name: "resolved-at", Value: art.resolvedAt.UTC().Format(time.RFC3339)})
	}
	if note := resolveNote(art.method, googleLink(art.link) != "", len(resolveRecords) > 0); note != "" {
		fields = append(fields, warc.Field{Name: "resolve-note", Value: note})
	}
	for _, id := range resolveRecords {
		fields = append(fields, warc.Field{Name: "resolve-record", Value: "<" + id + ">"})
	}
	if cap != nil {
		for _, u := range cap.Chain {
			fields = append(fields, warc.Field{Name: "redirect-chain", Value: u})
		}
	}
	if len(fields) == 0 {
		return
	}
	if _, err := w.WriteMetadata(warc.Metadata{TargetURI: art.url, Fields: fields}); err != nil {
		c.a.log.Warn("capture: provenance not recorded", "url", art.url, "err", err)
	}
}

// resolveNote says in words where the resolution's evidence is: google
// says the link is a Google News link, recorded that its exchanges are in
// the WARC.
func resolveNote(method string, google, recorded bool) string {
	switch method {
	case resolver.MethodBatchexecute:
		if recorded {
			return noteBatchexecute
		}
		return noteNotKept
	case resolver.MethodCache:
		if google {
			return noteCache
		}
		return noteLinkCache
	case resolver.MethodOffline:
		return noteOffline
	case resolver.MethodRedirect:
		if recorded {
			return noteRedirect
		}
		return noteRedirectLost
	case "direct":
		return noteDirect
	}
	return ""
}
