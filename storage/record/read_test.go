package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

func localStore(t *testing.T) storage.Store {
	t.Helper()
	s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func putRaw(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// metaOfSize is a valid meta.json of about n bytes (a long excerpt).
func metaOfSize(t *testing.T, slug string, n int) []byte {
	t.Helper()
	b, err := json.Marshal(ArticleMeta{Slug: slug, Status: StatusOK, Excerpt: strings.Repeat("x", n)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadMeta: one reader, one limit. A record up to MaxRecordSize is
// read; a larger one, or one that does not decode, is ErrUnreadable; a
// missing one is storage.IsNotExist.
func TestReadMeta(t *testing.T) {
	s := localStore(t)
	ctx := context.Background()
	cases := []struct {
		slug       string
		data       []byte
		unreadable bool
	}{
		{"small", metaOfSize(t, "small", 10), false},
		{"five-mib", metaOfSize(t, "five-mib", 5<<20), false},
		{"at-the-limit", metaOfSize(t, "at-the-limit", MaxRecordSize-1000), false},
		{"over-the-limit", metaOfSize(t, "over-the-limit", MaxRecordSize), true},
		{"cut-short", []byte(`{"slug": "cut-short", "title": `), true},
		{"not-json", []byte("<html>"), true},
		{"wrong-type", []byte(`{"slug": 5}`), true},
		{"empty", nil, true},
	}
	for _, c := range cases {
		putRaw(t, s, ArticleKey(c.slug, MetaFile), c.data)
		m, err := ReadMeta(ctx, s, c.slug)
		switch {
		case c.unreadable && !errors.Is(err, ErrUnreadable):
			t.Errorf("%s (%d bytes): err %v, want ErrUnreadable", c.slug, len(c.data), err)
		case c.unreadable && !strings.Contains(err.Error(), ArticleKey(c.slug, MetaFile)):
			t.Errorf("%s: error %q does not name the key", c.slug, err)
		case !c.unreadable && (err != nil || m.Slug != c.slug):
			t.Errorf("%s (%d bytes): %v", c.slug, len(c.data), err)
		}
	}
	if _, err := ReadMeta(ctx, s, "missing"); !storage.IsNotExist(err) || errors.Is(err, ErrUnreadable) {
		t.Errorf("missing: err %v, want not-exist", err)
	}
	if _, err := ReadDigest(ctx, s, "missing"); !storage.IsNotExist(err) {
		t.Errorf("missing digest: err %v, want not-exist", err)
	}
}

// TestWriteKeepsUnreadableMeta: a damaged meta.json is never overwritten
// blind. The next capture first copies it, byte for byte, with the objects
// beside it, into history, and lists it there.
func TestWriteKeepsUnreadableMeta(t *testing.T) {
	s := localStore(t)
	ctx := context.Background()
	const slug = "damaged"
	damaged := []byte(`{"slug": "damaged", "status": "ok", "sha256": `)
	putRaw(t, s, ArticleKey(slug, RawFile), []byte("<p>the old page</p>"))
	putRaw(t, s, ArticleKey(slug, MetaFile), damaged)

	w := Writer{Store: s}
	prior, err := w.LoadMeta(ctx, slug)
	if err != nil || prior.Exists || !errors.Is(prior.Unreadable, ErrUnreadable) {
		t.Fatalf("LoadMeta: %+v, %v; want Unreadable", prior, err)
	}
	snap := &Snapshot{
		Meta: ArticleMeta{Slug: slug, Status: StatusOK, FetchedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		Raw:  []byte("<p>the new page</p>"), Text: "the new page",
	}
	stored, err := w.Write(ctx, snap, prior)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.History) != 1 || stored.History[0].CaptureID == "" {
		t.Fatalf("history %+v, want the damaged capture listed", stored.History)
	}
	id := stored.History[0].CaptureID
	if !ValidCaptureID(id) {
		t.Errorf("kept capture id %q is not valid", id)
	}
	get := func(key string) string {
		rc, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var b bytes.Buffer
		b.ReadFrom(rc)
		return b.String()
	}
	if got := get(HistoryKey(slug, id, MetaFile)); got != string(damaged) {
		t.Errorf("history meta.json %q, want the damaged bytes", got)
	}
	if got := get(HistoryKey(slug, id, RawFile)); got != "<p>the old page</p>" {
		t.Errorf("history raw.html %q", got)
	}
	if m, err := ReadMeta(ctx, s, slug); err != nil || m.Status != StatusOK || get(ArticleKey(slug, RawFile)) != "<p>the new page</p>" {
		t.Errorf("current capture: %+v, %v", m, err)
	}
}
