package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// errSizeMismatch says that a Put's reader did not hold the size it was
// given. It is the caller's mistake, so it is never retried.
var errSizeMismatch = errors.New("reader length differs from the size given")

// readError is an error of the caller's reader, not of the store; retrying
// the Put cannot help.
type readError struct{ err error }

func (e *readError) Error() string { return "reading the data: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// putBody wraps the reader of a Put so that the backends behave alike: it
// stops when ctx is canceled, and when the size is known it fails unless
// the reader holds exactly that many bytes.
//
// It remembers the error it failed with, because an HTTP client may
// replace that error with its own view of it (minio-go reports any error
// mentioning EOF as a closed connection), which would make a broken reader
// look like a network failure worth retrying.
type putBody struct {
	ctx  context.Context
	r    io.Reader
	size int64 // -1: unknown
	left int64
	done bool  // the end has been checked
	err  error // the first error Read returned, other than io.EOF
}

func newPutBody(ctx context.Context, r io.Reader, size int64) *putBody {
	return &putBody{ctx: ctx, r: r, size: size, left: size}
}

// failure returns the error the body failed with, if it did.
func (b *putBody) failure() error { return b.err }

func (b *putBody) Read(p []byte) (int, error) {
	n, err := b.read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *putBody) read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if b.size < 0 {
		n, err := b.r.Read(p)
		return n, sourceErr(err)
	}
	if b.left == 0 {
		if !b.done {
			b.done = true
			if err := b.checkEnd(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case b.left == 0:
		b.done = true
		if cerr := b.checkEnd(); cerr != nil {
			// Withhold the last bytes too: consumers that read with
			// io.ReadFull ignore an error that comes with the final byte.
			return 0, cerr
		}
		return n, nil
	case err == io.EOF:
		return n, fmt.Errorf("%w: ended after %d of %d bytes", errSizeMismatch, b.size-b.left, b.size)
	}
	return n, sourceErr(err)
}

// checkEnd makes sure nothing follows the size bytes.
func (b *putBody) checkEnd() error {
	var one [1]byte
	n, err := io.ReadFull(b.r, one[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: more than %d bytes", errSizeMismatch, b.size)
	case err == io.EOF:
		return nil
	}
	return sourceErr(err)
}

func sourceErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &readError{err}
}
