//go:build !unix

package tempdir

import (
	"errors"
	"io/fs"
	"os"
)

// canLock is false: without flock, whether the owner of a file lives
// cannot be told, so nothing but the caller's own files is ever removed.
const canLock = false

const openDir = 0

var errBusy = errors.New("locked by a live process")

func openLocked(path string, _ bool) (*os.File, error) { return os.Open(path) }

// lockFile locks nothing here.
func lockFile(*os.File) error { return nil }

// ownedByMe cannot be told here; the base directory is trusted.
func ownedByMe(fs.FileInfo) bool { return true }
