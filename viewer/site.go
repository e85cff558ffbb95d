package viewer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/linkarc/linkarc/internal/thumbnail"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// A Site is the viewer as files: the same pages, rendered by the same
// handlers and templates, written as a static, read-only web site that
// opens from a folder (file://) or from any static host. What a server
// adds at request time, a static site carries in its files:
//
//   - every link between the viewer's pages is relative, to the file the
//     page became (SiteFile), so the site works wherever it is put;
//   - a page's Content-Security-Policy is a <meta> element, the first in
//     its <head>: the viewer's own policy (pageCSP) for its pages, the
//     snapshot policy (snapshotCSP) for archived pages, less what a <meta>
//     cannot say (frame-ancestors, sandbox); the archived pages are still
//     shown in the viewer's sandboxed <iframe> and rewritten to be inert
//     (inert.go), as the viewer serves them;
//   - what needs a server is left out: the search box, the filter form,
//     the JSON API, the download of an archived page's bytes as received
//     (the self-contained page's download is its file): their links are
//     removed. A link to a page the site does not have (an article an
//     export left out) is kept as text, a <span>, not an <a> without an
//     href that looks like a link.
//
// The site holds what its store holds: give it a store that shows only
// part of an archive to write only that part.

// SiteOptions configures a Site.
type SiteOptions struct {
	// Store is the archive to render; required. Every digest it lists and
	// every article it holds becomes pages.
	Store storage.Store
	// Logger receives what the viewer logs while rendering. Nil discards.
	Logger *slog.Logger
	// PageSize is the number of digests per page of the home and tag
	// pages; 0 means DefaultPageSize.
	PageSize int
}

// Site writes the viewer's pages as a static web site. Create it with
// NewSite, write it with Write, and Close it.
type Site struct {
	srv *Server
}

// SiteStats counts what Site.Write wrote.
type SiteStats struct {
	Pages    int   // HTML pages of the viewer (home, tags, digests, articles, archived-page wrappers)
	Files    int   // every file written, pages, snapshots, texts and static files included
	Articles int   // articles written
	Bytes    int64 // bytes written
}

// NewSite prepares a site of opts.Store. It reads nothing yet.
func NewSite(opts SiteOptions) (*Site, error) {
	srv, err := New(Options{Store: opts.Store, Logger: opts.Logger, PageSize: opts.PageSize})
	if err != nil {
		return nil, err
	}
	return &Site{srv: srv}, nil
}

// Close releases what the site holds.
func (s *Site) Close() error { return s.srv.Close() }

// siteCSP is pageCSP as a <meta> can say it: frame-ancestors is ignored
// there (and reported by browsers), so it is left out.
const siteCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; " +
	"form-action 'none'; base-uri 'none'"

// siteSnapshotCSP is snapshotCSP as a <meta> can say it: without sandbox
// and frame-ancestors, which only a header can carry. The viewer's
// sandboxed <iframe> gives the archived page the sandbox.
const siteSnapshotCSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; " +
	"form-action 'none'; base-uri 'none'"

// Write renders the site and hands every file to put, with its name, a
// slash-separated path relative to the site's root ("index.html",
// "articles/<slug>/index.html", "static/style.<hash>.css"). body is only
// valid during the call. Files are rendered one at a time, so memory stays
// that of one page whatever the size of the archive; the digest list is
// held, as the viewer holds it.
//
// Pages are rendered by the viewer's own handlers; a page that does not
// render (a damaged record) is an error naming it, and so is a store
// failure.
func (s *Site) Write(ctx context.Context, put func(name string, body []byte) error) (SiteStats, error) {
	var st SiteStats
	if err := s.srv.catalog.refresh(ctx); err != nil {
		return st, err
	}
	emit := func(name string, body []byte, isPage bool) error {
		st.Files++
		st.Bytes += int64(len(body))
		if isPage {
			st.Pages++
		}
		return put(name, body)
	}
	for _, name := range slices.Sorted(mapKeys(s.srv.static.byName)) {
		if err := emit("static/"+name, s.srv.static.byName[name].body, false); err != nil {
			return st, err
		}
	}

	// The lists: home, tags and digests, and every page of them, as their
	// links lead.
	queue, seen := []string{"/", "/tags"}, map[string]bool{"/": true, "/tags": true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		links, err := s.writePage(ctx, p, emit)
		if err != nil {
			return st, err
		}
		for _, l := range links {
			if !seen[l] && !strings.HasPrefix(l, "/articles/") && !strings.HasPrefix(l, "/static/") {
				seen[l] = true
				queue = append(queue, l)
			}
		}
	}

	// The articles, one at a time, each with the pages its own links lead
	// to: archived page, text, earlier captures.
	err := s.srv.store.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		slug, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/"+record.MetaFile)
		if !ok || strings.Contains(slug, "/") || !record.ValidSlug(slug) {
			return nil
		}
		base := "/articles/" + url.PathEscape(slug)
		var queue []string
		// The thumbnail is linked from list pages, not the article's own.
		for _, p := range []string{base, base + "/raw", base + "/" + record.RawFile, base + "/" + record.TextFile, base + "/" + record.ThumbFile} {
			if ok, err := s.exists(ctx, p); err != nil {
				return err
			} else if ok {
				queue = append(queue, p)
			}
		}
		if len(queue) == 0 || queue[0] != base {
			return nil // unreadable: the viewer would not show it either
		}
		seen := map[string]bool{}
		for _, p := range queue {
			seen[p] = true
		}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			links, err := s.writePage(ctx, p, emit)
			if err != nil {
				return err
			}
			for _, l := range links {
				if !seen[l] && strings.HasPrefix(l, base+"/") {
					seen[l] = true
					queue = append(queue, l)
				}
			}
		}
		st.Articles++
		return nil
	})
	if err != nil {
		return st, err
	}
	// The old addresses of articles merged into others.
	return st, s.writeAliases(ctx, emit)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// siteKey marks the requests of a Site: snapshots are then given the
// <meta> a static file needs (see prepareSnapshot).
type siteKey struct{}

func isSiteRequest(r *http.Request) bool { return r.Context().Value(siteKey{}) != nil }

// writePage renders the viewer page at p (a path, with "page=N" as its only
// query), makes it a file of the site and hands it to emit. It returns the
// viewer paths the page links to that the site has.
func (s *Site) writePage(ctx context.Context, p string, emit func(string, []byte, bool) error) ([]string, error) {
	file, ok := SiteFile(p)
	if !ok {
		return nil, fmt.Errorf("site: %s has no file", p)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, siteKey{}, true), http.MethodGet, "http://site"+p, nil)
	if err != nil {
		return nil, fmt.Errorf("site: %s: %w", p, err)
	}
	rec := &recorder{header: http.Header{}}
	s.srv.ServeHTTP(rec, req)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rec.status != http.StatusOK {
		return nil, fmt.Errorf("site: the viewer answered %s with %d %s: %s", p, rec.status, http.StatusText(rec.status), errorText(rec.body.Bytes()))
	}
	ctype := rec.header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ctype, "text/plain"):
		// A text file opened from a folder has no Content-Type: the byte
		// order mark tells the browser it is UTF-8.
		return nil, emit(file, append([]byte("\ufeff"), rec.body.Bytes()...), false)
	case !strings.HasPrefix(ctype, "text/html"):
		return nil, emit(file, rec.body.Bytes(), false)
	case rec.header.Get("Content-Security-Policy") == snapshotCSP:
		// An archived page: made inert and given its policy by the handler
		// (prepareSnapshot); its links lead out of the archive.
		return nil, emit(file, rec.body.Bytes(), false)
	}
	doc, err := html.Parse(&rec.body)
	if err != nil {
		return nil, fmt.Errorf("site: parse %s: %w", p, err)
	}
	links, err := s.relink(ctx, doc, file)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := html.Render(&out, doc); err != nil {
		return nil, fmt.Errorf("site: render %s: %w", p, err)
	}
	return links, emit(file, out.Bytes(), true)
}

// errorText is the message of the viewer's error page, for an error.
func errorText(page []byte) string {
	if m := regexp.MustCompile(`(?s)<p class="lede">(.*?)</p>`).FindSubmatch(page); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	return "(no message)"
}

// relink makes a viewer page, parsed, a page of the site at file: its
// policy as a <meta>, no forms, and every link to a viewer path made
// relative to file when the site has that page, or dropped. It returns the
// viewer paths linked to.
func (s *Site) relink(ctx context.Context, doc *html.Node, file string) ([]string, error) {
	if head := findElement(doc, atom.Head); head != nil {
		head.InsertBefore(cspMeta(siteCSP), firstAfterCharset(head))
	}
	var links []string
	var walk func(n *html.Node) error
	walk = func(n *html.Node) error {
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			if c.Type != html.ElementNode {
				c = next
				continue
			}
			if c.DataAtom == atom.Form {
				n.RemoveChild(c) // nothing answers a form in a folder
				c = next
				continue
			}
			keep := true
			for i := 0; i < len(c.Attr); i++ {
				a := c.Attr[i]
				if a.Namespace != "" || (a.Key != "href" && a.Key != "src") ||
					!strings.HasPrefix(a.Val, "/") || strings.HasPrefix(a.Val, "//") {
					continue
				}
				target, frag, _ := strings.Cut(a.Val, "#")
				to, ok := SiteFile(target)
				if ok {
					var err error
					if ok, err = s.exists(ctx, target); err != nil {
						return err
					}
				}
				if ok {
					rel := relativeURL(file, to)
					if frag != "" {
						rel += "#" + frag
					}
					c.Attr[i].Val = rel
					// page.html's download is page.html: one file, written once.
					links = append(links, strings.TrimSuffix(target, "?download=1"))
					continue
				}
				if c.DataAtom == atom.Link || (c.DataAtom == atom.A && serverOnly(c, target)) {
					keep = false
					break
				}
				c.Attr = slices.Delete(c.Attr, i, i+1)
				i--
				if c.DataAtom == atom.A {
					asText(c)
				}
			}
			if !keep {
				if c.DataAtom == atom.A {
					dropSeparator(c)
				}
				n.RemoveChild(c)
				c = next
				continue
			}
			if err := walk(c); err != nil {
				return err
			}
			c = next
		}
		return nil
	}
	return links, walk(doc)
}

// serverOnly reports whether a link the site cannot have leads to
// something only a server gives (the JSON API, an archived page's bytes
// as received, offered as a download): the site leaves it out, rather
// than keep its text as if it were something to read.
func serverOnly(a *html.Node, target string) bool {
	if strings.HasPrefix(target, "/api/") || strings.HasSuffix(target, "?download=1") {
		return true
	}
	return slices.ContainsFunc(a.Attr, func(at html.Attribute) bool { return at.Namespace == "" && at.Key == "download" })
}

// asText makes an <a> whose page the site lacks a <span>: its text stays
// (an article's title), and nothing about it looks like a link.
func asText(a *html.Node) {
	a.DataAtom, a.Data = atom.Span, "span"
	a.Attr = slices.DeleteFunc(a.Attr, func(at html.Attribute) bool {
		switch at.Key {
		case "href", "download", "rel", "target", "hreflang", "type", "ping", "referrerpolicy":
			return true
		}
		return false
	})
}

// dropSeparator removes the " · " that joins a link about to be removed
// to its neighbours in a line of links: the one before it, or else the
// one after.
func dropSeparator(a *html.Node) {
	if p := a.PrevSibling; p != nil && p.Type == html.TextNode {
		if t := strings.TrimRight(p.Data, " \t\n"); strings.HasSuffix(t, "·") {
			p.Data = strings.TrimSuffix(t, "·")
			return
		}
	}
	if nx := a.NextSibling; nx != nil && nx.Type == html.TextNode {
		if t := strings.TrimLeft(nx.Data, " \t\n"); strings.HasPrefix(t, "·") {
			nx.Data = strings.TrimLeft(strings.TrimPrefix(t, "·"), " ")
		}
	}
}

// cspMeta is <meta http-equiv="Content-Security-Policy" content=policy>.
func cspMeta(policy string) *html.Node {
	return &html.Node{Type: html.ElementNode, DataAtom: atom.Meta, Data: "meta", Attr: []html.Attribute{
		{Key: "http-equiv", Val: "Content-Security-Policy"}, {Key: "content", Val: policy}}}
}

// firstAfterCharset returns the node before which the head's first own
// element goes: after its <meta charset>, which belongs first.
func firstAfterCharset(head *html.Node) *html.Node {
	first := head.FirstChild
	for first != nil && first.Type != html.ElementNode {
		first = first.NextSibling
	}
	if first != nil && first.DataAtom == atom.Meta {
		if _, ok := nodeAttr(first, "charset"); ok {
			return first.NextSibling
		}
	}
	return head.FirstChild
}

// prepareSnapshot makes an inert archived page (inertDocument) a file a
// browser can open from a folder: a <meta charset="utf-8"> first (a file
// has no Content-Type to say the rewrite is UTF-8), then the snapshot
// policy as a <meta>, before anything that could load.
func prepareSnapshot(doc *html.Node) {
	head := findElement(doc, atom.Head)
	if head == nil {
		return // html.Parse always makes one
	}
	if first := firstAfterCharset(head); first == head.FirstChild {
		head.InsertBefore(&html.Node{Type: html.ElementNode, DataAtom: atom.Meta, Data: "meta",
			Attr: []html.Attribute{{Key: "charset", Val: "utf-8"}}}, head.FirstChild)
	}
	head.InsertBefore(cspMeta(siteSnapshotCSP), firstAfterCharset(head))
}

// exists reports whether the site has the page at viewer path p (see
// SiteFile for the paths it has).
func (s *Site) exists(ctx context.Context, p string) (bool, error) {
	u, err := url.Parse(p)
	if err != nil {
		return false, nil
	}
	parts, ok := pathSegments(u)
	if !ok {
		return false, nil
	}
	stat := func(key string) (bool, error) {
		_, err := s.srv.store.Stat(ctx, key)
		if storage.IsNotExist(err) {
			return false, nil
		}
		return err == nil, err
	}
	switch {
	case u.Path == "/", u.Path == "/tags":
		return true, nil // the pager links only pages that exist
	case len(parts) == 2 && parts[0] == "static":
		_, ok := s.srv.static.byName[parts[1]]
		return ok, nil
	case len(parts) == 2 && parts[0] == "tags":
		ix, err := s.srv.catalog.index(ctx)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(ix.tags, func(tc tagCount) bool { return strings.EqualFold(tc.Tag, cleanTag(parts[1])) }), nil
	case len(parts) == 2 && parts[0] == "digests":
		_, ok := s.srv.catalog.lookup(parts[1])
		return ok, nil
	case len(parts) >= 2 && parts[0] == "articles" && record.ValidSlug(parts[1]):
		slug, rest := parts[1], parts[2:]
		capture := ""
		if len(rest) >= 2 && rest[0] == record.HistoryDir {
			if !record.ValidCaptureID(rest[1]) {
				return false, nil
			}
			capture, rest = rest[1], rest[2:]
		}
		switch {
		case len(rest) == 0 && capture == "":
			// The page needs a meta.json that reads.
			_, err := record.ReadMeta(ctx, s.srv.store, slug)
			if storage.IsNotExist(err) || errors.Is(err, record.ErrUnreadable) {
				return false, nil
			}
			return err == nil, err
		case len(rest) == 1 && rest[0] == "raw":
			return stat(snapshotKey(slug, capture, record.RawFile))
		case len(rest) == 1 && rest[0] == record.ThumbFile:
			// Served only when it checks as a thumbnail.
			if capture != "" {
				return false, nil
			}
			_, err := s.srv.readThumb(ctx, slug)
			if storage.IsNotExist(err) || errors.Is(err, thumbnail.ErrNotImage) {
				return false, nil
			}
			return err == nil, err
		case len(rest) == 1 && path.Ext(rest[0]) != "":
			return stat(snapshotKey(slug, capture, rest[0]))
		}
	}
	return false, nil
}

// SiteFile returns the file of a static site (Site) that holds the viewer
// page at p, a URL path with an optional query, and whether a site has
// such a file at all:
//
//	/                                   index.html
//	/?page=N                            page-N.html
//	/tags, /tags/NAME                   tags/index.html, tags/NAME/index.html
//	/tags/NAME?page=N                   tags/NAME/page-N.html
//	/digests/SLUG                       digests/SLUG/index.html
//	/articles/SLUG                      articles/SLUG/index.html
//	/articles/SLUG/raw                  articles/SLUG/raw/index.html
//	/articles/SLUG/raw.html, text.txt   articles/SLUG/raw.html, …/text.txt
//	/articles/SLUG/page.html, thumb.jpg articles/SLUG/page.html, …/thumb.jpg
//	/articles/SLUG/history/ID/…         articles/SLUG/history/ID/…, likewise
//	/static/FILE                        static/FILE
//
// A path segment that is not a plain file name (a tag with spaces, slashes
// or letters beyond ASCII) is written as a plain name followed by a hash
// of the segment, so names are portable and never collide. The search, the
// API, downloads (but page.html's, which is page.html) and any other query
// have no file.
func SiteFile(p string) (string, bool) {
	u, err := url.Parse(p)
	if err != nil || u.Path == "" || u.Path[0] != '/' || u.Host != "" || u.Scheme != "" {
		return "", false
	}
	page := 1
	q := u.Query()
	if q.Get("download") == "1" && len(q) == 1 && path.Base(u.Path) == record.PageFile {
		// The self-contained page is one file of the site already: its
		// download is that file. (raw.html's download, the bytes as
		// received, has none: the site's raw.html is the inert rewrite.)
		delete(q, "download")
	}
	for k, v := range q {
		n, err := strconv.Atoi(v[0])
		if k != "page" || len(v) != 1 || err != nil || n < 1 || n > maxPage {
			return "", false
		}
		page = n
	}
	segs, ok := pathSegments(u)
	if !ok {
		return "", false
	}
	switch segs[0] {
	case "":
		if len(segs) != 1 {
			return "", false
		}
		if page > 1 {
			return "page-" + strconv.Itoa(page) + ".html", true
		}
		return "index.html", true
	case "tags":
		if len(segs) > 2 || (page > 1 && len(segs) != 2) {
			return "", false
		}
	case "digests", "articles", "static":
		if page > 1 || len(segs) < 2 {
			return "", false
		}
	default:
		return "", false
	}
	for i, seg := range segs {
		if seg == "" {
			return "", false
		}
		segs[i] = fileSegment(seg)
	}
	last := segs[len(segs)-1]
	switch {
	case page > 1:
		return path.Join(path.Join(segs...), "page-"+strconv.Itoa(page)+".html"), true
	case segs[0] != "tags" && len(segs) > 2 && strings.Contains(last, "."),
		segs[0] == "static":
		return path.Join(segs...), true
	}
	return path.Join(path.Join(segs...), "index.html"), true
}

// pathSegments splits a URL's path into its segments, each unescaped (a
// tag may hold an escaped "/").
func pathSegments(u *url.URL) ([]string, bool) {
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i, seg := range segs {
		v, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		segs[i] = v
	}
	return segs, true
}

// plainSegment is a path segment kept as it is in a file name.
var plainSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$`)

// fileSegment turns a decoded URL path segment into a portable file name.
func fileSegment(seg string) string {
	if plainSegment.MatchString(seg) && !strings.HasSuffix(seg, ".") {
		return seg
	}
	var b strings.Builder
	for _, r := range strings.ToLower(seg) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	sum := sha256.Sum256([]byte(seg))
	return strings.Trim(b.String(), "-") + "-" + hex.EncodeToString(sum[:4])
}

// relativeURL is the relative URL from the file from to the file to, both
// site paths.
func relativeURL(from, to string) string {
	fromDir := strings.Split(path.Dir(from), "/")
	if fromDir[0] == "." {
		fromDir = nil
	}
	target := strings.Split(to, "/")
	i := 0
	for i < len(fromDir) && i < len(target)-1 && fromDir[i] == target[i] {
		i++
	}
	var parts []string
	for range fromDir[i:] {
		parts = append(parts, "..")
	}
	for _, seg := range target[i:] {
		parts = append(parts, url.PathEscape(seg))
	}
	return strings.Join(parts, "/")
}

// recorder is the http.ResponseWriter a Site renders into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
