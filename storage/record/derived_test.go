package record

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// TestRederiveCapture: the objects derived from a capture's WARC are
// added, replaced and dropped with Files, Sums and PageVersion kept in
// step, so that Verify finds nothing wrong after each step; the capture
// itself (raw.html, the WARC, when it was fetched, its history) is never
// touched; an object that is not derived is refused before anything is
// written.
func TestRederiveCapture(t *testing.T) {
	ctx := context.Background()
	const slug = "story"
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		start     []Object // the capture's further objects as written
		version   int      // its PageVersion
		d         Rederived
		wantFiles []string
		wantVer   int
		wantErr   string
		gone      []string // objects that must not be there afterwards
	}{
		{name: "pages added to a capture made without them", start: []Object{extra(WARCFile, "warc")},
			d:         Rederived{Readable: "<p>r</p>", Text: "t", Objects: []Object{extra(PageFile, "page"), extra(ThumbFile, "thumb")}},
			wantFiles: []string{WARCFile, PageFile, ThumbFile}, wantVer: 3},
		{name: "page replaced in place, version kept", start: []Object{extra(WARCFile, "warc"), extra(PageFile, "old page"), extra(ThumbFile, "old thumb")}, version: 1,
			d:         Rederived{Readable: "<p>r</p>", Text: "t", Objects: []Object{extra(PageFile, "new page"), extra(ThumbFile, "new thumb")}},
			wantFiles: []string{WARCFile, PageFile, ThumbFile}, wantVer: 3},
		{name: "thumbnail dropped", start: []Object{extra(WARCFile, "warc"), extra(PageFile, "old page"), extra(ThumbFile, "old thumb")}, version: 1,
			d:         Rederived{Readable: "<p>r</p>", Text: "t", Objects: []Object{extra(PageFile, "new page")}, Drop: []string{ThumbFile}},
			wantFiles: []string{WARCFile, PageFile}, wantVer: 3, gone: []string{ThumbFile}},
		{name: "page dropped takes its version", start: []Object{extra(WARCFile, "warc"), extra(PageFile, "old page")}, version: 1,
			d:         Rederived{Readable: "<p>r</p>", Text: "t", Drop: []string{PageFile}},
			wantFiles: []string{WARCFile}, wantVer: 0, gone: []string{PageFile}},
		{name: "text only leaves derived objects alone", start: []Object{extra(WARCFile, "warc"), extra(PageFile, "old page")}, version: 1,
			d:         Rederived{Readable: "<p>r</p>", Text: "t"},
			wantFiles: []string{WARCFile, PageFile}, wantVer: 3},
		{name: "the WARC is not derived", start: []Object{extra(WARCFile, "warc")},
			d:         Rederived{Readable: "<p>r</p>", Text: "t", Objects: []Object{extra(WARCFile, "another warc")}},
			wantFiles: []string{WARCFile}, wantErr: "is not derived"},
		{name: "raw.html is not derived", start: []Object{extra(WARCFile, "warc")},
			d:         Rederived{Readable: "<p>r</p>", Text: "t", Drop: []string{RawFile}},
			wantFiles: []string{WARCFile}, wantErr: "is not derived"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := localStore(t)
			w := Writer{Store: s}
			meta := ArticleMeta{Slug: slug, Status: StatusOK, FetchedAt: at, PageVersion: tc.version}
			m, err := w.Write(ctx, &Snapshot{Meta: meta, Raw: []byte("<p>raw</p>"), Readable: "<p>old</p>", Text: "old", Extra: tc.start}, Prior{})
			if err != nil {
				t.Fatal(err)
			}
			next := m
			next.PageVersion = 3
			if tc.wantErr != "" {
				next.PageVersion = m.PageVersion
			}
			err = w.RederiveCapture(ctx, next, tc.d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, err := ReadMeta(ctx, s, slug)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Files, tc.wantFiles) {
				t.Errorf("Files %q, want %q", got.Files, tc.wantFiles)
			}
			if tc.wantErr == "" && got.PageVersion != tc.wantVer {
				t.Errorf("PageVersion %d, want %d", got.PageVersion, tc.wantVer)
			}
			if !got.FetchedAt.Equal(at) || got.SHA256 != m.SHA256 || got.Sums[WARCFile] != m.Sums[WARCFile] {
				t.Errorf("the capture changed: %+v", got)
			}
			for _, o := range tc.d.Objects {
				if tc.wantErr == "" && got.Sums[o.Name] == "" {
					t.Errorf("no sum for %s", o.Name)
				}
			}
			for _, name := range tc.gone {
				if _, err := s.Stat(ctx, ArticleKey(slug, name)); !storage.IsNotExist(err) {
					t.Errorf("%s is still there (%v)", name, err)
				}
				if _, ok := got.Sums[name]; ok {
					t.Errorf("%s keeps its sum", name)
				}
			}
			problems, err := Verify(ctx, s, slug)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) > 0 {
				t.Errorf("Verify: %q", problems)
			}
		})
	}
}
