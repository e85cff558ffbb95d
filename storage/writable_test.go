package storage_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// TestCheckWritable: a writable store passes and keeps nothing of the
// probe; a directory that refuses writes is ErrNotWritable with the
// system's reason, found without any archive write.
func TestCheckWritable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := storage.CheckWritable(ctx, s); err != nil {
		t.Fatalf("writable store: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the probe left %v behind", ents)
	}

	ro, err := storage.NewLocal(storagetest.ReadOnlyDir(t))
	if err != nil {
		t.Fatalf("a read-only directory can still be opened for reading: %v", err)
	}
	err = storage.CheckWritable(ctx, ro)
	if !errors.Is(err, storage.ErrNotWritable) {
		t.Fatalf("read-only store: %v, want ErrNotWritable", err)
	}
	if r := storage.NotWritableReason(err); r == "" {
		t.Errorf("no reason in %v", err)
	}
	if err := storage.CheckWritable(ctx, storage.ReadOnly(s)); err == nil {
		t.Error("a store opened read-only passed the check")
	}
}
