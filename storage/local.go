package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Local is a Store that keeps each object in a file under a directory, at the
// object's key: "articles/x/meta.json" is DIR/articles/x/meta.json. An archive
// on disk can so be browsed, copied and backed up with ordinary tools.
//
// Writes go to a temporary file in the object's directory that is synced and
// renamed over the object, so readers and a crash see the old object or the
// new one. Several processes may share the directory.
//
// The file system imposes one rule S3 does not: a key cannot be both an
// object and a directory of others ("a" and "a/b"); Put refuses the second
// with an error. The archive layout never needs both.
type Local struct {
	root string
}

// NewLocal opens the directory dir as a store, creating it if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("local store: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local store %s: not a directory", abs)
	}
	return &Local{root: abs}, nil
}

// Dir returns the absolute path of the store's directory.
func (l *Local) Dir() string { return l.root }

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, _ PutOptions) (err error) {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	name := l.path(key)
	f, err := createTemp(filepath.Dir(name))
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, newPutBody(ctx, r, size)); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		if fi, serr := os.Stat(name); serr == nil && fi.IsDir() {
			return fmt.Errorf("put %q: the local store keeps other objects under this key as a directory", key)
		}
		return fmt.Errorf("put %q: %w", key, err)
	}
	// The rename is durable only once the directory is synced.
	if err := syncDir(filepath.Dir(name)); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// createTemp creates a new temporary file in dir, creating dir if needed.
// A concurrent Delete may remove dir between the two steps (it prunes empty
// directories), so the pair is retried.
func createTemp(dir string) (*os.File, error) {
	var b [8]byte
	var err error
	for range 20 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("%w (another object's key is a prefix of this one)", err)
			}
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		rand.Read(b[:])
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, tempPrefix+hex.EncodeToString(b[:])), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot sync directories; the data itself is synced.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// Get implements Store.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %q: %w", key, err)
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		return nil, l.fileErr("get", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi)
	}
	if err != nil {
		f.Close()
		return nil, l.fileErr("get", key, err)
	}
	return f, nil
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, fmt.Errorf("stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("stat %q: %w", key, err)
	}
	fi, err := os.Stat(l.path(key))
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi)
	}
	if err != nil {
		return Info{}, l.fileErr("stat", key, err)
	}
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// errIsDir marks a key that names a directory of other objects, which is
// not an object itself.
var errIsDir = errors.New("is a directory")

func notRegular(fi fs.FileInfo) error {
	if fi.IsDir() {
		return errIsDir
	}
	return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
}

// fileErr turns a file system error about key into a store error; missing
// files, missing parents and directories mean no such object.
func (l *Local) fileErr(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, errIsDir) {
		return fmt.Errorf("%s %q: %w", op, key, ErrNotExist)
	}
	return fmt.Errorf("%s %q: %w", op, key, err)
}

// Delete implements Store. It also removes the directories the object leaves
// empty, up to the store's own.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	name := l.path(key)
	fi, err := os.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return fmt.Errorf("delete %q: %w", key, err)
	case fi.IsDir():
		return nil // not an object
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	// Removing a directory that is not empty fails, which ends the pruning;
	// so does a concurrent Put recreating it, which createTemp tolerates.
	for dir := filepath.Dir(name); dir != l.root && strings.HasPrefix(dir, l.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List implements Store. It walks one directory at a time, reading and
// sorting only that directory's entries, so memory grows with the widest
// directory, not with the number of objects.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	dir, namePrefix := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, namePrefix = prefix[:i], prefix[i+1:]
	}
	err := l.walk(ctx, dir, namePrefix, fn)
	if cb := (*callbackError)(nil); errors.As(err, &cb) {
		return cb.err
	}
	if err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	return nil
}

// walk lists the objects in directory dir (a key prefix without its final
// slash, "" for the root) whose next segment starts with namePrefix.
//
// Key order is not directory order: the keys under directory "a" all start
// with "a/", and "/" sorts after "-" and ".", so "a-b" < "a.b" < "a/x". Sorting
// each directory's entries by name, with "/" appended to directory names,
// yields exactly the lexical order of the keys.
func (l *Local) walk(ctx context.Context, dir, namePrefix string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(l.root, filepath.FromSlash(dir)))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil // nothing there, or deleted while we walked
	}
	if err != nil {
		return err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	type entry struct {
		sortName string // name, plus "/" for directories
		d        fs.DirEntry
	}
	list := make([]entry, 0, len(entries))
	for _, d := range entries {
		name := d.Name()
		if !strings.HasPrefix(name, namePrefix) || checkSegment(name, name) != nil || checkChars(name) != nil {
			continue // temporary files and names no key can have
		}
		switch {
		case d.IsDir():
			list = append(list, entry{name + "/", d})
		case d.Type().IsRegular():
			list = append(list, entry{name, d})
		}
	}
	entries = nil
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.sortName, b.sortName) })

	for _, e := range list {
		key := e.d.Name()
		if dir != "" {
			key = dir + "/" + key
		}
		if e.d.IsDir() {
			if err := l.walk(ctx, key, "", fn); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(key) > MaxKeyLen {
			continue
		}
		fi, err := e.d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while we walked
		}
		if err != nil {
			return err
		}
		if err := fn(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return &callbackError{err}
		}
	}
	return nil
}

// callbackError carries an error returned by List's callback through the
// walk, so that List returns it unwrapped.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }
