package viewer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// handlerCase is one request and what its response must be.
type handlerCase struct {
	name     string
	method   string // default GET
	path     string
	host     string            // Host header, when not the server's
	header   map[string]string // request headers
	status   int
	ctype    string            // exact Content-Type
	headers  map[string]string // exact response headers
	contains []string          // in the body
	excludes []string          // not in the body
	text     []string          // in the page's visible text (HTML pages)
	body     *string           // the exact body
	check    func(t *testing.T, body []byte)
	// only lists every header the response may carry, besides Date,
	// Content-Length and Transfer-Encoding, when not nil.
	only []string
}

// TestHandlers runs every page, snapshot and API route against both
// backends, including hostile records, unknown and traversal slugs, and
// oversized queries. Every HTML response is also checked for anything that
// could run or fetch (checkSafeHTML).
func TestHandlers(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.newStore(t)
			f := writeFixture(t, st)
			srv := newTestServer(t, st, Options{PageSize: 2, AllowedHosts: []string{"127.0.0.1", "localhost"}})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			client := ts.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			for _, c := range handlerCases(t, f) {
				t.Run(c.name, func(t *testing.T) { runHandlerCase(t, client, ts.URL, c) })
			}
		})
	}
}

func runHandlerCase(t *testing.T, client *http.Client, base string, c handlerCase) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, base+c.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "" {
		req.Host = c.host
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if resp.StatusCode != c.status {
		t.Fatalf("%s %s: status %d, want %d; body:\n%.600s", method, c.path, resp.StatusCode, c.status, body)
	}
	// Every response, whatever its status, carries the security headers.
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s header", h)
		}
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := resp.Header.Get("X-DNS-Prefetch-Control"); got != "off" {
		t.Errorf("X-DNS-Prefetch-Control = %q, want off", got)
	}
	if c.only != nil {
		for k := range resp.Header {
			if k != "Date" && k != "Content-Length" && k != "Transfer-Encoding" && !slices.Contains(c.only, k) {
				t.Errorf("unexpected header %s: %q", k, resp.Header.Values(k))
			}
		}
	}
	if c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype {
		t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), c.ctype)
	}
	for k, v := range c.headers {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, s := range c.contains {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	for _, s := range c.excludes {
		if strings.Contains(strings.ToLower(body), strings.ToLower(s)) {
			t.Errorf("body contains %q", s)
		}
	}
	if c.body != nil && body != *c.body {
		t.Errorf("body = %.200q, want %.200q", body, *c.body)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html; charset=utf-8") && resp.Header.Get("Content-Security-Policy") == pageCSP {
		if problems := checkSafeHTML(body); len(problems) > 0 {
			t.Errorf("unsafe HTML:\n  %s", strings.Join(problems, "\n  "))
		}
		text := textOf(body)
		for _, s := range c.text {
			if !strings.Contains(text, s) {
				t.Errorf("visible text lacks %q", s)
			}
		}
	}
	if c.check != nil {
		c.check(t, raw)
	}
}

func handlerCases(t *testing.T, f *fixture) []handlerCase {
	gd, ga := f.gen.Digests, f.gen.Articles
	ok := "" // a generated article that was captured
	for _, a := range ga {
		if f.gen.Status[a] == record.StatusOK {
			ok = a
			break
		}
	}
	html := "text/html; charset=utf-8"
	jsonCT := "application/json; charset=utf-8"
	pageHeaders := map[string]string{"Content-Security-Policy": pageCSP, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
	snapHeaders := map[string]string{"Content-Security-Policy": snapshotCSP, "X-Frame-Options": "SAMEORIGIN"}
	str := func(s string) *string { return &s }
	decode := func(t *testing.T, b []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
	order := func(items ...string) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			last := -1
			for _, s := range items {
				i := strings.Index(string(body), s)
				if i < 0 || i < last {
					t.Errorf("%q missing or out of order in %v", s, items)
				}
				last = i
			}
		}
	}
	esc := url.PathEscape
	static, err := newStaticFiles()
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 300)
	huge := strings.Repeat("b", 3000)

	return []handlerCase{
		// Home: newest first, paginated by 2.
		{name: "home", path: "/", status: 200, ctype: html, headers: pageHeaders,
			text:  []string{f.payloads[2] + " digest", "Hand-made test articles", "5 digests"},
			check: order("/digests/"+xssDigest, "/digests/"+namedDigest)},
		{name: "home page 2", path: "/?page=2", status: 200, ctype: html,
			text: []string{"News digest 3:", "News digest 2:", "Page 2 of 3"}, check: order("/digests/"+gd[2], "/digests/"+gd[1])},
		{name: "home page 3", path: "/?page=3", status: 200, text: []string{"News digest 1:"}, excludes: []string{`rel="next"`}},
		{name: "home page beyond", path: "/?page=4", status: 404, text: []string{"no page 4"}},
		{name: "home page not a number", path: "/?page=abc", status: 400},
		{name: "home page negative", path: "/?page=-1", status: 400},

		// Digest pages.
		{name: "digest", path: "/digests/" + gd[0], status: 200, ctype: html, text: []string{"News digest 1:", "10 articles"},
			check: order("/articles/"+ga[0], "/articles/"+ga[1], "/articles/"+ga[9])},
		{name: "digest hostile", path: "/digests/" + xssDigest, status: 200, ctype: html,
			text: []string{f.payloads[2] + " digest", f.payloads[3], f.payloads[0], f.urls[0],
				"Links not archived", "250 links in the input could not be archived (the first 2 are listed)", "javascript:alert(1)", f.payloads[4],
				`scheme "javascript" is not http or https`, "127.0.0.1:8701/news/latin1.html", f.payloads[5]},
			excludes: []string{`href="javascript`, `href="data:`, `href="vbscript`, `href="/articles/../`, `href="/articles/a/b"`, `href="/articles/.hidden"`}},
		{name: "digest unknown", path: "/digests/no-such-digest", status: 404, text: []string{"No digest by that name"}},
		{name: "digest traversal encoded", path: "/digests/..%2F..%2Fetc%2Fpasswd", status: 404},
		{name: "digest dot dot", path: "/digests/%2e%2e", status: 404},
		{name: "digest hidden", path: "/digests/.hidden", status: 404},
		{name: "digest control char", path: "/digests/a%00b", status: 404},

		// Article pages.
		{name: "article", path: "/articles/" + ok, status: 200, ctype: html, headers: pageHeaders,
			contains: []string{"/articles/" + ok + "/raw", "/articles/" + ok + "/text.txt", "/digests/" + gd[0]},
			text:     []string{"About this capture", "SHA-256", "Capture history"}},
		{name: "article hostile", path: "/articles/" + xssSlug, status: 200, ctype: html,
			text: []string{f.payloads[0], f.payloads[1], f.payloads[2], f.urls[0], f.urls[1], f.payloads[5], f.payloads[6],
				"First paragraph of the hostile readable article.", "A quotation that should survive sanitizing.", "javascript link"},
			contains: []string{`href="https://publisher.example/more"`, `/digests/` + xssDigest},
			excludes: []string{"READABLE SCRIPT RAN", "tracker.example", "evil.example/frame", "evil.example/steal", `href="javascript`, "/digests/../"}},
		{name: "article with history", path: "/articles/" + historySlug, status: 200,
			contains: []string{"/articles/" + historySlug + "/history/" + historyOld + "/raw"},
			text:     []string{"An article captured twice (second capture)", "Listed in the digest as", "The current capture's readable text."}},
		{name: "article unicode slug", path: "/articles/" + esc(unicodeSlug), status: 200, text: []string{"Новости дня: короткий текст."}},
		{name: "article failed", path: "/articles/" + failedSlug, status: 200, text: []string{"fetch failed", "connection refused", "No readable text"}},
		{name: "article damaged meta", path: "/articles/" + brokenSlug, status: 500, text: []string{"damaged"}, excludes: []string{"goroutine", "json:"}},
		{name: "article unknown", path: "/articles/no-such-article", status: 404, text: []string{"No article by that name"}},
		{name: "article traversal", path: "/articles/..%2Fdigests%2F" + gd[0], status: 404},
		{name: "article backslash", path: "/articles/a%5Cb", status: 404},
		{name: "article too long slug", path: "/articles/" + strings.Repeat("x", 201), status: 404},
		{name: "article traversal unescaped", path: "/articles/../../etc/passwd", status: 307, headers: map[string]string{"Location": "/etc/passwd"}},

		// The viewer as seen (issue 13).
		{name: "article panel long URLs", path: "/articles/" + historySlug, status: 200,
			contains: []string{`href="` + longGoogleNewsURL + `"`, `title="` + longGoogleNewsURL + `"`, shortURL(longGoogleNewsURL)},
			text:     []string{shortURL(longGoogleNewsURL)}, check: func(t *testing.T, b []byte) {
				if strings.Contains(textOf(string(b)), longGoogleNewsURL) {
					t.Error("the whole Google News link is shown as text")
				}
			}},
		{name: "article one-hop chain not repeated", path: "/articles/" + historySlug, status: 200,
			text: []string{"Final URL", "publisher.example/final/" + historySlug}, check: notInText("Redirect chain")},
		{name: "article longer chain shown", path: "/articles/" + rankTitleSlug, status: 200,
			text: []string{"Redirect chain", "publisher.example/hop"}},
		{name: "article failed: no dead links", path: "/articles/" + failedSlug, status: 200,
			text: []string{"Tried", "failed"}, excludes: []string{"/articles/" + failedSlug + "/raw", "/articles/" + failedSlug + "/text.txt"},
			check: notInText("Archived", "Plain text", "Fetched")},
		{name: "article ok: links", path: "/articles/" + historySlug, status: 200, text: []string{"Archived page", "Plain text", "Archived "},
			contains: []string{`href="/articles/` + historySlug + `/raw"`, `href="/articles/` + historySlug + `/text.txt"`}},
		{name: "article tags", path: "/articles/" + historySlug, status: 200,
			contains: []string{`href="/tags/Testing"`, `href="/tags/Science"`, `href="/tags/Space%20travel"`, `href="/tags/Bookmarked"`}},
		{name: "article by digest front-matter slug", path: "/articles/" + namedFMSlug, status: 302,
			headers: map[string]string{"Location": "/articles/" + historySlug}},
		{name: "article by digest slug", path: "/articles/" + namedDigest, status: 302,
			headers: map[string]string{"Location": "/articles/" + historySlug}},
		{name: "api article by digest front-matter slug", path: "/api/articles/" + namedFMSlug, status: 302,
			headers: map[string]string{"Location": "/api/articles/" + historySlug}},
		{name: "digest google news source", path: "/digests/" + namedDigest, status: 200,
			text: []string{"Source: a Google News topic"}, check: notInText("Published at")},
		{name: "digest description decoded", path: "/digests/" + namedDigest, status: 200,
			text: []string{"Tom & Jerry live — 5 < 6"}, excludes: []string{"&amp;amp;", "&amp;nbsp;", "&lt;b&gt;"}},
		{name: "digest tags", path: "/digests/" + namedDigest, status: 200,
			contains: []string{`href="/tags/Testing"`, `href="/tags/Science"`, `href="/tags/Space%20travel"`, `href="/tags/Bookmarked"`},
			check: func(t *testing.T, b []byte) {
				if n := strings.Count(string(b), `href="/tags/Science"`); n != 1 {
					t.Errorf("the tag Science is linked %d times, want once (science is the same tag)", n)
				}
			}},
		{name: "home filter by tag", path: "/?tag=science", status: 200, text: []string{"1 digest of 5 match the filter", "Hand-made test articles"},
			excludes: []string{"/digests/" + xssDigest}},
		{name: "home filter by item tag", path: "/?tag=BOOKMARKED", status: 200, text: []string{"1 digest of 5"}, contains: []string{"/digests/" + namedDigest}},
		{name: "home filter by publisher", path: "/?publisher=test+publisher", status: 200, text: []string{"1 digest of 5"}, contains: []string{"/digests/" + namedDigest}},
		{name: "home filter by status", path: "/?status=failed", status: 200, contains: []string{"/digests/" + xssDigest, "/digests/" + namedDigest}},
		{name: "home filter by date", path: "/?from=2030-01-01&to=2030-01-01", status: 200, text: []string{"2 digests of 5"},
			contains: []string{"/digests/" + namedDigest, "/digests/" + xssDigest}},
		{name: "home filter by date none", path: "/?to=2023-12-31", status: 200, text: []string{"0 digests of 5"}},
		{name: "home filter no match", path: "/?tag=nothing-has-this", status: 200, text: []string{"0 digests of 5", "No digest matches"}},
		{name: "home sort oldest, filter kept by the pager", path: "/?sort=oldest", status: 200, text: []string{"Page 1 of 3"},
			contains: []string{`href="/?page=2&amp;sort=oldest"`}, check: order("/digests/"+gd[0], "/digests/"+gd[1])},
		{name: "api digests sorted by title", path: "/api/digests?sort=title&per_page=10", status: 200, check: func(t *testing.T, b []byte) {
			var v struct{ Digests []digestSummary }
			decode(t, b, &v)
			if len(v.Digests) != 5 || !slices.IsSortedFunc(v.Digests, func(a, b digestSummary) int {
				return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
			}) {
				t.Errorf("not sorted by title: %+v", v.Digests)
			}
		}},
		{name: "home bad status", path: "/?status=weird", status: 400, text: []string{"status must be ok, blocked or failed"}},
		{name: "home bad date", path: "/?from=yesterday", status: 400, text: []string{"from must be a date"}},
		{name: "home bad sort", path: "/?sort=random", status: 400},
		{name: "tags", path: "/tags", status: 200, ctype: html,
			contains: []string{`href="/tags/Testing"`, `href="/tags/Science"`, `href="/tags/Bookmarked"`}},
		{name: "tag page", path: "/tags/science", status: 200, ctype: html, text: []string{"Tag: Science", "1 digest of 5"},
			contains: []string{"/digests/" + namedDigest, `action="/tags/science"`}, excludes: []string{`name="tag"`}},
		{name: "tag page unknown", path: "/tags/nothing-has-this", status: 404},
		{name: "tag page with a filter", path: "/tags/Science?status=blocked", status: 200, text: []string{"0 digests of 5 match the filter"}},
		{name: "api digests by tag", path: "/api/digests?tag=Science", status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v struct {
				Digests []digestSummary
				Total   int
			}
			decode(t, b, &v)
			if v.Total != 1 || len(v.Digests) != 1 || v.Digests[0].Slug != namedDigest ||
				!slices.Equal(v.Digests[0].Tags, []string{"Testing", "Science", "Space travel"}) {
				t.Errorf("got %+v", v)
			}
		}},
		{name: "api digests filter next link", path: "/api/digests?status=ok&per_page=1", status: 200, contains: []string{`"next": "/api/digests?page=2\u0026per_page=1\u0026status=ok"`}},
		{name: "api digests bad filter", path: "/api/digests?to=2030-13-01", status: 400, ctype: jsonCT},
		{name: "api tags", path: "/api/tags", status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v apiTagList
			decode(t, b, &v)
			want := map[string]int{"Testing": 1, "Science": 1, "Space travel": 1, "Bookmarked": 1}
			got := map[string]int{}
			for _, tc := range v.Tags {
				if _, ok := want[tc.Tag]; ok {
					got[tc.Tag] = tc.Digests
				}
			}
			if !maps.Equal(got, want) || !slices.IsSortedFunc(v.Tags, func(a, b tagCount) int { return b.Digests - a.Digests }) {
				t.Errorf("tags %v, want %v among them, most used first", v.Tags, want)
			}
		}},
		{name: "api article tags", path: "/api/articles/" + historySlug, status: 200, check: func(t *testing.T, b []byte) {
			var v struct{ Tags []string }
			decode(t, b, &v)
			if !slices.Equal(v.Tags, []string{"Testing", "Science", "Space travel", "Bookmarked"}) {
				t.Errorf("tags %q", v.Tags)
			}
		}},
		{name: "api digest source file without its path", path: "/api/digests/" + namedDigest, status: 200,
			contains: []string{`"source_file": "2030-01-01-named.md"`}, excludes: []string{"/home/ana"}},
		{name: "search finds tags", path: "/api/search?q=bookmarked", status: 200, contains: []string{`"slug": "` + historySlug + `"`}},

		// Snapshots: raw pages are sandboxed and shown rewritten so that
		// they contact nobody (inert.go; TestInert has the rules), with a
		// fixed set of headers; downloads are the bytes as archived.
		{name: "raw snapshot", path: "/articles/" + ok + "/raw.html", status: 200, ctype: "text/html; charset=utf-8",
			headers: merge(snapHeaders, map[string]string{"Content-Disposition": "inline; filename=" + ok + ".html",
				"ETag": `"` + sha256Hex(f.raw[ok]) + "-" + inertVersion + `"`}),
			body: str(inert(t, f.raw[ok], "utf-8")), excludes: []string{"cdn.tracker.example/t.js"}, only: snapshotHeaderNames},
		{name: "raw snapshot download", path: "/articles/" + ok + "/raw.html?download=1", status: 200, ctype: "text/html; charset=utf-8",
			headers: merge(snapHeaders, map[string]string{"Content-Disposition": "attachment; filename=" + ok + ".html", "ETag": `"` + sha256Hex(f.raw[ok]) + `"`}),
			body:    str(f.raw[ok]), only: snapshotHeaderNames},
		{name: "raw snapshot hostile", path: "/articles/" + hostileSlug + "/raw.html", status: 200, ctype: "text/html; charset=utf-8",
			headers: snapHeaders, only: snapshotHeaderNames, contains: []string{`<h1 id="headline">Hostile archived page</h1>`},
			check: func(t *testing.T, b []byte) {
				if p := inertProblems(string(b)); len(p) > 0 {
					t.Errorf("left in the snapshot: %s", strings.Join(p, "; "))
				}
			}},
		{name: "raw snapshot windows-1251", path: "/articles/" + cp1251Slug + "/raw.html", status: 200,
			ctype: "text/html; charset=utf-8", contains: []string{"<p>Привет</p>"}},
		{name: "raw snapshot windows-1251 download", path: "/articles/" + cp1251Slug + "/raw.html?download=1", status: 200,
			ctype: "text/html; charset=windows-1251", body: str(f.raw[cp1251Slug])},
		{name: "raw snapshot hostile charset", path: "/articles/" + xssSlug + "/raw.html", status: 200, ctype: "text/html; charset=utf-8", headers: snapHeaders,
			excludes: []string{"<script"}},
		{name: "raw snapshot hostile charset download", path: "/articles/" + xssSlug + "/raw.html?download=1", status: 200, ctype: "text/html", headers: snapHeaders},
		{name: "raw snapshot earlier capture", path: "/articles/" + historySlug + "/history/" + historyOld + "/raw.html", status: 200,
			ctype: "text/html; charset=utf-8", contains: []string{"<p>earlier capture</p>"}},
		{name: "raw snapshot earlier capture download", path: "/articles/" + historySlug + "/history/" + historyOld + "/raw.html?download=1", status: 200,
			ctype: "text/html; charset=windows-1252", body: str("<html><body><p>earlier capture</p></body></html>")},
		{name: "raw snapshot earlier hostile capture", path: "/articles/" + hostileSlug + "/history/" + hostileFrames + "/raw.html", status: 200,
			ctype: "text/html; charset=utf-8", only: snapshotHeaderNames, contains: []string{"<frameset"}, excludes: []string{"frame.trap.example"}},
		{name: "text earlier capture", path: "/articles/" + historySlug + "/history/" + historyOld + "/text.txt", status: 200, body: str("earlier capture text\n")},
		{name: "raw snapshot unknown capture", path: "/articles/" + historySlug + "/history/nope/raw.html", status: 404},
		{name: "raw snapshot capture traversal", path: "/articles/" + historySlug + "/history/..%2F..%2F/raw.html", status: 404},
		{name: "raw snapshot unknown", path: "/articles/no-such-article/raw.html", status: 404},
		{name: "raw snapshot of failed capture", path: "/articles/" + failedSlug + "/raw.html", status: 404},
		{name: "raw snapshot conditional", path: "/articles/" + ok + "/raw.html", status: 304,
			header: map[string]string{"If-None-Match": `"` + sha256Hex(f.raw[ok]) + "-" + inertVersion + `"`}, body: str("")},
		{name: "raw snapshot conditional on the archived bytes", path: "/articles/" + ok + "/raw.html", status: 200,
			header: map[string]string{"If-None-Match": `"` + sha256Hex(f.raw[ok]) + `"`}},
		{name: "raw snapshot download conditional", path: "/articles/" + ok + "/raw.html?download=1", status: 304,
			header: map[string]string{"If-None-Match": `"` + sha256Hex(f.raw[ok]) + `"`}, body: str("")},
		{name: "raw snapshot head of failed capture", method: "HEAD", path: "/articles/" + failedSlug + "/raw.html", status: 404},
		{name: "raw snapshot head", method: "HEAD", path: "/articles/" + ok + "/raw.html", status: 200, headers: snapHeaders, body: str(""), only: snapshotHeaderNames},
		{name: "text", path: "/articles/" + unicodeSlug + "/text.txt", status: 200, ctype: "text/plain; charset=utf-8",
			headers: snapHeaders, body: str("Новости дня: короткий текст.\n")},
		{name: "text unknown", path: "/articles/no-such-article/text.txt", status: 404},
		{name: "raw page", path: "/articles/" + ok + "/raw", status: 200, ctype: html, headers: pageHeaders,
			contains: []string{`<iframe sandbox src="/articles/` + ok + `/raw.html"`, `/articles/` + ok + `/raw.html?download=1`}},
		{name: "raw page earlier capture", path: "/articles/" + historySlug + "/history/" + historyOld + "/raw", status: 200,
			contains: []string{`<iframe sandbox src="/articles/` + historySlug + `/history/` + historyOld + `/raw.html"`}, text: []string{"capture " + historyOld}},
		{name: "raw page failed capture", path: "/articles/" + failedSlug + "/raw", status: 404},
		{name: "raw page unknown", path: "/articles/no-such-article/raw", status: 404},

		// Search.
		{name: "search form", path: "/search", status: 200, ctype: html, text: []string{"Every word you type"}},
		{name: "search", path: "/search?q=zorblax", status: 200, ctype: html, text: []string{"2 articles match", "Zorblax findings published"},
			check: order("/articles/"+rankTitleSlug, "/articles/"+rankTextSlug)},
		{name: "search snippet marks", path: "/search?q=zorblax", status: 200, contains: []string{"<mark>zorblax</mark>"}},
		{name: "search hostile query", path: "/search?q=" + url.QueryEscape(`<script>alert("q")</script>`), status: 200,
			text: []string{`<script>alert("q")</script>`}},
		{name: "search hostile snippet", path: "/search?q=alert", status: 200, text: []string{`alert("xss-title")`}},
		{name: "search unclosed quote", path: "/search?q=" + url.QueryEscape(`"quantum marmalade`), status: 200, text: []string{"1 article matches"}},
		{name: "search too long", path: "/search?q=" + long, status: 400, text: []string{"at most 256"}},
		{name: "search oversized query string", path: "/search?q=" + huge, status: 414},
		{name: "search page too deep", path: "/search?q=zorblax&page=600", status: 400},
		{name: "oversized path", path: "/articles/" + strings.Repeat("y", 2000), status: 414},

		// Read-only, Host-checked.
		{name: "post", method: "POST", path: "/", status: 405, headers: map[string]string{"Allow": "GET, HEAD"}},
		{name: "delete", method: "DELETE", path: "/articles/" + ok, status: 405},
		{name: "foreign host", path: "/", host: "evil.example", status: 421},
		{name: "foreign host rebinding api", path: "/api/digests", host: "attacker.example:8080", status: 421, ctype: jsonCT},
		{name: "allowed host with port", path: "/healthz", host: "localhost:1234", status: 200},
		{name: "unknown path", path: "/wp-admin", status: 404, ctype: html},

		// Static files.
		{name: "stylesheet", path: static.path("style.css"), status: 200, ctype: "text/css; charset=utf-8",
			headers: map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}, contains: []string{"prefers-color-scheme: dark"}},
		{name: "stylesheet unhashed", path: "/static/style.css", status: 404, ctype: html},
		{name: "favicon", path: "/favicon.ico", status: 200, ctype: "image/svg+xml"},

		// JSON API.
		{name: "api digests", path: "/api/digests?per_page=2", status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v struct {
				Digests []digestSummary
				Total   int
				Next    string
			}
			decode(t, b, &v)
			if v.Total != 5 || len(v.Digests) != 2 || v.Digests[1].Slug != namedDigest || v.Next != "/api/digests?page=2&per_page=2" {
				t.Errorf("got %+v", v)
			}
		}},
		{name: "api digests bad per_page", path: "/api/digests?per_page=500", status: 400, ctype: jsonCT, contains: []string{`"error"`}},
		{name: "api digest", path: "/api/digests/" + gd[0], status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v record.DigestRecord
			decode(t, b, &v)
			if v.Slug != gd[0] || len(v.Articles) != 10 || v.Articles[0].Slug != ga[0] {
				t.Errorf("got slug %q, %d articles", v.Slug, len(v.Articles))
			}
		}},
		{name: "api digest unknown", path: "/api/digests/nope", status: 404, ctype: jsonCT, contains: []string{`"error": "No digest by that name`}},
		{name: "api article", path: "/api/articles/" + historySlug, status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v struct {
				record.ArticleMeta
				Links map[string]string
			}
			decode(t, b, &v)
			if v.Slug != historySlug || len(v.History) != 1 || v.Links["raw"] != "/articles/"+historySlug+"/raw.html" {
				t.Errorf("got %+v", v)
			}
		}},
		{name: "api article hostile is escaped JSON", path: "/api/articles/" + xssSlug, status: 200, ctype: jsonCT,
			excludes: []string{"<script>"}, contains: []string{`\u003cscript\u003e`}},
		{name: "api article traversal", path: "/api/articles/..%2F..%2Fx", status: 404, ctype: jsonCT},
		{name: "api search", path: "/api/search?q=zorblax", status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v struct {
				Total uint64
				Hits  []struct{ Slug, Snippet, URL string }
			}
			decode(t, b, &v)
			got := []string{}
			for _, h := range v.Hits {
				got = append(got, h.Slug)
			}
			if v.Total != 2 || !slices.Equal(got, []string{rankTitleSlug, rankTextSlug}) || v.Hits[1].URL != "/articles/"+rankTextSlug {
				t.Errorf("got %+v", v)
			}
		}},
		{name: "api search phrase", path: "/api/search?q=" + url.QueryEscape(`"quantum marmalade"`), status: 200, check: func(t *testing.T, b []byte) {
			var v struct{ Hits []struct{ Slug string } }
			decode(t, b, &v)
			if len(v.Hits) != 1 || v.Hits[0].Slug != phraseSlug {
				t.Errorf("got %+v", v)
			}
		}},
		{name: "api search words", path: "/api/search?q=quantum+marmalade", status: 200, check: func(t *testing.T, b []byte) {
			var v struct{ Total uint64 }
			decode(t, b, &v)
			if v.Total != 2 {
				t.Errorf("total %d, want 2", v.Total)
			}
		}},
		{name: "api search unicode", path: "/api/search?q=" + url.QueryEscape("новости"), status: 200, contains: []string{`"slug": "` + unicodeSlug + `"`}},
		{name: "api search empty", path: "/api/search?q=", status: 400, ctype: jsonCT},
		{name: "healthz", path: "/healthz", status: 200, ctype: jsonCT, check: func(t *testing.T, b []byte) {
			var v health
			decode(t, b, &v)
			if v.Status != "ok" || v.Catalog.Digests != 5 || v.Index.Documents == 0 {
				t.Errorf("got %+v", v)
			}
		}},
	}
}

// snapshotHeaderNames are the headers a snapshot response may carry: the
// viewer's own, never one of the archived response.
var snapshotHeaderNames = []string{"Content-Type", "Content-Security-Policy", "X-Frame-Options", "Cache-Control", "Etag",
	"Content-Disposition", "X-Content-Type-Options", "X-Dns-Prefetch-Control", "Referrer-Policy", "Cross-Origin-Opener-Policy",
	"Cross-Origin-Resource-Policy", "Permissions-Policy"}

// notInText checks that none of words is in an HTML page's visible text.
func notInText(words ...string) func(t *testing.T, body []byte) {
	return func(t *testing.T, body []byte) {
		text := textOf(string(body))
		for _, w := range words {
			if strings.Contains(text, w) {
				t.Errorf("visible text has %q", w)
			}
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
