package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// ErrNotWritable is returned (wrapped) by CheckWritable for a store that
// can be read but not written: a read-only file system, a directory
// without write permission, or S3 credentials allowed to read only.
var ErrNotWritable = errors.New("store is read-only")

// notWritableError gives the reason a store cannot be written ("read-only
// file system", "permission denied", "S3 refused the write: AccessDenied").
type notWritableError struct {
	reason string
	err    error
}

func (e *notWritableError) Error() string { return e.reason }

// Unwrap gives both ErrNotWritable and the cause, for errors.Is.
func (e *notWritableError) Unwrap() []error { return []error{ErrNotWritable, e.err} }

// NotWritableReason returns the short reason of an ErrNotWritable error
// ("read-only file system"), or "" when err is not one.
func NotWritableReason(err error) string {
	var nw *notWritableError
	if errors.As(err, &nw) {
		return nw.reason
	}
	return ""
}

// CheckWritable proves that s accepts writes, so that a run learns of a
// read-only store before it fetches anything rather than at its first
// write. It puts a small probe object at the top of the store
// ("linkarc-write-probe-<16 hex>") and deletes it again; nothing is left
// behind, and only a reader listing the whole store at that instant could
// see it.
//
// A store that refuses the write is an error wrapping ErrNotWritable whose
// NotWritableReason says why; any other failure (the service is down) is
// returned as it is.
func CheckWritable(ctx context.Context, s Store) error {
	var b [8]byte
	rand.Read(b[:])
	key := "linkarc-write-probe-" + hex.EncodeToString(b[:])
	if err := s.Put(ctx, key, strings.NewReader("probe\n"), 6, PutOptions{ContentType: "text/plain"}); err != nil {
		if reason := refusal(err); reason != "" {
			return fmt.Errorf("probe write: %w", &notWritableError{reason: reason, err: err})
		}
		return fmt.Errorf("probe write: %w", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		if reason := refusal(err); reason != "" {
			return fmt.Errorf("probe delete: %w", &notWritableError{reason: reason + " (deletes)", err: err})
		}
		return fmt.Errorf("probe delete: %w", err)
	}
	return nil
}

// refusal says why err is a refusal to write, or "" when it is not one.
func refusal(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, syscall.EROFS):
		return syscall.EROFS.Error()
	case errors.Is(err, fs.ErrPermission):
		if errors.As(err, &errno) {
			return errno.Error()
		}
		return "permission denied"
	case errors.Is(err, ErrAccessDenied):
		if code := errorResponse(err).Code; code != "" {
			return "S3 refused the write: " + code
		}
		return "S3 refused the write"
	}
	return ""
}
