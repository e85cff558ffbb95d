package viewer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

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
	Total    int
	Articles uint64
	Pager    pager
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	n, err := pageParam(r)
	if err != nil {
		s.fail(w, r, "page", err)
		return
	}
	ctx, cancel := s.storeContext(r)
	defer cancel()
	digests, stale, err := s.catalog.list(ctx)
	if err != nil {
		s.fail(w, r, "digest list", err)
		return
	}
	size := s.opts.PageSize
	pg := newPager(url.URL{Path: "/"}, n, len(digests), size)
	if n > pg.Pages {
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("There is no page %d: the digest list has %d.", n, pg.Pages))
		return
	}
	start := (n - 1) * size
	p := page{Title: "Digests", Data: homeView{
		Digests:  digests[start:min(start+size, len(digests))],
		Total:    len(digests),
		Articles: s.index.Stats().Documents,
		Pager:    pg,
	}}
	if stale != nil {
		p.Notice = stale.Error() + "."
	}
	s.render(w, r, http.StatusOK, "home", p)
}

type digestView struct {
	Digest  *record.DigestRecord
	Summary digestSummary
}

func (s *Server) digestPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	d, ok := s.requestedDigest(ctx, w, r)
	if !ok {
		return
	}
	sum := summarize(d, "")
	s.render(w, r, http.StatusOK, "digest", page{Title: sum.Title, Data: digestView{Digest: d, Summary: sum}})
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
}

func (s *Server) articlePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.storeContext(r)
	defer cancel()
	m, ok := s.requestedArticle(ctx, w, r)
	if !ok {
		return
	}
	slug := m.Slug
	body, err := s.loadReadable(ctx, slug)
	if err != nil {
		s.fail(w, r, "article", err)
		return
	}
	v := articleView{Meta: m, Title: displayTitle(m), Body: body, Published: formatPublished(m.PublishedTime)}
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
	for _, c := range slices.Backward(m.History) {
		v.History = append(v.History, captureView{CaptureRef: c, Linkable: record.ValidCaptureID(c.CaptureID)})
	}
	s.render(w, r, http.StatusOK, "article", page{Title: v.Title, Data: v})
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
	Download  string
	Article   string
}

// rawPage is the wrapper page that shows a raw snapshot inside an iframe
// sandbox. The snapshot itself is served by rawSnapshot with a CSP sandbox,
// so it is inert even if someone opens it directly.
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
	info, err := s.store.Stat(ctx, snapshotKey(slug, capture, record.RawFile))
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
		Size: info.Size, Src: base + "/raw.html", TextURL: base + "/text.txt",
		Download: base + "/raw.html?download=1", Article: "/articles/" + url.PathEscape(slug),
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
