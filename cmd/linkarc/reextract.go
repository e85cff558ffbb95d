package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/linkarc/linkarc/archive/reextract"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage"
)

// runReextract is `linkarc reextract`: flags and wiring; the work is
// reextract.Run. Pages are extracted in the same pool of worker processes,
// under the same budget per page, as `linkarc archive` extracts them: a
// hostile page kept in the archive cannot take a re-extraction down.
func runReextract(ctx context.Context, args []string, io stdio) int {
	fs, cfg := newFlagSet("reextract", "reextract [flags]\n\n"+
		"Rebuilds the readable text, the metadata and the verdict (ok or blocked, and why) of stored captures\n"+
		"from the page each kept: its WARC, or raw.html for captures made before WARC recording. From a WARC it\n"+
		"also builds the self-contained page (page.html) and the lead-image thumbnail (thumb.jpg) of a capture\n"+
		"that has none, whose page an older builder made, or whose lead image changed (--rebuild-pages). It sends\n"+
		"no request: improvements to extraction reach the whole archive without fetching anything again. The\n"+
		"captures themselves are not changed; captures that failed to fetch are left as they are. Exit status:\n"+
		"0 every selected capture rebuilt (or left as it is by rule), 1 some could not be read (named on\n"+
		"stderr), 2 usage or configuration error, 130 interrupted (run it again: it is idempotent).", io)
	cfg.storeFlags(fs)
	sel := cfg.filterFlags(fs)
	extractTimeout, extractMemory := cfg.extractFlags(fs)
	pages := reextract.PagesMissing
	fs.Var(pagesFlag{&pages}, "rebuild-pages",
		"`WHICH` captures with a WARC get page.html and thumb.jpg built again: missing (none yet, an older builder's, or a new lead image), all, or none")
	if err := cfg.parse(fs, args, io.err); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(io.err, "linkarc reextract: "+format+"\n", a...)
		fs.Usage()
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q: the archive is named by --store, the articles by --digest and the other filters", fs.Args())
	}
	filter, err := sel.filter()
	if err != nil {
		return usage("%v", err)
	}
	logger, err := cfg.logger(io.err)
	if err != nil {
		return usage("%v", err)
	}
	store, err := cfg.openExistingStore(ctx, io.getenv, storage.RetryOptions{}, logger)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc reextract:", err)
		return exitUsage
	}
	spec, _ := cfg.storeSpec()
	fmt.Fprintln(io.err, "linkarc reextract: store", spec)
	tempDir, closeDir, err := openTempDir(logger)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc reextract:", err)
		return exitUsage
	}
	defer closeDir()
	pool, err := cfg.extractPool(ctx, 1, *extractTimeout, *extractMemory, logger)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc reextract:", err)
		return exitUsage
	}
	defer pool.Close()
	rep, err := reextract.Run(ctx, reextract.Options{
		Store:     store,
		Filter:    filter,
		Extractor: pool,
		Pages:     pages,
		TempDir:   tempDir,
		Logger:    logger,
		Progress: func(r reextract.Result) {
			switch {
			case r.Err != nil:
				fmt.Fprintf(io.err, "linkarc reextract: %s: not rebuilt: %v\n", r.Slug, r.Err)
			case r.Changed():
				fmt.Fprintf(io.err, "linkarc reextract: %s: %s → %s\n", r.Slug, verdict(r.Before), verdict(r.After))
			}
		},
	})
	var unknown *stored.UnknownDigestsError
	switch {
	case errors.As(err, &unknown):
		fmt.Fprintf(io.err, "linkarc reextract: %v\n", err)
		return exitUsage
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(io.err, "linkarc reextract: interrupted after %s; run it again to finish\n", textnorm.Count(rep.Rebuilt, "article", "articles"))
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(io.err, "linkarc reextract:", err)
		return exitSomeFailed
	}
	fmt.Fprintf(io.err, "linkarc reextract: rebuilt %s (%d from %s WARC, %d from raw.html), %d with a new verdict; %d left as %s; %d could not be read; %s updated\n",
		textnorm.Count(rep.Rebuilt, "article", "articles"), rep.FromWARC, textnorm.Plural(rep.FromWARC, "its", "their"), rep.FromRaw, rep.Changed,
		rep.Skipped, textnorm.Plural(rep.Skipped, "it is", "they are"), len(rep.Failed), textnorm.Count(rep.Digests, "digest record", "digest records"))
	fmt.Fprintf(io.err, "linkarc reextract: built %s (%d with a thumbnail); %d could not be built and %s\n",
		textnorm.Count(rep.Pages, "self-contained page", "self-contained pages"), rep.Thumbnails, rep.PagesNotBuilt,
		textnorm.Plural(rep.PagesNotBuilt, "keeps what it had", "keep what they had"))
	if len(rep.Failed) > 0 {
		return exitSomeFailed
	}
	return exitOK
}

// pagesFlag is --rebuild-pages: reextract.ParsePages checks the word as
// it is parsed, so a wrong one is a flag error like any other.
type pagesFlag struct{ p *reextract.Pages }

func (f pagesFlag) String() string {
	if f.p == nil {
		return ""
	}
	return string(*f.p)
}

func (f pagesFlag) Set(s string) error {
	p, err := reextract.ParsePages(s)
	if err != nil {
		return err
	}
	*f.p = p
	return nil
}

// verdict shows a status and its reason: "blocked (consent_wall)".
func verdict(v reextract.Verdict) string {
	if v.Reason == "" {
		return v.Status
	}
	return v.Status + " (" + string(v.Reason) + ")"
}
