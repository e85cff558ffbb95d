package record

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestReadMetas: meta.json read several at a time are handed on in the
// order asked, each as LoadMeta reads it (missing and unreadable are not
// errors), and an error of the callback stops the reads and is returned.
func TestReadMetas(t *testing.T) {
	st := localStore(t)
	var slugs []string
	for i := range 40 {
		slug := fmt.Sprintf("a-%02d", i)
		slugs = append(slugs, slug)
		switch i % 10 {
		case 3: // missing
		case 7:
			putRaw(t, st, ArticleKey(slug, MetaFile), []byte("{not json"))
		default:
			putRaw(t, st, ArticleKey(slug, MetaFile), metaOfSize(t, slug, 100))
		}
	}
	for _, workers := range []int{0, 1, 8, 64} {
		var got []string
		err := ReadMetas(context.Background(), st, slugs, workers, func(slug string, p Prior) error {
			got = append(got, slug)
			var i int
			fmt.Sscanf(slug, "a-%d", &i)
			switch {
			case i%10 == 3 && (p.Exists || p.Unreadable != nil):
				t.Errorf("%s: missing, read as %+v", slug, p)
			case i%10 == 7 && !errors.Is(p.Unreadable, ErrUnreadable):
				t.Errorf("%s: unreadable, read as %+v", slug, p)
			case i%10 != 3 && i%10 != 7 && (!p.Exists || p.Meta.Slug != slug):
				t.Errorf("%s: read as %+v", slug, p)
			}
			return nil
		})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(slugs) {
			t.Errorf("%d workers: %v, order %v", workers, err, got)
		}
		stop := errors.New("enough")
		n := 0
		err = ReadMetas(context.Background(), st, slugs, workers, func(string, Prior) error {
			if n++; n == 5 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 5 {
			t.Errorf("%d workers: stopped with %v after %d", workers, err, n)
		}
	}
}

// TestFoldIDs: the ids a capture may take in another article's history
// start with its own, differ from each other, and are all valid.
func TestFoldIDs(t *testing.T) {
	for _, id := range []string{"20260104T090000.000Z", "20240101T080000Z", "x"} {
		ids := FoldIDs(id, "birds-paper")
		seen := map[string]bool{}
		for _, got := range ids {
			if !ValidCaptureID(got) || seen[got] {
				t.Errorf("%s: %q", id, ids)
			}
			seen[got] = true
		}
		if len(ids) < 3 || ids[0] != id {
			t.Errorf("%s: %q", id, ids)
		}
		if other := FoldIDs(id, "fish-paper"); other[1] == ids[1] {
			t.Errorf("%s: the same suffix for two articles: %q", id, other)
		}
	}
}
