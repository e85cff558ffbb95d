package archivetest

import (
	"fmt"
	"html"
	"net/http"
	"testing"
)

// Hop is what a shortener answers at one path: a redirect to To with
// Status (301, 302, 303, 307, 308), or, with Status 200, an HTML page that
// refreshes to To (<meta http-equiv="refresh">), followed by Body.
type Hop struct {
	Status int
	To     string
	Body   string
}

// StartShortener starts a URL shortener on 127.0.0.<n> serving hops by
// path (404 elsewhere); it is a Publisher, so its Arrivals say when each
// request came.
func StartShortener(tb testing.TB, n int, hops map[string]Hop) *Publisher {
	tb.Helper()
	s := StartPublisher(tb, n)
	s.SetHandler(func(w http.ResponseWriter, r *http.Request) {
		h, ok := hops[r.URL.Path]
		switch {
		case !ok:
			http.NotFound(w, r)
		case h.Status == http.StatusOK:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<html><head><meta http-equiv="refresh" content="0; url=%s"></head><body>%s</body></html>`, html.EscapeString(h.To), h.Body)
		default:
			http.Redirect(w, r, h.To, h.Status)
		}
	})
	return s
}
