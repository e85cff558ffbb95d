// Package export writes an archive, or the part of it a stored.Filter
// selects, in the forms people reuse (`linkarc export`):
//
//   - digests: the selected digests rewritten (WriteDigests), front matter
//     and list as the digest package reads them, every Google News link
//     replaced by the publisher URL it resolved to and a link to the
//     archived copy beside it;
//   - jsonl: JSON Lines of every selected article's metadata (WriteJSONL),
//     its meta.json one object per line;
//   - site: a static, read-only HTML site of the selection (WriteSite), the
//     viewer's pages as files (viewer.Site), browsable from a folder or any
//     static host;
//   - wacz: the selected captures' WARCs in one WACZ package (WriteWACZ),
//     which ReplayWeb.page and pywb open.
//
// Every format streams: the archive is read one record, one page, one WARC
// at a time, and what is held is names (the selection's slugs), never
// content. The package reads the store through storage/record and
// archive/stored only, and never writes to it.
package export

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Format is one of the forms an export takes.
type Format string

// The formats.
const (
	FormatDigests Format = "digests"
	FormatJSONL   Format = "jsonl"
	FormatSite    Format = "site"
	FormatWACZ    Format = "wacz"
)

// Formats lists every format, in the order they are documented.
func Formats() []Format { return []Format{FormatDigests, FormatJSONL, FormatSite, FormatWACZ} }

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("format %q: want digests, jsonl, site or wacz", s)
}

// Directory reports whether the format writes a directory (digests, site)
// rather than one file (jsonl, wacz).
func (f Format) Directory() bool { return f == FormatDigests || f == FormatSite }

// Report says what an export wrote, and what it left out and why.
type Report struct {
	Format   Format
	Digests  int   // digests written (digests format) or in the selection
	Articles int   // articles written
	Files    int   // files written (directory formats)
	Bytes    int64 // bytes written
	Skipped  []Skip
	// Originals counts the WARCs of other captures a WACZ holds because
	// the selected captures' revisits refer to records in them;
	// MissingOriginals the revisits whose original is not in the store
	// (they do not replay).
	Originals        int
	MissingOriginals int
	// NoPage lists the articles a WACZ holds without a page entry: their
	// WARC has no 2xx response for the page (a capture that failed with
	// an HTTP error, a 404 say). They are in the package, not left out.
	NoPage []string
	// Removed counts the files of an earlier export into the same
	// directory that this one did not write again, and removed.
	Removed int
}

// Skip is an article of the selection that an export left out.
type Skip struct {
	Slug   string `json:"slug"`
	Reason string `json:"reason"`
}

// ErrNothing is returned (wrapped) when the selection gave the format
// nothing to write: no digest, no article, no WARC. Nothing was written.
var ErrNothing = errors.New("nothing to export")

// markerFile marks a directory an export wrote, so that a later export of
// the same format may write into it again; any other directory that is not
// empty is refused rather than written into. It is the export's manifest:
// its first line is the format, each further line a file the export wrote
// (slash-separated, relative to the directory), so that the next export
// into the directory removes what it no longer writes, and only that.
// Markers written before the manifest hold the format alone.
const markerFile = ".linkarc-export"

// ErrOutNotEmpty is returned (wrapped) by PrepareDir for a directory that
// holds files no export of the format wrote.
var ErrOutNotEmpty = errors.New("the output directory is not empty")

// PrepareDir makes dir ready for an export of format f: created if
// missing; if it exists, it must be empty or hold an earlier export of the
// same format, which the export then replaces: when it completes, the files
// the earlier export wrote (as its manifest lists them) that this one did
// not write again are removed. Files the manifest does not list are never
// touched.
func PrepareDir(dir string, f Format) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		format, _, err := readManifest(dir)
		if err != nil || format != string(f) {
			what := "it holds no earlier " + string(f) + " export"
			if err == nil {
				what = "it holds a " + format + " export"
			}
			return fmt.Errorf("%s: %w (%s); give a new or empty directory", dir, ErrOutNotEmpty, what)
		}
		return nil // the earlier export's manifest stays until this one completes
	}
	return os.WriteFile(filepath.Join(dir, markerFile), []byte(string(f)+"\n"), 0o644)
}

// readManifest reads dir's marker: the format and the files listed.
func readManifest(dir string) (format string, files []string, err error) {
	data, err := os.ReadFile(filepath.Join(dir, markerFile))
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			files = append(files, l)
		}
	}
	return strings.TrimSpace(lines[0]), files, nil
}

// dirOut writes the files of one directory export and keeps the names,
// for the manifest.
type dirOut struct {
	dir     string
	format  Format
	written map[string]bool
}

func newDirOut(dir string, f Format) *dirOut {
	return &dirOut{dir: dir, format: f, written: map[string]bool{}}
}

func (o *dirOut) write(name string, body []byte) error {
	if err := writeFile(o.dir, name, body); err != nil {
		return err
	}
	o.written[name] = true
	return nil
}

// finish writes the manifest. When the export completed, the files the
// earlier export's manifest lists and this one did not write are removed
// (and folders they leave empty); an interrupted export removes nothing
// and lists both, so that the run that completes it cleans up. removed
// counts the files removed.
func (o *dirOut) finish(completed bool) (removed int, err error) {
	_, old, err := readManifest(o.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	keep := maps.Clone(o.written)
	for _, name := range old {
		if o.written[name] {
			continue
		}
		p := filepath.FromSlash(name)
		if !filepath.IsLocal(p) || name == markerFile {
			continue // not something an export writes: never removed
		}
		if !completed {
			keep[name] = true
			continue
		}
		full := filepath.Join(o.dir, p)
		if fi, err := os.Lstat(full); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(full); err != nil {
			return removed, fmt.Errorf("remove %s of the earlier export: %w", full, err)
		}
		removed++
		// Folders the earlier export made and this one left empty go too;
		// os.Remove fails on any that still holds something.
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			if os.Remove(filepath.Join(o.dir, d)) != nil {
				break
			}
		}
	}
	names := slices.Sorted(maps.Keys(keep))
	body := string(o.format) + "\n" + strings.Join(names, "\n")
	if len(names) > 0 {
		body += "\n"
	}
	return removed, writeFile(o.dir, markerFile, []byte(body))
}

// writeFile writes one file of a directory export: name is slash-separated
// and relative to dir; missing directories are made. The file is written
// beside its place and renamed, so a reader never sees half of it.
func writeFile(dir, name string, body []byte) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if !strings.HasPrefix(p, filepath.Clean(dir)+string(filepath.Separator)) {
		return fmt.Errorf("export: %q leads out of %s", name, dir)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
