package viewer

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// An article that `linkarc dedupe` merged into another (two slugs, one
// URL) leaves an alias (record.Alias): its meta.json is gone and its
// captures are in the keeper's history. Its old addresses keep working:
// /articles/OLD, /articles/OLD/raw, …/text.txt, /api/articles/OLD and an
// earlier capture's /articles/OLD/history/ID/… are answered with a 301 to
// the same page of the article the aliases end at (an earlier capture at
// the id it has there). A static site (Site) gets a small page for each
// old address that sends the browser on.

// redirectMerged answers a request for an article merged away with a
// redirect to where it is now, and reports whether it did. It is asked
// only when the article's meta.json or object is not there (and for
// earlier captures, which the old slug keeps in its folder), so the
// viewer spends nothing on it for articles that exist.
func (s *Server) redirectMerged(w http.ResponseWriter, r *http.Request) bool {
	to, ok := s.mergedLocation(r)
	if !ok {
		return false
	}
	// An undone merge (the slug an article again) must not stay cached.
	w.Header().Set("Cache-Control", "no-cache")
	http.Redirect(w, r, to, http.StatusMovedPermanently)
	return true
}

// mergedLocation is where the request's page of an article merged away
// is now, with the request's query.
func (s *Server) mergedLocation(r *http.Request) (string, bool) {
	slug := r.PathValue("slug")
	prefix := "/articles/"
	if strings.HasPrefix(r.URL.Path, "/api/articles/") {
		prefix = "/api/articles/"
	}
	rest, ok := strings.CutPrefix(r.URL.Path, prefix+slug)
	if !ok || !record.ValidSlug(slug) {
		return "", false
	}
	ctx, cancel := s.storeContext(r)
	defer cancel()
	end, chain, err := s.mergedInto(ctx, slug)
	if err != nil || end == "" {
		return "", false
	}
	to := prefix + url.PathEscape(end)
	if capture := r.PathValue("capture"); capture != "" {
		tail, _ := strings.CutPrefix(rest, "/history/"+capture)
		id, found := capture, true
		for _, a := range chain {
			if id, found = a.In(id); !found {
				break
			}
		}
		switch {
		case !found:
			rest = "" // a capture the merge did not list: the article
		case s.isCurrent(ctx, end, id):
			rest = tail
		default:
			rest = "/history/" + url.PathEscape(id) + tail
		}
	}
	to += rest
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	return to, true
}

// mergedInto is the article slug was merged into, with the aliases
// passed; "" when slug is an article (it has a meta.json) or has no
// alias.
func (s *Server) mergedInto(ctx context.Context, slug string) (string, []*record.Alias, error) {
	end, chain, err := record.ResolveAlias(ctx, s.store, slug)
	switch {
	case storage.IsNotExist(err):
		return "", nil, nil
	case err != nil:
		if !errors.Is(err, context.Canceled) {
			s.log.Warn("viewer: alias not followed", "slug", slug, "err", err)
		}
		return "", nil, err
	}
	// A merge cut short leaves the meta.json beside the alias: the slug
	// is still an article.
	if _, err := s.store.Stat(ctx, record.ArticleKey(slug, record.MetaFile)); !storage.IsNotExist(err) {
		return "", nil, err
	}
	return end, chain, nil
}

// isCurrent reports whether capture id is the current capture of slug
// (a capture promoted by the merge), not one in its history.
func (s *Server) isCurrent(ctx context.Context, slug, id string) bool {
	m, err := record.ReadMeta(ctx, s.store, slug)
	if err != nil {
		return false
	}
	inHistory := slices.ContainsFunc(m.History, func(c record.CaptureRef) bool { return c.CaptureID == id })
	return !inHistory && record.CaptureID(m.FetchedAt) == id
}

// unlessMerged serves h, unless the request is for an earlier capture of
// an article merged away: the old slug keeps those in its folder, so h
// would find them, but they are the keeper's now, and the request is
// redirected there.
func (s *Server) unlessMerged(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.redirectMerged(w, r) {
			return
		}
		h(w, r)
	}
}

// writeAliases writes, for every alias of the site's store whose article
// the site has, a page at the old article's address that sends the
// browser to the article it was merged into.
func (s *Site) writeAliases(ctx context.Context, emit func(string, []byte, bool) error) error {
	var slugs []string
	if err := record.ListAliases(ctx, s.srv.store, func(slug string) error { slugs = append(slugs, slug); return nil }); err != nil {
		return err
	}
	for _, slug := range slugs {
		end, _, err := s.srv.mergedInto(ctx, slug)
		if err != nil && !errors.Is(err, record.ErrUnreadable) && !errors.Is(err, record.ErrAliasLoop) {
			return err
		}
		if end == "" {
			continue
		}
		if ok, err := s.exists(ctx, "/articles/"+url.PathEscape(end)); err != nil || !ok {
			if err != nil {
				return err
			}
			continue // an article the site leaves out
		}
		from, _ := SiteFile("/articles/" + url.PathEscape(slug))
		to, _ := SiteFile("/articles/" + url.PathEscape(end))
		href := relativeURL(from, to)
		var b strings.Builder
		fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n"+
			"<meta http-equiv=\"refresh\" content=\"0; url=%s\">\n<title>Moved</title></head>\n"+
			"<body><p>This article was merged into <a href=\"%s\">%s</a>.</p></body></html>\n",
			template.HTMLEscapeString(siteCSP), template.HTMLEscapeString(href), template.HTMLEscapeString(href), template.HTMLEscapeString(end))
		if err := emit(from, []byte(b.String()), true); err != nil {
			return err
		}
	}
	return nil
}
