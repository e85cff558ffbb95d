package archive

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// outcomeExtractor answers each page with what outcomes says for its URL
// (matched by suffix); other pages are extracted in process.
type outcomeExtractor map[string]func(extract.Page) (*extract.Result, error)

func (o outcomeExtractor) Extract(ctx context.Context, page extract.Page) (*extract.Result, error) {
	for suffix, f := range o {
		if strings.HasSuffix(page.FinalURL, suffix) {
			return f(page)
		}
	}
	return extract.InProcess{}.Extract(ctx, page)
}

// TestRunExtractorOutcomes: what an Extractor answers becomes the
// article's status, reason and extraction mark in meta.json and in the
// digest record, which is written whatever the pages did.
func TestRunExtractorOutcomes(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 5, Articles: 5, Digests: 1, Pages: worldPages(t, 5)})
	page := func(i int) string { return w.Articles[i].URL[strings.Index(w.Articles[i].URL, "/news/"):] }
	bounded := func(p extract.Page) (*extract.Result, error) {
		r, err := extract.InProcess{}.Extract(context.Background(), p)
		if err == nil {
			r.Bounded = true
		}
		return r, err
	}
	ex := outcomeExtractor{
		page(0): func(extract.Page) (*extract.Result, error) {
			return nil, fmt.Errorf("extract: %w: the extraction was over memory budget", extract.ErrTooComplex)
		},
		page(1): bounded,
		page(2): func(p extract.Page) (*extract.Result, error) {
			r, err := extract.InProcess{}.Extract(context.Background(), p)
			if err == nil {
				r.Junk = record.ReasonMojibake
			}
			return r, err
		},
		page(3): func(extract.Page) (*extract.Result, error) { return nil, fmt.Errorf("extract: parse HTML: broken") },
	}
	store := localStore(t)
	a := newWorldArchiver(t, w, store, Options{Extractor: ex}, nil, nil)
	rep, err := a.Run(context.Background(), []string{w.Dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status     string
		reason     record.Reason
		extraction string
	}{
		{record.StatusFailed, record.ReasonTooComplex, ""},
		{record.StatusOK, "", record.ExtractionBounded},
		{record.StatusFailed, record.ReasonMojibake, ""},
		{record.StatusFailed, record.ReasonExtract, ""},
		{record.StatusOK, "", ""},
	}
	for i, wa := range w.Articles {
		m, err := record.ReadMeta(context.Background(), store, record.ArticleSlug(wa.Title, wa.Publisher))
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != want[i].status || m.Reason != want[i].reason || m.Extraction != want[i].extraction {
			t.Errorf("article %d: %s/%s extraction %q (%s); want %s/%s %q", i, m.Status, m.Reason, m.Extraction, m.Error,
				want[i].status, want[i].reason, want[i].extraction)
		}
		if m.Status == record.StatusOK && m.WordCount == 0 {
			t.Errorf("article %d: ok without text", i)
		}
	}
	if rep.Counts[record.StatusFailed] != 3 || rep.ByReason[record.ReasonTooComplex] != 1 {
		t.Errorf("report counts %v, by reason %v", rep.Counts, rep.ByReason)
	}
	var digests []string
	err = store.List(context.Background(), record.DigestsPrefix, func(i storage.Info) error {
		digests = append(digests, i.Key)
		return nil
	})
	if err != nil || len(digests) != 1 {
		t.Fatalf("digest records %v, %v; want one", digests, err)
	}
}
