// Package storage is linkarc's blob store: a flat namespace of keyed objects
// ("articles/<slug>/meta.json") behind one small interface, with a local
// directory backend (the embedded default), an S3 backend (MinIO in
// production) and a retrying wrapper. It knows nothing of what the objects
// mean: the archive format is package storage/record, and this package
// imports nothing else of linkarc.
//
// Every backend passes the same conformance suite (package storagetest), so
// the archive pipeline and the viewer never need to know which one they have.
// Every backend also writes conditionally (Conditional: compare-and-swap on
// one object), which lets several writers share a store.
package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotExist is returned (wrapped) by Get and Stat when no object has the
// key. Test for it with IsNotExist or errors.Is.
var ErrNotExist = errors.New("object does not exist")

// IsNotExist reports whether err says that an object is missing.
func IsNotExist(err error) bool { return errors.Is(err, ErrNotExist) }

// Info describes one stored object.
type Info struct {
	Key     string    // full key, slash separated, never starting with "/"
	Size    int64     // bytes
	ModTime time.Time // when the object was last written
}

// PutOptions tunes a Put. The zero value is valid.
type PutOptions struct {
	// ContentType is recorded where the backend can keep it (S3) so that
	// other tools reading the bucket serve objects correctly.
	ContentType string
}

// Store is the contract every backend fulfils.
//
// Keys are slash-separated paths of printable UTF-8 without "." or ".."
// segments, a leading slash or a trailing slash; ValidKey checks them and every
// method refuses others with an error. All methods are safe for concurrent use.
type Store interface {
	// Put stores the whole of r under key, replacing any object there.
	// size is the length of r, or -1 when unknown; backends stream either way
	// and never hold the object in memory. Put is atomic: readers see the old
	// object or the complete new one, never a part, and a failed Put leaves the
	// old object in place.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error

	// Get opens the object for reading. The caller must Close it. A missing
	// object gives an error for which IsNotExist is true.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// Stat describes the object. A missing object gives an error for which
	// IsNotExist is true.
	Stat(ctx context.Context, key string) (Info, error)

	// List calls fn for every object whose key starts with prefix, in
	// lexical key order, from the calling goroutine. An error returned by fn
	// stops the listing and is returned by List.
	List(ctx context.Context, prefix string, fn func(Info) error) error

	// Delete removes the object. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}
