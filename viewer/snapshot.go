package viewer

import (
	"context"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// rawSnapshot serves raw.html: rewritten so that it contacts nobody
// (inert.go) and sandboxed by snapshotCSP, or, with ?download=1, the bytes
// exactly as archived, as an attachment.
func (s *Server) rawSnapshot(w http.ResponseWriter, r *http.Request) {
	s.snapshot(w, r, record.RawFile)
}

// pageSnapshot serves page.html, the capture's self-contained page
// (archive/singlepage): through the same rewrite and sandbox as raw.html,
// its stylesheets inline and its images and fonts data: URIs, which the
// snapshot CSP allows; or, with ?download=1, as stored.
func (s *Server) pageSnapshot(w http.ResponseWriter, r *http.Request) {
	s.snapshot(w, r, record.PageFile)
}

// textSnapshot serves text.txt as UTF-8 plain text.
func (s *Server) textSnapshot(w http.ResponseWriter, r *http.Request) {
	s.snapshot(w, r, record.TextFile)
}

// snapshot sends one object of a capture from the store to the client.
// Objects sent as stored are streamed, never held in memory whatever their
// size; a raw snapshot shown inline is parsed and rewritten first, up to
// maxInertBytes, by at most Server.rewrites requests at once.
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request, name string) {
	slug, capture := r.PathValue("slug"), r.PathValue("capture")
	if !record.ValidSlug(slug) || (capture != "" && !record.ValidCaptureID(capture)) {
		s.badSlug(w, r, "snapshot")
		return
	}
	download := r.URL.Query().Get("download") != ""
	// Every HTML object of a capture shown inline goes through the rewrite:
	// raw.html today, and whatever page a capture gains later (issue 11's
	// self-contained page) by its route alone.
	inert := path.Ext(name) == ".html" && !download
	contentType, etag, label := "text/plain; charset=utf-8", "", ""
	if path.Ext(name) == ".html" {
		contentType = "text/html"
	}
	if name == record.RawFile {
		// The charset comes from the capture's meta.json: the publisher may
		// have declared it only in its Content-Type header, which raw.html
		// does not keep.
		ctx, cancel := s.storeContext(r)
		m, err := record.ReadMeta(ctx, s.store, slug)
		if err == nil && capture != "" {
			m, err = record.ReadMetaKey(ctx, s.store, snapshotKey(slug, capture, record.MetaFile))
		}
		cancel()
		switch {
		case err == nil:
			label = charsetName(m.Charset)
			contentType = "text/html" + charsetParam(label)
			if m.SHA256 != "" && isSHA256Hex(m.SHA256) {
				etag = m.SHA256
			}
		case storage.IsNotExist(err) && capture != "":
			// An earlier capture without its own meta.json: serve the bytes
			// and let the document's own <meta charset> decide.
			contentType = "text/html"
		default:
			s.fail(w, r, "snapshot", err)
			return
		}
	}
	if name == record.PageFile {
		// page.html is UTF-8 and says so (archive/singlepage writes it so),
		// in its header too, downloaded or shown; its sum in meta.json
		// makes the ETag, when the capture's meta.json has one.
		contentType, label = "text/html; charset=utf-8", "utf-8"
		ctx, cancel := s.storeContext(r)
		m, err := record.ReadMetaKey(ctx, s.store, snapshotKey(slug, capture, record.MetaFile))
		cancel()
		if err == nil && isSHA256Hex(m.Sums[record.PageFile]) {
			etag = m.Sums[record.PageFile]
		}
	}
	if inert {
		// The rewrite is UTF-8, and another representation than the
		// archived bytes: its ETag names the rules that made it.
		contentType = "text/html; charset=utf-8"
		if etag != "" {
			etag += "-" + inertVersion
		}
	}
	if etag != "" {
		etag = strconv.Quote(etag)
	}
	if etag != "" && r.Header.Get("If-None-Match") == etag {
		s.snapshotHeaders(w, r, slug, name, contentType, etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	key := snapshotKey(slug, capture, name)
	if inert && r.Method == http.MethodHead {
		ctx, cancel := s.storeContext(r)
		_, err := s.store.Stat(ctx, key)
		cancel()
		if err != nil {
			s.fail(w, r, "snapshot", err)
			return
		}
		s.snapshotHeaders(w, r, slug, name, contentType, etag)
		return
	}
	if inert {
		s.inertSnapshot(w, r, key, slug, name, label, etag)
		return
	}

	// The store timeout covers opening the object, not streaming it: a big
	// snapshot to a slow client may take longer, bounded by the server's
	// write timeout.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	timer := time.AfterFunc(s.opts.StoreTimeout, cancel)
	rc, err := s.store.Get(ctx, key)
	timer.Stop()
	if err != nil {
		s.fail(w, r, "snapshot", err)
		return
	}
	defer rc.Close()
	s.snapshotHeaders(w, r, slug, name, contentType, etag)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rc); err != nil && r.Context().Err() == nil {
		s.log.Warn("viewer: snapshot stream broken", "path", r.URL.Path, "err", err)
		// Abort the connection so the client sees a truncated transfer
		// rather than a complete-looking partial page.
		panic(http.ErrAbortHandler)
	}
}

// inertSnapshot answers with the raw snapshot at key rewritten (inert.go).
// Rewrites take memory in proportion to the page (a parse tree of up to
// ~22 bytes per byte of HTML on the worst pages measured), so at most
// rewriteBudget bytes of archived HTML are being rewritten at once; a page
// over maxInertBytes is not rewritten at all.
func (s *Server) inertSnapshot(w http.ResponseWriter, r *http.Request, key, slug, name, label, etag string) {
	ctx, cancel := s.storeContext(r)
	info, err := s.store.Stat(ctx, key)
	cancel()
	if err != nil {
		s.fail(w, r, "snapshot", err)
		return
	}
	limit := inertLimit(name)
	if info.Size > limit {
		s.inertNotice(w, r, slug, name, fmt.Sprintf("is larger than %d MiB, too large to show here", limit>>20))
		return
	}
	weight := min(max(info.Size, 1), rewriteBudget)
	if err := s.rewrites.Acquire(r.Context(), weight); err != nil {
		return // the client went away while waiting
	}
	defer s.rewrites.Release(weight)

	ctx, cancel = context.WithCancel(r.Context())
	defer cancel()
	timer := time.AfterFunc(s.opts.StoreTimeout, cancel)
	rc, err := s.store.Get(ctx, key)
	timer.Stop()
	if err != nil {
		s.fail(w, r, "snapshot", err)
		return
	}
	defer rc.Close()
	src := &readErr{r: rc}
	doc, err := inertDocumentMax(src, label, limit)
	switch {
	case src.err != nil:
		s.fail(w, r, "snapshot", src.err)
		return
	case err != nil:
		// The parser refuses some documents (elements nested more than
		// 512 deep): shown, they could not be checked.
		s.log.Info("viewer: snapshot not rewritable", "path", r.URL.Path, "err", err)
		s.inertNotice(w, r, slug, name, "cannot be checked by the viewer's HTML parser ("+strings.TrimPrefix(err.Error(), "parse snapshot: html: ")+"), so it is not shown here")
		return
	case moreToRead(rc):
		// It grew since the Stat.
		s.inertNotice(w, r, slug, name, fmt.Sprintf("is larger than %d MiB, too large to show here", limit>>20))
		return
	}
	if isSiteRequest(r) {
		prepareSnapshot(doc) // a file of a static site (site.go)
	}
	s.snapshotHeaders(w, r, slug, name, "text/html; charset=utf-8", etag)
	if err := renderInert(w, doc); err != nil && r.Context().Err() == nil {
		s.log.Warn("viewer: snapshot stream broken", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// readErr remembers the error of the reader it wraps, so that a store
// failure is told apart from a document the parser refuses.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// inertNotice stands in for a raw snapshot that is not shown: a short page
// in its place, in the frame. The bytes stay available for download, as
// archived.
func (s *Server) inertNotice(w http.ResponseWriter, r *http.Request, slug, name, why string) {
	s.snapshotHeaders(w, r, slug, name, "text/html; charset=utf-8", "")
	fmt.Fprintf(w, "<!doctype html><meta charset=\"utf-8\"><title>Not shown</title>\n<p>This archived page %s. Download it from the page above.</p>\n",
		html.EscapeString(why))
}

// snapshotHeaders sets the headers of a snapshot response: a fixed set. No
// header of the archived response (Link, Refresh, Set-Cookie…) is ever
// passed on.
func (s *Server) snapshotHeaders(w http.ResponseWriter, r *http.Request, slug, name, contentType, etag string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", snapshotCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "no-cache")
	if etag != "" {
		h.Set("ETag", etag)
	}
	disposition := "inline"
	if r.URL.Query().Get("download") != "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": slug + path.Ext(name)}))
}

// charsetName returns the canonical WHATWG name of an archived page's
// charset label, or "" when it is missing or unknown. The label comes from
// a hostile server, so it is never echoed as given.
func charsetName(label string) string {
	if label == "" {
		return ""
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return ""
	}
	name, err := htmlindex.Name(enc)
	if err != nil {
		return ""
	}
	return name
}

// charsetParam returns "; charset=NAME" for a name from charsetName, or ""
// (the browser then reads the document's own <meta charset>).
func charsetParam(name string) string {
	if name == "" {
		return ""
	}
	return "; charset=" + name
}

// isSHA256Hex reports whether s is a lower-case hex SHA-256, safe to quote
// as an ETag.
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
