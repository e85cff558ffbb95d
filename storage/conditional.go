package storage

import (
	"context"
	"errors"
	"io"
)

// ErrPreconditionFailed is returned (wrapped) by PutIf when the object at the
// key is not the version the condition names: another writer stored (or
// removed) it since the caller looked. Test for it with errors.Is.
var ErrPreconditionFailed = errors.New("the object is not the version expected (precondition failed)")

// ErrNotSupported is returned (wrapped) by a Conditional method of a store
// that cannot write conditionally (a retrying wrapper around such a store).
var ErrNotSupported = errors.New("conditional writes not supported by this store")

// MaxConditionalSize bounds the objects PutIf writes and whose ETag
// GetVersion computes in memory on the local backend: conditional objects are
// small records (leases), and S3 takes conditions on single-part uploads.
const MaxConditionalSize = 1 << 20

// Conditional is the extension of Store for writers that must not replace
// what another writer stored since they looked: compare-and-swap on one
// object. Local, S3 and the retrying wrapper implement it, and the
// conformance suite (storagetest) holds them to it, concurrently and across
// processes. linkarc uses it for leases (see package storage/record), not for
// the archive's other objects.
//
// An ETag is an opaque version tag: two versions with different content
// have different ETags (S3: the object's ETag; local: a hash of the
// content). Objects written with PutIf should be written only with PutIf, so
// that every change goes through the condition.
type Conditional interface {
	// GetVersion opens the object like Get and also returns the ETag of
	// the version opened, so that what is read and the ETag are of the
	// same version.
	GetVersion(ctx context.Context, key string) (io.ReadCloser, string, error)

	// PutIf stores r under key like Put, but only if, at the moment it is
	// written, the key has no object (ifMatch == "", S3's If-None-Match: *)
	// or has the version whose ETag is ifMatch (If-Match). It returns the
	// ETag of the new version. When the condition does not hold, nothing
	// changes and the error wraps ErrPreconditionFailed. size must be known
	// and at most MaxConditionalSize.
	//
	// A PutIf whose answer was lost and is retried may find its own write
	// and fail the condition; callers tell that apart by what they read
	// back (a lease names its holder).
	PutIf(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, opts PutOptions) (etag string, err error)
}

// AsConditional returns s as a Conditional, when it can write
// conditionally: a retrying wrapper can when the store it wraps can. It
// makes no call to the store.
func AsConditional(s Store) (Conditional, bool) {
	if r, ok := s.(*retrying); ok {
		if _, inner := AsConditional(r.s); !inner {
			return nil, false
		}
		return r, true
	}
	c, ok := s.(Conditional)
	return c, ok
}
