package viewer

import (
	"cmp"
	"context"
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

// storeContext bounds the store reads of one request.
func (s *Server) storeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.opts.StoreTimeout)
}

// maxPage bounds ?page= so that page arithmetic cannot overflow.
const maxPage = 100000

// pageParam reads ?page=N (1-based, default 1).
func pageParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		return 0, fmt.Errorf("%w: page must be a number from 1 to %d", errBadQuery, maxPage)
	}
	return n, nil
}

// pager is the data of the prev/next links under a list.
type pager struct {
	Page, Pages int
	Prev, Next  string // URLs, "" when there is none
}

func newPager(base url.URL, page, total, size int) pager {
	p := pager{Page: page, Pages: max(1, (total+size-1)/size)}
	link := func(n int) string {
		q := base.Query()
		if n == 1 {
			q.Del("page")
		} else {
			q.Set("page", strconv.Itoa(n))
		}
		base.RawQuery = q.Encode()
		return base.String()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

type homeView struct {
	Digests  []digestSummary
	Total    int // digests in the archive
	Matching int // digests the filter selects
	Articles uint64
	Pager    pager
	Filter   digestFilter
	Action   string     // where the filter form goes: "/" or the tag page
	FixedTag string     // the tag of a /tags/NAME page
	Filtered bool       // the form selects or orders (beyond a tag page's tag)
	Tags     []tagCount // for the form's suggestions
	Pubs     []string
	// Thumbs maps a digest's slug to the thumbnail of its lead article's
	// lead image, for the digests shown that have one.
	Thumbs map[string]string
}

// maxSuggestions bounds the tags and publishers the filter form suggests.
const maxSuggestions = 300

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	s.digestList(w, r, "")
}

// tagPage is /tags/{name}: the digests with that tag, filterable like home.
func (s *Server) tagPage(w http.ResponseWriter, r *http.Request) {
	tag := cleanTag(r.PathValue("name"))
	if tag == "" {
		s.errorPage(w, r, http.StatusNotFound, "No tag by that name is in the archive.")
		return
	}
	s.digestList(w, r, tag)
}

// digestList renders the home page, or the page of one tag.
func (s *Server) digestList(w http.ResponseWriter, r *http.Request, tag string) {
	n, err := pageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	f, err := parseDigestFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	action, title, without := "/", "Digests", ""
	if tag != "" {
		f.Tag, without = tag, "tag"
		action, title = "/tags/"+url.PathEscape(tag), "Tag: "+tag
	}
	ctx, cancel := s.storeContext(r)
	defer cancel()
	all, stale, err := s.catalog.list(ctx)
	if err != nil {
		s.fail(w, r, "digest list", err)
		return
	}
	ix, _ := s.catalog.index(ctx)
	if tag != "" {
		// Shown as the digests spell it, whatever the address's case.
		i := slices.IndexFunc(ix.tags, func(tc tagCount) bool { return strings.EqualFold(tc.Tag, tag) })
		if i < 0 {
			s.errorPage(w, r, http.StatusNotFound, "No digest has the tag “"+tag+"”.")
			return
		}
		tag = ix.tags[i].Tag
		f.Tag, title = tag, "Tag: "+tag
	}
	digests := f.apply(all)
	size := s.opts.PageSize
	pg := newPager(url.URL{Path: action, RawQuery: f.query(without).Encode()}, n, len(digests), size)
	if n > pg.Pages {
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no page %d: the digest list has %d.", n, pg.Pages))
		return
	}
	start := (n - 1) * size
	shown := digests[start:min(start+size, len(digests))]
	leads := make([]string, 0, len(shown))
	for _, d := range shown {
		leads = append(leads, d.lead)
	}
	byLead := s.thumbsOf(ctx, leads)
	thumbs := map[string]string{}
	for _, d := range shown {
		if t, ok := byLead[d.lead]; ok {
			thumbs[d.Slug] = t
		}
	}
	p := page{Title: title, Data: homeView{
		Digests:  shown,
		Thumbs:   thumbs,
		Total:    len(all),
		Matching: len(digests),
		Articles: s.index.Stats().Documents,
		Pager:    pg,
		Filter:   f,
		Action:   action,
		FixedTag: tag,
		Filtered: f.Publisher != "" || f.Status != "" || f.From != "" || f.To != "" || f.Sort != "" || (f.Tag != "" && tag == ""),
		Tags:     ix.tags[:min(len(ix.tags), maxSuggestions)],
		Pubs:     ix.publishers[:min(len(ix.publishers), maxSuggestions)],
	}}
	if stale != nil {
		p.Notice = stale.Error() + "."
	}
	s.render(w, r, http.StatusOK, "home", p)
}

type tagsView struct {
	Tags []tagCount
}

// tagsIndex is /tags: every tag, most used first.
func (s *Server) tagsIndex(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	ix, err := s.catalog.index(ctx)
	if err != nil {
		s.fail(w, r, "digest list", err)
		return
	}
	s.render(w, r, http.StatusOK, "tags", page{Title: "Tags", Data: tagsView{Tags: ix.tags}})
}

type digestView struct {
	Digest      *record.DigestRecord
	Summary     digestSummary
	Description string            // plain text of the front matter's description or summary
	Source      sourceLink        // the front matter's link
	Thumbs      map[string]string // article slug -> its thumbnail, for those that have one
	// A digest too large for one record is shown a part at a time
	// (?page=N; record.ReadDigestPart): Part of Parts, Offset the number
	// of articles before this part's, Prev and Next the other parts.
	Part, Parts, Offset int
	Prev, Next          string
}

func (s *Server) digestPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	d, ok := s.requestedDigest(ctx, w, r)
	if !ok {
		return
	}
	sum := summarize(d, "")
	part, err := pageParam(r)
	if err != nil {
		s.fail(w, r, "digest", err)
		return
	}
	offset := 0
	if part > d.Parts+1 {
		s.notFound(w, r)
		return
	}
	if part > 1 {
		p, err := record.ReadDigestPart(ctx, s.store, d.Slug, part)
		if err != nil {
			s.fail(w, r, "digest", err)
			return
		}
		whole := *d
		whole.Articles, offset = p.Articles, p.Offset
		d = &whole
	}
	slugs := make([]string, 0, len(d.Articles))
	for _, a := range d.Articles {
		if a.Status != record.StatusFailed {
			slugs = append(slugs, a.Slug)
		}
	}
	v := digestView{Digest: d, Summary: sum, Source: linkOf(d.FrontMatter.Link),
		Description: plainText(cmp.Or(d.FrontMatter.Description, d.FrontMatter.Summary)),
		Thumbs:      s.thumbsOf(ctx, slugs), Part: part, Parts: d.Parts + 1, Offset: offset}
	if part > 1 {
		v.Prev = partURL(d.Slug, part-1)
	}
	if part <= d.Parts {
		v.Next = partURL(d.Slug, part+1)
	}
	s.render(w, r, http.StatusOK, "digest", page{Title: sum.Title, Data: v})
}

// partURL is the address of part n of a digest.
func partURL(slug string, n int) string {
	u := "/digests/" + url.PathEscape(slug)
	if n > 1 {
		u += "?page=" + strconv.Itoa(n)
	}
	return u
}

// digestRef is a digest an article appears in.
type digestRef struct {
	Slug  string // "" when the stored slug is not a valid one (shown, not linked)
	Name  string
	Date  string
	Known bool // the digest is in the catalog
}

// captureView is one capture in an article's history.
type captureView struct {
	record.CaptureRef
	Linkable bool // the capture id is safe to put in a URL
}

type articleView struct {
	Meta      *record.ArticleMeta
	Title     string
	Body      readableBody
	Digests   []digestRef
	History   []captureView // newest first
	Published string
	Tags      []string
	Chain     []string // the redirect chain, when it says more than the URLs above it
	HasRaw    bool     // raw.html exists: a page was received
	HasText   bool     // text.txt exists
	HasPage   bool     // the capture lists page.html, its self-contained page
	Thumb     string   // its lead image's thumbnail, "" for none
}

func (s *Server) articlePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	m, ok := s.requestedArticleOrLead(ctx, w, r, "/articles/")
	if !ok {
		return
	}
	slug := m.Slug
	body, err := s.loadReadable(ctx, slug)
	if err != nil {
		s.fail(w, r, "article", err)
		return
	}
	v := articleView{Meta: m, Title: displayTitle(m), Body: body, Published: formatPublished(m.PublishedTime),
		Chain: redirectChain(m), HasRaw: m.SHA256 != "" || m.Size > 0, HasPage: slices.Contains(m.Files, record.PageFile)}
	if hasThumb(m) {
		v.Thumb = thumbURL(slug)
	}
	// A failed capture has no text.txt: a link to it would be a 404.
	switch _, err := s.store.Stat(ctx, record.ArticleKey(slug, record.TextFile)); {
	case err == nil:
		v.HasText = true
	case !storage.IsNotExist(err):
		v.HasText = len(body.Paragraphs) > 0 || body.HTML != "" // unknown: trust what was read
	}
	for _, d := range m.Digests {
		ref := digestRef{Name: d}
		if record.ValidSlug(d) {
			ref.Slug = d
			if sum, ok := s.catalog.lookup(d); ok {
				ref.Name, ref.Date, ref.Known = sum.Title, sum.Date, true
			}
		}
		v.Digests = append(v.Digests, ref)
	}
	if ix, err := s.catalog.index(ctx); err == nil {
		v.Tags = ix.articleTags[slug]
	}
	for _, c := range slices.Backward(m.History) {
		v.History = append(v.History, captureView{CaptureRef: c,
			Linkable: record.ValidCaptureID(c.CaptureID) && c.Status != record.StatusFailed})
	}
	s.render(w, r, http.StatusOK, "article", page{Title: v.Title, Data: v})
}

// redirectChain returns an article's redirect chain for display, or nil
// when it only repeats the publisher and final URLs shown above it (one
// hop, or none).
func redirectChain(m *record.ArticleMeta) []string {
	c := m.RedirectChain
	final := cmp.Or(m.FinalURL, m.URL)
	if len(c) <= 1 || len(c) == 2 && c[0] == m.URL && c[1] == final {
		return nil
	}
	return c
}

type rawView struct {
	Slug      string
	Title     string
	Capture   string // "" for the current capture
	FetchedAt time.Time
	URL       string
	Size      int64
	Src       string // the snapshot URL shown in the iframe
	TextURL   string
	Download  string // the page shown, as stored
	RawURL    string // raw.html as received, when the page shown is page.html
	Article   string
	// SelfContained is set when the page shown is page.html, with its
	// stylesheets, images and fonts; else it is raw.html, without them.
	SelfContained bool
}

// rawPage is the wrapper page that shows an archived page inside an iframe
// sandbox: the capture's self-contained page.html when it has one (its
// layout, fonts and images from the archive), else raw.html, the page as
// received (captures made before page.html, or whose page could not be
// built). The page itself is served by pageSnapshot or rawSnapshot with a
// CSP sandbox, so it is inert even if someone opens it directly.
func (s *Server) rawPage(w http.ResponseWriter, r *http.Request) {
	slug, capture := r.PathValue("slug"), r.PathValue("capture")
	if !record.ValidSlug(slug) || (capture != "" && !record.ValidCaptureID(capture)) {
		s.badSlug(w, r, "snapshot")
		return
	}
	ctx, cancel := s.storeContext(r)
	defer cancel()
	m, err := record.ReadMeta(ctx, s.store, slug)
	if err != nil {
		s.fail(w, r, "article", err)
		return
	}
	m.Slug = slug
	name, selfContained := record.PageFile, true
	info, err := s.store.Stat(ctx, snapshotKey(slug, capture, record.PageFile))
	if storage.IsNotExist(err) {
		name, selfContained = record.RawFile, false
		info, err = s.store.Stat(ctx, snapshotKey(slug, capture, record.RawFile))
	}
	if err != nil {
		s.fail(w, r, "snapshot", err)
		return
	}
	base := "/articles/" + url.PathEscape(slug)
	if capture != "" {
		base += "/history/" + url.PathEscape(capture)
	}
	v := rawView{
		Slug: slug, Title: displayTitle(m), Capture: capture, FetchedAt: m.FetchedAt, URL: m.FinalURL,
		Size: info.Size, Src: base + "/" + name, TextURL: base + "/text.txt",
		Download: base + "/" + name + "?download=1", Article: "/articles/" + url.PathEscape(slug),
		SelfContained: selfContained,
	}
	if selfContained {
		v.RawURL = base + "/raw.html?download=1"
	}
	if v.URL == "" {
		v.URL = m.URL
	}
	if capture != "" {
		v.FetchedAt = time.Time{}
		for _, c := range m.History {
			if c.CaptureID == capture {
				v.FetchedAt = c.FetchedAt
			}
		}
	}
	s.render(w, r, http.StatusOK, "raw", page{Title: "Snapshot: " + v.Title, Data: v})
}

type searchView struct {
	Query   string
	Results *searchResults
	Pager   pager
	Index   IndexStats
	Took    string
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	n, err := pageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	sq, err := parseQuery(q)
	if err != nil {
		s.fail(w, r, "search", err)
		return
	}
	stats := s.index.Stats()
	v := searchView{Query: q, Index: stats}
	p := page{Title: "Search", Query: q}
	if stats.Refreshing && stats.Pending > 0 {
		p.Notice = fmt.Sprintf("The search index is being updated: %d articles searchable, %d still to index.", stats.Documents, stats.Pending)
	}
	if sq.empty() {
		p.Data = v
		s.render(w, r, http.StatusOK, "search", p)
		return
	}
	size := s.opts.PageSize
	res, err := s.search(r.Context(), sq, (n-1)*size, size)
	if err != nil {
		s.searchFailed(w, r, err)
		return
	}
	v.Results = res
	v.Took = res.Took.Round(time.Millisecond / 10).String()
	v.Pager = newPager(url.URL{Path: "/search", RawQuery: url.Values{"q": {q}}.Encode()}, n, int(min(res.Total, maxResultsWin)), size)
	p.Title = "Search: " + q
	p.Data = v
	s.render(w, r, http.StatusOK, "search", p)
}

// snapshotKey is the key of one of the objects of an article's current
// capture (capture "") or of an earlier one.
func snapshotKey(slug, capture, name string) string {
	if capture == "" {
		return record.ArticleKey(slug, name)
	}
	return record.HistoryKey(slug, capture, name)
}

// searchFailed answers a failed search: the index, unlike the store, is
// local, so a failure other than a bad query or a timeout is a bug.
func (s *Server) searchFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBadQuery) || errors.Is(err, context.DeadlineExceeded) || r.Context().Err() != nil {
		s.fail(w, r, "search", err)
		return
	}
	s.log.Error("viewer: search failed", "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "The search index could not answer. The details are in the viewer's log.")
}
