package viewer

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// rawSnapshot serves raw.html exactly as archived, inert: see snapshotCSP.
func (s *Server) rawSnapshot(w http.ResponseWriter, r *http.Request) {
	s.snapshot(w, r, record.RawFile)
}

// textSnapshot serves text.txt as UTF-8 plain text.
func (s *Server) textSnapshot(w http.ResponseWriter, r *http.Request) {
	s.snapshot(w, r, record.TextFile)
}

// snapshot streams one object of a capture from the store to the client.
// It never holds the object in memory, whatever its size.
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request, name string) {
	slug, capture := r.PathValue("slug"), r.PathValue("capture")
	if !record.ValidSlug(slug) || (capture != "" && !record.ValidCaptureID(capture)) {
		s.badSlug(w, r, "snapshot")
		return
	}
	contentType, etag := "text/plain; charset=utf-8", ""
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
			contentType = "text/html" + charsetParam(m.Charset)
			if m.SHA256 != "" && isSHA256Hex(m.SHA256) {
				etag = strconv.Quote(m.SHA256)
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
	if etag != "" && r.Header.Get("If-None-Match") == etag {
		s.snapshotHeaders(w, r, slug, name, contentType, etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}

	// The store timeout covers opening the object, not streaming it: a big
	// snapshot to a slow client may take longer, bounded by the server's
	// write timeout.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	timer := time.AfterFunc(s.opts.StoreTimeout, cancel)
	rc, err := s.store.Get(ctx, snapshotKey(slug, capture, name))
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

func (s *Server) snapshotHeaders(w http.ResponseWriter, r *http.Request, slug, name, contentType, etag string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", snapshotCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "no-cache")
	if etag != "" {
		h.Set("ETag", etag)
	}
	disposition, ext := "inline", ".txt"
	if name == record.RawFile {
		ext = ".html"
	}
	if r.URL.Query().Get("download") != "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": slug + ext}))
}

// charsetParam returns "; charset=NAME" with the canonical WHATWG name of
// an archived page's charset, or "" when it is missing or unknown (the
// browser then reads the document's own <meta charset>). The label comes
// from a hostile server, so it is never echoed into the header as given.
func charsetParam(label string) string {
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
