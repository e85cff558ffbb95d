package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	goio "io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/archive/requisite"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
)

// runArchive is `linkarc archive`: flags and wiring; the work is archive.Run.
func runArchive(ctx context.Context, args []string, io stdio) int {
	fs, cfg := newFlagSet("archive", "archive [flags] DIR|FILE|URL|-...", io)
	cfg.storeFlags(fs)
	cfg.networkFlags(fs)
	cfg.googleFlags(fs)
	e := cfg.env
	hostInterval := fs.Duration("host-interval", e.dur("LINKARC_HOST_INTERVAL", fetch.DefaultHostInterval),
		"minimum spacing between requests to one publisher host, counted from when the previous one was sent; 0 means none (env LINKARC_HOST_INTERVAL)")
	noneIfZero(cfg, "host-interval", hostInterval)
	requisites := fs.Bool("requisites", e.boolean("LINKARC_REQUISITES", true),
		"fetch each page's requisites (stylesheets, fonts, images, favicon) into its WARC; --requisites=false keeps the page alone (env LINKARC_REQUISITES=0)")
	pages := fs.Bool("pages", e.boolean("LINKARC_PAGES", true),
		"build each capture's self-contained page (page.html) and lead-image thumbnail (thumb.jpg) from its WARC; --pages=false stores the WARC without them, and 'linkarc reextract' builds them later (env LINKARC_PAGES=0)")
	requisiteScripts := fs.Bool("requisite-scripts", e.boolean("LINKARC_REQUISITE_SCRIPTS", false),
		"record each page's scripts (<script src>) in its WARC too; they are never run (env LINKARC_REQUISITE_SCRIPTS=1)")
	assetInterval := fs.Duration("asset-interval", e.dur("LINKARC_ASSET_INTERVAL", fetch.DefaultAssetInterval),
		"minimum spacing between requests to a host that serves only requisites (a host that serves pages keeps --host-interval); 0 means none (env LINKARC_ASSET_INTERVAL)")
	noneIfZero(cfg, "asset-interval", assetInterval)
	maxRequisites := fs.Int("max-requisites", e.integer("LINKARC_MAX_REQUISITES", requisite.DefaultMaxCount),
		"most requisites fetched for one page (env LINKARC_MAX_REQUISITES)")
	positive(cfg, "max-requisites", maxRequisites)
	maxRequisiteBytes := e.size("LINKARC_MAX_REQUISITE_BYTES", requisite.DefaultMaxBytes)
	fs.Var(sizeFlag{&maxRequisiteBytes}, "max-requisite-bytes", "most bytes of requisites fetched for one page, e.g. 25MiB (env LINKARC_MAX_REQUISITE_BYTES)")
	positive(cfg, "max-requisite-bytes", &maxRequisiteBytes)
	requisiteTime := fs.Duration("requisite-time", e.dur("LINKARC_REQUISITE_TIME", requisite.DefaultMaxTime),
		"longest time spent on one page's requisites, waits for a host's turn included; what is left is skipped; 0 means no bound (env LINKARC_REQUISITE_TIME)")
	noneIfZero(cfg, "requisite-time", requisiteTime)
	ignoreRobots := fs.Bool("ignore-robots", e.boolean("LINKARC_IGNORE_ROBOTS", false),
		"fetch pages robots.txt disallows for linkarc (env LINKARC_IGNORE_ROBOTS=1)")
	maxBody := e.size("LINKARC_MAX_BODY", fetch.DefaultMaxBody)
	fs.Var(sizeFlag{&maxBody}, "max-body", "largest page body fetched, e.g. 16MiB (env LINKARC_MAX_BODY)")
	positive(cfg, "max-body", &maxBody)
	connectTimeout := fs.Duration("connect-timeout", e.dur("LINKARC_CONNECT_TIMEOUT", fetch.DefaultConnectTimeout),
		"timeout for connecting to a publisher (env LINKARC_CONNECT_TIMEOUT)")
	positive(cfg, "connect-timeout", connectTimeout)
	readTimeout := fs.Duration("read-timeout", e.dur("LINKARC_READ_TIMEOUT", fetch.DefaultReadTimeout),
		"longest silence while reading a page (env LINKARC_READ_TIMEOUT)")
	positive(cfg, "read-timeout", readTimeout)
	retries := fs.Int("max-retries", e.integer("LINKARC_MAX_RETRIES", fetch.DefaultMaxRetries),
		"retries of a page on 5xx, 429, resets and timeouts, with exponential backoff and jitter; 0 means none (env LINKARC_MAX_RETRIES)")
	noneIfZero(cfg, "max-retries", retries)
	maxRetryAfter := fs.Duration("max-retry-after", e.dur("LINKARC_MAX_RETRY_AFTER", fetch.DefaultMaxRetryAfter),
		"longest Retry-After honoured; a server asking for more fails the page instead; 0 means none is honoured (env LINKARC_MAX_RETRY_AFTER)")
	noneIfZero(cfg, "max-retry-after", maxRetryAfter)
	maxRedirects := fs.Int("max-redirects", e.integer("LINKARC_MAX_REDIRECTS", fetch.DefaultMaxRedirects),
		"redirects followed per page, HTTP redirects and refreshes together; 0 means none (env LINKARC_MAX_REDIRECTS)")
	noneIfZero(cfg, "max-redirects", maxRedirects)
	concurrency := fs.Int("concurrency", e.integer("LINKARC_CONCURRENCY", archive.DefaultHostConcurrency),
		"articles in flight at once, each on a different host (env LINKARC_CONCURRENCY)")
	positive(cfg, "concurrency", concurrency)
	storeRetry := fs.Duration("store-retry", e.dur("LINKARC_STORE_RETRY", storage.DefaultRetryMaxElapsed),
		"how long a failing S3 call is retried, with backoff, before the run stops; 0 means no retries (env LINKARC_STORE_RETRY)")
	noneIfZero(cfg, "store-retry", storeRetry)
	extractTimeout, extractMemory := cfg.extractFlags(fs)
	refresh := fs.Bool("refresh", false, "capture again articles already archived as ok (earlier captures are kept in history)")
	refreshRequisites := fs.Bool("refresh-requisites", false,
		"fetch again (once in the run) page requisites archived by earlier runs, instead of recording them as revisits of the stored copy; --refresh alone never fetches them again")
	progress := fs.String("progress", e.str("LINKARC_PROGRESS", "auto"),
		"auto (a bar on a terminal, plain lines otherwise), bar, plain or none (env LINKARC_PROGRESS)")
	oneOf(cfg, "progress", progress)
	reportPath := fs.String("report", "", "write the run's report as JSON to this file")
	dryRun := fs.Bool("dry-run", false,
		"say what would be resolved (offline, from the cache, with Google), fetched and skipped, and the expected time at the configured spacings, without a request to Google or any publisher (the store is read)")

	if err := cfg.parse(fs, args, io.err); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(io.err, "linkarc archive: name at least one digest folder, file, URL, or - for standard input")
		fs.Usage()
		return exitUsage
	}
	logger, err := cfg.logger(io.err)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	// Inputs first: a path that does not exist or a folder without digests
	// is the user's to fix, before a store is opened or anything fetched.
	batch, err := digest.Open(fs.Args(), digest.Options{Stdin: io.in, Now: time.Now()})
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(io.err, "linkarc archive:", line)
		}
		return exitUsage
	}
	if cfg.noGoogle {
		dropGoogleFeeds(batch)
	}
	mode := *progress
	if mode == "auto" {
		mode = "plain"
		if f, ok := io.err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	// An unwritable --report is found now, like export's --out, not
	// after the run.
	if *reportPath != "" && !*dryRun {
		if err := checkReportPath(*reportPath); err != nil {
			fmt.Fprintln(io.err, "linkarc archive:", err)
			return exitUsage
		}
	}
	prog, err := archive.NewProgress(mode, io.err)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}

	// Once --store-retry is spent on one call, the run stops (see
	// archive.Archiver.Run).
	// A dry run creates and writes nothing: a store that does not exist
	// yet reads as empty.
	open, note := cfg.openStore, ""
	if *dryRun {
		open = cfg.openExistingStore
	}
	store, err := open(ctx, io.getenv, storage.RetryOptions{MaxElapsed: *storeRetry}, logger)
	switch {
	case *dryRun && errors.Is(err, storage.ErrNoStore):
		store, err, note = nil, nil, " (does not exist yet: a dry run reads it as empty and creates nothing)"
	case err != nil:
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	spec, _ := cfg.storeSpec()
	if *dryRun {
		store = storage.ReadOnly(store)
	} else if err := writableStore(ctx, store, spec); err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	fmt.Fprintln(io.err, "linkarc archive: store", spec+note)
	ropts := cfg.resolverOptions(store, logger)
	// A short link's hops are spaced per host as the fetcher spaces pages.
	ropts.HostInterval = *hostInterval
	if !*dryRun { // a dry run writes nothing, temporary files included
		dir, closeDir, err := openTempDir(logger)
		if err != nil {
			fmt.Fprintln(io.err, "linkarc archive:", err)
			return exitUsage
		}
		defer closeDir()
		ropts.TempDir = dir
	}
	res, err := resolver.New(ropts)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	fetcher, err := fetch.New(fetch.Options{
		UserAgent:      cfg.userAgent,
		HostInterval:   *hostInterval,
		AssetInterval:  *assetInterval,
		HostIntervals:  cfg.googleHostIntervals(),
		IgnoreRobots:   *ignoreRobots,
		AllowPrivate:   cfg.allowPrivate,
		ConnectTimeout: *connectTimeout,
		ReadTimeout:    *readTimeout,
		Timeout:        cfg.timeout,
		MaxBody:        maxBody,
		MaxRetries:     *retries,
		MaxRetryAfter:  *maxRetryAfter,
		MaxRedirects:   *maxRedirects,
		Logger:         logger,
	})
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	defer fetcher.Close()
	if *dryRun {
		arch, err := archive.New(archive.Options{Store: store, Resolver: res, Fetcher: fetcher, Refresh: *refresh, Logger: logger,
			HostConcurrency: *concurrency, Capture: archive.CaptureOptions{NoRequisites: !*requisites}})
		if err != nil {
			fmt.Fprintln(io.err, "linkarc archive:", err)
			return exitUsage
		}
		hostIntervals := cfg.googleHostIntervals()
		d, err := arch.DryRun(ctx, batch, func(host string) time.Duration {
			if iv, ok := hostIntervals[host]; ok {
				return iv
			}
			return *hostInterval
		})
		if err != nil {
			fmt.Fprintln(io.err, "linkarc archive:", err)
			return exitSomeFailed
		}
		d.WriteSummary(io.out)
		if *refreshRequisites && !*refresh {
			refreshRequisitesNote(io.err, d.Skip)
		}
		return exitOK
	}
	// Pages are extracted in worker processes, each under the budget of
	// --extract-timeout and --extract-memory, so that no page can take the
	// run down (issue 10); as many workers as pages extracted at once.
	workers := runtime.GOMAXPROCS(0)
	// The workers outlive an interrupt: pages already fetched are still
	// extracted and stored (archive.Options.Grace).
	pool, err := cfg.extractPool(context.WithoutCancel(ctx), workers, *extractTimeout, *extractMemory, logger)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	defer pool.Close()
	arch, err := archive.New(archive.Options{
		Store:           store,
		Resolver:        res,
		Fetcher:         fetcher,
		Extractor:       pool,
		ExtractWorkers:  workers,
		HostConcurrency: *concurrency,
		Refresh:         *refresh,
		Capture: archive.CaptureOptions{
			NoRequisites:      !*requisites,
			NoPage:            !*pages,
			Scripts:           *requisiteScripts,
			RefreshRequisites: *refreshRequisites,
			Limits:            requisite.Limits{MaxCount: *maxRequisites, MaxBytes: maxRequisiteBytes, MaxTime: *requisiteTime},
			TempDir:           ropts.TempDir,
		},
		Progress: prog,
		Logger:   logger,
	})
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}

	if io.getenv("GOGC") == "" {
		// go-trafilatura's date parser keeps ~25 MiB of tables live, and at
		// the default GOGC=100 the heap may grow to twice what is live. A
		// batch that runs for hours is better served by ~35% less peak
		// memory for a little more GC work (see docs/benchmarks.md, "Archive").
		debug.SetGCPercent(50)
	}
	rep, runErr := arch.RunBatch(ctx, batch)
	rep.WriteSummary(io.err)
	if *refreshRequisites && !*refresh {
		refreshRequisitesNote(io.err, rep.Unchanged)
	}
	if *reportPath != "" {
		if err := writeReport(*reportPath, rep); err != nil {
			fmt.Fprintln(io.err, "linkarc archive:", err)
			if runErr == nil {
				return exitSomeFailed // said once, just now
			}
		}
	}
	switch {
	case runErr != nil:
		if rep.Stopped == "" { // else the summary has said it
			fmt.Fprintln(io.err, "linkarc archive:", runErr)
		}
		return exitSomeFailed
	case rep.Interrupted:
		return exitInterrupted
	case rep.RateLimited:
		return exitRateLimited
	case !rep.OK():
		return exitSomeFailed
	}
	return exitOK
}

// writableStore proves that store takes writes before anything is
// fetched, so that a read-only store is an error naming the remedy rather
// than a lease failure after the first fetch.
func writableStore(ctx context.Context, store storage.Store, spec string) error {
	err := storage.CheckWritable(ctx, store)
	if reason := storage.NotWritableReason(err); reason != "" {
		return fmt.Errorf("store %s is read-only (%s): pass a writable --store, or use --dry-run", spec, reason)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", spec, err)
	}
	return nil
}

// checkReportPath proves that the --report file can be written (its
// directory exists and takes new files) by creating and removing the
// temporary file writeReport uses.
func checkReportPath(path string) error {
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is said once
		}
		return fmt.Errorf("--report %s: %w", path, err)
	}
	f.Close()
	return os.Remove(path + ".tmp")
}

// writeReport writes the JSON report atomically, so a reader never sees half.
func writeReport(path string, rep *archive.Report) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("report %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// dropGoogleFeeds turns the Google News feeds of batch into input errors:
// --no-google forbids fetching them too.
func dropGoogleFeeds(batch *digest.Batch) {
	batch.Feeds = slices.DeleteFunc(batch.Feeds, func(f digest.FeedURL) bool {
		if !resolver.IsGoogleNews(f.URL) {
			return false
		}
		batch.Errors = append(batch.Errors, &digest.Error{Path: f.URL, Reason: "not fetched: a Google News feed, and --no-google forbids contacting Google"})
		return true
	})
}

// refreshRequisitesNote says what --refresh-requisites without --refresh
// left alone: requisites are fetched again only for pages captured in the
// run, and articles already archived ok (unchanged of them) are not
// captured again without --refresh. Nothing is said when there are none.
func refreshRequisitesNote(w goio.Writer, unchanged int) {
	if unchanged == 0 {
		return
	}
	fmt.Fprintf(w, "linkarc archive: --refresh-requisites: %s not captured again, so %s requisites were not fetched again; "+
		"add --refresh to capture %s again with fresh requisites\n",
		textnorm.Count(unchanged, "article already archived ok was", "articles already archived ok were"),
		textnorm.Plural(unchanged, "its", "their"), textnorm.Plural(unchanged, "it", "them"))
}
