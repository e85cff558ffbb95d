package main

import (
	"cmp"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive"
	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage/record"
)

// BenchmarkArchiveRequisitesPeakRSS archives 2,000 articles from 20
// publisher hosts whose pages carry requisites (archivetest's world with
// Requisites: stylesheets with @import and url(), a web font, srcset, lazy
// and <noscript> images, og:image, a favicon; 13 a page, 9 of them shared
// across articles and hosts on a CDN and 2 image hosts), with `linkarc
// archive` as a child process at its defaults (requisites and
// self-contained pages on), and reports in the same run:
//
//   - peak-RSS-MiB: the child's own peak RSS (VmHWM; target < 200 MiB),
//     and with-workers-MiB, the child and its extraction workers together
//     (sampled every 20 ms);
//   - the same batch with --requisites=false (norequisites-*), in a fresh
//     store;
//   - baseline-RSS-MiB: the same binary doing nothing (`linkarc version`),
//     and the ratios x-baseline and x-norequisites;
//   - req/article and KiB/article as the servers saw them (robots.txt
//     included, its bytes not), nodedup-req/article (the page and every
//     requisite it names, had nothing been deduplicated), and
//     stored-KiB/article-median and -p90: every object of a current
//     capture.
//
// Spacing is 5 ms for pages and assets alike, so the run is bound by its
// own work, not by politeness.
//
//	go test -run '^$' -bench ArchiveRequisitesPeakRSS -benchtime 1x -timeout 60m ./cmd/linkarc
//
// LINKARC_REQUISITE_ARTICLES changes the number of articles (default 2000);
// with LINKARC_TEST_HEAP_PROFILE=FILE each run writes a heap profile taken
// at its peak to FILE.requisites and FILE.norequisites (heapProfileEnv).
func BenchmarkArchiveRequisitesPeakRSS(b *testing.B) {
	n := 2000
	if v := os.Getenv("LINKARC_REQUISITE_ARTICLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 20 {
			b.Fatalf("LINKARC_REQUISITE_ARTICLES=%q: want a number of at least 20", v)
		}
	}
	font, err := os.ReadFile("../../testdata/capture/work-sans-300.woff2")
	if err != nil {
		b.Fatal(err)
	}
	w := archivetest.NewWorld(b, archivetest.WorldOptions{
		Hosts: 20, Articles: n, Digests: max(1, n/50), Pages: loadPages(b, 0), Requisites: true, Font: font,
	})
	baseline, _ := childPeaks(b, nil, "version")

	type run struct {
		name, flag string
		rss        int64
		tree       treePeak
		requests   int
		bytes      int64
		stored     []int64 // bytes per article, sorted
		rep        *archive.Report
		took       time.Duration
	}
	with := &run{name: "", flag: "--requisites=true"}
	without := &run{name: "norequisites-", flag: "--requisites=false"}
	for range b.N {
		for _, r := range []*run{with, without} {
			dir := b.TempDir()
			store, report := filepath.Join(dir, "store"), filepath.Join(dir, "report.json")
			reqs, bytes := w.Served()
			start := time.Now()
			var env []string
			if p := os.Getenv(heapProfileEnv); p != "" {
				env = []string{heapProfileEnv + "=" + p + "." + strings.TrimSuffix(cmp.Or(r.name, "requisites-"), "-")}
			}
			rss, tree := childPeaks(b, env, archiveArgs(w, store, 5*time.Millisecond,
				r.flag, "--asset-interval", "5ms", "--report", report, "--progress", "none")...)
			r.took = time.Since(start)
			r.rss, r.tree = rss, tree
			reqs2, bytes2 := w.Served()
			r.requests, r.bytes = reqs2-reqs, bytes2-bytes
			r.rep = readReport(b, report)
			r.stored = storedPerArticle(b, store)
			if err := os.RemoveAll(store); err != nil { // a run stores gigabytes
				b.Fatal(err)
			}
			if ok := r.rep.Counts[string(record.StatusOK)]; ok != n || len(r.stored) != n {
				b.Fatalf("%s: %d articles ok, %d stored, want %d", r.flag, ok, len(r.stored), n)
			}
		}
	}
	// Every requisite was on loopback and fetched or deduplicated: none
	// failed (a name the world does not serve would), none was left out.
	if q := with.rep.Requisites; q.Found != 13*n || q.Failed != 0 || q.Skipped != 0 || q.Fetched == 0 {
		b.Fatalf("requisites %+v, want 13 found per article, none failed or skipped", q)
	}
	if q := without.rep.Requisites; q.Found != 0 {
		b.Fatalf("--requisites=false found requisites: %+v", q)
	}
	mib := func(v int64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(float64(n), "articles")
	b.ReportMetric(mib(baseline), "baseline-RSS-MiB")
	for _, r := range []*run{with, without} {
		b.ReportMetric(mib(r.rss), r.name+"peak-RSS-MiB")
		b.ReportMetric(mib(r.tree.total), r.name+"with-workers-MiB")
		b.ReportMetric(mib(r.tree.worker), r.name+"worker-peak-RSS-MiB")
		b.ReportMetric(float64(r.rss)/float64(baseline), r.name+"x-baseline")
		b.ReportMetric(float64(r.requests)/float64(n), r.name+"req/article")
		b.ReportMetric(float64(r.bytes)/1024/float64(n), r.name+"KiB/article")
		b.ReportMetric(float64(r.stored[len(r.stored)/2])/1024, r.name+"stored-KiB/article-median")
		b.ReportMetric(float64(r.stored[len(r.stored)*9/10])/1024, r.name+"stored-KiB/article-p90")
		b.ReportMetric(r.took.Seconds(), r.name+"wall-s")
	}
	b.ReportMetric(float64(with.rss)/float64(without.rss), "x-norequisites")
	b.ReportMetric(float64(with.tree.total)/float64(without.tree.total), "with-workers-x-norequisites")
	b.ReportMetric(float64(n+with.rep.Requisites.Found)/float64(n), "nodedup-req/article")
	b.ReportMetric(float64(with.rep.Requisites.Fetched)/float64(n), "fetched/article")
	b.ReportMetric(float64(with.rep.Requisites.Deduplicated)/float64(n), "dedup/article")
}

// storedPerArticle is the size of every current capture in a local store
// (every object under articles/<slug>/, history/ aside), sorted.
func storedPerArticle(b *testing.B, store string) []int64 {
	b.Helper()
	root := filepath.Join(store, strings.TrimSuffix(record.ArticlesPrefix, "/"))
	sizes := map[string]int64{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(rel, string(filepath.Separator))
		if d.IsDir() {
			if len(parts) == 2 && parts[1] == record.HistoryDir {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sizes[parts[0]] += info.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int64, 0, len(sizes))
	for _, s := range sizes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
