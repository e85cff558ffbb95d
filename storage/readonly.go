package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrReadOnly is returned (wrapped) by Put and Delete of a ReadOnly store.
var ErrReadOnly = errors.New("store opened read-only")

// ReadOnly returns s for a caller that must change nothing (a dry run):
// reads go to s; Put and Delete fail with ErrReadOnly and reach nothing.
// The result does not write conditionally (AsConditional reports false).
// A nil s is a store that does not exist yet: it reads as empty (Get and
// Stat say the object does not exist, List lists nothing).
func ReadOnly(s Store) Store { return readOnly{s} }

type readOnly struct{ s Store }

func (r readOnly) Put(_ context.Context, key string, _ io.Reader, _ int64, _ PutOptions) error {
	return fmt.Errorf("put %s: %w", key, ErrReadOnly)
}

func (r readOnly) Delete(_ context.Context, key string) error {
	return fmt.Errorf("delete %s: %w", key, ErrReadOnly)
}

func (r readOnly) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if r.s == nil {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotExist)
	}
	return r.s.Get(ctx, key)
}

func (r readOnly) Stat(ctx context.Context, key string) (Info, error) {
	if r.s == nil {
		return Info{}, fmt.Errorf("stat %s: %w", key, ErrNotExist)
	}
	return r.s.Stat(ctx, key)
}

func (r readOnly) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if r.s == nil {
		return nil
	}
	return r.s.List(ctx, prefix, fn)
}
