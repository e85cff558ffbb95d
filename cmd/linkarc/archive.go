package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
)

// runArchive is `linkarc archive`: flags and wiring; the work is archive.Run.
func runArchive(ctx context.Context, args []string, io stdio) int {
	fs, cfg := newFlagSet("archive", "archive [flags] DIR|FILE|URL|-...", io)
	e := envReader{getenv: io.getenv, errs: &cfg.envErrs}
	hostInterval := fs.Duration("host-interval", e.dur("LINKARC_HOST_INTERVAL", time.Second),
		"minimum spacing between requests to one publisher host (env LINKARC_HOST_INTERVAL)")
	ignoreRobots := fs.Bool("ignore-robots", e.boolean("LINKARC_IGNORE_ROBOTS", false),
		"fetch pages robots.txt disallows for linkarc (env LINKARC_IGNORE_ROBOTS=1)")
	maxBody := e.size("LINKARC_MAX_BODY", 16<<20)
	fs.Var(sizeFlag{&maxBody}, "max-body", "largest page body fetched, e.g. 16MiB (env LINKARC_MAX_BODY)")
	connectTimeout := fs.Duration("connect-timeout", e.dur("LINKARC_CONNECT_TIMEOUT", 10*time.Second),
		"timeout for connecting to a publisher (env LINKARC_CONNECT_TIMEOUT)")
	readTimeout := fs.Duration("read-timeout", e.dur("LINKARC_READ_TIMEOUT", 20*time.Second),
		"longest silence while reading a page (env LINKARC_READ_TIMEOUT)")
	retries := fs.Int("max-retries", e.integer("LINKARC_MAX_RETRIES", 3),
		"retries of a page on 5xx, 429, resets and timeouts, with exponential backoff and jitter (env LINKARC_MAX_RETRIES)")
	maxRetryAfter := fs.Duration("max-retry-after", e.dur("LINKARC_MAX_RETRY_AFTER", 2*time.Minute),
		"longest Retry-After honoured; a server asking for more fails the page instead (env LINKARC_MAX_RETRY_AFTER)")
	maxRedirects := fs.Int("max-redirects", e.integer("LINKARC_MAX_REDIRECTS", 10),
		"redirects followed per page (env LINKARC_MAX_REDIRECTS)")
	concurrency := fs.Int("concurrency", e.integer("LINKARC_CONCURRENCY", 32),
		"articles in flight at once, each on a different host (env LINKARC_CONCURRENCY)")
	storeRetry := fs.Duration("store-retry", e.dur("LINKARC_STORE_RETRY", time.Minute),
		"how long a failing S3 call is retried, with backoff, before the run stops; 0 means no retries (env LINKARC_STORE_RETRY)")
	refresh := fs.Bool("refresh", false, "capture again articles already archived as ok (earlier captures are kept in history)")
	progress := fs.String("progress", e.str("LINKARC_PROGRESS", "auto"),
		"auto (a bar on a terminal, plain lines otherwise), bar, plain or none (env LINKARC_PROGRESS)")
	reportPath := fs.String("report", "", "write the run's report as JSON to this file")

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
	if *concurrency < 1 || *retries < 0 || *hostInterval < 0 || *maxRedirects < 0 || *maxRetryAfter < 0 || *storeRetry < 0 {
		fmt.Fprintln(io.err, "linkarc archive: -concurrency must be >= 1; -max-retries, -max-redirects, -max-retry-after, -host-interval and -store-retry >= 0")
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
	mode := *progress
	if mode == "auto" {
		mode = "plain"
		if f, ok := io.err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	prog, err := archive.NewProgress(mode, io.err)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}

	// As cfg.openStore, with the retry budget of --store-retry: once it is
	// spent on one call, the run stops (see archive.Archiver.Run).
	s3 := storage.S3ConfigFromEnv(io.getenv)
	s3.Retry = storage.RetryOptions{MaxElapsed: zeroMeansNone(*storeRetry), Logger: logger}
	store, err := storage.Open(ctx, cfg.store, s3)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	res, err := resolver.New(cfg.resolverOptions(store, logger))
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	fetcher, err := archive.NewFetcher(archive.FetchOptions{
		UserAgent:      cfg.userAgent,
		HostInterval:   zeroMeansNone(*hostInterval),
		IgnoreRobots:   *ignoreRobots,
		AllowPrivate:   cfg.allowPrivate,
		ConnectTimeout: *connectTimeout,
		ReadTimeout:    *readTimeout,
		Timeout:        cfg.timeout,
		MaxBody:        maxBody,
		MaxRetries:     zeroMeansNone(*retries),
		MaxRetryAfter:  *maxRetryAfter,
		MaxRedirects:   zeroMeansNone(*maxRedirects),
		Logger:         logger,
	})
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}
	defer fetcher.Close()
	arch, err := archive.New(archive.Options{
		Store:           store,
		Resolver:        res,
		Fetcher:         fetcher,
		HostConcurrency: *concurrency,
		Refresh:         *refresh,
		Progress:        prog,
		Logger:          logger,
	})
	if err != nil {
		fmt.Fprintln(io.err, "linkarc archive:", err)
		return exitUsage
	}

	if io.getenv("GOGC") == "" {
		// go-trafilatura's date parser keeps ~25 MiB of tables live, and at
		// the default GOGC=100 the heap may grow to twice what is live. A
		// batch that runs for hours is better served by ~35% less peak
		// memory for a little more GC work (see README, "Benchmarks").
		debug.SetGCPercent(50)
	}
	rep, runErr := arch.RunBatch(ctx, batch)
	rep.WriteSummary(io.err)
	if *reportPath != "" {
		if err := writeReport(*reportPath, rep); err != nil {
			fmt.Fprintln(io.err, "linkarc archive:", err)
			if runErr == nil {
				runErr = err
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

// zeroMeansNone maps a user's 0 ("none") to the -1 the option structs use
// for "none", since their zero value means "the default".
func zeroMeansNone[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
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
