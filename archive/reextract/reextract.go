// Package reextract rebuilds what linkarc derives from a capture (the
// readable text, the metadata found in the page, and the verdict on
// whether the page is the article) from the page the capture kept, with no
// request to anyone: from the capture's WARC, or from raw.html for
// captures made before WARC recording (archive/stored.ReadPage). Every
// improvement to extraction so reaches the whole archive (`linkarc
// reextract`, issue 11 item 6).
//
// The verdicts are archive's: a page is ok, blocked (a junk reason), or
// failed at extraction (extract, too_complex, mojibake), and only captures
// whose status extraction decided are rebuilt; a capture that failed to
// fetch stays as it is. The capture itself (raw.html, its WARC, its
// history, when and how it was fetched) is never changed: readable.html, text.txt and meta.json are
// rewritten through storage/record's Writer (Rederive), meta.json last,
// and the digest records listing an article whose status changed are
// brought up to date.
//
// The objects a capture derives from its WARC, the self-contained page
// (page.html) and the thumbnail of its lead image (thumb.jpg), are built
// again too (archive/singlepage, as the archiver builds them): for a
// capture that has a WARC but no page (captured with pages off, or by a
// build before pages), a page made by an older builder
// (record.ArticleMeta.PageVersion below singlepage.Version), or a lead
// image that re-extraction changed; or for every capture with a WARC
// (PagesAll). The originals of the WARC's revisit records are found in
// the store (singlepage.StoreOriginals). Everything is written under the
// article's lease, as the archiver writes (record.Writer.RederiveCapture),
// so that a `linkarc archive` running at the same time never reads a
// record half rewritten.
//
// Nothing here has an HTTP client: the store is all it reads.
package reextract

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/archive/singlepage"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Extractor finds the article in a page and judges it, as
// archive.Options.Extractor does: an *extract.Pool (worker processes, each
// page under a time and memory budget) or extract.InProcess (no budget).
type Extractor interface {
	Extract(ctx context.Context, page extract.Page) (*extract.Result, error)
}

// Options configures Run.
type Options struct {
	// Store is the archive; required.
	Store storage.Store
	// Filter selects the articles to rebuild (stored.Filter); the zero
	// Filter selects all.
	Filter stored.Filter
	// Extractor extracts and judges each page; nil means
	// extract.InProcess{}, with no budget: a hostile page kept in the
	// archive can then take as long and as much memory as it needs.
	// linkarc reextract passes an *extract.Pool, as linkarc archive does.
	Extractor Extractor
	// Pages says which captures get their self-contained page and
	// thumbnail built again; "" means PagesMissing.
	Pages Pages
	// TempDir holds the WARCs copied from the store while pages are
	// built (random access) and the spill files of WARC records read;
	// "" means os.TempDir().
	TempDir string
	// LeaseWait is how long an article another run is writing is waited
	// for before it is left as it is (Result.Skipped); 0 means
	// DefaultLeaseWait.
	LeaseWait time.Duration
	// Logger receives a line per article that failed, and per page that
	// could not be built. Nil discards.
	Logger *slog.Logger
	// Progress, when set, is told of each article as it is done.
	Progress func(Result)
}

// Pages says which captures with a WARC get their page.html and
// thumb.jpg built again (Options.Pages).
type Pages string

const (
	// PagesMissing builds them for captures without a page, with a page
	// an older builder made (PageVersion below singlepage.Version), or
	// whose lead image re-extraction changed.
	PagesMissing Pages = "missing"
	// PagesAll builds them for every capture with a WARC, e.g. to try a
	// change to singlepage that did not bump its Version.
	PagesAll Pages = "all"
	// PagesNone builds none: text, metadata and verdicts only.
	PagesNone Pages = "none"
)

// ParsePages reads a Pages value: missing, all or none.
func ParsePages(s string) (Pages, error) {
	switch p := Pages(s); p {
	case PagesMissing, PagesAll, PagesNone:
		return p, nil
	}
	return "", fmt.Errorf("%q: want %s, %s or %s", s, PagesMissing, PagesAll, PagesNone)
}

// DefaultLeaseWait is Options.LeaseWait's default, the archiver's own
// (archive.DefaultLeaseWait).
const DefaultLeaseWait = 2 * record.DefaultLeaseTTL

// Verdict is a capture's status and reason.
type Verdict struct {
	Status string        `json:"status"`
	Reason record.Reason `json:"reason,omitempty"`
}

// Result is what happened to one article.
type Result struct {
	Slug    string
	From    string  // stored.FromWARC or stored.FromRaw; "" when not rebuilt
	Before  Verdict // as stored
	After   Verdict // as rebuilt (Before when not rebuilt)
	Skipped string  // why it was not rebuilt, when it was not
	Err     error   // what went wrong, when something did
	// Page is set when the self-contained page was built again: why
	// (e.g. "missing", "older builder (version 0)"); Thumbnail when a
	// thumbnail came with it. PageErr says why a page that was due could
	// not be built; the article is rebuilt all the same.
	Page      string
	Thumbnail bool
	PageErr   error
}

// Changed reports whether the verdict changed.
func (r Result) Changed() bool { return r.Before != r.After }

// Report sums up a run.
type Report struct {
	Rebuilt  int // articles whose derived objects were rewritten
	FromWARC int // of those, read from their WARC
	FromRaw  int // of those, read from raw.html
	Changed  int // of those, whose status or reason changed
	Skipped  int // not rebuilt: nothing to rebuild from, or nothing extraction decided
	Digests  int // digest records updated for changed statuses
	// Pages counts the self-contained pages built again (with a
	// thumbnail: Thumbnails); PagesNotBuilt those due that could not be
	// (Result.PageErr), which keep what they had.
	Pages         int
	Thumbnails    int
	PagesNotBuilt int
	Failed        []Result
}

// rebuildable reports whether extraction decided a capture's status, so
// that extracting again may decide it again: ok, blocked (a junk verdict),
// or failed at extraction (extract, too_complex, mojibake). A capture that
// failed to fetch stays as it is.
func rebuildable(m *record.ArticleMeta) bool {
	switch m.Status {
	case record.StatusOK, record.StatusBlocked:
		return true
	case record.StatusFailed:
		return m.Reason == record.ReasonExtract || m.Reason == record.ReasonTooComplex || m.Reason == record.ReasonMojibake
	}
	return false
}

// Run rebuilds every selected article's current capture. An article that
// cannot be rebuilt (its WARC does not read, its page does not decode) is
// reported in Report.Failed and the run goes on; a store failure or ctx
// ending stops it with the error.
func Run(ctx context.Context, opts Options) (Report, error) {
	var rep Report
	if opts.Store == nil {
		return rep, errors.New("reextract: Options.Store is nil")
	}
	if opts.Pages == "" {
		opts.Pages = PagesMissing
	}
	if _, err := ParsePages(string(opts.Pages)); err != nil {
		return rep, fmt.Errorf("reextract: %w", err)
	}
	if opts.LeaseWait <= 0 {
		opts.LeaseWait = DefaultLeaseWait
	}
	if opts.Extractor == nil {
		opts.Extractor = extract.InProcess{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log := opts.Logger
	sel, err := stored.Select(ctx, opts.Store, opts.Filter)
	if err != nil {
		return rep, err
	}
	w := record.Writer{Store: opts.Store}
	leaser := record.NewLeaser(opts.Store) // nil: the store cannot write conditionally
	changed := map[string][]string{}       // digest slug -> articles whose verdict changed
	err = sel.Articles(ctx, func(m *record.ArticleMeta) error {
		res, err := rebuild(ctx, &opts, w, leaser, m)
		if err != nil {
			return err // the store, or ctx
		}
		switch {
		case res.Err != nil:
			rep.Failed = append(rep.Failed, res)
			log.Warn("reextract: article not rebuilt", "slug", res.Slug, "err", res.Err)
		case res.Skipped != "":
			rep.Skipped++
		default:
			rep.Rebuilt++
			if res.From == stored.FromWARC {
				rep.FromWARC++
			} else {
				rep.FromRaw++
			}
			if res.Page != "" {
				rep.Pages++
				if res.Thumbnail {
					rep.Thumbnails++
				}
			}
			if res.PageErr != nil {
				rep.PagesNotBuilt++
				log.Warn("reextract: no self-contained page; it keeps what it had", "slug", res.Slug, "err", res.PageErr)
			}
			if res.Changed() {
				rep.Changed++
				for _, d := range m.Digests {
					changed[d] = append(changed[d], m.Slug)
				}
			}
		}
		if opts.Progress != nil {
			opts.Progress(res)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for _, d := range slices.Sorted(mapKeys(changed)) {
		ok, err := updateDigest(ctx, opts.Store, w, d, changed[d])
		if err != nil {
			return rep, err
		}
		if ok {
			rep.Digests++
		}
	}
	return rep, nil
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

// rebuild re-extracts one article. The error is the store's or ctx's; what
// goes wrong with the article itself is in the Result.
func rebuild(ctx context.Context, opts *Options, w record.Writer, leaser *record.Leaser, m *record.ArticleMeta) (Result, error) {
	st, ex := opts.Store, opts.Extractor
	res := Result{Slug: m.Slug, Before: Verdict{m.Status, m.Reason}}
	res.After = res.Before
	if !rebuildable(m) {
		res.Skipped = fmt.Sprintf("not fetched (%s): nothing extraction decided", cmp.Or(string(m.Reason), m.Status))
		return res, nil
	}
	page, err := stored.ReadPage(ctx, st, m, opts.TempDir)
	switch {
	case errors.Is(err, stored.ErrNoPage):
		res.Skipped = "the capture kept no page"
		return res, nil
	case errors.As(err, new(*stored.PageError)):
		res.Err = err
		return res, nil
	case err != nil:
		return res, err // the store, or ctx
	}
	body, charsetName := charset.ToUTF8(page.Body, page.ContentType)
	next := *m
	next.Charset = charsetName
	got, err := ex.Extract(ctx, extract.Page{Body: body, FinalURL: page.URL, URL: m.URL})
	readable, text := "", ""
	// The verdicts are archive's (archive.Archiver.extractInto), so that a
	// capture rebuilt reads as one archived today.
	next.ArticleTitle, next.Byline, next.SiteName, next.PublishedTime = "", "", "", ""
	next.Lang, next.Excerpt, next.Image, next.WordCount, next.Extraction = "", "", "", 0, ""
	switch {
	case err != nil && ctx.Err() != nil:
		return res, ctx.Err()
	case errors.Is(err, extract.ErrTooComplex):
		next.Status, next.Reason, next.Error = record.StatusFailed, record.ReasonTooComplex, err.Error()
	case err != nil:
		next.Status, next.Reason, next.Error = record.StatusFailed, record.ReasonExtract, err.Error()
	default:
		next.ArticleTitle, next.Byline, next.SiteName = got.Title, got.Byline, got.SiteName
		next.PublishedTime, next.Lang, next.Excerpt, next.Image = got.PublishedTime, got.Lang, got.Excerpt, got.Image
		next.WordCount = got.WordCount
		if got.Bounded {
			next.Extraction = record.ExtractionBounded
		}
		readable, text = got.HTML, got.Text
		switch got.Junk {
		case "":
			next.Status, next.Reason, next.Error = record.StatusOK, "", ""
		case record.ReasonMojibake:
			next.Status, next.Reason, next.Error = record.StatusFailed, got.Junk, "the page's text is garbled (wrong character set)"
		default:
			next.Status, next.Reason, next.Error = record.StatusBlocked, got.Junk, "the page is not the article: "+string(got.Junk)
		}
	}
	// The page and thumbnail, from the WARC, when they are due; built
	// before the lease is taken, like the text: a capture replaced
	// meanwhile is found out below, and nothing is written.
	derived := record.Rederived{Readable: readable, Text: text}
	built := false
	if why := pageDue(opts.Pages, m, &next, page); why != "" {
		r, err := buildPage(ctx, opts, m, page.URL, next.Image)
		switch {
		case err != nil && ctx.Err() != nil:
			return res, ctx.Err()
		case errors.Is(err, errCapturedAgain):
			res.Skipped = "captured again while it was being rebuilt"
			return res, nil
		case err != nil:
			res.PageErr = err
		default:
			built = true
			res.Page, res.Thumbnail = why, r.Thumbnail != nil
			derived.Objects = r.Objects()
			if r.Thumbnail == nil {
				derived.Drop = []string{record.ThumbFile}
			}
		}
	}
	// A run of `linkarc archive` may be writing the article: the rewrite
	// happens under the article's lease (docs/storage.md, "Several
	// writers at once"), and only if the capture is still the one read.
	if leaser != nil {
		lease, err := leaser.AcquireWait(ctx, record.ArticleLeaseKey(m.Slug), "reextract "+m.Slug, opts.LeaseWait)
		if held := (*record.LeasedError)(nil); errors.As(err, &held) {
			res.Skipped = held.Error()
			return res, nil
		}
		if err != nil {
			return res, err
		}
		defer lease.Release(ctx)
	}
	now, err := record.ReadMeta(ctx, st, m.Slug)
	if err != nil {
		return res, fmt.Errorf("reread %s: %w", m.Slug, err)
	}
	if !now.FetchedAt.Equal(m.FetchedAt) || now.SHA256 != m.SHA256 {
		res.Skipped = "captured again while it was being rebuilt"
		return res, nil
	}
	next.History, next.Digests = now.History, now.Digests
	next.Files, next.Sums, next.PageVersion = now.Files, now.Sums, now.PageVersion
	if built {
		next.PageVersion = singlepage.Version
	}
	if err := w.RederiveCapture(ctx, next, derived); err != nil {
		return res, err
	}
	res.From, res.After = page.From, Verdict{next.Status, next.Reason}
	return res, nil
}

// pageDue says why the capture's page and thumbnail are to be built
// again ("" when they are not): the capture has a WARC holding its page,
// the verdict lets it have a page (as archive.run.store decides: not for
// a page over the extraction's budget), and the mode asks for it.
//
// Unlike the archiver, which builds pages beside other captures and
// extractions and so leaves pages over archive.MaxSelfContainedSource (4
// MiB as received) with raw.html, re-extraction builds one page at a
// time, and builds those too: singlepage's own bounds (its node estimate,
// the page's 64 MiB, each resource's 16 MiB) and stored.MaxPageBytes hold.
func pageDue(mode Pages, m, next *record.ArticleMeta, page *stored.Page) string {
	switch {
	case mode == PagesNone, page.From != stored.FromWARC,
		next.Extraction == record.ExtractionBounded, next.Reason == record.ReasonTooComplex, next.Reason == record.ReasonExtract:
		return ""
	case mode == PagesAll:
		return "asked for"
	case !slices.Contains(m.Files, record.PageFile):
		return "missing"
	case m.PageVersion < singlepage.Version:
		return fmt.Sprintf("made by an older builder (version %d, now %d)", m.PageVersion, singlepage.Version)
	case next.Image != m.Image:
		return "new lead image"
	}
	return ""
}

// errCapturedAgain says the WARC read is not the capture's meta.json
// describes: the article was captured again meanwhile.
var errCapturedAgain = errors.New("captured again while it was being rebuilt")

// buildPage builds the self-contained page and thumbnail of m's capture
// from its WARC, spilled to a temporary file (its sum checked against the
// one meta.json records), the originals of its revisits found in the
// store.
func buildPage(ctx context.Context, opts *Options, m *record.ArticleMeta, pageURL, leadImage string) (singlepage.Result, error) {
	rc, err := opts.Store.Get(ctx, stored.WARCKey(m.Slug, ""))
	if err != nil {
		return singlepage.Result{}, fmt.Errorf("read %s: %w", stored.WARCFile, err)
	}
	h := sha256.New()
	src, spill, err := singlepage.Spill(io.TeeReader(rc, h), stored.WARCKey(m.Slug, ""), opts.TempDir)
	rc.Close()
	if err != nil {
		return singlepage.Result{}, err
	}
	defer spill.Close()
	if want := m.Sums[record.WARCFile]; want != "" && want != hex.EncodeToString(h.Sum(nil)) {
		return singlepage.Result{}, errCapturedAgain
	}
	originals, closeOriginals := singlepage.StoreOriginals(opts.Store, opts.TempDir)
	defer closeOriginals.Close()
	return singlepage.Capture(ctx, pageURL, leadImage, []singlepage.Source{src}, singlepage.Options{Originals: originals, TempDir: opts.TempDir})
}

// updateDigest brings the statuses of a digest's articles that changed up
// to date, and its counts; false when the digest is gone or unreadable.
func updateDigest(ctx context.Context, st storage.Store, w record.Writer, slug string, slugs []string) (bool, error) {
	d, err := record.ReadDigestAll(ctx, st, slug)
	switch {
	case storage.IsNotExist(err), errors.Is(err, record.ErrUnreadable):
		return false, nil
	case err != nil:
		return false, err
	}
	d.Slug = slug
	for i, a := range d.Articles {
		if !slices.Contains(slugs, a.Slug) {
			continue
		}
		m, err := record.ReadMeta(ctx, st, a.Slug)
		if err != nil {
			continue
		}
		d.Articles[i].Status, d.Articles[i].Reason = m.Status, m.Reason
	}
	d.Counts = map[string]int{}
	for _, a := range d.Articles {
		d.Counts[a.Status]++
	}
	return true, w.PutDigest(ctx, *d)
}
