package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// condLockName is the file in the store's directory that conditional writes
// lock, across goroutines and processes: a check and the write that depends
// on it happen under it. Its name starts with tempPrefix, so no key can
// name it and List never shows it.
const condLockName = tempPrefix + "conditional.lock"

// GetVersion implements Conditional. The local ETag is a hash of the
// object's content, so objects up to MaxConditionalSize are read whole
// into memory; a larger one gets an ETag no PutIf will match.
func (l *Local) GetVersion(ctx context.Context, key string) (io.ReadCloser, string, error) {
	rc, err := l.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, etag, err := readVersion(rc)
	if err != nil {
		return nil, "", fmt.Errorf("get %q: %w", key, err)
	}
	return io.NopCloser(bytes.NewReader(data)), etag, nil
}

// readVersion reads an object of at most MaxConditionalSize bytes and its
// ETag.
func readVersion(r io.Reader) ([]byte, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConditionalSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > MaxConditionalSize {
		return nil, "", fmt.Errorf("larger than %d bytes, too large for a conditional object", MaxConditionalSize)
	}
	return data, localETag(data), nil
}

func localETag(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// PutIf implements Conditional. The condition is checked and the object
// written while the store's conditional lock (an exclusive flock on
// condLockName) is held, so conditional writers in any process of the
// machine take turns; the write itself is Put's (temporary file, sync,
// rename).
func (l *Local) PutIf(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, opts PutOptions) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("put %q: %w", key, err)
	}
	if size < 0 || size > MaxConditionalSize {
		return "", fmt.Errorf("put %q: conditional writes need a known size of at most %d bytes, not %d", key, MaxConditionalSize, size)
	}
	data, err := io.ReadAll(newPutBody(ctx, r, size))
	if err != nil {
		return "", fmt.Errorf("put %q: %w", key, err)
	}
	unlock, err := lockFile(filepath.Join(l.root, condLockName))
	if err != nil {
		return "", fmt.Errorf("put %q: lock: %w", key, err)
	}
	defer unlock()
	cur, err := os.Open(l.path(key))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if ifMatch != "" {
			return "", fmt.Errorf("put %q: %w: no object, want version %s", key, ErrPreconditionFailed, ifMatch)
		}
	case err != nil:
		return "", l.fileErr("put", key, err)
	default:
		_, etag, rerr := readVersion(cur)
		cur.Close()
		if rerr != nil {
			return "", fmt.Errorf("put %q: %w", key, rerr)
		}
		if ifMatch == "" {
			return "", fmt.Errorf("put %q: %w: the object exists", key, ErrPreconditionFailed)
		}
		if etag != ifMatch {
			return "", fmt.Errorf("put %q: %w: version %s, want %s", key, ErrPreconditionFailed, etag, ifMatch)
		}
	}
	if err := l.Put(ctx, key, bytes.NewReader(data), int64(len(data)), opts); err != nil {
		return "", err
	}
	return localETag(data), nil
}
