package viewer

import "net/http"

// routes maps the viewer's URLs. Every path is read-only; the middleware
// answers other methods with 405 before they get here.
//
//	/                                        digests, newest first (?page=N; filters: see digestFilter)
//	/tags                                    every tag, most used first
//	/tags/{name}                             the digests with a tag (filters as on /)
//	/digests/{slug}                          one digest's articles
//	/articles/{slug}                         readable article, metadata, history
//	                                         (a digest's front-matter slug redirects to its lead article)
//	/articles/{slug}/raw                     archived page inside a sandboxed iframe: the
//	                                         self-contained page.html when the capture has one, else raw.html
//	/articles/{slug}/page.html               self-contained page, CSP-sandboxed (?download=1)
//	/articles/{slug}/raw.html                raw snapshot, CSP-sandboxed (?download=1)
//	/articles/{slug}/text.txt                extracted text
//	/articles/{slug}/thumb.jpg               thumbnail of the lead image, from the capture's WARC
//	/articles/{slug}/history/{capture}/...   the same (but the thumbnail) for an earlier capture
//	                                         (an article merged into another, linkarc dedupe: every
//	                                         address of it redirects to that one; see alias.go)
//	/search?q=                               search results
//	/api/...                                 JSON API (see api.go)
//	/healthz                                 store and index health
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /tags", s.tagsIndex)
	mux.HandleFunc("GET /tags/{name}", s.tagPage)
	mux.HandleFunc("GET /digests/{slug}", s.digestPage)
	mux.HandleFunc("GET /articles/{slug}", s.articlePage)
	mux.HandleFunc("GET /articles/{slug}/raw", s.rawPage)
	mux.HandleFunc("GET /articles/{slug}/page.html", s.pageSnapshot)
	mux.HandleFunc("GET /articles/{slug}/raw.html", s.rawSnapshot)
	mux.HandleFunc("GET /articles/{slug}/thumb.jpg", s.thumbnail)
	mux.HandleFunc("GET /articles/{slug}/text.txt", s.textSnapshot)
	mux.HandleFunc("GET /articles/{slug}/history/{capture}/raw", s.unlessMerged(s.rawPage))
	mux.HandleFunc("GET /articles/{slug}/history/{capture}/page.html", s.unlessMerged(s.pageSnapshot))
	mux.HandleFunc("GET /articles/{slug}/history/{capture}/raw.html", s.unlessMerged(s.rawSnapshot))
	mux.HandleFunc("GET /articles/{slug}/history/{capture}/text.txt", s.unlessMerged(s.textSnapshot))
	mux.HandleFunc("GET /search", s.searchPage)
	mux.HandleFunc("GET /static/{file}", s.static.serve)
	mux.HandleFunc("GET /favicon.ico", s.static.favicon)

	mux.HandleFunc("GET /api/digests", s.apiDigests)
	mux.HandleFunc("GET /api/tags", s.apiTags)
	mux.HandleFunc("GET /api/digests/{slug}", s.apiDigest)
	mux.HandleFunc("GET /api/articles/{slug}", s.apiArticle)
	mux.HandleFunc("GET /api/search", s.apiSearch)
	mux.HandleFunc("GET /healthz", s.healthz)

	mux.HandleFunc("/", s.notFound)
	return mux
}
