//go:build unix

package tempdir

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// canLock says whether directories are locked here, and so whether the
// directories of dead processes can be told from live ones.
const canLock = true

// errBusy is lockDir's error for a directory whose lock another open file
// holds: a live process's.
var errBusy = errors.New("locked by a live process")

// lockDir opens the directory at path without following a symlink and
// takes an exclusive flock(2) on it without waiting: errBusy when it is
// held. The lock lasts until the returned file is closed or the process
// ends. flock locks belong to an open file, so a second open in the same
// process is refused as another process would be.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errBusy
		}
		return nil, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

// ownedByMe reports whether the file fi describes belongs to this user.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
