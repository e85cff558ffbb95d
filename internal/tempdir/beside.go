package tempdir

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Beside creates the file a command writes an output to before renaming
// it to path, so that a reader never sees half an output: in path's
// directory (a rename is atomic within one file system only, and TMPDIR
// may be another), named "."+filepath.Base(path)+".<digits>.tmp", and
// locked until closed, as a process's directory is. Rename it to path
// before closing it, so that no cleaner can take it first.
//
// Before creating it, Beside removes the files named so beside path
// whose lock is free: partial outputs of runs killed while writing path.
// They are only ever path's: partial files of other outputs, and other
// files, are left alone. What was removed is logged in one line (see
// Open) to logger, which may be nil, and returned. An error is the
// directory's (path's directory does not exist or cannot be written, an
// *fs.PathError), or the lock's.
func Beside(path string, logger *slog.Logger) (*os.File, Cleaned, error) {
	dir := filepath.Dir(path)
	prefix := "." + filepath.Base(path) + "."
	c := clean(dir, false, func(n string) bool {
		mid, ok := strings.CutPrefix(n, prefix)
		mid, ok2 := strings.CutSuffix(mid, ".tmp")
		return ok && ok2 && isDigits(mid)
	})
	c.log(logger, "partial outputs")
	f, err := makeLocked(func() (*os.File, error) { return os.CreateTemp(dir, prefix+"*.tmp") })
	return f, c, err
}
