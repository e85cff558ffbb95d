package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/archive/singlepage"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Resolver turns Google News links and short links into publisher URLs.
// *resolver.Resolver implements it.
type Resolver interface {
	// IsShortLink reports whether a link that is not a Google News link
	// is a short link (t.co, bit.ly…), resolved before it is fetched;
	// other links are fetched as they are.
	IsShortLink(link string) bool
	// Stream resolves links, handing each result to sink as soon as it is
	// known (see resolver.Resolver.Stream).
	Stream(ctx context.Context, links []string, sink resolver.Sink)
	// Classify says how each link would be resolved, without a request.
	Classify(ctx context.Context, links []string) []resolver.Classified
	// ExpectedTime is how long resolving ids new ids with Google takes at
	// the configured spacing.
	ExpectedTime(ids int) time.Duration
	// RateLimited reports whether Google refused further requests.
	RateLimited() bool
}

// PageFetcher fetches one publisher page. *fetch.Fetcher implements it;
// its errors are *fetch.Error, whose Reason the capture records.
type PageFetcher interface {
	Fetch(ctx context.Context, url string) (*fetch.Capture, error)
}

// Extractor finds the article in a fetched page and judges whether the
// page is the article. *extract.Pool (worker processes, each page under a
// time and memory budget) and extract.InProcess (no budget) implement it.
// The error wraps extract.ErrTooComplex for a page over the budget even
// in bounded form, and is ctx's error when ctx ended first.
type Extractor interface {
	Extract(ctx context.Context, page extract.Page) (*extract.Result, error)
}

// FeedFetcher fetches a feed named on the command line; a PageFetcher that
// also implements it (as *fetch.Fetcher does) has feed URLs fetched before
// planning, politely as pages. Its errors are *fetch.Error.
type FeedFetcher interface {
	FetchFeed(ctx context.Context, url string) (*fetch.Capture, error)
}

// Defaults of Options, used for zero fields.
const (
	DefaultHostConcurrency = 32
	DefaultResolveChunk    = 50 // one batchexecute POST
	DefaultStoreWorkers    = 8
	// DefaultGrace bounds what a run still does once interrupted: store
	// the pages already fetched, and write the digest records.
	DefaultGrace = 10 * time.Second
)

// Options configures an Archiver. Store, Resolver and Fetcher are required;
// a zero field takes its Default value.
type Options struct {
	Store    storage.Store
	Resolver Resolver
	Fetcher  PageFetcher

	// HostConcurrency is how many articles may be in flight at once, each on
	// a different host (a host is always worked one article at a time).
	// Default DefaultHostConcurrency.
	HostConcurrency int
	// ResolveChunk is unused: links are streamed to the resolver, and
	// fetching starts with the first one known (resolver.Stream).
	//
	// Deprecated: kept so that existing callers still compile.
	ResolveChunk int
	// Grace bounds what a run still does once interrupted (ctx ended):
	// pages already fetched are stored, and the digest records written,
	// within it. Default DefaultGrace.
	Grace time.Duration
	// StoreWorkers is how many fetched pages are extracted and stored at
	// once; it also bounds how many fetched pages wait in memory. Default
	// DefaultStoreWorkers.
	StoreWorkers int
	// ExtractWorkers bounds how many of those extract at the same time.
	// Extraction is CPU-bound and builds two document trees per page, so
	// more extractions than cores only add memory. Default GOMAXPROCS. An
	// *extract.Pool as Extractor should have as many workers.
	ExtractWorkers int
	// Extractor extracts and judges each fetched page. Default
	// extract.InProcess{}: in this process with no time or memory budget,
	// where one hostile page can exhaust the process (issue 10). linkarc
	// archive passes an *extract.Pool.
	Extractor Extractor
	// Refresh re-captures articles that are already archived as ok.
	Refresh bool
	// LeaseWait bounds how long the end of a run waits for another run
	// writing the same store to finish an article both want (see
	// lease.go). Default DefaultLeaseWait.
	LeaseWait time.Duration
	// Capture configures the WARC and the page requisites (capture.go).
	Capture CaptureOptions

	Progress Progress     // default: none
	Logger   *slog.Logger // default: discard
	// Now is the capture clock. Default time.Now.
	Now func() time.Time
}

// Archiver runs the pipeline. Create it with New.
type Archiver struct {
	opts   Options
	writer record.Writer
	log    *slog.Logger
}

// New checks opts and returns an Archiver.
func New(opts Options) (*Archiver, error) {
	if opts.Store == nil || opts.Resolver == nil || opts.Fetcher == nil {
		return nil, errors.New("archive: Store, Resolver and Fetcher are required")
	}
	if opts.HostConcurrency <= 0 {
		opts.HostConcurrency = DefaultHostConcurrency
	}
	if opts.StoreWorkers <= 0 {
		opts.StoreWorkers = DefaultStoreWorkers
	}
	if opts.ExtractWorkers <= 0 {
		opts.ExtractWorkers = runtime.GOMAXPROCS(0)
	}
	if opts.Extractor == nil {
		opts.Extractor = extract.InProcess{}
	}
	if opts.LeaseWait <= 0 {
		opts.LeaseWait = DefaultLeaseWait
	}
	if opts.ResolveChunk <= 0 {
		opts.ResolveChunk = DefaultResolveChunk
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Progress == nil {
		opts.Progress = noProgress{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Archiver{opts: opts, writer: record.Writer{Store: opts.Store}, log: opts.Logger}, nil
}

// article is the run's state for one distinct article: a publisher URL (or,
// while unresolved, a link) with every digest item that points at it.
type article struct {
	slug      string
	title     string
	publisher string
	link      string // first digest link naming it
	url       string // publisher URL; empty when resolution failed
	method    string // how url was found
	host      string
	key       string                        // identity: "url:" + canonical publisher URL, or "link:" + link
	same      func(record.ArticleMeta) bool // whether a stored meta.json is this article's
	lease     *record.Lease                 // held from fetch to store (see lease.go)
	reslugged bool                          // another run took its slug meanwhile (see lease.go)
	reclaimed bool                          // it was given another slug (planner.reclaim)

	// resolvedAt is when url was resolved (resolver.Result.ResolvedAt).
	resolvedAt time.Time

	mu             sync.Mutex
	prov           *resolver.Provenance // the exchanges that resolved url (Google's, a short link's hops), until captured (provenance.go)
	digests        []string             // slugs of digests listing it (sorted)
	writtenDigests []string             // what the stored meta.json says
	status         string               // final status; empty while unfinished
	reason         record.Reason
	stored         bool // meta.json in the store describes this article
	queued         bool // handed to the host queues (counted as fetching)

	// prev is the meta.json found in the store when planned, kept only
	// while the article is still to be written: a run over a large archive
	// must not hold the metadata of every article it skips.
	prior *record.Prior
}

// previous returns what the article's next write replaces.
func (a *article) previous() record.Prior {
	if a.prior == nil {
		return record.Prior{}
	}
	return *a.prior
}

func (a *article) addDigests(ds []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.digests = record.MergeDigests(a.digests, ds)
}

func (a *article) snapshotDigests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.digests...)
}

// digestState is a parsed digest and, per item, the article it became.
type digestState struct {
	d        *digest.Digest
	slug     string     // its key: digests/<slug>.json (see assignDigestKeys)
	source   string     // record.DigestRecord.Source
	articles []*article // parallel to d.Items; nil where the item was not planned
	urls     []string   // parallel to d.Items once planned: the publisher URL each item's own link resolved to
}

// Run archives what roots name, as digest.Open reads them (digest files
// and folders, URL lists, feeds, bookmark exports, URLs; no standard
// input). When roots name nothing usable (a missing path, an empty folder)
// it returns the *digest.InputError and an empty Report at once;
// otherwise it is RunBatch.
func (a *Archiver) Run(parent context.Context, roots []string) (*Report, error) {
	b, err := digest.Open(roots, digest.Options{Now: a.opts.Now()})
	if err != nil {
		rep := newReport(a.opts.Now())
		rep.FinishedAt = rep.StartedAt
		return rep, err
	}
	return a.RunBatch(parent, b)
}

// RunBatch archives every digest of b. The returned error is for problems
// that stop the whole run: the store failed (after the retries of the
// store itself, see storage.NewRetrying), so no further page is fetched,
// and the articles not yet stored are counted as Unfinished in the Report.
// Everything else — a broken input, a link Google would not resolve, a
// page that failed — is in the Report, and the batch goes on.
func (a *Archiver) RunBatch(parent context.Context, b *digest.Batch) (*Report, error) {
	rep := newReport(a.opts.Now())
	a.fetchFeeds(parent, b)
	digests := a.loadDigests(b, rep)
	rep.Digests = len(digests)

	// A store failure cancels ctx with its error as the cause: fetching
	// pages that cannot be kept would only cost the publishers requests and
	// the user a retry budget per article. An interrupt (parent ends) stops
	// fetching too, but keep lives on for Grace: pages already fetched are
	// still stored, and the digest records written.
	ctx, stop := context.WithCancelCause(parent)
	defer stop(nil)
	keep, cancelKeep := context.WithCancel(context.WithoutCancel(parent))
	defer cancelKeep()
	stopKeep := context.AfterFunc(ctx, func() {
		if parent.Err() == nil {
			cancelKeep() // the store failed: nothing more is written
			return
		}
		time.AfterFunc(a.opts.Grace, cancelKeep)
	})
	defer stopKeep()
	r := &run{Archiver: a, rep: rep, fetched: make(chan fetched, a.opts.StoreWorkers), stop: stop, ctx: ctx, keep: keep,
		extracting: make(chan struct{}, a.opts.ExtractWorkers), capture: newCapturer(a),
		leases: leases{leaser: record.NewLeaser(a.opts.Store)}}
	if err := r.assignDigestKeys(ctx, digests); err != nil {
		r.storeFailed(err)
	} else if err := r.prepareURLIndex(ctx, true); err != nil {
		r.storeFailed(err)
	} else if err := r.loadAliases(ctx); err != nil {
		r.storeFailed(err)
	}
	p := newPlanner(r, digests)
	r.stages = newTracker(a.opts.Progress, a.opts.Resolver.ExpectedTime)
	a.opts.Progress.Start(p.total())
	r.stages.update(func(s *Stages) { s.Total, s.Google = p.total(), p.googleLinks() })

	var storers sync.WaitGroup
	for range a.opts.StoreWorkers {
		storers.Add(1)
		go func() {
			defer storers.Done()
			for f := range r.fetched {
				r.store(keep, f)
			}
		}()
	}
	hosts := newHostPool(ctx, a.opts.HostConcurrency, r.fetch)
	if err := p.run(ctx, hosts.enqueue); err != nil {
		r.storeFailed(err)
	}
	hosts.wait()
	r.capture.wait()
	close(r.fetched)
	storers.Wait()
	r.runDeferred(ctx, p)
	for _, art := range p.articles {
		art.dropProvenance() // those never captured (interrupted, leased elsewhere)
	}
	a.opts.Progress.Finish()
	rep.Leased = r.leases.leased

	// Links the planner did not reach (the run stopped early) count as one
	// unfinished article each: whether some lead to the same article is
	// not known until they are resolved.
	unplanned := p.total() - p.planned
	rep.Articles = len(p.articles) + unplanned
	rep.Unfinished = unplanned
	for _, art := range p.articles {
		if art.status == "" {
			rep.Unfinished++
		}
	}
	rep.RateLimited = a.opts.Resolver.RateLimited()
	rep.Unresolved = p.unresolved
	err := context.Cause(ctx)
	switch {
	case parent.Err() != nil:
		// Interrupted: what was done is kept, and the digests say what
		// was not (unfinished), within the grace period.
		rep.Interrupted = true
		err = nil
		if ferr := r.finish(keep, p, digests); ferr != nil {
			a.log.Warn("interrupted: digest records not all written", "err", ferr)
		}
	case err != nil:
		rep.Stopped = err.Error()
	default:
		err = r.finish(ctx, p, digests)
	}
	rep.FinishedAt = a.opts.Now()
	return rep, err
}

// loadDigests takes the batch's digests; its broken inputs go to the report.
func (a *Archiver) loadDigests(b *digest.Batch, rep *Report) []*digestState {
	for _, err := range b.Errors {
		rep.DigestErrors = append(rep.DigestErrors, digestFailure(err))
		a.log.Warn("skipping input", "err", err)
	}
	for _, f := range b.Feeds {
		// Left when the fetcher cannot fetch feeds (see fetchFeeds).
		rep.DigestErrors = append(rep.DigestErrors, DigestFailure{Path: f.URL,
			Reason: "this fetcher does not fetch feeds: save the feed to a file and name the file"})
	}
	// Two inputs may claim one slug (another day's digest, another
	// file): assignDigestKeys gives each its own key before planning.
	var out []*digestState
	for _, d := range b.Digests {
		a.noteSkipped(rep, d)
		out = append(out, &digestState{d: d, slug: d.Slug, source: digestSource(d.Path), articles: make([]*article, len(d.Items))})
	}
	return out
}

// fetchFeeds fetches the feed URLs of b through the fetcher, one after
// another and before anything is planned, and adds each as a digest (or
// its failure as an input error). The fetcher's politeness applies:
// robots.txt, the host's interval (news.google.com's is the Google News
// spacing, see cmd), the SSRF guard and the size cap.
func (a *Archiver) fetchFeeds(ctx context.Context, b *digest.Batch) {
	ff, ok := a.opts.Fetcher.(FeedFetcher)
	if !ok || len(b.Feeds) == 0 {
		return
	}
	feeds := b.Feeds
	b.Feeds = nil
	for _, f := range feeds {
		c, err := ff.FetchFeed(ctx, f.URL)
		var body []byte
		if err == nil {
			body = c.Body
		} else {
			a.log.Warn("feed not fetched", "url", f.URL, "err", err)
		}
		b.AddFeed(f, body, err)
	}
}

func digestFailure(err error) DigestFailure {
	var de *digest.Error
	if errors.As(err, &de) {
		return DigestFailure{Path: de.Path, Reason: de.Reason}
	}
	return DigestFailure{Reason: err.Error()}
}

// finish brings meta.json digest lists up to date and writes digest records.
func (a *run) finish(ctx context.Context, p *planner, digests []*digestState) error {
	for _, art := range p.articles {
		if !art.stored || record.SameDigests(art.digests, art.writtenDigests) {
			continue
		}
		if err := a.addDigests(ctx, art); err != nil {
			return err
		}
	}
	now := a.opts.Now().UTC()
	for _, ds := range digests {
		if err := a.writeDigest(ctx, ds, now); err != nil {
			return err
		}
	}
	return nil
}

// run is the state of one Run: the archiver, the report it fills and the
// hand-over from fetching to storing.
type run struct {
	*Archiver
	rep        *Report
	stages     *tracker
	ctx        context.Context // the run's: ends at an interrupt or a store failure
	keep       context.Context // outlives an interrupt by Options.Grace; see RunBatch
	fetched    chan fetched
	unreachOne sync.Once
	extracting chan struct{}           // semaphore: Options.ExtractWorkers
	stop       context.CancelCauseFunc // ends the run early; see storeFailed
	capture    *capturer               // WARC and requisites (capture.go)
	leases     leases                  // see lease.go
	urls       urlIndex                // see urlindex.go
	aliased    map[string]bool         // slugs merged away by linkarc dedupe, when the run started (aliases.go)
}

// storeFailed stops the run because the store failed: every later write
// would fail the same way after the same retries. The first failure is the
// one reported; articles not yet stored stay unfinished for a re-run.
func (a *run) storeFailed(err error) {
	a.log.Error("the store failed; stopping the batch", "err", err)
	a.stop(fmt.Errorf("stopped: the store failed: %w", err))
}

// unreadable reports a meta.json that exists but cannot be read, the way
// the viewer does (record.ErrUnreadable): it is logged and listed in the
// report. The next write keeps it in the article's history before
// capturing the article again (record.Writer.Write).
func (a *run) unreadable(slug string, err error) {
	if a.rep.addUnreadable(slug, err) {
		a.log.Warn("archive: unreadable record; kept in history, capturing the article again", "slug", slug, "err", err)
	}
}

// fetched is a page on its way from its host queue to a store worker.
type fetched struct {
	art   *article
	cap   *fetch.Capture
	err   error
	start time.Time
	files *captureFiles // the capture's WARC; nil when none was recorded
	spill *spilledPage  // cap's body while it waits; nil when it is in cap
}

// fetch fetches one article on its host queue and hands the page on, so
// that the host's next request waits only for the politeness interval, not
// for extraction and storage of this one.
func (a *run) fetch(ctx context.Context, art *article) {
	a.stages.update(func(s *Stages) { s.Waiting-- }) // its host's turn has come
	if !a.acquire(ctx, art, false) {
		return // another run has it; or done meanwhile
	}
	start := time.Now()
	rec, cap, err := a.capture.page(ctx, art)
	if err != nil && ctx.Err() != nil {
		a.capture.finish(ctx, rec, art, cap, nil, err).Close()
		a.release(ctx, art)
		return // interrupted: leave it for the next run
	}
	// From here the page waits for its store worker: its body waits on
	// disk (pagespill.go).
	spill, serr := spillPage(a.opts.Capture.TempDir, cap)
	if serr != nil {
		a.log.Warn("capture: the fetched page waits in memory", "url", art.url, "err", serr)
	}
	// The page's requisites are fetched while the host's queue moves on to
	// its next page (capture.go).
	a.capture.requisitesDone(ctx, func() {
		files := a.capture.finish(ctx, rec, art, cap, spill, err)
		if ctx.Err() != nil {
			// Interrupted while the requisites were fetched: the capture
			// is incomplete, so it is left for the next run. Captures
			// complete before the interrupt are still stored (keep).
			files.Close()
			spill.Close()
			a.release(ctx, art)
			return
		}
		a.fetched <- fetched{art: art, cap: cap, err: err, start: start, files: files, spill: spill}
	})
}

// store extracts, checks and stores one fetched article.
func (a *run) store(ctx context.Context, f fetched) {
	defer a.release(ctx, f.art)
	defer f.files.Close()
	defer f.spill.Close()
	if ctx.Err() != nil {
		return
	}
	art, cap, err, start := f.art, f.cap, f.err, f.start
	snap := &record.Snapshot{Meta: a.baseMeta(art)}
	fillCapture(&snap.Meta, cap)
	if f.files != nil {
		snap.Meta.Requisites = f.files.stats
	}
	if err != nil {
		snap.Meta.Status, snap.Meta.Reason, snap.Meta.Error = record.StatusFailed, fetchReason(err), err.Error()
		if cap != nil && f.spill.load(cap) == nil {
			snap.Raw = cap.Raw
		}
	} else {
		// The page is read back when its extraction's turn comes, not
		// before: the store workers waiting for one hold no page.
		a.extracting <- struct{}{}
		if lerr := f.spill.load(cap); lerr != nil {
			snap.Meta.Status, snap.Meta.Reason, snap.Meta.Error = record.StatusFailed, record.ReasonExtract, lerr.Error()
			a.log.Warn("capture: the fetched page is lost", "url", cap.FinalURL, "err", lerr)
		} else {
			snap.Raw = cap.Raw
			a.extractInto(ctx, snap, cap)
		}
		<-a.extracting
		if a.ctx.Err() != nil && (snap.Meta.Reason == record.ReasonExtract || snap.Meta.Reason == record.ReasonCanceled) {
			// Interrupted, and the extraction failed: most likely the
			// interrupt's doing (Ctrl-C reaches the worker processes
			// too). Left unfinished for the next run, not stored as failed.
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	page := cap
	switch {
	case err != nil:
		page = nil // nothing received to show
	case snap.Meta.Extraction == record.ExtractionBounded, snap.Meta.Reason == record.ReasonTooComplex, snap.Meta.Reason == record.ReasonExtract:
		// The page was too much for the extraction's budget: parsing it
		// again here, in this process and with no budget, could take
		// gigabytes (a formatting bomb). The viewer shows raw.html.
		page = nil
	}
	// Building the self-contained page is CPU work like extraction, and
	// takes its turn with it.
	a.extracting <- struct{}{}
	snap.Extra = a.capture.captureObjects(ctx, f.files, page, snap.Meta.Image)
	<-a.extracting
	if slices.ContainsFunc(snap.Extra, func(o record.Object) bool { return o.Name == record.PageFile }) {
		snap.Meta.PageVersion = singlepage.Version
	}
	if err := a.checkLease(art); err != nil {
		// Stalled past the lease: another run may be writing it now.
		a.log.Warn("lease lost before the write; coming back to the article at the end", "slug", art.slug, "err", err)
		a.release(ctx, art)
		a.leases.deferArticle(art)
		return
	}
	stored, err := a.writer.Write(ctx, snap, art.previous())
	if err != nil {
		if ctx.Err() == nil {
			a.storeFailed(fmt.Errorf("article %s: %w", art.slug, err))
		}
		return
	}
	err = a.capture.index(ctx, f.files, &snap.Meta)
	if err == nil {
		err = a.indexURL(ctx, art)
	}
	// Once its meta.json is written the article is stored, and the report
	// says so even when the indexes after it fail or the run is stopped
	// meanwhile by another article's store failure.
	a.rep.addRequisites(snap.Meta.Requisites)
	a.done(art, stored, Event{
		Slug: art.slug, Link: art.link, URL: art.url, Host: art.host,
		Status: snap.Meta.Status, Reason: snap.Meta.Reason, Error: snap.Meta.Error, Took: time.Since(start),
	})
	if err != nil && ctx.Err() == nil {
		a.storeFailed(fmt.Errorf("article %s: %w", art.slug, err))
	}
}

// extractInto runs extraction and the junk check on a fetched page. When
// ctx ends first the snapshot is left unfinished (the caller does not
// store it).
func (a *Archiver) extractInto(ctx context.Context, snap *record.Snapshot, c *fetch.Capture) {
	m := &snap.Meta
	res, err := a.opts.Extractor.Extract(ctx, extract.Page{Body: c.Body, FinalURL: c.FinalURL, URL: c.URL})
	switch {
	case err != nil && ctx.Err() != nil:
		m.Status, m.Reason, m.Error = record.StatusFailed, record.ReasonCanceled, err.Error()
		return
	case errors.Is(err, extract.ErrTooComplex):
		m.Status, m.Reason, m.Error = record.StatusFailed, record.ReasonTooComplex, err.Error()
		a.log.Warn("page too complex to extract", "url", c.FinalURL, "err", err)
		return
	case err != nil:
		m.Status, m.Reason, m.Error = record.StatusFailed, record.ReasonExtract, err.Error()
		return
	}
	m.ArticleTitle, m.Byline, m.SiteName = res.Title, res.Byline, res.SiteName
	m.PublishedTime, m.Lang, m.Excerpt, m.Image = res.PublishedTime, res.Lang, res.Excerpt, res.Image
	m.WordCount = res.WordCount
	if res.Bounded {
		m.Extraction = record.ExtractionBounded
	}
	snap.Readable, snap.Text = res.HTML, res.Text
	switch res.Junk {
	case "":
		m.Status = record.StatusOK
	case record.ReasonMojibake:
		// Not a wall: the article, garbled by a wrong decoding.
		m.Status, m.Reason, m.Error = record.StatusFailed, res.Junk, "the page's text is garbled (wrong character set)"
	default:
		m.Status, m.Reason, m.Error = record.StatusBlocked, res.Junk, "the page is not the article: "+string(res.Junk)
	}
}

func (a *Archiver) baseMeta(art *article) record.ArticleMeta {
	return record.ArticleMeta{
		Slug:          art.slug,
		Title:         art.title,
		Publisher:     art.publisher,
		GoogleNewsURL: googleLink(art.link),
		URL:           art.url,
		ResolveMethod: art.method,
		FetchedAt:     a.opts.Now().UTC(),
		Digests:       art.snapshotDigests(),
	}
}

func fillCapture(m *record.ArticleMeta, c *fetch.Capture) {
	if c == nil {
		return
	}
	m.FinalURL, m.RedirectChain = c.FinalURL, c.Chain
	m.HTTPStatus, m.ContentType, m.Charset = c.StatusCode, c.ContentType, c.Charset
	if !c.FetchedAt.IsZero() {
		m.FetchedAt = c.FetchedAt.UTC()
	}
}

// done records an article whose meta.json is now in the store.
func (a *run) done(art *article, stored record.ArticleMeta, ev Event) {
	art.mu.Lock()
	if art.queued {
		a.stages.update(func(s *Stages) { s.Fetching-- })
	}
	art.status, art.reason, art.stored = stored.Status, stored.Reason, true
	art.writtenDigests = stored.Digests
	art.prior = nil
	if stored.Status == record.StatusOK && ev.Status != record.StatusOK {
		// A good capture was kept; the new one went to history. The
		// reason stays a reason: the note goes with the message.
		ev.Error = ev.Error + " (kept the earlier good capture)"
	}
	art.mu.Unlock()
	a.rep.add(ev)
	a.progressDone(ev)
}

// progressDone reports one link's outcome to the progress display.
func (a *run) progressDone(ev Event) {
	a.stages.update(func(s *Stages) { s.Stored++ })
	a.opts.Progress.Done(ev)
}

// googleUnreachable says once that Google could not be reached, with what
// to check; the links that need Google fail with a short line each.
func (a *run) googleUnreachable(ue *resolver.UnreachableError) {
	a.unreachOne.Do(func() {
		a.rep.setGoogleUnreachable(ue.Error())
		a.opts.Progress.Notice(ue.Error() + "; archiving the links that need no Google")
	})
}

// fetchReason is the machine reason of a fetch error.
func fetchReason(err error) record.Reason {
	var fe *fetch.Error
	if errors.As(err, &fe) && fe.Reason != "" {
		return fe.Reason
	}
	return record.ReasonFetch
}

// shortLink returns link when it is not a Google News link: the URL of an
// article whose short link did not resolve.
func shortLink(link string) string {
	if resolver.IsGoogleNews(link) {
		return ""
	}
	return link
}

// googleLink returns link when it is a Google News link, for meta.json's
// google_news_url.
func googleLink(link string) string {
	if resolver.IsGoogleNews(link) {
		return link
	}
	return ""
}
