package record

import (
	"testing"

	"github.com/linkarc/linkarc/storage"
)

// checkStorable asserts that a slug makes valid storage keys: the store
// itself refuses traversal, control characters and empty segments, so a
// slug it would refuse is one that could not be archived (or viewed).
func checkStorable(t *testing.T, in, slug string) {
	t.Helper()
	for _, key := range []string{ArticleKey(slug, MetaFile), DigestKey(slug)} {
		if err := storage.ValidKey(key); err != nil {
			t.Fatalf("slug %q (from %q) makes an invalid key: %v", slug, in, err)
		}
	}
}
