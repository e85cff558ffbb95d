package tempdir

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dustin/go-humanize"
)

// Cleaned says what one cleaning did: of the base directory (Open), or
// of an output's directory (Beside).
type Cleaned struct {
	// Where is the directory cleaned.
	Where string
	// Runs counts what dead processes left that was removed: their
	// directories (Open), or their partial outputs (Beside). Files and
	// Bytes count the regular files removed and their sizes.
	Runs  int
	Files int
	Bytes int64
	// InUse counts what was left alone because its lock is held: live
	// processes'.
	InUse int
	// Errors holds one error for each that could not be removed, naming
	// its path. The next process tries again.
	Errors []error
}

// isProcessDir reports whether name is what Open names a process's
// directory: the pid in decimal, a dash, and MkdirTemp's random part.
func isProcessDir(name string) bool {
	pid, rest, ok := strings.Cut(name, "-")
	return ok && rest != "" && isDigits(pid)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// clean removes from dir what dead processes left: the entries match
// accepts, of the type wantDir says (a directory, else a regular file).
// ReadDir reports a symlink as a symlink, so one is never followed.
func clean(dir string, wantDir bool, match func(name string) bool) Cleaned {
	c := Cleaned{Where: dir}
	if !canLock {
		return c
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		c.Errors = append(c.Errors, fmt.Errorf("list %s: %w", dir, err))
		return c
	}
	for _, e := range entries {
		if !match(e.Name()) || e.IsDir() != wantDir || (!wantDir && !e.Type().IsRegular()) {
			continue
		}
		c.cleanOne(filepath.Join(dir, e.Name()), wantDir)
	}
	return c
}

// cleanOne removes the directory or file at path if its lock is free.
func (c *Cleaned) cleanOne(path string, isDir bool) {
	f, err := openLocked(path, isDir)
	switch {
	case errors.Is(err, errBusy):
		c.InUse++
		return
	case errors.Is(err, fs.ErrNotExist):
		return // removed meanwhile by another process cleaning
	case err != nil:
		c.Errors = append(c.Errors, fmt.Errorf("%s: %w", path, err))
		return
	}
	defer f.Close() // after the removal: the lock keeps others out until then
	if !sameFile(f, path) {
		return // removed, and perhaps made again, by others meanwhile
	}
	files, size := usage(path)
	if err := os.RemoveAll(path); err != nil {
		c.Errors = append(c.Errors, fmt.Errorf("remove %s: %w", path, err))
		return
	}
	c.Runs++
	c.Files += files
	c.Bytes += size
}

// usage counts the regular files at or under path and their sizes,
// following no symlink.
func usage(path string) (files int, size int64) {
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			files++
			size += fi.Size()
		}
		return nil
	})
	return files, size
}

// sameFile reports whether path, not followed if a symlink, still names
// the file f has open.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// log says in one line what was cleaned, what being the word for the
// things cleaned in a message. Something removed means runs ended without
// cleaning up (killed, crashed, a power cut), which is worth a warning
// (the commands' default level); nothing to remove is said at debug level.
func (c Cleaned) log(l *slog.Logger, what string) {
	if l == nil {
		return
	}
	attrs := []any{"runs", c.Runs, "files", c.Files, "size", humanize.IBytes(uint64(c.Bytes)), "in_use", c.InUse, "dir", c.Where}
	switch {
	case len(c.Errors) > 0:
		l.Warn(what+" of runs that were killed or crashed: some could not be removed", append(attrs, "err", errors.Join(c.Errors...))...)
	case c.Runs > 0:
		l.Warn("removed the "+what+" of runs that were killed or crashed", attrs...)
	default:
		l.Debug("no "+what+" of killed runs to remove", attrs...)
	}
}
