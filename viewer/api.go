package viewer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// The JSON API, for scripts. Every response is a JSON object; errors are
// {"error": "..."} with the matching HTTP status (400, 404, 414, 503).
//
//	GET /api/digests?page=N&per_page=M   digest summaries, newest first; filtered and
//	                                     sorted by tag=, publisher=, status=, from=, to=, sort=
//	                                     (see digestFilter)
//	GET /api/digests/{slug}              a digest record (digests/<slug>.json; source_file
//	                                     as a base name only)
//	GET /api/tags                        every tag with its number of digests
//	GET /api/articles/{slug}             an article's meta.json, plus its tags and links
//	GET /api/search?q=&page=&per_page=   ranked hits with plain-text snippets
//	GET /healthz                         store, digest list and index state

// maxPerPage bounds ?per_page= on the API.
const maxPerPage = 200

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		s.log.Error("viewer: encode JSON", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error": "internal error"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// perPageParam reads ?per_page=M (default Options.PageSize).
func (s *Server) perPageParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("per_page")
	if v == "" {
		return s.opts.PageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPerPage {
		return 0, fmt.Errorf("%w: per_page must be a number from 1 to %d", errBadQuery, maxPerPage)
	}
	return n, nil
}

type apiDigestList struct {
	Digests []digestSummary `json:"digests"`
	Page    int             `json:"page"`
	PerPage int             `json:"per_page"`
	Total   int             `json:"total"`          // digests the filter selects
	Next    string          `json:"next,omitempty"` // URL of the next page
}

type apiTagList struct {
	Tags []tagCount `json:"tags"`
}

func (s *Server) apiTags(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	ix, err := s.catalog.index(ctx)
	if err != nil {
		s.fail(w, r, "digest list", err)
		return
	}
	out := apiTagList{Tags: ix.tags}
	if out.Tags == nil {
		out.Tags = []tagCount{}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) apiDigests(w http.ResponseWriter, r *http.Request) {
	n, err := pageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	size, err := s.perPageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	f, err := parseDigestFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	ctx, cancel := s.storeContext(r)
	defer cancel()
	all, _, err := s.catalog.list(ctx)
	if err != nil {
		s.fail(w, r, "digest list", err)
		return
	}
	digests := f.apply(all)
	start := min((n-1)*size, len(digests))
	out := apiDigestList{Digests: digests[start:min(start+size, len(digests))], Page: n, PerPage: size, Total: len(digests)}
	if out.Digests == nil {
		out.Digests = []digestSummary{}
	}
	if start+size < len(digests) {
		q := f.query("")
		q.Set("page", strconv.Itoa(n+1))
		q.Set("per_page", strconv.Itoa(size))
		out.Next = "/api/digests?" + q.Encode()
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

type apiDigest struct {
	*record.DigestRecord
	Links map[string]string `json:"links"`
}

func (s *Server) apiDigest(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	d, ok := s.requestedDigest(ctx, w, r)
	if !ok {
		return
	}
	slug := d.Slug
	// The path the digest was archived from is the archiving machine's
	// business: its base name is enough to recognise it.
	d.SourceFile = baseName(d.SourceFile)
	s.writeJSON(w, r, http.StatusOK, apiDigest{DigestRecord: d, Links: map[string]string{
		"html": "/digests/" + url.PathEscape(slug),
	}})
}

type apiArticle struct {
	*record.ArticleMeta
	Tags  []string          `json:"tags"` // of the digests listing it, and its own there
	Links map[string]string `json:"links"`
}

func (s *Server) apiArticle(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	m, ok := s.requestedArticleOrLead(ctx, w, r, "/api/articles/")
	if !ok {
		return
	}
	slug := m.Slug
	base := "/articles/" + url.PathEscape(slug)
	tags := []string{}
	if ix, err := s.catalog.index(ctx); err == nil && ix.articleTags[slug] != nil {
		tags = ix.articleTags[slug]
	}
	links := map[string]string{
		"html":     base,
		"raw":      base + "/raw.html",
		"raw_page": base + "/raw",
		"text":     base + "/text.txt",
	}
	if slices.Contains(m.Files, record.PageFile) {
		links["page"] = base + "/" + record.PageFile
	}
	if hasThumb(m) {
		links["thumb"] = thumbURL(slug)
	}
	s.writeJSON(w, r, http.StatusOK, apiArticle{ArticleMeta: m, Tags: tags, Links: links})
}

type apiSearchHit struct {
	searchHit
	URL string `json:"url"`
}

type apiSearch struct {
	Query   string         `json:"query"`
	Total   uint64         `json:"total"`
	Page    int            `json:"page"`
	PerPage int            `json:"per_page"`
	TookMS  float64        `json:"took_ms"`
	Hits    []apiSearchHit `json:"hits"`
	Index   IndexStats     `json:"index"`
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	n, err := pageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	size, err := s.perPageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	sq, err := parseQuery(q)
	if err == nil && sq.empty() {
		err = fmt.Errorf("%w: q is empty", errBadQuery)
	}
	if err != nil {
		s.fail(w, r, "search", err)
		return
	}
	res, err := s.search(r.Context(), sq, (n-1)*size, size)
	if err != nil {
		s.searchFailed(w, r, err)
		return
	}
	out := apiSearch{Query: q, Total: res.Total, Page: n, PerPage: size,
		TookMS: float64(res.Took.Microseconds()) / 1000, Hits: make([]apiSearchHit, 0, len(res.Hits)), Index: s.index.Stats()}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, apiSearchHit{searchHit: h, URL: "/articles/" + url.PathEscape(h.Slug)})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// baseName returns the last element of a path written on any system ("/"
// or "\\" separated).
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

type health struct {
	Status  string       `json:"status"` // "ok" or "unavailable"
	Store   string       `json:"store"`  // "ok" or why not
	Catalog CatalogStats `json:"digests"`
	Index   IndexStats   `json:"index"`
}

// errStopListing ends a List early; it is not a failure.
var errStopListing = errors.New("stop listing")

// healthz checks that the store answers a listing now, and reports the
// background refresh state. 200 when the store answers, 503 when not.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), min(s.opts.StoreTimeout, 5*time.Second))
	defer cancel()
	h := health{Status: "ok", Store: "ok", Catalog: s.catalog.Stats(), Index: s.index.Stats()}
	status := http.StatusOK
	err := s.store.List(ctx, record.DigestsPrefix, func(storage.Info) error { return errStopListing })
	if err != nil && !errors.Is(err, errStopListing) {
		s.log.Warn("viewer: health check: store unavailable", "err", err)
		h.Status, h.Store, status = "unavailable", "the store did not answer a listing", http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "30")
	}
	s.writeJSON(w, r, status, h)
}
