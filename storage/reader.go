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

// putReader wraps the reader of a Put so that the backends behave alike: it
// stops when ctx is cancelled, and when size is known it fails unless the
// reader holds exactly size bytes. The length check fires on the read that
// delivers the last byte, so a backend that stops reading at size (S3) still
// sees it.
func putReader(ctx context.Context, r io.Reader, size int64) io.Reader {
	if size < 0 {
		return &ctxReader{ctx: ctx, r: r}
	}
	return &exactReader{ctx: ctx, r: r, size: size, left: size}
}

// readError is an error of the caller's reader, not of the store; retrying
// the Put cannot help.
type readError struct{ err error }

func (e *readError) Error() string { return "reading the data: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func sourceErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &readError{err}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	return n, sourceErr(err)
}

type exactReader struct {
	ctx        context.Context
	r          io.Reader
	size, left int64
	done       bool
}

func (e *exactReader) Read(p []byte) (int, error) {
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	if e.left == 0 {
		if !e.done {
			e.done = true
			if err := e.checkEnd(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left == 0:
		e.done = true
		if cerr := e.checkEnd(); cerr != nil {
			// Withhold the last bytes too: consumers that read with
			// io.ReadFull ignore an error that comes with the final byte.
			return 0, cerr
		}
		return n, nil
	case err == io.EOF:
		return n, fmt.Errorf("%w: ended after %d of %d bytes", errSizeMismatch, e.size-e.left, e.size)
	}
	return n, sourceErr(err)
}

// checkEnd makes sure nothing follows the size bytes.
func (e *exactReader) checkEnd() error {
	var b [1]byte
	n, err := io.ReadFull(e.r, b[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: more than %d bytes", errSizeMismatch, e.size)
	case err == io.EOF:
		return nil
	}
	return sourceErr(err)
}
