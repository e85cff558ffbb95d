//go:build unix

package tempdir

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// canLock says whether files are locked here, and so whether what dead
// processes left can be told from what live ones hold.
const canLock = true

// openDir opens a directory, and only a directory, without following a
// symlink.
const openDir = unix.O_DIRECTORY | unix.O_NOFOLLOW

// errBusy is the error for a file whose lock another open file holds: a
// live process's.
var errBusy = errors.New("locked by a live process")

// openLocked opens the directory (isDir) or regular file at path without
// following a symlink, and locks it (lockFile).
func openLocked(path string, isDir bool) (*os.File, error) {
	flag := openDir
	if !isDir {
		// A FIFO swapped in for the file would block an open without
		// O_NONBLOCK; on a regular file it changes nothing.
		flag = unix.O_NOFOLLOW | unix.O_NONBLOCK
	}
	f, err := os.OpenFile(path, os.O_RDONLY|flag, 0)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lockFile takes an exclusive flock(2) on f without waiting: errBusy when
// another open file holds it. The lock lasts until f is closed or the
// process ends, however it ends. flock locks belong to an open file, so a
// second open in the same process is refused as another process would be.
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return errBusy
		case err != unix.EINTR:
			return &fs.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
	}
}

// ownedByMe reports whether the file fi describes belongs to this user.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
