package viewer

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

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
	d, err := record.ReadDigest(ctx, s.store, slug)
	if err != nil {
		s.fail(w, r, "digest", err)
		return nil, false
	}
	d.Slug = slug
	return d, true
}

// requestedArticleOrLead is requestedArticle, except that a slug that names
// no article but a digest (its front matter's slug:, or its own) is
// answered with a redirect to that digest's lead article under prefix
// ("/articles/" or "/api/articles/"): people look for a digest at the
// address its front matter gives it.
func (s *Server) requestedArticleOrLead(ctx context.Context, w http.ResponseWriter, r *http.Request, prefix string) (*record.ArticleMeta, bool) {
	slug := r.PathValue("slug")
	if !record.ValidSlug(slug) {
		s.badSlug(w, r, "article")
		return nil, false
	}
	m, err := record.ReadMeta(ctx, s.store, slug)
	if storage.IsNotExist(err) {
		if s.redirectMerged(w, r) {
			return nil, false
		}
		if lead, ok := s.leadArticle(ctx, slug); ok {
			http.Redirect(w, r, prefix+url.PathEscape(lead), http.StatusFound)
			return nil, false
		}
	}
	if err != nil {
		s.fail(w, r, "article", err)
		return nil, false
	}
	m.Slug = slug
	return m, true
}

// leadArticle returns the lead article (its first listed) of the digest
// whose front-matter slug, or else own slug, is slug: the newest such
// digest.
func (s *Server) leadArticle(ctx context.Context, slug string) (string, bool) {
	ix, err := s.catalog.index(ctx)
	if err != nil {
		return "", false
	}
	digest, ok := ix.byFMSlug[strings.ToLower(slug)]
	if !ok {
		digest = slug
	}
	sum, ok := s.catalog.lookup(digest)
	if !ok || sum.lead == "" || sum.lead == slug {
		return "", false
	}
	return sum.lead, true
}

// requestedArticle reads the meta.json of the article the request's {slug}
// names, answering the request itself when it cannot (see requestedDigest).
func (s *Server) requestedArticle(ctx context.Context, w http.ResponseWriter, r *http.Request) (*record.ArticleMeta, bool) {
	slug := r.PathValue("slug")
	if !record.ValidSlug(slug) {
		s.badSlug(w, r, "article")
		return nil, false
	}
	m, err := record.ReadMeta(ctx, s.store, slug)
	if err != nil {
		s.fail(w, r, "article", err)
		return nil, false
	}
	m.Slug = slug
	return m, true
}
