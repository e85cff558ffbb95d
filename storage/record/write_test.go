package record

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

func extra(name, body string) Object {
	return Object{Name: name, ContentType: "application/octet-stream", Size: int64(len(body)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(body))), nil }}
}

// TestWriteExtraObjects: a capture's further objects (WARC, page) are
// stored beside meta.json, listed in Files, moved to history with their
// capture, and removed when a later capture has none, so that meta.json
// and the objects beside it always describe one capture.
func TestWriteExtraObjects(t *testing.T) {
	s := localStore(t)
	ctx := context.Background()
	w := Writer{Store: s}
	const slug = "story"
	t1 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	write := func(at time.Time, raw string, extras ...Object) ArticleMeta {
		t.Helper()
		prior, err := w.LoadMeta(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		m, err := w.Write(ctx, &Snapshot{Meta: ArticleMeta{Slug: slug, Status: StatusOK, FetchedAt: at}, Raw: []byte(raw), Extra: extras}, prior)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	get := func(key string) (string, bool) {
		rc, err := s.Get(ctx, key)
		if storage.IsNotExist(err) {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b), true
	}

	m := write(t1, "<p>one</p>", extra(WARCFile, "warc one"), extra(PageFile, "page one"))
	if !slices.Equal(m.Files, []string{WARCFile, PageFile}) {
		t.Fatalf("Files = %q", m.Files)
	}
	if got, _ := get(ArticleKey(slug, WARCFile)); got != "warc one" {
		t.Fatalf("current WARC %q", got)
	}

	m = write(t1.Add(time.Hour), "<p>two</p>")
	if len(m.Files) != 0 {
		t.Errorf("second capture Files = %q, want none", m.Files)
	}
	if _, ok := get(ArticleKey(slug, WARCFile)); ok {
		t.Error("the first capture's WARC is still beside the second capture's meta.json")
	}
	id := CaptureID(t1)
	for name, want := range map[string]string{WARCFile: "warc one", PageFile: "page one", RawFile: "<p>one</p>"} {
		if got, _ := get(HistoryKey(slug, id, name)); got != want {
			t.Errorf("history %s = %q, want %q", name, got, want)
		}
	}
	old, err := ReadMetaKey(ctx, s, HistoryKey(slug, id, MetaFile))
	if err != nil || !slices.Equal(old.Files, []string{WARCFile, PageFile}) {
		t.Errorf("history meta %+v, %v", old, err)
	}
}

func TestValidObjectName(t *testing.T) {
	for name, want := range map[string]bool{
		WARCFile: true, PageFile: true, "thumb.webp": true,
		"": false, ".": false, "..": false, MetaFile: false, RawFile: false, HistoryDir: false,
		"../../digests/x.json": false, "a/b": false, `a\b`: false, "a\x00": false,
	} {
		if got := ValidObjectName(name); got != want {
			t.Errorf("ValidObjectName(%q) = %v, want %v", name, got, want)
		}
	}
}
