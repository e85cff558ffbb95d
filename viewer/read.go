package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// errUnreadable marks a record (meta.json, digest) that exists but does not
// decode.
var errUnreadable = errors.New("record does not decode")

// maxRecordBytes bounds a meta.json or digest record read from the store.
// Real ones are a few kilobytes; the bound keeps a damaged or hostile object
// from exhausting memory.
const maxRecordBytes = 8 << 20

// readJSON decodes the object at key into v, streaming from the store.
// A missing object gives an error for which storage.IsNotExist is true;
// one that does not decode gives errUnreadable.
func readJSON(ctx context.Context, st storage.Store, key string, v any) error {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(io.LimitReader(rc, maxRecordBytes))
	if err := dec.Decode(v); err != nil {
		if isStoreReadError(err) {
			return fmt.Errorf("read %s: %w", key, err)
		}
		return fmt.Errorf("%w: %s: %v", errUnreadable, key, err)
	}
	return nil
}

// isStoreReadError tells a failing stream (the store went away mid-read)
// from a malformed document: only JSON syntax and type errors are the
// document's fault.
func isStoreReadError(err error) bool {
	switch err.(type) {
	case *json.SyntaxError, *json.UnmarshalTypeError:
		return false
	}
	return err != io.ErrUnexpectedEOF && err != io.EOF
}

// readMeta reads articles/<slug>/meta.json.
func readMeta(ctx context.Context, st storage.Store, slug string) (*record.ArticleMeta, error) {
	var m record.ArticleMeta
	if err := readJSON(ctx, st, record.ArticleKey(slug, record.MetaFile), &m); err != nil {
		return nil, err
	}
	if m.Slug == "" {
		m.Slug = slug
	}
	return &m, nil
}

// readDigest reads digests/<slug>.json.
func readDigest(ctx context.Context, st storage.Store, slug string) (*record.DigestRecord, error) {
	var d record.DigestRecord
	if err := readJSON(ctx, st, record.DigestKey(slug), &d); err != nil {
		return nil, err
	}
	if d.Slug == "" {
		d.Slug = slug
	}
	return &d, nil
}

// displayTitle is the best title for an article: the page's own, else the
// digest's, else the slug.
func displayTitle(m *record.ArticleMeta) string {
	for _, t := range []string{m.ArticleTitle, m.Title, m.Slug} {
		if t = strings.TrimSpace(t); t != "" {
			return t
		}
	}
	return "(untitled)"
}

// requestedDigest reads the digest the request's {slug} names. When it
// cannot, it has answered the request (404 for a bad or unknown slug, 503
// for a store outage) and returns false.
func (s *Server) requestedDigest(ctx context.Context, w http.ResponseWriter, r *http.Request) (*record.DigestRecord, bool) {
	slug := r.PathValue("slug")
	if !record.ValidSlug(slug) {
		s.badSlug(w, r, "digest")
		return nil, false
	}
	d, err := readDigest(ctx, s.store, slug)
	if err != nil {
		s.fail(w, r, "digest", err)
		return nil, false
	}
	d.Slug = slug
	return d, true
}

// requestedArticle reads the meta.json of the article the request's {slug}
// names, answering the request itself when it cannot (see requestedDigest).
func (s *Server) requestedArticle(ctx context.Context, w http.ResponseWriter, r *http.Request) (*record.ArticleMeta, bool) {
	slug := r.PathValue("slug")
	if !record.ValidSlug(slug) {
		s.badSlug(w, r, "article")
		return nil, false
	}
	m, err := readMeta(ctx, s.store, slug)
	if err != nil {
		s.fail(w, r, "article", err)
		return nil, false
	}
	m.Slug = slug
	return m, true
}
