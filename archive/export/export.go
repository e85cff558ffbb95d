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
	"os"
	"path/filepath"
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
// empty is refused rather than written into.
const markerFile = ".linkarc-export"

// ErrOutNotEmpty is returned (wrapped) by PrepareDir for a directory that
// holds files no export of the format wrote.
var ErrOutNotEmpty = errors.New("the output directory is not empty")

// PrepareDir makes dir ready for an export of format f: created if
// missing; if it exists, it must be empty or hold an earlier export of the
// same format (which is then written over: files of the earlier export
// that this one does not write again stay).
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
		mark, err := os.ReadFile(filepath.Join(dir, markerFile))
		if err != nil || strings.TrimSpace(string(mark)) != string(f) {
			return fmt.Errorf("%s: %w (it holds no earlier %s export); give a new or empty directory", dir, ErrOutNotEmpty, f)
		}
	}
	return os.WriteFile(filepath.Join(dir, markerFile), []byte(string(f)+"\n"), 0o644)
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
