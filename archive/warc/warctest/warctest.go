// Package warctest records real HTTP exchanges into a warc.Writer for
// tests, the way linkarc's fetcher feeds the writer: Accept-Encoding set on
// the request (so that net/http leaves the body as received), the heads
// rendered with warc.RequestHead and warc.ResponseHead, the server's
// address taken from httptrace, the body streamed into the record.
package warctest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
)

// Client returns an HTTP client that never decodes bodies itself.
func Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}}
}

// Get fetches url with client and records the exchange in w. It fails the
// test on any error.
func Get(tb testing.TB, client *http.Client, w *warc.Writer, url string) warc.Capture {
	tb.Helper()
	var ip string
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if host, _, err := net.SplitHostPort(ci.Conn.RemoteAddr().String()); err == nil {
			ip = host
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("User-Agent", "linkarc-test/1.0")
	req.Header.Set("Accept-Encoding", "gzip")
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	head, err := warc.ResponseHead(resp)
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := w.Begin(warc.Exchange{URL: url, Date: sent, IP: ip, RequestHead: warc.RequestHead(req), ResponseHead: head})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := rec.ReadFrom(resp.Body); err != nil {
		rec.Discard()
		tb.Fatal(err)
	}
	c, err := rec.Commit()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
