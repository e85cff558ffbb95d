package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	goio "io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/linkarc/linkarc/archive/export"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/tempdir"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage"
)

// maxSkipLines bounds the articles an export names as left out; the rest
// are counted.
const maxSkipLines = 20

// runExport is `linkarc export`: flags and wiring; the work is package
// archive/export.
func runExport(ctx context.Context, args []string, io stdio) int {
	fs, cfg := newFlagSet("export", "export --format digests|jsonl|site|wacz --out PATH [flags]\n\n"+
		"Writes the archive, or the part of it the filters select, as:\n"+
		"  digests  the digests rewritten: publisher URLs in place of Google News links, and a link to each\n"+
		"           archived copy (to a viewer, --base-url, or a site export, --site-url); --out is a directory\n"+
		"  jsonl    one JSON object per article, its meta.json; --out is a file, or - for standard output\n"+
		"  site     a static, read-only HTML site of the viewer's pages; --out is a directory (open index.html)\n"+
		"  wacz     the captures' WARCs in one WACZ package for ReplayWeb.page or pywb; --out is a file, or -\n"+
		"A directory must be new, empty, or an earlier export of the same format. Exit status: 0 all written,\n"+
		"1 some articles left out (named on stderr) or nothing to write, 2 usage or configuration error.", io)
	cfg.storeFlags(fs)
	format := fs.String("format", "", "`FORMAT`: digests, jsonl, site or wacz (required)")
	out := fs.String("out", "", "the `PATH` to write: a directory (digests, site), a file or - for standard output (jsonl, wacz) (required)")
	sel := cfg.filterFlags(fs)
	baseURL := fs.String("base-url", "", "digests: link archived copies to the viewer at `URL` (default "+export.DefaultViewer+")")
	siteURL := fs.String("site-url", "", "digests: link archived copies to a site export at `URL` (or a path, e.g. ../site) instead")
	if err := cfg.parse(fs, args, io.err); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(io.err, "linkarc export: "+format+"\n", a...)
		fs.Usage()
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q: the archive is named by --store, the output by --out", fs.Args())
	}
	if *format == "" {
		return usage("name a format: --format digests, jsonl, site or wacz")
	}
	f, err := export.ParseFormat(*format)
	if err != nil {
		return usage("-format %q: want digests, jsonl, site or wacz", *format)
	}
	if *out == "" {
		return usage("name where to write with --out: %s", map[bool]string{true: "a directory", false: "a file, or - for standard output"}[f.Directory()])
	}
	if f.Directory() && *out == "-" {
		return usage("--format %s writes a directory: --out - is not one", f)
	}
	if f != export.FormatDigests && (*baseURL != "" || *siteURL != "") {
		return usage("--base-url and --site-url are for --format digests")
	}
	if err := (export.Links{Viewer: *baseURL, Site: *siteURL}).Check(); err != nil {
		return usage("%v", err)
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
		fmt.Fprintln(io.err, "linkarc export:", err)
		return exitUsage
	}
	spec, _ := cfg.storeSpec()
	fmt.Fprintln(io.err, "linkarc export: store", spec)
	selection, err := stored.Select(ctx, store, filter)
	var unknown *stored.UnknownDigestsError
	switch {
	case errors.As(err, &unknown):
		fmt.Fprintf(io.err, "linkarc export: %v (the viewer's /api/digests, or 'linkarc export --format jsonl --out -', lists them)\n", err)
		return exitUsage
	case err != nil:
		return exportFailed(ctx, io, err)
	}
	for _, e := range selection.Skipped {
		fmt.Fprintln(io.err, "linkarc export: skipped an unreadable digest record:", e)
	}

	var rep export.Report
	if f.Directory() {
		if err := export.PrepareDir(*out, f); err != nil {
			fmt.Fprintln(io.err, "linkarc export:", err)
			return exitUsage
		}
		if f == export.FormatDigests {
			rep, err = export.WriteDigests(ctx, selection, *out, export.Links{Viewer: *baseURL, Site: *siteURL})
		} else {
			rep, err = export.WriteSite(ctx, selection, *out, logger)
		}
	} else {
		rep, err = writeOutput(*out, io.out, logger, func(w goio.Writer) (export.Report, error) {
			if f == export.FormatJSONL {
				return export.WriteJSONL(ctx, selection, w)
			}
			return export.WriteWACZ(ctx, selection, w, export.WACZOptions{
				Title:    "linkarc export",
				Software: "linkarc/" + buildinfo.Version(),
			})
		})
	}
	if err != nil {
		if errors.Is(err, export.ErrNothing) {
			fmt.Fprintf(io.err, "linkarc export: %v; nothing was written\n", err)
			return exitSomeFailed
		}
		var pathErr *os.PathError
		if errors.As(err, &pathErr) && !errors.Is(err, context.Canceled) {
			if pathErr.Path == *out {
				err = pathErr.Err // the path is said once
			}
			fmt.Fprintf(io.err, "linkarc export: --out %s: %v\n", *out, err)
			return exitUsage
		}
		return exportFailed(ctx, io, err)
	}
	for i, s := range rep.Skipped {
		if i == maxSkipLines {
			fmt.Fprintf(io.err, "linkarc export: … and %d more left out\n", len(rep.Skipped)-maxSkipLines)
			break
		}
		fmt.Fprintf(io.err, "linkarc export: left out %s: %s\n", s.Slug, s.Reason)
	}
	where := *out
	if where == "-" {
		where = "standard output"
	}
	fmt.Fprintf(io.err, "linkarc export: %s: %s, %s, %s to %s\n", f, textnorm.Count(rep.Digests, "digest", "digests"), textnorm.Count(rep.Articles, "article", "articles"), written(rep), where)
	if rep.Removed > 0 {
		fmt.Fprintf(io.err, "linkarc export: removed %s of the earlier export in %s that this one no longer holds\n", textnorm.Count(rep.Removed, "file", "files"), *out)
	}
	for i, slug := range rep.NoPage {
		if i == maxSkipLines {
			fmt.Fprintf(io.err, "linkarc export: … and %d more without a page entry\n", len(rep.NoPage)-maxSkipLines)
			break
		}
		fmt.Fprintf(io.err, "linkarc export: %s: packaged without a page entry: its WARC holds no 2xx response for the page (the capture failed)\n", slug)
	}
	if rep.Originals > 0 || rep.MissingOriginals > 0 {
		fmt.Fprintf(io.err, "linkarc export: %s of other captures added for the originals of revisits; %s without an original in the store\n",
			textnorm.Count(rep.Originals, "WARC", "WARCs"), textnorm.Count(rep.MissingOriginals, "revisit", "revisits"))
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(io.err, "linkarc export: %s left out\n", textnorm.Count(len(rep.Skipped), "article", "articles"))
		return exitSomeFailed
	}
	return exitOK
}

// written says how much an export wrote.
func written(rep export.Report) string {
	size := humanBytes(rep.Bytes)
	if rep.Files > 0 {
		return textnorm.Count(rep.Files, "file", "files") + ", " + size + ","
	}
	return size
}

// humanBytes shows a size the way people read it: "1.5 MiB".
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return textnorm.Count(int(n), "byte", "bytes")
}

// exportFailed reports an export that stopped: interrupted, or the store
// failed.
func exportFailed(ctx context.Context, io stdio, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintln(io.err, "linkarc export: interrupted; run it again to write the whole export")
		return exitInterrupted
	}
	fmt.Fprintln(io.err, "linkarc export:", err)
	return exitSomeFailed
}

// writeOutput runs write into the file path, or into stdout for "-". A
// file is written beside its place (tempdir.Beside, which first removes
// what killed exports of path left there) and renamed when write
// succeeds, so a failed or interrupted export leaves no half file behind.
func writeOutput(path string, stdout goio.Writer, logger *slog.Logger, write func(goio.Writer) (export.Report, error)) (export.Report, error) {
	if path == "-" {
		return write(stdout)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return export.Report{}, &os.PathError{Op: "write", Path: path, Err: errors.New("is a directory; name a file")}
	}
	tmp, _, err := tempdir.Beside(path, logger)
	if err != nil {
		return export.Report{}, outPathError(path, err)
	}
	// The file stays open, and so locked, until it is renamed or removed.
	defer tmp.Close()
	rep, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		if err = os.Rename(tmp.Name(), path); err != nil {
			err = outPathError(path, err)
		}
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return rep, err
}

// outPathError words a failure to create or rename the output file in the
// terms of the path the user gave (never the temporary file beside it):
// its folder does not exist, is not a folder, or the system's reason.
func outPathError(path string, err error) error {
	dir := filepath.Dir(path)
	fi, serr := os.Stat(dir)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		err = fmt.Errorf("the folder %s does not exist; create it first or name another", dir)
	case serr == nil && !fi.IsDir():
		err = fmt.Errorf("%s is not a folder", dir)
	default:
		var pe *os.PathError
		var le *os.LinkError
		if errors.As(err, &pe) {
			err = pe.Err
		} else if errors.As(err, &le) {
			err = le.Err
		}
	}
	return &os.PathError{Op: "write", Path: path, Err: err}
}
