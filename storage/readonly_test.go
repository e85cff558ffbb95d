package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnly: a read-only store reads what is there and refuses every
// change without touching the directory; one over no store reads as empty.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, "a/b.json", strings.NewReader("{}"), 2, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		s     Store
		exist bool
	}{
		{"over a store", ReadOnly(l), true},
		{"over none", ReadOnly(nil), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Put(ctx, "a/c.json", strings.NewReader("{}"), 2, PutOptions{}); !errors.Is(err, ErrReadOnly) {
				t.Errorf("Put: %v, want ErrReadOnly", err)
			}
			if err := tt.s.Delete(ctx, "a/b.json"); !errors.Is(err, ErrReadOnly) {
				t.Errorf("Delete: %v, want ErrReadOnly", err)
			}
			if _, ok := AsConditional(tt.s); ok {
				t.Error("a read-only store writes conditionally")
			}
			_, err := tt.s.Stat(ctx, "a/b.json")
			if (err == nil) != tt.exist || (!tt.exist && !IsNotExist(err)) {
				t.Errorf("Stat: %v, want exists %v", err, tt.exist)
			}
			n := 0
			if err := tt.s.List(ctx, "a/", func(Info) error { n++; return nil }); err != nil || n != map[bool]int{true: 1, false: 0}[tt.exist] {
				t.Errorf("List: %d objects, %v", n, err)
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "a"))
	if len(entries) != 1 {
		t.Errorf("the directory changed: %v", entries)
	}
}
