package storagetest

import (
	"context"
	"io"
	"testing"

	"github.com/linkarc/linkarc/storage"
)

// ReadObject returns the whole object at key, failing the test if it
// cannot be read. Tests of every package that look into a store use it.
func ReadObject(tb testing.TB, s storage.Store, key string) []byte {
	tb.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("Get(%q): read: %v", key, err)
	}
	return b
}
