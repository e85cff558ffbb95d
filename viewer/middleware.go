package viewer

import (
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// Request limits. Real URLs of the viewer are short; longer ones are probes
// and get 414 before any work is done.
const (
	maxPathBytes  = 1024
	maxQueryBytes = 2048
)

// pageCSP is the policy of the viewer's own pages: no scripts at all, styles
// and images only from the viewer, frames only of the viewer's sandboxed
// snapshots, and no framing of the viewer by anyone.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// snapshotCSP is the policy of archived pages (raw.html, text.txt). The
// sandbox directive gives the document an opaque origin and disables
// scripts, forms, pop-ups, plugins and navigation of the top window even
// when it is opened directly rather than in the viewer's sandboxed iframe;
// default-src 'none' blocks every subresource fetch, so showing a snapshot
// never contacts the publisher or anyone else. Inline styles and data:
// images are harmless and keep the page legible. Only the viewer may frame it.
const snapshotCSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; " +
	"form-action 'none'; base-uri 'none'; frame-ancestors 'self'"

// setSecurityHeaders sets the headers every response carries. Handlers that
// serve snapshots replace the CSP and frame options.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// Browsers resolve the host names of links ahead of a click unless told
	// not to (an archived page's links, the publisher links of an article).
	h.Set("X-DNS-Prefetch-Control", "off")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
}

// middleware wraps the routes with what every request needs: panic
// recovery, security headers, request limits, the method and Host checks,
// and a debug log line.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v) // net/http's way to abort a response; not a bug
				}
				s.log.Error("viewer: panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", v, "stack", string(debug.Stack()))
				if !sw.wroteHeader {
					s.errorPage(sw, r, http.StatusInternalServerError,
						"The viewer hit an internal error. The details are in its log.")
				}
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"bytes", sw.bytes, "duration", time.Since(start))
		}()

		setSecurityHeaders(sw.Header())
		switch {
		case len(r.URL.EscapedPath()) > maxPathBytes || len(r.URL.RawQuery) > maxQueryBytes:
			s.errorPage(sw, r, http.StatusRequestURITooLong, "The address is too long.")
			return
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			sw.Header().Set("Allow", "GET, HEAD")
			s.errorPage(sw, r, http.StatusMethodNotAllowed, "The viewer is read-only: only GET and HEAD are allowed.")
			return
		case s.allowed != nil && !s.allowed[normalizeHost(r.Host)]:
			s.errorPage(sw, r, http.StatusMisdirectedRequest,
				"This viewer does not answer to that host name (see the --allowed-hosts flag).")
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// normalizeHost lower-cases a Host header value and drops the port and any
// trailing dot, so that "LOCALHOST.:8080" and "localhost" compare equal.
func normalizeHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

// statusWriter records the status and size of a response, for the log and
// so that panic recovery knows whether it can still send an error page.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
