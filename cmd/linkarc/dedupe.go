package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	goio "io"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/dedupe"
	"github.com/linkarc/linkarc/storage"
)

// runDedupe is `linkarc dedupe`: flags and wiring; the work is
// dedupe.Run.
func runDedupe(ctx context.Context, args []string, io stdio) int {
	fs, cfg := newFlagSet("dedupe", "dedupe [--dry-run] [flags]\n\n"+
		"Merges the articles that hold one publisher URL: archives made by versions before the URL index may\n"+
		"hold one page under two slugs (two digests, two titles). The article archived first is kept; every\n"+
		"capture of the others is copied into its history (each file checked against its SHA-256), the\n"+
		"digests listing them are pointed at it, and each old slug gets an alias, so that its viewer\n"+
		"addresses redirect to the kept article. Nothing is deleted: a merged article keeps its captures in\n"+
		"its own history. Articles are merged under the same leases as linkarc archive writes them, so the two\n"+
		"may run at once. --dry-run prints what would be merged and writes nothing. Exit status: 0 done (or\n"+
		"nothing to do), 1 some groups or digests were left as they are (named on stderr; run it again),\n"+
		"2 usage or configuration error, 130 interrupted (run it again: it finishes what it started).", io)
	cfg.storeFlags(fs)
	dryRun := fs.Bool("dry-run", false, "print what would be merged, write nothing")
	if err := cfg.parse(fs, args, io.err); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.err, "linkarc dedupe: unexpected arguments %q: the archive is named by --store\n", fs.Args())
		fs.Usage()
		return exitUsage
	}
	logger, err := cfg.logger(io.err)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc dedupe:", err)
		return exitUsage
	}
	store, err := cfg.openExistingStore(ctx, io.getenv, storage.RetryOptions{}, logger)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc dedupe:", err)
		return exitUsage
	}
	if *dryRun {
		store = storage.ReadOnly(store)
	}
	spec, _ := cfg.storeSpec()
	fmt.Fprintln(io.err, "linkarc dedupe: store", spec)
	rep, err := dedupe.Run(ctx, dedupe.Options{
		Store: store, DryRun: *dryRun, Logger: logger,
		Progress: func(m dedupe.Merge) { writeMerge(io.out, m, *dryRun) },
	})
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(io.err, "linkarc dedupe: interrupted; run it again to finish what it started")
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(io.err, "linkarc dedupe:", err)
		fmt.Fprintln(io.err, "linkarc dedupe: stopped; what was merged is complete or is finished by running it again")
		return exitSomeFailed
	}
	writeDedupeSummary(io.err, rep, spec)
	if rep.Skipped > 0 || len(rep.Unreadable) > 0 || len(rep.Left) > 0 {
		return exitSomeFailed
	}
	return exitOK
}

// writeMerge prints one group: the URL, then the kept article and each
// merged one, one line each.
func writeMerge(w goio.Writer, m dedupe.Merge, dryRun bool) {
	fmt.Fprintln(w, m.URL)
	line := func(verb string, a dedupe.Article) {
		status := a.Status
		if status == "" {
			status = "no current capture"
		}
		fmt.Fprintf(w, "  %-6s %s (first archived %s, %s, %s)\n", verb, a.Slug, a.FirstArchived.UTC().Format(time.RFC3339), status, plural(a.Captures, "capture"))
	}
	line("keep", m.Keeper)
	verb := "merged"
	if dryRun || m.Skipped != "" {
		verb = "merge"
	}
	for _, a := range m.Merged {
		line(verb, a)
		if len(a.Digests) > 0 {
			fmt.Fprintf(w, "         listed by %s\n", strings.Join(a.Digests, ", "))
		}
		var moved []string
		for _, c := range a.Moved {
			if c.As == c.CaptureID {
				moved = append(moved, c.CaptureID)
			} else {
				moved = append(moved, c.CaptureID+" → "+c.As)
			}
		}
		if len(moved) > 0 {
			fmt.Fprintf(w, "         now in %s's history: %s\n", m.Keeper.Slug, strings.Join(moved, ", "))
		}
	}
	if m.Promoted != "" {
		fmt.Fprintf(w, "  %s's current capture is %s's (ok); its own goes to its history\n", m.Keeper.Slug, m.Promoted)
	}
	if m.Skipped != "" {
		fmt.Fprintf(w, "  left as it is: %s\n", m.Skipped)
	}
}

// writeDedupeSummary prints what a run did, and how to inspect and undo
// it.
func writeDedupeSummary(w goio.Writer, rep *dedupe.Report, spec string) {
	would := ""
	if rep.DryRun {
		would = "would be "
	}
	groups := len(rep.Merges) - rep.Skipped
	if len(rep.Merges) == 0 {
		fmt.Fprintf(w, "linkarc dedupe: %s scanned; no URL is held by more than one article\n", plural(rep.Articles, "article"))
	} else {
		fmt.Fprintf(w, "linkarc dedupe: %s scanned; %s held by more than one article; %s %smerged into %s, %s %scopied into their history\n",
			plural(rep.Articles, "article"), plural(len(rep.Merges), "URL"), plural(rep.Merged, "article"), would,
			plural(groups, "kept article"), plural(rep.Captures, "capture"), would)
	}
	var also []string
	if rep.Digests > 0 {
		also = append(also, fmt.Sprintf("%s (%s) %spointed at the kept articles", plural(rep.Digests, "digest record"), plural(rep.Entries, "item"), would))
	}
	if rep.Aliases > 0 {
		also = append(also, fmt.Sprintf("%s of earlier merges %spointed at the end of their chain", plural(rep.Aliases, "alias", "aliases"), would))
	}
	if rep.Index > 0 {
		also = append(also, fmt.Sprintf("%s %supdated", plural(rep.Index, "URL index entry", "URL index entries"), would))
	}
	if len(also) > 0 {
		fmt.Fprintf(w, "linkarc dedupe: %s\n", strings.Join(also, "; "))
	}
	if rep.Cleared > 0 {
		fmt.Fprintf(w, "linkarc dedupe: %s merged by an interrupted run %sfinished\n", plural(rep.Cleared, "article"), would)
	}
	for _, d := range rep.Unreadable {
		fmt.Fprintf(w, "linkarc dedupe: digest record %s could not be read; left as it is\n", d)
	}
	for _, k := range rep.Left {
		fmt.Fprintf(w, "linkarc dedupe: %s: another run held it; run linkarc dedupe again\n", k)
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(w, "linkarc dedupe: %s left as they were (said above); run linkarc dedupe again\n", plural(rep.Skipped, "URL"))
	}
	switch {
	case rep.DryRun && rep.Merged > 0:
		fmt.Fprintln(w, "linkarc dedupe: dry run: nothing was written; run it without --dry-run to merge")
	case rep.DryRun:
		fmt.Fprintln(w, "linkarc dedupe: dry run: nothing was written")
	case rep.Merged > 0:
		fmt.Fprintf(w, "linkarc dedupe: nothing was deleted: a merged article keeps every capture in articles/OLD/history/ (its last one\n"+
			"  under the id aliases/OLD.json calls current), and aliases/OLD.json says where each went in the kept article.\n"+
			"  Inspect: linkarc serve --store %s, then /articles/KEPT: its capture history marks what was merged in, and\n"+
			"  /articles/OLD redirects there. Undo by hand: docs/storage.md, \"Merging duplicates\".\n", spec)
	}
}

// plural is "1 capture", "2 captures" (or the plural given).
func plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
