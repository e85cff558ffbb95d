package viewer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage"
)

// TestHostileQueries sends oversized and overflowing query strings to every
// kind of route, pages and API alike: each is refused with 414 or 400 before
// any work, in the route's own format (HTML or JSON), with the security
// headers, and nothing hostile is echoed unescaped.
func TestHostileQueries(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := writeFixture(t, st)
	srv := newTestServer(t, st, Options{PageSize: 2, AllowedHosts: []string{"127.0.0.1"}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	html := "text/html; charset=utf-8"
	jsonCT := "application/json; charset=utf-8"
	huge := "q=" + strings.Repeat("%3Cscript%3E", 200) // 2,400 bytes, over the 2 KiB limit
	manyParams := strings.Repeat("page=1&", 300)       // 2,100 bytes of repeated parameters
	overflow := "99999999999999999999999999"
	terms := strings.TrimSpace(strings.Repeat("w ", 33)) // one word over the 32-term limit
	var cases []handlerCase
	for _, route := range []struct{ path, ctype string }{
		{"/", html},
		{"/search", html},
		{"/digests/" + f.gen.Digests[0], html},
		{"/articles/" + f.gen.Articles[0], html},
		{"/articles/" + f.gen.Articles[0] + "/raw.html", ""},
		{"/api/digests", jsonCT},
		{"/api/search", jsonCT},
		{"/api/articles/" + f.gen.Articles[0], jsonCT},
		{"/healthz", ""},
	} {
		cases = append(cases,
			handlerCase{name: route.path + " oversized query", path: route.path + "?" + huge, status: http.StatusRequestURITooLong,
				ctype: route.ctype, excludes: []string{"<script>"}},
			handlerCase{name: route.path + " many parameters", path: route.path + "?" + manyParams, status: http.StatusRequestURITooLong,
				ctype: route.ctype},
		)
	}
	cases = append(cases,
		handlerCase{name: "home page number overflow", path: "/?page=" + overflow, status: http.StatusBadRequest, ctype: html},
		handlerCase{name: "search page number overflow", path: "/search?q=w&page=" + overflow, status: http.StatusBadRequest, ctype: html},
		handlerCase{name: "api per_page overflow", path: "/api/digests?per_page=" + overflow, status: http.StatusBadRequest, ctype: jsonCT},
		handlerCase{name: "api page overflow", path: "/api/digests?page=" + overflow, status: http.StatusBadRequest, ctype: jsonCT},
		handlerCase{name: "search too many terms", path: "/search?q=" + strings.ReplaceAll(terms, " ", "+"), status: http.StatusBadRequest, ctype: html},
		handlerCase{name: "api search too many terms", path: "/api/search?q=" + strings.ReplaceAll(terms, " ", "+"), status: http.StatusBadRequest, ctype: jsonCT},
		handlerCase{name: "api search oversized", path: "/api/search?q=" + strings.Repeat("a", 300), status: http.StatusBadRequest, ctype: jsonCT},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runHandlerCase(t, client, ts.URL, c) })
	}
}
