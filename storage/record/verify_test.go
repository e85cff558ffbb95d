package record

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// TestVerify: captures written by the Writer verify clean, current and in
// history; an object of another capture, or a missing listed file, is
// reported.
func TestVerify(t *testing.T) {
	s := localStore(t)
	ctx := context.Background()
	w := Writer{Store: s}
	const slug = "story"
	for i, at := range []time.Time{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)} {
		prior, err := w.LoadMeta(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		n := string(rune('1' + i))
		snap := &Snapshot{Meta: ArticleMeta{Slug: slug, Status: StatusOK, FetchedAt: at},
			Raw: []byte("<p>page " + n), Readable: "<p>readable " + n, Text: "text " + n,
			Extra: []Object{extra(WARCFile, "warc "+n), extra(PageFile, "page "+n)}}
		if _, err := w.Write(ctx, snap, prior); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := Verify(ctx, s, slug); err != nil || len(p) != 0 {
		t.Fatalf("clean archive: %v %v", p, err)
	}
	m, err := ReadMeta(ctx, s, slug)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.History) != 1 || len(m.Sums) != 4 {
		t.Fatalf("history %v, sums %v: want one earlier capture and 4 sums", m.History, m.Sums)
	}
	tests := []struct {
		name, key, body string // body "" deletes
		want            string
	}{
		{"text of another capture", ArticleKey(slug, TextFile), "text 1", "text.txt sha256"},
		{"history text of another capture", HistoryKey(slug, m.History[0].CaptureID, TextFile), "text 2", "text.txt sha256"},
		{"raw of another capture", ArticleKey(slug, RawFile), "<p>page 1", "raw.html sha256"},
		{"WARC missing", ArticleKey(slug, WARCFile), "", "capture.warc.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := s.Get(ctx, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			var keep bytes.Buffer
			keep.ReadFrom(rc)
			rc.Close()
			if tt.body == "" {
				err = s.Delete(ctx, tt.key)
			} else {
				err = s.Put(ctx, tt.key, strings.NewReader(tt.body), int64(len(tt.body)), storage.PutOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := Verify(ctx, s, slug)
			if err != nil || len(p) != 1 || !strings.Contains(p[0], tt.want) {
				t.Errorf("Verify = %q, %v; want one problem naming %q", p, err, tt.want)
			}
			if err := s.Put(ctx, tt.key, bytes.NewReader(keep.Bytes()), int64(keep.Len()), storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
