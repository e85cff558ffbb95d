package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/archive/requisite"
	"github.com/linkarc/linkarc/archive/singlepage"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// A capture is recorded as it is fetched (capture.go): the exchanges that
// resolved its link (provenance.go: Google's, a short link's hops), the
// page, its
// redirect hops, the robots.txt obeyed and every page requisite go into
// one WARC 1.1 file per capture (package warc, fed by fetch.Recording),
// spilled to a temporary file as it is written, and stored as
// articles/<slug>/capture.warc.gz beside meta.json (captureObjects).
//
// Requisites (package requisite) are fetched after the page, through the
// same fetcher (SSRF guard, robots.txt, per-host spacing — AssetInterval
// for hosts that serve no page —, timeouts, retries, size caps), under
// per-page caps (requisite.Limits), each URL at most once per run: a
// requisite met again, in this run or in the store's index
// (record.RequisiteKey), becomes a revisit record referring to the
// capture that holds it, with no request made. The index entry names that
// capture by slug and capture id, and the self-contained page finds the
// originals of revisits through stored.OpenOriginal (current or in
// history), or in the spill file of a capture of the run not stored yet.

// AssetFetcher fetches page requisites. *fetch.Fetcher implements it; a
// PageFetcher that does not gets no requisites fetched.
type AssetFetcher interface {
	FetchAsset(ctx context.Context, url string, ar fetch.AssetRequest) (*fetch.Asset, error)
}

// DefaultRequisiteHosts is how many hosts one page's requisites are
// fetched from at once (each host still one request at a time, spaced).
const DefaultRequisiteHosts = 6

// DefaultMaxHostFailures is how many requisites in a row one host may fail
// to deliver at the transport level (timeout, network error, TLS, body cut
// short; each after its retries) before the run gives the host up for
// requisites: a host that trickles or drops every answer costs the run
// three requisites' timeouts, not every page's.
const DefaultMaxHostFailures = 3

// CaptureOptions configures what a capture keeps besides the page.
type CaptureOptions struct {
	// NoWARC records no WARC.
	NoWARC bool
	// NoRequisites fetches no page requisites.
	NoRequisites bool
	// Scripts records the page's scripts (<script src>) among its
	// requisites. They are never run; by default they are not fetched.
	Scripts bool
	// Limits bounds each page's requisites (requisite.Limits' defaults
	// for zero fields; a negative MaxCount or MaxBytes means no cap).
	Limits requisite.Limits
	// Hosts is how many hosts a page's requisites are fetched from at
	// once. Default DefaultRequisiteHosts.
	Hosts int
	// MaxHostFailures is how many requisites in a row a host may fail to
	// deliver (timeout, network, TLS, truncated) before no more are asked
	// of it in the run; they are skipped, reported as capped
	// "failing_host". Default DefaultMaxHostFailures; negative means never.
	MaxHostFailures int
	// TempDir holds the WARC spill files, the bodies of fetched pages
	// waiting for their extraction turn (pagespill.go), the WARCs of
	// originals copied from the store and the spill files of records read
	// back from them; "" means os.TempDir().
	TempDir string
	// NoPage builds no self-contained page (page.html) or thumbnail from
	// the WARC.
	NoPage bool
	// RefreshRequisites fetches again (once in the run) every requisite
	// whose index entry predates the run, instead of writing a revisit of
	// the record the entry names; the entry is then replaced, keeping the
	// records it named before (record.RequisiteEntry.Previous), which
	// earlier captures' revisits still refer to. Without it a requisite
	// in the index is never fetched again, --refresh or not.
	RefreshRequisites bool
}

// capturer is a run's state for recording captures: the requisites met so
// far, by URL and by payload digest.
type capturer struct {
	a      *Archiver
	opts   CaptureOptions
	limits requisite.Limits
	dedup  *warc.DedupIndex

	// start is when the run began: with RefreshRequisites, index entries
	// older than it are not reused.
	start time.Time

	mu    sync.Mutex
	byURL map[string]*assetEntry
	// hostFails counts, per host, the requisites in a row it failed to
	// deliver (CaptureOptions.MaxHostFailures).
	hostFails map[string]int
	// captureIDs maps the WARC file name of each capture of the run to
	// its capture id (record.CaptureID of its fetch time), so that index
	// entries name the capture holding a record wherever it moves.
	captureIDs map[string]string
	// spills maps the WARC file name (warc.Options.Filename, the store
	// key) of each capture of the run not stored yet to its spill file,
	// where the self-contained page of a later capture finds the originals
	// of its revisits.
	spills map[string]string

	// building admits one self-contained page built at a time: a build
	// holds up to twice singlepage's MaxBytes (its data: URIs and the
	// page rendered), which the archiver's memory ceiling affords once,
	// not once per store worker.
	building chan struct{}

	// finishing bounds the captures whose requisites are being fetched
	// while their host's queue goes on (Options.HostConcurrency); wg
	// counts them.
	finishing chan struct{}
	wg        sync.WaitGroup
}

// requisitesDone runs finish (a capture's requisites, then the hand-over
// to the store workers) in its own goroutine, so that the host's queue
// fetches its next page meanwhile; it waits while HostConcurrency captures
// are already finishing.
func (c *capturer) requisitesDone(ctx context.Context, finish func()) {
	select {
	case c.finishing <- struct{}{}:
	case <-ctx.Done():
		finish() // returns at once: ctx is done
		return
	}
	c.wg.Add(1)
	go func() {
		defer func() { <-c.finishing; c.wg.Done() }()
		finish()
	}()
}

// wait waits for every capture being finished.
func (c *capturer) wait() { c.wg.Wait() }

// assetEntry is a requisite URL's outcome in this run; done is closed when
// it is known.
type assetEntry struct {
	done     chan struct{}
	ok       bool // orig is set: archived in full (here or in the store)
	orig     warc.Original
	children []requisite.Requisite
	// stored is set when orig was found in the store's index: where its
	// capture is (the WARC key in orig may be another capture's by now).
	stored *stored.OriginalRef
}

func newCapturer(a *Archiver) *capturer {
	o := a.opts.Capture
	if o.Hosts <= 0 {
		o.Hosts = DefaultRequisiteHosts
	}
	if o.MaxHostFailures == 0 {
		o.MaxHostFailures = DefaultMaxHostFailures
	}
	return &capturer{a: a, opts: o, limits: o.Limits.WithDefaults(), dedup: warc.NewDedupIndex(), start: time.Now(),
		byURL: map[string]*assetEntry{}, hostFails: map[string]int{}, spills: map[string]string{}, captureIDs: map[string]string{},
		finishing: make(chan struct{}, a.opts.HostConcurrency), building: make(chan struct{}, 1)}
}

// captureFiles is a finished capture's recording: its WARC, spilled to a
// temporary file, and what its requisites came to. Close removes the file.
type captureFiles struct {
	warcPath string
	warcSize int64
	stats    *record.RequisiteStats
	learned  []record.RequisiteEntry // requisites fetched in full, indexed once the capture is stored
	forget   func()                  // takes the spill file out of capturer.spills
}

func (c *captureFiles) Close() {
	if c != nil && c.forget != nil {
		c.forget()
	}
	if c != nil && c.warcPath != "" {
		os.Remove(c.warcPath)
	}
}

// MaxSelfContainedSource is the largest page (bytes as received) given a
// self-contained copy as it is captured. The copy is built in the
// archiver's own process, beside other captures and extractions, and a
// parse tree costs many times its page; real articles are far below this
// (the benchmark's largest is under 1 MiB), so only pages built to hurt
// are left with raw.html, which the viewer shows inert. `linkarc
// reextract`, which builds one page at a time, builds theirs later.
const MaxSelfContainedSource = 4 << 20

// captureObjects turns a finished capture (its WARC spill file and the
// page) into the objects stored beside meta.json (record.Snapshot.Extra):
// the WARC, and, derived from it (package singlepage), the self-contained
// page and the thumbnail of its lead image (leadImage, the extraction's;
// "" lets singlepage take the page's og:image). It is the one place a
// capture's further objects are made as it is stored (`linkarc reextract`
// builds the page and thumbnail again from a stored WARC,
// archive/reextract). A page that cannot be built is
// logged and left out: the capture is stored without it, and the viewer
// shows raw.html.
func (c *capturer) captureObjects(ctx context.Context, files *captureFiles, page *fetch.Capture, leadImage string) []record.Object {
	if files == nil || files.warcPath == "" {
		return nil
	}
	path := files.warcPath
	objs := []record.Object{{
		Name:        record.WARCFile,
		ContentType: "application/warc",
		Size:        files.warcSize,
		Open:        func() (io.ReadCloser, error) { return os.Open(path) },
	}}
	if page == nil || c.opts.NoPage {
		return objs
	}
	if len(page.Raw) > MaxSelfContainedSource {
		c.a.log.Info("capture: page too large for a self-contained copy; the viewer will show raw.html",
			"url", page.FinalURL, "bytes", len(page.Raw), "limit", MaxSelfContainedSource)
		return objs
	}
	res, err := c.selfContained(ctx, files, page.FinalURL, leadImage)
	if err != nil {
		if ctx.Err() == nil {
			c.a.log.Warn("capture: no self-contained page; the viewer will show raw.html", "url", page.FinalURL, "err", err)
		}
		return objs
	}
	if res.Stats.LeftOut() > 0 || res.Stats.Missing > 0 || res.Stats.NotUsable > 0 {
		c.a.log.Debug("capture: self-contained page without some resources", "url", page.FinalURL,
			"missing", res.Stats.Missing, "left_out", res.Stats.LeftOut(), "not_usable", res.Stats.NotUsable, "first_missing", res.Stats.MissingURLs)
	}
	return append(objs, res.Objects()...)
}

// selfContained builds the capture's page.html (and thumb.jpg) from its
// WARC, opening the WARCs that hold the originals of its revisits as it
// meets them.
func (c *capturer) selfContained(ctx context.Context, files *captureFiles, pageURL, leadImage string) (singlepage.Result, error) {
	select {
	case c.building <- struct{}{}:
		defer func() { <-c.building }()
	case <-ctx.Done():
		return singlepage.Result{}, ctx.Err()
	}
	src, f, err := singlepage.OpenFile(files.warcPath)
	if err != nil {
		return singlepage.Result{}, err
	}
	defer f.Close()
	var opened []io.Closer
	defer func() {
		for _, o := range opened {
			o.Close()
		}
	}()
	originals := func(ctx context.Context, r stored.Revisit) (singlepage.Source, bool, error) {
		src, closer, ok := c.openOriginal(ctx, r)
		if ok {
			opened = append(opened, closer)
		}
		return src, ok, nil
	}
	return singlepage.Capture(ctx, pageURL, leadImage, []singlepage.Source{src}, singlepage.Options{Originals: originals, TempDir: c.opts.TempDir})
}

// openOriginal opens the WARC holding the original of a revisit: while
// its capture is not stored yet, the spill file of the capture of the run
// that fetched it; else the capture the store's index names
// (stored.FindOriginal, stored.OpenOriginal: current or in history),
// spilled to a temporary file for random access
// (singlepage.OpenStoredOriginal). Not found is not an error: the page is
// built without that resource.
func (c *capturer) openOriginal(ctx context.Context, r stored.Revisit) (singlepage.Source, io.Closer, bool) {
	var (
		name string
		ref  *stored.OriginalRef
	)
	c.mu.Lock()
	for _, u := range []string{r.URL, r.RefersToURI} {
		if e, ok := c.byURL[u]; ok && name == "" && ref == nil {
			select {
			case <-e.done:
				if e.ok && e.stored != nil {
					ref = e.stored
				} else if e.ok {
					name = e.orig.Filename
				}
			default:
			}
		}
	}
	c.mu.Unlock()
	if name == "" && ref == nil {
		if o, ok := c.dedup.Lookup(r.PayloadDigest); ok {
			name = o.Filename
		}
	}
	if name != "" {
		// A capture of this run: its spill file while it is not stored,
		// else the store.
		c.mu.Lock()
		path, id := c.spills[name], c.captureIDs[name]
		c.mu.Unlock()
		if path != "" {
			if src, f, err := singlepage.OpenFile(path); err == nil {
				src.Name = name
				return src, f, true
			}
		}
		ref = &stored.OriginalRef{RecordID: r.RefersTo, TargetURI: r.RefersToURI, PayloadDigest: r.PayloadDigest, WARC: name, CaptureID: id}
		if slug, _ := c.slugOf(name); slug != "" {
			ref.Slug = slug
		}
	}
	if ref == nil {
		found, err := stored.FindOriginal(ctx, c.a.opts.Store, r)
		if err != nil {
			return singlepage.Source{}, nil, false
		}
		ref = &found
	}
	src, rm, err := singlepage.OpenStoredOriginal(ctx, c.a.opts.Store, *ref, c.opts.TempDir)
	if err != nil {
		if !errors.Is(err, stored.ErrNoOriginal) && ctx.Err() == nil {
			c.a.log.Warn("capture: the original of a revisit not read", "url", r.URL, "err", err)
		}
		return singlepage.Source{}, nil, false
	}
	return src, rm, true
}

// slugOf reads the article slug out of the WARC file name of a capture of
// the run (record.ArticleKey(slug, record.WARCFile)).
func (c *capturer) slugOf(name string) (string, bool) {
	slug, ok := strings.CutSuffix(strings.TrimPrefix(name, record.ArticlesPrefix), "/"+record.WARCFile)
	if !ok || !strings.HasPrefix(name, record.ArticlesPrefix) || !record.ValidSlug(slug) {
		return "", false
	}
	return slug, true
}

// gatedDedup is a capture's view of the run's payload index: the page
// itself is always recorded in full (the viewer and reextract read it from
// its WARC), requisites become revisits of payloads archived before.
type gatedDedup struct {
	inner *warc.DedupIndex
	on    atomic.Bool
}

func (g *gatedDedup) Lookup(d string) (warc.Original, bool) {
	if !g.on.Load() {
		return warc.Original{}, false
	}
	return g.inner.Lookup(d)
}

func (g *gatedDedup) Remember(o warc.Original) { g.inner.Remember(o) }

// recording is a capture in progress: its WARC being written.
type recording struct {
	tmp   *os.File
	files *captureFiles
	w     *warc.Writer
	rec   *fetch.Recording
	dd    *gatedDedup
}

// page fetches an article's page, recording it; the recording is nil when
// no WARC is being written (CaptureOptions.NoWARC, or no temporary file).
func (c *capturer) page(ctx context.Context, art *article) (*recording, *fetch.Capture, error) {
	// The exchanges that resolved the article's link are written into
	// its WARC below, or not at all: either way they are not needed after
	// this, and the article (kept to the end of the run) lets go of them.
	defer art.dropProvenance()
	if c.opts.NoWARC {
		cap, err := c.a.opts.Fetcher.Fetch(ctx, art.url)
		return nil, cap, err
	}
	tmp, err := os.CreateTemp(c.opts.TempDir, "linkarc-capture-*.warc.gz")
	if err != nil {
		c.a.log.Warn("capture: no WARC for this capture", "url", art.url, "err", err)
		cap, err := c.a.opts.Fetcher.Fetch(ctx, art.url)
		return nil, cap, err
	}
	r := &recording{tmp: tmp, files: &captureFiles{warcPath: tmp.Name()}, dd: &gatedDedup{inner: c.dedup}}
	warcName := record.ArticleKey(art.slug, record.WARCFile)
	c.mu.Lock()
	c.spills[warcName] = tmp.Name()
	c.mu.Unlock()
	r.files.forget = func() {
		c.mu.Lock()
		if c.spills[warcName] == tmp.Name() {
			delete(c.spills, warcName)
		}
		c.mu.Unlock()
	}
	r.w, err = warc.NewWriter(tmp, warc.Options{
		Software: "linkarc/" + buildinfo.Version(),
		Filename: warcName,
		TempDir:  c.opts.TempDir,
		Dedup:    r.dd,
	})
	if err != nil {
		tmp.Close()
		r.files.Close()
		cap, err := c.a.opts.Fetcher.Fetch(ctx, art.url)
		return nil, cap, err
	}
	r.rec = fetch.NewRecording(r.w)
	// The exchanges that found the URL come first: they happened first.
	resolveRecords := c.resolveExchanges(r.w, art.provenance())
	cap, ferr := c.a.opts.Fetcher.Fetch(fetch.WithRecording(ctx, r.rec), art.url)
	if cap != nil && !cap.FetchedAt.IsZero() {
		// The capture's id, as the store will know it (fillCapture).
		c.mu.Lock()
		c.captureIDs[warcName] = record.CaptureID(cap.FetchedAt)
		c.mu.Unlock()
	}
	c.provenance(r.w, art, cap, resolveRecords)
	return r, cap, ferr
}

// finish fetches the page's requisites into the recording and closes it.
// The files are nil when nothing was recorded.
func (c *capturer) finish(ctx context.Context, r *recording, art *article, cap *fetch.Capture, spill *spilledPage, ferr error) *captureFiles {
	if r == nil {
		return nil
	}
	files := r.files
	if ferr == nil && cap != nil && !c.opts.NoRequisites {
		if af, ok := c.a.opts.Fetcher.(AssetFetcher); ok {
			r.dd.on.Store(true)
			if found, cssCapped, html, err := c.named(cap, spill); err != nil {
				c.a.log.Warn("capture: no requisites", "url", art.url, "err", err)
			} else if html {
				files.stats, files.learned = c.requisites(fetch.WithRecording(ctx, r.rec), af, r.w, r.rec, cap, found, cssCapped)
			}
		}
	}
	r.w.Close()
	size, _ := r.tmp.Seek(0, io.SeekCurrent)
	cerr := r.tmp.Close()
	switch {
	case ctx.Err() != nil || r.rec.Exchanges() == 0:
		files.Close()
		return nil
	case r.rec.Err() != nil || cerr != nil:
		c.a.log.Warn("capture: the WARC could not be written; storing the capture without it", "url", art.url, "err", errors.Join(r.rec.Err(), cerr))
		files.Close()
		return nil
	}
	files.warcSize = size
	return files
}

// budget is one page's requisite caps.
type budget struct {
	mu    sync.Mutex
	lim   requisite.Limits
	count int
	bytes int64
	st    record.RequisiteStats
	seen  map[string]bool
	caps  []string
}

func (b *budget) capped(why string) {
	if !slices.Contains(b.caps, why) {
		b.caps = append(b.caps, why)
	}
}

// take admits a requisite for fetching (or revisiting): not seen on this
// page and under the count cap. The byte cap is checked when it is
// fetched (overBytes).
func (b *budget) take(u string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[u] {
		return false
	}
	b.seen[u] = true
	b.st.Found++
	if b.lim.MaxCount >= 0 && b.count >= b.lim.MaxCount {
		b.st.Skipped++
		b.capped("count")
		return false
	}
	b.count++
	return true
}

// overBytes reports (and counts as skipped) a requisite about to be
// fetched once the page's requisites reached the byte cap.
func (b *budget) overBytes() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lim.MaxBytes >= 0 && b.bytes >= b.lim.MaxBytes {
		b.st.Skipped++
		b.capped("bytes")
		return true
	}
	return false
}

type job struct {
	req     requisite.Requisite
	depth   int    // 0: named by the page; n: by a stylesheet at depth n-1
	referer string // the page or stylesheet naming it
}

// named returns the requisites an HTML page names (requisite.FromHTML,
// scripts left out unless CaptureOptions.Scripts), reading its body back
// from spill when it waits there: the body is let go of again while the
// requisites are fetched. html is false, and nothing is read, for a page
// that is not HTML.
func (c *capturer) named(page *fetch.Capture, spill *spilledPage) (found []requisite.Requisite, cssCapped, html bool, err error) {
	if !strings.Contains(page.ContentType, "html") && page.ContentType != "" {
		return nil, false, false, nil
	}
	body := page.Body
	if spill != nil {
		if _, body, err = spill.read(); err != nil {
			return nil, false, true, err
		}
	}
	found, cssCapped = requisite.FromHTML(body, page.FinalURL, c.limits)
	if !c.opts.Scripts {
		found = slices.DeleteFunc(found, func(r requisite.Requisite) bool { return r.Kind == requisite.Script })
	}
	return found, cssCapped, true, nil
}

// requisites fetches (or revisits) the requisites a page names (found, in
// document order), level by level: the page's, then what its stylesheets
// name, to MaxImportDepth, within MaxTime: what is not done by then is
// skipped (capped "time"). Of page only its URL is used.
func (c *capturer) requisites(ctx context.Context, af AssetFetcher, w *warc.Writer, rec *fetch.Recording, page *fetch.Capture, found []requisite.Requisite, cssCapped bool) (*record.RequisiteStats, []record.RequisiteEntry) {
	run := ctx // the run's: its end is not this page's time running out
	if c.limits.MaxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.limits.MaxTime)
		defer cancel()
	}
	b := &budget{lim: c.limits, seen: map[string]bool{}}
	if cssCapped {
		b.capped("css")
	}
	var (
		learnedMu sync.Mutex
		learned   []record.RequisiteEntry
	)
	level := make([]job, 0, len(found))
	for _, r := range found {
		level = append(level, job{req: r, referer: page.FinalURL})
	}
	for len(level) > 0 && ctx.Err() == nil {
		// Admit in document order, so that the count cap keeps the first.
		var admitted []job
		for _, j := range level {
			if j.req.Kind == requisite.Stylesheet && j.depth > 0 && j.depth >= c.limits.MaxImportDepth {
				b.mu.Lock()
				if !b.seen[j.req.URL] {
					b.seen[j.req.URL] = true
					b.st.Found++
					b.st.Skipped++
					b.capped("import_depth")
				}
				b.mu.Unlock()
				continue
			}
			if b.take(j.req.URL) {
				admitted = append(admitted, j)
			}
		}
		byHost := map[string][]int{} // host -> indexes into admitted
		var hosts []string
		for i, j := range admitted {
			h := hostOf(j.req.URL)
			if _, ok := byHost[h]; !ok {
				hosts = append(hosts, h)
			}
			byHost[h] = append(byHost[h], i)
		}
		// What each admitted job names, kept in its place so that the
		// next level is in document order whatever host answered first.
		children := make([][]requisite.Requisite, len(admitted))
		var wg sync.WaitGroup
		sem := make(chan struct{}, c.opts.Hosts)
		for _, h := range hosts {
			wg.Add(1)
			sem <- struct{}{}
			go func(idx []int) {
				defer func() { <-sem; wg.Done() }()
				for _, i := range idx {
					if ctx.Err() != nil {
						b.mu.Lock()
						b.st.Skipped++
						b.mu.Unlock()
						continue
					}
					kids, entry := c.one(ctx, run, af, w, rec, b, admitted[i])
					if entry != nil {
						learnedMu.Lock()
						learned = append(learned, *entry)
						learnedMu.Unlock()
					}
					children[i] = kids
				}
			}(byHost[h])
		}
		wg.Wait()
		var next []job
		for i, kids := range children {
			for _, ch := range kids {
				next = append(next, job{req: ch, depth: admitted[i].depth + 1, referer: admitted[i].req.URL})
			}
		}
		level = next
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ctx.Err() != nil && run.Err() == nil {
		b.capped("time")
		c.a.log.Info("capture: the page's requisites ran out of time", "url", page.FinalURL, "limit", c.limits.MaxTime)
	}
	st := b.st
	st.Capped = strings.Join(b.caps, ",")
	return &st, learned
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return weburl.Host(u)
}

// one fetches or revisits one requisite and returns what it names (for a
// stylesheet) and, when it was fetched in full, its index entry. ctx ends
// with the page's time for requisites, run with the run.
func (c *capturer) one(ctx, run context.Context, af AssetFetcher, w *warc.Writer, rec *fetch.Recording, b *budget, j job) ([]requisite.Requisite, *record.RequisiteEntry) {
	u := j.req.URL
	c.mu.Lock()
	e, known := c.byURL[u]
	if !known {
		e = &assetEntry{done: make(chan struct{})}
		c.byURL[u] = e
	}
	c.mu.Unlock()
	if known {
		select {
		case <-e.done:
		case <-ctx.Done():
			b.mu.Lock()
			b.st.Skipped++ // the page's time ran out waiting for another page's fetch
			b.mu.Unlock()
			return nil, nil
		}
		c.revisit(w, b, u, e)
		return e.children, nil
	}
	defer close(e.done)

	ent, inStore := c.lookupStore(ctx, u)
	var prior *record.RequisiteEntry
	if inStore && c.opts.RefreshRequisites && ent.Date.Before(c.start) {
		prior, inStore = &ent, false // fetched again; its entry replaced
	}
	if inStore {
		e.ok = true
		e.orig = warc.Original{RecordID: ent.RecordID, TargetURI: ent.TargetURI, Date: ent.Date, PayloadDigest: ent.PayloadDigest, Filename: ent.WARC}
		ref := ent.Origin()
		e.stored = &ref
		for _, ch := range ent.Children {
			e.children = append(e.children, requisite.Requisite{URL: ch.URL, Kind: requisite.Kind(ch.Kind)})
		}
		c.revisit(w, b, u, e)
		return e.children, nil
	}

	host := hostOf(u)
	if b.overBytes() || c.failingHost(b, host) {
		// Not fetched: a later page (or run) may still fetch it.
		c.forget(u)
		return nil, nil
	}
	keep := int64(0)
	if j.req.Kind == requisite.Stylesheet {
		keep = c.limits.MaxCSSBytes
	}
	a, err := af.FetchAsset(ctx, u, fetch.AssetRequest{Referer: j.referer, Accept: j.req.Kind.Accept(), Keep: keep})
	if ctx.Err() != nil && run.Err() == nil {
		// The page's time ran out: not this requisite's fault, nor its
		// host's; a later page may fetch it.
		b.mu.Lock()
		b.st.Skipped++
		b.mu.Unlock()
		c.forget(u)
		return nil, nil
	}
	c.hostOutcome(host, err)
	b.mu.Lock()
	if a != nil {
		b.bytes += a.Size
		b.st.Bytes += a.Size
	}
	if err != nil {
		b.st.Failed++
		b.mu.Unlock()
		if ctx.Err() == nil {
			c.a.log.Info("capture: requisite not fetched", "url", u, "err", err)
		}
		return nil, nil
	}
	b.st.Fetched++
	if b.lim.MaxBytes >= 0 && b.bytes >= b.lim.MaxBytes {
		b.capped("bytes")
	}
	b.mu.Unlock()

	if j.req.Kind == requisite.Stylesheet || a.ContentType == "text/css" {
		kids, capped := requisite.FromCSS(a.Body, a.FinalURL, c.limits)
		if capped || a.Truncated {
			b.mu.Lock()
			b.capped("css")
			b.mu.Unlock()
		}
		e.children = kids
	}
	wc, ok := rec.Captured(a.FinalURL)
	if !ok || a.StatusCode != 200 || wc.Truncated != "" {
		return e.children, nil
	}
	if wc.Revisit != nil {
		e.orig = *wc.Revisit
	} else {
		e.orig = warc.Original{RecordID: wc.ResponseID, TargetURI: wc.URL, Date: wc.Date, PayloadDigest: wc.PayloadDigest, Filename: w.Filename()}
	}
	e.ok = true
	learned := &record.RequisiteEntry{
		URL: u, RecordID: e.orig.RecordID, TargetURI: e.orig.TargetURI, Date: e.orig.Date.UTC(),
		PayloadDigest: e.orig.PayloadDigest, WARC: e.orig.Filename, ContentType: a.ContentType, Size: a.Size,
	}
	if slug, ok := c.slugOf(e.orig.Filename); ok {
		c.mu.Lock()
		learned.Slug, learned.CaptureID = slug, c.captureIDs[e.orig.Filename]
		c.mu.Unlock()
	}
	if prior != nil {
		for _, o := range prior.Origins() {
			if o.RecordID != learned.RecordID && len(learned.Previous) < record.MaxRequisitePrevious {
				learned.Previous = append(learned.Previous, o)
			}
		}
	}
	for _, ch := range e.children {
		learned.Children = append(learned.Children, record.RequisiteChild{URL: ch.URL, Kind: string(ch.Kind)})
	}
	return e.children, learned
}

// forget takes a requisite not fetched out of the run's outcomes, so that a
// later page may fetch it.
func (c *capturer) forget(u string) {
	c.mu.Lock()
	delete(c.byURL, u)
	c.mu.Unlock()
}

// failingHost reports (and counts as skipped, capped "failing_host") a
// requisite whose host failed MaxHostFailures requisites in a row.
func (c *capturer) failingHost(b *budget, host string) bool {
	if c.opts.MaxHostFailures < 0 {
		return false
	}
	c.mu.Lock()
	failing := c.hostFails[host] >= c.opts.MaxHostFailures
	c.mu.Unlock()
	if failing {
		b.mu.Lock()
		b.st.Skipped++
		b.capped("failing_host")
		b.mu.Unlock()
	}
	return failing
}

// hostOutcome counts a requisite the host failed to deliver at the
// transport level, or clears the count when it answered.
func (c *capturer) hostOutcome(host string, err error) {
	var fe *fetch.Error
	failed := errors.As(err, &fe) && slices.Contains([]record.Reason{
		record.ReasonTimeout, record.ReasonNetwork, record.ReasonTLS, record.ReasonTruncated}, fe.Reason)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case failed:
		c.hostFails[host]++
		if c.hostFails[host] == c.opts.MaxHostFailures {
			c.a.log.Warn("capture: a host failed requisites in a row; no more are asked of it in this run",
				"host", host, "failures", c.hostFails[host], "last_err", err)
		}
	case err == nil || fe != nil && fe.StatusCode != 0:
		delete(c.hostFails, host) // it answered

	}
}

// revisit records a requisite archived earlier (in this run or the store)
// without fetching it. The summary tells the two apart (e.stored: the copy
// is an earlier run's), for "already archived" reads as "by an earlier
// run" to users.
func (c *capturer) revisit(w *warc.Writer, b *budget, u string, e *assetEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !e.ok {
		b.st.Failed++ // failed earlier in the run: not asked again
		return
	}
	if _, err := w.WriteRevisit(warc.Exchange{URL: u}, e.orig); err != nil {
		c.a.log.Warn("capture: revisit not recorded", "url", u, "err", err)
		b.st.Failed++
		return
	}
	b.st.Deduplicated++
	if e.stored != nil {
		b.st.FromStore++
	}
}

// lookupStore finds a requisite in the store's index.
func (c *capturer) lookupStore(ctx context.Context, u string) (record.RequisiteEntry, bool) {
	ent, err := record.ReadRequisite(ctx, c.a.opts.Store, u)
	if err != nil {
		if !storage.IsNotExist(err) && !errors.Is(err, record.ErrUnreadable) && ctx.Err() == nil {
			c.a.log.Warn("capture: requisite index not read", "url", u, "err", err)
		}
		return record.RequisiteEntry{}, false
	}
	return ent, true
}

// index writes the index entries of a stored capture's requisites; m is
// the capture's meta.json as written, which names the capture (its id is
// that of its fetch time, current or in history).
func (c *capturer) index(ctx context.Context, files *captureFiles, m *record.ArticleMeta) error {
	if files == nil || files.warcPath == "" {
		return nil
	}
	own := record.ArticleKey(m.Slug, record.WARCFile)
	for _, ent := range files.learned {
		if ent.WARC == own {
			ent.Slug, ent.CaptureID = m.Slug, record.CaptureID(m.FetchedAt)
		} else if ent.Slug != "" && ent.CaptureID == "" {
			c.mu.Lock()
			ent.CaptureID = c.captureIDs[ent.WARC]
			c.mu.Unlock()
		}
		data, err := json.Marshal(ent)
		if err != nil {
			return fmt.Errorf("requisite index entry for %s: %w", ent.URL, err)
		}
		if err := c.a.opts.Store.Put(ctx, record.RequisiteKey(ent.URL), bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "application/json"}); err != nil {
			return fmt.Errorf("requisite index entry for %s: %w", ent.URL, err)
		}
	}
	return nil
}
