package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/dedupe"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// requestCounter counts the HTTP requests an S3 store sends, by kind.
type requestCounter struct {
	next                   http.RoundTripper
	lists, gets, puts, all atomic.Int64
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.all.Add(1)
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
		c.lists.Add(1)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		c.gets.Add(1)
	case r.Method == http.MethodPut:
		c.puts.Add(1)
	}
	return c.next.RoundTrip(r)
}

func (c *requestCounter) reset() { c.subtract(c.snapshot()) }

// counts are a requestCounter's counts at one moment.
type counts struct{ lists, gets, puts, all int64 }

func (c *requestCounter) snapshot() counts {
	return counts{c.lists.Load(), c.gets.Load(), c.puts.Load(), c.all.Load()}
}

func (c *requestCounter) subtract(d counts) {
	c.lists.Add(-d.lists)
	c.gets.Add(-d.gets)
	c.puts.Add(-d.puts)
	c.all.Add(-d.all)
}

func (a counts) add(b counts) counts {
	return counts{a.lists + b.lists, a.gets + b.gets, a.puts + b.puts, a.all + b.all}
}
func (a counts) sub(b counts) counts {
	return counts{a.lists - b.lists, a.gets - b.gets, a.puts - b.puts, a.all - b.all}
}

// olderS3Store is a bucket of a real MinIO holding n articles as a
// version before the URL index left them: each with meta.json, raw.html,
// readable.html, text.txt, its WARC and page.html (6 objects), and no
// index entry or marker. The store counts its requests.
func olderS3Store(b *testing.B, m *storagetest.MinIO, n int) (storage.Store, *requestCounter) {
	b.Helper()
	ctx := context.Background()
	counter := &requestCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	opts := m.S3Options(m.NewBucket(b))
	opts.Transport = counter
	st, err := storage.NewS3(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	fetched := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var failed atomic.Value
	for i := range n {
		slug := fmt.Sprintf("story-%05d-the-daily-paper", i)
		meta, _ := json.MarshalIndent(record.ArticleMeta{
			Slug: slug, Title: fmt.Sprintf("Story %d of an ordinary day, told at ordinary length", i), Publisher: "The Daily Paper",
			URL: fmt.Sprintf("https://daily.example/2025/06/01/story-%d.html?utm_source=rss", i), ResolveMethod: "batchexecute",
			GoogleNewsURL: "https://news.google.com/rss/articles/CBMi" + strings.Repeat("x", 180),
			Status:        record.StatusOK, HTTPStatus: 200, FetchedAt: fetched.Add(time.Duration(i) * time.Second), Charset: "utf-8",
			ArticleTitle: "Story", Byline: "A. Reporter", SiteName: "The Daily Paper", Lang: "en", WordCount: 800,
			Excerpt: strings.Repeat("An ordinary excerpt. ", 12), SHA256: strings.Repeat("ab", 32), Size: 64 << 10,
			Files: []string{record.WARCFile, record.PageFile}, Digests: []string{"2025-06-01-daily"},
		}, "", "  ")
		for _, o := range []struct {
			name string
			body []byte
		}{{record.MetaFile, meta}, {record.RawFile, []byte("<p>raw</p>")}, {record.ReadableFile, []byte("<p>readable</p>")},
			{record.TextFile, []byte("text")}, {record.WARCFile, []byte("WARC/1.1")}, {record.PageFile, []byte("<p>page</p>")}} {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := st.Put(ctx, record.ArticleKey(slug, o.name), bytes.NewReader(o.body), int64(len(o.body)), storage.PutOptions{}); err != nil {
					failed.Store(err)
				}
			})
		}
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return st, counter
}

// BenchmarkURLIndexScan is the one-time scan that indexes the URLs of an
// older store (a run's first on a store without index/urls.json), on a
// real MinIO holding 10,000 articles (LINKARC_BENCH_ARTICLES to change
// it), against listing the same keys in the same run, with the requests
// each sends. Sub-benchmarks:
//
//   - list: the baseline, one listing of articles/ (every key the scan
//     lists);
//   - scan: the scan as a dry run does it, reading every meta.json, writing
//     nothing; one at a time and scanReaders at a time;
//   - build: the scan as a run does it, writing an index entry per URL and
//     the marker (the entries are removed again between iterations), with
//     1 and scanReaders requests at a time;
//   - dedupe-dry-run: linkarc dedupe --dry-run's scan of the same store
//     (one listing, every meta.json, the aliases).
func BenchmarkURLIndexScan(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("LINKARC_BENCH_ARTICLES")); err == nil && v > 0 {
		n = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	m, err := storagetest.StartMinIO(ctx, storagetest.MinIOOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	start := time.Now()
	st, counter := olderS3Store(b, m, n)
	b.Logf("%d articles, %d objects stored in %s", n, 6*n, time.Since(start).Round(time.Millisecond))
	newRun := func(store storage.Store) *run {
		a := &Archiver{opts: Options{Store: store, Now: time.Now}, writer: record.Writer{Store: store}, log: slog.New(slog.DiscardHandler)}
		return &run{Archiver: a}
	}
	report := func(b *testing.B) {
		ops := float64(b.N)
		b.ReportMetric(float64(counter.all.Load())/ops, "requests/op")
		b.ReportMetric(float64(counter.lists.Load())/ops, "lists/op")
		b.ReportMetric(float64(counter.gets.Load())/ops, "gets/op")
		b.ReportMetric(float64(counter.puts.Load())/ops, "puts/op")
	}
	b.Run("list", func(b *testing.B) {
		counter.reset()
		for b.Loop() {
			keys := 0
			if err := st.List(ctx, record.ArticlesPrefix, func(storage.Info) error { keys++; return nil }); err != nil {
				b.Fatal(err)
			}
			if keys != 6*n {
				b.Fatalf("listed %d keys, want %d", keys, 6*n)
			}
		}
		report(b)
	})
	// The scan and the build, reading (and writing) one at a time and
	// scanReaders at a time.
	for _, readers := range []int{1, scanReaders} {
		b.Run(fmt.Sprintf("scan/readers=%d", readers), func(b *testing.B) {
			counter.reset()
			for b.Loop() {
				r := newRun(st)
				r.urls.readers = readers
				if err := r.prepareURLIndex(ctx, false); err != nil {
					b.Fatal(err)
				}
				if len(r.urls.scanned) != n {
					b.Fatalf("indexed %d URLs, want %d", len(r.urls.scanned), n)
				}
			}
			report(b)
		})
	}
	for _, readers := range []int{1, scanReaders} {
		b.Run(fmt.Sprintf("build/readers=%d", readers), func(b *testing.B) {
			counter.reset()
			var reset counts // the requests of removing the index between iterations
			for b.Loop() {
				r := newRun(st)
				r.urls.readers = readers
				if err := r.prepareURLIndex(ctx, true); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				before := counter.snapshot()
				var keys []string
				if err := st.List(ctx, "index/", func(info storage.Info) error { keys = append(keys, info.Key); return nil }); err != nil {
					b.Fatal(err)
				}
				if len(keys) != n+1 {
					b.Fatalf("the index holds %d keys, want %d entries and the marker", len(keys), n)
				}
				var wg sync.WaitGroup
				sem := make(chan struct{}, 32)
				for _, k := range keys {
					wg.Go(func() {
						sem <- struct{}{}
						defer func() { <-sem }()
						if err := st.Delete(ctx, k); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				reset = reset.add(counter.snapshot().sub(before))
				b.StartTimer()
			}
			counter.subtract(reset)
			report(b)
		})
	}
	b.Run("dedupe-dry-run", func(b *testing.B) {
		counter.reset()
		for b.Loop() {
			rep, err := dedupe.Run(ctx, dedupe.Options{Store: storage.ReadOnly(st), DryRun: true})
			if err != nil {
				b.Fatal(err)
			}
			if rep.Articles != n || len(rep.Merges) != 0 {
				b.Fatalf("dry run: %+v", rep)
			}
		}
		report(b)
	})
}
