package archive

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/reextract"
	"github.com/linkarc/linkarc/archive/singlepage"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestReextractBuildsPages: a world of pages sharing stylesheets, fonts
// and images is archived twice, once with self-contained pages (the
// reference) and once without (CaptureOptions.NoPage, as `linkarc archive
// --no-page`). Re-extraction then builds every capture's page.html and
// thumb.jpg from the store alone, with every server still up and counting:
// no server sees a request (reextract has no HTTP client to send one);
// the pages and thumbnails are byte for byte those the archiver built
// from the same payloads, the originals of revisit records read from the
// WARCs of other captures; meta.json lists them with their sums and the
// builder's version, and record.Verify finds nothing wrong. A second run
// builds nothing; a page an older builder made is built again;
// reextract.PagesAll builds every page again, the same bytes;
// reextract.PagesNone builds none; an article another run is writing is
// left as it is.
func TestReextractBuildsPages(t *testing.T) {
	w := newCapWorld(t, 2)
	w.pageInterval, w.assetInterval = -1, -1
	ctx := context.Background()
	archiveInto := func(st storage.Store, capture CaptureOptions) {
		t.Helper()
		rep, err := w.archiver(t, st, &sendTimes{}, capture, false).Run(ctx, []string{w.dir})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts[record.StatusOK] != len(w.pages) {
			t.Fatalf("counts %v, failures %+v", rep.Counts, rep.Failures)
		}
	}
	ref, st := localStore(t), localStore(t)
	archiveInto(ref, CaptureOptions{})
	archiveInto(st, CaptureOptions{NoPage: true})

	type article struct {
		slug        string
		page, thumb []byte // the reference's
	}
	var arts []article
	for _, u := range w.pages {
		m := metaForURL(t, st, u)
		if slices.Contains(m.Files, record.PageFile) || slices.Contains(m.Files, record.ThumbFile) || m.PageVersion != 0 {
			t.Fatalf("%s: archived with NoPage, it has %q (page version %d)", m.Slug, m.Files, m.PageVersion)
		}
		if !slices.Contains(m.Files, record.WARCFile) {
			t.Fatalf("%s: no WARC", m.Slug)
		}
		r := metaForURL(t, ref, u)
		if r.PageVersion != singlepage.Version {
			t.Errorf("%s: the archiver recorded page version %d, want %d", r.Slug, r.PageVersion, singlepage.Version)
		}
		arts = append(arts, article{slug: m.Slug, page: readObject(t, ref, record.ArticleKey(r.Slug, record.PageFile)),
			thumb: readObject(t, ref, record.ArticleKey(r.Slug, record.ThumbFile))})
	}
	requests := func() int {
		n := 0
		for _, s := range w.sites() {
			n += s.requests()
		}
		return n
	}
	before := requests()

	run := func(opts reextract.Options) (reextract.Report, map[string]reextract.Result) {
		t.Helper()
		opts.Store, opts.TempDir = st, t.TempDir()
		results := map[string]reextract.Result{}
		opts.Progress = func(r reextract.Result) { results[r.Slug] = r }
		rep, err := reextract.Run(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Failed) > 0 || rep.PagesNotBuilt > 0 {
			t.Errorf("report %+v", rep)
		}
		return rep, results
	}
	check := func(step string) {
		t.Helper()
		for _, a := range arts {
			m, err := record.ReadMeta(ctx, st, a.slug)
			if err != nil {
				t.Fatal(err)
			}
			if m.PageVersion != singlepage.Version || !slices.Contains(m.Files, record.PageFile) || !slices.Contains(m.Files, record.ThumbFile) {
				t.Errorf("%s: %s: files %q, page version %d", step, a.slug, m.Files, m.PageVersion)
			}
			if got := readObject(t, st, record.ArticleKey(a.slug, record.PageFile)); !bytes.Equal(got, a.page) {
				t.Errorf("%s: %s: page.html (%d bytes) is not the archiver's (%d bytes)", step, a.slug, len(got), len(a.page))
			}
			if got := readObject(t, st, record.ArticleKey(a.slug, record.ThumbFile)); !bytes.Equal(got, a.thumb) {
				t.Errorf("%s: %s: thumb.jpg (%d bytes) is not the archiver's (%d bytes)", step, a.slug, len(got), len(a.thumb))
			}
			problems, err := record.Verify(ctx, st, a.slug)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) > 0 {
				t.Errorf("%s: %s: %q", step, a.slug, problems)
			}
		}
		if n := requests() - before; n != 0 {
			t.Errorf("%s: the servers saw %d requests", step, n)
		}
	}

	rep, res := run(reextract.Options{})
	if rep.Pages != len(arts) || rep.Thumbnails != len(arts) || rep.FromWARC != len(arts) {
		t.Errorf("first run: %+v", rep)
	}
	for _, a := range arts {
		if res[a.slug].Page != "missing" {
			t.Errorf("first run: %s: page %q", a.slug, res[a.slug].Page)
		}
	}
	if !strings.Contains(string(arts[1].page), "data:font/woff2;base64,") {
		t.Errorf("the reference page of %s has no embedded font: the test would prove little", arts[1].slug)
	}
	check("first run")

	if rep, _ := run(reextract.Options{}); rep.Pages != 0 || rep.Rebuilt != len(arts) {
		t.Errorf("second run built pages again: %+v", rep)
	}
	check("second run")

	// A page an older builder made.
	m, err := record.ReadMeta(ctx, st, arts[2].slug)
	if err != nil {
		t.Fatal(err)
	}
	m.PageVersion = 0
	if err := (record.Writer{Store: st}).PutMeta(ctx, *m); err != nil {
		t.Fatal(err)
	}
	rep, res = run(reextract.Options{})
	if rep.Pages != 1 || !strings.Contains(res[arts[2].slug].Page, "older builder") {
		t.Errorf("older builder: %+v, %+v", rep, res[arts[2].slug])
	}
	check("older builder")

	if rep, _ := run(reextract.Options{Pages: reextract.PagesAll}); rep.Pages != len(arts) {
		t.Errorf("all: %+v", rep)
	}
	check("all")

	// Pages none, over a capture without them: none built.
	m, _ = record.ReadMeta(ctx, st, arts[0].slug)
	m.Files = slices.DeleteFunc(m.Files, func(f string) bool { return f == record.PageFile || f == record.ThumbFile })
	delete(m.Sums, record.PageFile)
	delete(m.Sums, record.ThumbFile)
	m.PageVersion = 0
	if err := (record.Writer{Store: st}).PutMeta(ctx, *m); err != nil {
		t.Fatal(err)
	}
	if rep, _ := run(reextract.Options{Pages: reextract.PagesNone}); rep.Pages != 0 {
		t.Errorf("none: %+v", rep)
	}
	if m, _ := record.ReadMeta(ctx, st, arts[0].slug); slices.Contains(m.Files, record.PageFile) {
		t.Errorf("none: a page was listed: %q", m.Files)
	}

	// Another run holds the article: left as it is, the others built.
	other := record.NewLeaser(st)
	lease, err := other.Acquire(ctx, record.ArticleLeaseKey(arts[0].slug), "another run")
	if err != nil {
		t.Fatal(err)
	}
	rep, res = run(reextract.Options{LeaseWait: 200 * time.Millisecond})
	if r := res[arts[0].slug]; !strings.Contains(r.Skipped, "being archived by") || rep.Rebuilt != len(arts)-1 {
		t.Errorf("leased: %+v; report %+v", r, rep)
	}
	if m, _ := record.ReadMeta(ctx, st, arts[0].slug); slices.Contains(m.Files, record.PageFile) {
		t.Errorf("leased: the article was written: %q", m.Files)
	}
	lease.Release(ctx)
	run(reextract.Options{})
	check("after the lease")
}

// BenchmarkReextractPages measures what building the pages again adds to
// a re-extraction: the 20 captures of newCapWorld(10) (each with 14
// requisites, most of them revisits of another capture's), archived
// without pages, re-extracted with reextract.PagesNone (text, metadata and
// verdicts only: the baseline) and then with reextract.PagesAll (the same,
// and page.html and thumb.jpg from each WARC), in the same run, in
// process:
//
//	go test ./archive -run '^$' -bench ReextractPages -benchtime 3x
func BenchmarkReextractPages(b *testing.B) {
	w := newCapWorld(b, 10)
	w.pageInterval, w.assetInterval = -1, -1
	st := localStore(b)
	rep, err := w.archiver(b, st, &sendTimes{}, CaptureOptions{NoPage: true}, false).Run(context.Background(), []string{w.dir})
	if err != nil || rep.Counts[record.StatusOK] != len(w.pages) {
		b.Fatalf("archive: %v, counts %v", err, rep.Counts)
	}
	var text, pages time.Duration
	for range b.N {
		for _, mode := range []reextract.Pages{reextract.PagesNone, reextract.PagesAll} {
			start := time.Now()
			rep, err := reextract.Run(context.Background(), reextract.Options{Store: st, Pages: mode, TempDir: b.TempDir()})
			took := time.Since(start)
			if err != nil || rep.Rebuilt != len(w.pages) {
				b.Fatalf("%s: %v, %+v", mode, err, rep)
			}
			if mode == reextract.PagesAll {
				if rep.Pages != len(w.pages) {
					b.Fatalf("all: %d pages built", rep.Pages)
				}
				pages += took
			} else {
				text += took
			}
		}
	}
	n := float64(b.N * len(w.pages))
	b.ReportMetric(float64(text.Milliseconds())/n, "text-ms/article")
	b.ReportMetric(float64(pages.Milliseconds())/n, "text+pages-ms/article")
	b.ReportMetric(float64(pages)/float64(text), "pages-ratio")
}
