package viewer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/linkarc/linkarc/internal/thumbnail"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// thumbnail serves thumb.jpg, the thumbnail of an article's lead image the
// capture made from its WARC (record.ThumbFile): never the publisher's
// bytes, and never fetched from the publisher. It is served only when it
// is what internal/thumbnail makes (a small baseline JPEG), as image/jpeg
// under the viewer's own CSP and nosniff.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !record.ValidSlug(slug) {
		s.badSlug(w, r, "thumbnail")
		return
	}
	ctx, cancel := s.storeContext(r)
	defer cancel()
	b, err := s.readThumb(ctx, slug)
	if errors.Is(err, thumbnail.ErrNotImage) {
		s.log.Warn("viewer: a stored thumbnail is not one", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusNotFound, "No thumbnail by that name is in the archive.")
		return
	}
	if err != nil {
		s.fail(w, r, "thumbnail", err)
		return
	}
	sum := sha256.Sum256(b)
	etag := strconv.Quote(hex.EncodeToString(sum[:16]))
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(b)
}

// readThumb reads an article's thumb.jpg and checks it: a thumbnail that
// is not one is thumbnail.ErrNotImage.
func (s *Server) readThumb(ctx context.Context, slug string) ([]byte, error) {
	rc, err := s.store.Get(ctx, record.ArticleKey(slug, record.ThumbFile))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, thumbnail.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if err := thumbnail.Check(b); err != nil {
		return nil, err
	}
	return b, nil
}

// thumbURL is the address of an article's thumbnail.
func thumbURL(slug string) string {
	return "/articles/" + url.PathEscape(slug) + "/" + record.ThumbFile
}

// hasThumb reports whether a capture lists a thumbnail.
func hasThumb(m *record.ArticleMeta) bool {
	return m != nil && slices.Contains(m.Files, record.ThumbFile)
}

// maxThumbLookups bounds the meta.json reads one list page makes to find
// its thumbnails; articles past it are listed without one.
const maxThumbLookups = 200

// thumbsOf returns the thumbnail address of each slug whose current
// capture has one, reading their meta.json a few at a time. A read that
// fails means no thumbnail: a list is still worth showing without them.
func (s *Server) thumbsOf(ctx context.Context, slugs []string) map[string]string {
	out := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for i, slug := range slugs {
		if i >= maxThumbLookups {
			break
		}
		if !record.ValidSlug(slug) {
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			m, err := record.ReadMeta(ctx, s.store, slug)
			if err != nil {
				if !storage.IsNotExist(err) && ctx.Err() == nil {
					s.log.Debug("viewer: no thumbnail: meta.json unread", "slug", slug, "err", err)
				}
				return
			}
			if hasThumb(m) {
				mu.Lock()
				out[slug] = thumbURL(slug)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}
