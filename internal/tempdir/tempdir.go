// Package tempdir gives a process a directory of its own for its
// temporary files (WARC spill files, spilled Google responses, the
// bodies of fetched pages waiting for extraction, WARCs copied from the
// store for random access), and removes what processes
// killed before they could clean up left behind, there and beside the
// outputs they were writing.
//
// The directories live in one base directory per user under the system's
// temporary directory (TMPDIR, else /tmp on Unix):
//
//	$TMPDIR/linkarc-<uid>/            mode 0700, this user's only
//	$TMPDIR/linkarc-<uid>/<pid>-<n>/  one process's files
//
// A process holds an exclusive flock(2) on its directory (the directory
// itself, opened read-only) for as long as it lives. The kernel drops the
// lock when the process ends, however it ends: SIGKILL, OOM kill or power
// cut (after which the lock is gone with the machine's memory). So a
// directory whose lock can be taken belongs to a process that is gone,
// and Open, before making the caller's directory, removes every such
// directory; a directory whose lock is held belongs to a live process
// (another run, a run of another command) and is never touched. Close
// removes the caller's own directory on the normal way out.
//
// The rules Open cleans by:
//   - only entries of the base directory named like a process's directory
//     (digits, a dash, the rest) are considered; other files there and
//     everything in TMPDIR outside the base directory are left alone;
//   - an entry that is not a directory (a symlink to one included) is
//     left alone, and a directory is opened without following symlinks;
//   - a directory is removed only while its lock is held by the cleaner,
//     and only if the path still names the directory that was locked;
//   - symlinks inside a removed directory are removed, never followed.
//
// A process making its directory races with a cleaner that may take the
// lock of the new, still unlocked directory and remove it: the maker
// locks, then checks that its path still names the directory it locked,
// and starts again with a new one when not.
//
// A command that writes an output file beside its place, to rename it
// into place when it is whole (`linkarc export --out FILE`), makes that
// partial file with Beside: locked the same way, so the next run of the
// command removes what killed runs left beside the same output.
//
// On systems without flock (Windows) each process still gets its own
// directory, removed by Close, but the directories of dead processes are
// not cleaned: whether their owner lives cannot be told.
package tempdir

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options configures Open. The zero value is the default.
type Options struct {
	// Root is the directory the base directory is made in; "" means
	// os.TempDir() (TMPDIR). Tests set it.
	Root string
	// Logger receives the one line that says what was cleaned; nil
	// discards it.
	Logger *slog.Logger
}

// Dir is a process's own temporary directory, locked while it is open.
type Dir struct {
	path string
	lock *os.File
	// Cleaned is what Open removed of dead processes' directories.
	Cleaned Cleaned
}

// Open cleans the base directory of the directories of dead processes,
// then makes and locks the caller's own directory in it. Close the Dir
// when the process is done with its temporary files.
//
// An error means no directory could be made: the base directory or the
// process's directory cannot be created (TMPDIR not a writable
// directory), or the base directory is not this user's; the message names
// the path and says to set TMPDIR. Failing to clean a dead process's
// directory is no error: it is in Dir.Cleaned.Errors and logged.
func Open(opts Options) (*Dir, error) {
	root := opts.Root
	if root == "" {
		root = os.TempDir()
	}
	base := filepath.Join(root, baseName())
	if err := ensureBase(base); err != nil {
		return nil, err
	}
	d := &Dir{}
	d.Cleaned = clean(base, true, isProcessDir)
	d.Cleaned.log(opts.Logger, "temporary files")
	prefix := strconv.Itoa(os.Getpid()) + "-"
	f, err := makeLocked(func() (*os.File, error) {
		p, err := os.MkdirTemp(base, prefix)
		if err != nil {
			return nil, unwritable(filepath.Join(base, prefix+"*"), err)
		}
		f, err := os.OpenFile(p, os.O_RDONLY|openDir, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errTaken
		}
		if err != nil {
			os.Remove(p)
			return nil, fmt.Errorf("temporary files: %w", err)
		}
		return f, nil
	})
	if err != nil {
		return nil, err
	}
	d.path, d.lock = f.Name(), f
	return d, nil
}

// maxAttempts bounds how many files or directories makeLocked makes
// before it gives up: it makes another only when a cleaner took the one
// it made before it could lock it, which takes a second process cleaning
// that very directory at that instant.
const maxAttempts = 16

// errTaken is mk's error (see makeLocked) for what it made that was
// removed before it could open it.
var errTaken = errors.New("removed by another process")

// makeLocked makes a new file or directory with mk, which returns it
// open, and locks it. A process cleaning may take the lock of what was
// just made before its maker could, and remove it: then mk fails with
// errTaken, the lock is refused, or the name no longer names what was
// locked, and makeLocked makes another.
func makeLocked(mk func() (*os.File, error)) (*os.File, error) {
	for range maxAttempts {
		f, err := mk()
		if errors.Is(err, errTaken) {
			continue
		}
		if err != nil {
			return nil, err
		}
		err = lockFile(f)
		if err == nil && sameFile(f, f.Name()) {
			return f, nil
		}
		f.Close()
		if err != nil && !errors.Is(err, errBusy) {
			os.Remove(f.Name())
			return nil, fmt.Errorf("temporary files: lock %s: %w", f.Name(), err)
		}
		// What was made is the cleaner's now; it removes it.
	}
	return nil, fmt.Errorf("temporary files: each of %d new temporary files was removed by another process before it could be locked", maxAttempts)
}

// Path is the directory to create temporary files in.
func (d *Dir) Path() string { return d.path }

// Close removes the directory and everything in it, then releases its
// lock. It is safe to call more than once; later calls do nothing.
func (d *Dir) Close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	err := os.RemoveAll(d.path)
	d.lock.Close()
	d.lock = nil
	if err != nil {
		return fmt.Errorf("temporary files: remove %s: %w", d.path, err)
	}
	return nil
}

// baseName is the base directory's name: one per user, so that users
// sharing /tmp neither share nor block each other's directories.
func baseName() string {
	if uid := os.Getuid(); uid >= 0 {
		return "linkarc-" + strconv.Itoa(uid)
	}
	return "linkarc"
}

// ensureBase makes the base directory, or checks that the one there is a
// directory of this user's that nobody else may write to: in a shared
// /tmp another user could have made it first, to read or plant files.
func ensureBase(base string) error {
	err := os.Mkdir(base, 0o700)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrExist):
		return unwritable(base, err)
	}
	fi, err := os.Lstat(base)
	if err != nil {
		return unwritable(base, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("temporary files: %s is not a directory (a %s); remove it, or set TMPDIR to another directory", base, kind(fi.Mode()))
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("temporary files: %s belongs to another user; remove it, or set TMPDIR to a directory of your own", base)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(base, 0o700); err != nil {
			return fmt.Errorf("temporary files: %s: make it private (mode 0700): %w", base, err)
		}
	}
	return nil
}

// unwritable words a failure to create in the base directory: what the
// user can do about it is to point TMPDIR elsewhere.
func unwritable(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("temporary files: cannot create %s: %w; set TMPDIR to a writable directory (now %s)", path, err, tmpdirNow())
}

// tmpdirNow says what TMPDIR is, for an error message.
func tmpdirNow() string {
	if v, ok := os.LookupEnv("TMPDIR"); ok {
		return "TMPDIR=" + v
	}
	return "unset, so " + os.TempDir() + " is used"
}

// kind names a non-directory file mode for a message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "file"
	}
	return strings.TrimPrefix(m.Type().String(), "-")
}
