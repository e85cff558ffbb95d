package hostile

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// These handlers are publishers whose response headers are the attack.
// Each answers every request the same way, with a small valid HTML body
// unless said otherwise, so a test can tell "the page was refused" from
// "the page was archived". Serve them from httptest servers on loopback.
//
// Go's http server writes headers of any size; clients must bound them.

// page is the body the header floods carry.
const page = "<!DOCTYPE html>\n<html><head><title>Headers</title></head><body><p>The body is ordinary.</p></body></html>\n"

// StackedCodings answers with "Content-Type: text/html" and one
// Content-Encoding header listing n codings, cycling through codings
// ("br" when none is given), and the body "x", which no coding decodes
// (issue 10 item 1: 1,000,000 "br" codings are a 3 MB header). The header
// is about n*(len(coding)+1) bytes.
func StackedCodings(n int, codings ...string) http.Handler {
	if len(codings) == 0 {
		codings = []string{"br"}
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(codings[i%len(codings)])
	}
	value := b.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header()["Content-Encoding"] = []string{value}
		w.Write([]byte("x"))
	})
}

// CookieFlood answers with n Set-Cookie headers, each setting a distinct
// cookie ("c0", "c1"...) with a value of k bytes, and an ordinary page
// (issue 10 item 3: 2,250 cookies of 4 KB, ~9 MB, per page). Cookies are
// host-only with Path=/ and no expiry, so a jar keeps all of them for the
// host. Total header size is about n*(k+30) bytes.
func CookieFlood(n, k int) http.Handler {
	value := strings.Repeat("v", k)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		for i := range n {
			h.Add("Set-Cookie", "c"+strconv.Itoa(i)+"="+value+"; Path=/")
		}
		w.Write([]byte(page))
	})
}

// HeaderFlood answers with about size bytes of response headers, as
// "X-Pad-N" headers of 4 KiB values, and an ordinary page (issue 10 item
// 10: 9.5 MB of headers). Net/http clients refuse more than their
// MaxResponseHeaderBytes (10 MiB by default when zero).
func HeaderFlood(size int) http.Handler {
	const line = 4 << 10
	value := strings.Repeat("p", line)
	n := max(size/(line+16), 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		for i := range n {
			h["X-Pad-"+strconv.Itoa(i)] = []string{value}
		}
		w.Write([]byte(page))
	})
}

// LongHeader answers with one header named name whose value is size bytes
// of "a", and an ordinary page: a single line no reader can split.
func LongHeader(name string, size int) http.Handler {
	value := strings.Repeat("a", size)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header()[http.CanonicalHeaderKey(name)] = []string{value}
		w.Write([]byte(page))
	})
}

// ServePage answers with body as text/html; charset=utf-8: a generated
// page on a loopback server.
func ServePage(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
}
