package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// BenchmarkArchiveThroughput measures how close `linkarc archive` comes to
// the politeness floor: the time the configured per-host interval (the
// default, 1s) alone forces on the busiest host. The figure that matters is
// x-floor (elapsed / floor); 1.0 is perfect, the target is <= 1.2.
// BenchmarkArchiveCPUBound gives the other side: the same batch with no
// interval at all, where extraction on this machine's cores is the limit.
func BenchmarkArchiveThroughput(b *testing.B) {
	benchmarkArchive(b, time.Second)
}

// BenchmarkArchiveCPUBound archives the same batch with no politeness
// interval, so the pipeline's own cost (mostly extraction) is measured.
func BenchmarkArchiveCPUBound(b *testing.B) {
	benchmarkArchive(b, 0)
}

func benchmarkArchive(b *testing.B, interval time.Duration) {
	w := archivetest.NewWorld(b, archivetest.WorldOptions{Hosts: 20, Articles: 200, Digests: 10, Pages: loadPages(b, 0)})
	floor := w.PolitenessFloor(interval)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		store := filepath.Join(b.TempDir(), fmt.Sprint("store", i))
		start := time.Now()
		res := runLinkarc(b, nil, "", archiveArgs(w, store, interval, "--progress", "none")...)
		total += time.Since(start)
		if res.code != exitOK {
			b.Fatalf("archive exit %d\n%s", res.code, res.stderr)
		}
	}
	if floor > 0 {
		b.ReportMetric(float64(total)/float64(b.N)/float64(floor), "x-floor")
		b.ReportMetric(float64(floor)/float64(time.Millisecond), "floor-ms")
	}
	b.ReportMetric(float64(len(w.Articles)*b.N)/total.Seconds(), "articles/s")
}

// BenchmarkArchivePeakRSS archives 2,000 articles from 20 hosts in a child
// process and reports its peak resident memory (target < 150 MiB), beside
// the same binary's footprint doing nothing (`linkarc version`) as the
// baseline measured in the same run.
func BenchmarkArchivePeakRSS(b *testing.B) {
	w := archivetest.NewWorld(b, archivetest.WorldOptions{Hosts: 20, Articles: 2000, Digests: 40, Pages: loadPages(b, 0)})
	baseline, _ := childPeaks(b, nil, "version")
	var peak int64
	var tree treePeak
	for i := 0; i < b.N; i++ {
		store := filepath.Join(b.TempDir(), fmt.Sprint("store", i))
		p, t := childPeaks(b, nil, archiveArgs(w, store, 5*time.Millisecond, "--progress", "none")...)
		peak, tree.total, tree.worker = max(peak, p), max(tree.total, t.total), max(tree.worker, t.worker)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(baseline)/(1<<20), "baseline-RSS-MiB")
	b.ReportMetric(float64(peak)/float64(baseline), "x-baseline")
	// linkarc archive extracts in worker processes: their memory is the
	// run's too.
	b.ReportMetric(float64(tree.total)/(1<<20), "peak-RSS-with-workers-MiB")
	b.ReportMetric(float64(tree.worker)/(1<<20), "worker-peak-RSS-MiB")
}

// BenchmarkArchiveProvenanceRSS archives 2,000 new Google News links whose
// signature pages are as large on the wire as Google's (150 KiB, sent
// uncompressed so that the padding stays that size), so that every
// capture's WARC records a large exchange with Google, and reports the
// child's peak RSS (target < 200 MiB) against the same batch with 1 KiB
// pages, measured in the same run: the exchanges waiting to be captured
// are spilled to files in TMPDIR, so memory must not grow with their size.
// It also fails if a spilled body is left behind.
//
//	go test -run '^$' -bench ArchiveProvenanceRSS -benchtime 1x ./cmd/linkarc
//
// LINKARC_PROVENANCE_ARTICLES changes the batch (default 2000).
func BenchmarkArchiveProvenanceRSS(b *testing.B) {
	n := 2000
	if v := os.Getenv("LINKARC_PROVENANCE_ARTICLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 20 {
			b.Fatalf("LINKARC_PROVENANCE_ARTICLES=%q: want a number of at least 20", v)
		}
	}
	const pageBytes = 150 << 10
	pages := loadPages(b, 0)
	run := func(google gnewstest.Options) int64 {
		w := archivetest.NewWorld(b, archivetest.WorldOptions{Hosts: 20, Articles: n, Digests: max(n/50, 1), Pages: pages, Google: google})
		var peak int64
		for i := 0; i < b.N; i++ {
			tmp := b.TempDir()
			store := filepath.Join(b.TempDir(), "store")
			p, _ := childPeaks(b, []string{"TMPDIR=" + tmp}, archiveArgs(w, store, 5*time.Millisecond, "--progress", "none")...)
			peak = max(peak, p)
			if left, _ := filepath.Glob(filepath.Join(tmp, "linkarc-resolve-*")); len(left) != 0 {
				b.Errorf("%d spilled Google bodies left in TMPDIR after the run", len(left))
			}
		}
		return peak
	}
	baseline := run(gnewstest.Options{})
	peak := run(gnewstest.Options{PagePadding: pageBytes, NoGzip: true})
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(baseline)/(1<<20), "small-pages-RSS-MiB")
	b.ReportMetric(float64(peak)/float64(baseline), "x-small-pages")
	b.ReportMetric(float64(n)*pageBytes/(1<<20), "Google-page-MiB")
}

// childPeaks runs linkarc as a child process with the extra environment
// env and returns its peak RSS (VmHWM, which the child reports as it exits)
// in bytes, and the peaks of the child with its extraction workers, sampled
// every 20 ms (sampleTree).
func childPeaks(b *testing.B, env []string, args ...string) (int64, treePeak) {
	b.Helper()
	hwm := filepath.Join(b.TempDir(), "status")
	cmd := linkarcProcess(append([]string{hwmFileEnv + "=" + hwm}, env...), args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("linkarc %v: %v", args, err)
	}
	peaks := sampleTree(cmd.Process.Pid, 20*time.Millisecond)
	err := cmd.Wait()
	tree := peaks()
	if err != nil {
		out := stderr.String()
		b.Fatalf("linkarc %v: %v\n%s", args, err, out[max(0, len(out)-4000):])
	}
	return peakRSS(b, hwm), tree
}

// BenchmarkArchiveLoad archives 500 and then 5,000 articles spread over 50
// loopback hosts, each batch in a fresh child process with a fresh store,
// then runs each again over its now complete store (nothing is fetched: the
// daily re-run over a growing folder). For every run it reports the
// child's peak RSS, its largest live heap (as of a GC; what the run really
// holds, without the collector's headroom) and the most goroutines it had
// at once, both sampled every millisecond. They must stay flat as the batch grows tenfold: the
// pipeline holds a bounded number of pages, and its goroutines grow with
// hosts and workers, not with articles. The 500-article runs are the
// baselines of the ratios.
//
//	go test -run '^$' -bench ArchiveLoad -benchtime 1x ./cmd/linkarc
//
// LINKARC_ARCHIVE_LOAD_ARTICLES changes the larger batch (default 5000).
func BenchmarkArchiveLoad(b *testing.B) {
	const hosts, small = 50, 500
	large := 5000
	if v := os.Getenv("LINKARC_ARCHIVE_LOAD_ARTICLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < small || n%small != 0 {
			b.Fatalf("LINKARC_ARCHIVE_LOAD_ARTICLES=%q: want a multiple of %d", v, small)
		}
		large = n
	}
	// Digests of 500 articles each: the first alone is the small batch,
	// the folder is the large one; both spread over all 50 hosts.
	w := archivetest.NewWorld(b, archivetest.WorldOptions{Hosts: hosts, Articles: large, Digests: large / small, Pages: loadPages(b, 0)})
	first, err := filepath.Glob(filepath.Join(w.Dir, "000_*.md"))
	if err != nil || len(first) != 1 {
		b.Fatalf("first digest: %v %v", first, err)
	}
	type phase struct {
		name, input string
		rerun       bool
		rss         int64
		peaks       samples
		took        time.Duration
	}
	phases := []*phase{
		{name: "500", input: first[0]},
		{name: strconv.Itoa(large), input: w.Dir},
		{name: "rerun-500", input: first[0], rerun: true},
		{name: "rerun-" + strconv.Itoa(large), input: w.Dir, rerun: true},
	}
	for i := 0; i < b.N; i++ {
		stores := map[string]string{}
		for _, ph := range phases {
			store, ok := stores[ph.input]
			if !ok {
				store = filepath.Join(b.TempDir(), "store")
				stores[ph.input] = store
			}
			args := archiveArgs(w, store, 2*time.Millisecond, "--progress", "none")
			args[len(args)-1] = ph.input
			before := w.PublisherRequests()
			start := time.Now()
			r, p := childLoad(b, args...)
			ph.took += time.Since(start)
			ph.rss = max(ph.rss, r)
			ph.peaks.goroutines = max(ph.peaks.goroutines, p.goroutines)
			ph.peaks.liveHeap = max(ph.peaks.liveHeap, p.liveHeap)
			if ph.rerun && w.PublisherRequests() != before {
				b.Fatalf("the re-run over a complete store fetched %d pages", w.PublisherRequests()-before)
			}
		}
	}
	for _, ph := range phases {
		b.ReportMetric(float64(ph.rss)/(1<<20), "RSS-MiB-"+ph.name)
		b.ReportMetric(float64(ph.peaks.liveHeap)/(1<<20), "live-heap-MiB-"+ph.name)
		b.ReportMetric(float64(ph.peaks.goroutines), "goroutines-"+ph.name)
	}
	b.ReportMetric(float64(phases[1].rss)/float64(phases[0].rss), "RSS-ratio")
	b.ReportMetric(float64(phases[1].peaks.liveHeap)/float64(phases[0].peaks.liveHeap), "live-heap-ratio")
	b.ReportMetric(float64(phases[1].peaks.goroutines)/float64(phases[0].peaks.goroutines), "goroutines-ratio")
	b.ReportMetric(float64(phases[3].rss)/float64(phases[2].rss), "RSS-ratio-rerun")
	b.ReportMetric(float64(phases[3].peaks.liveHeap)/float64(phases[2].peaks.liveHeap), "live-heap-ratio-rerun")
	b.ReportMetric(float64(small*b.N)/phases[0].took.Seconds(), "articles/s-500")
	b.ReportMetric(float64(large*b.N)/phases[1].took.Seconds(), fmt.Sprintf("articles/s-%d", large))
}

// childLoad runs `linkarc archive` as a child process and returns its peak
// RSS and what its sampler saw.
func childLoad(b *testing.B, args ...string) (rss int64, peaks samples) {
	b.Helper()
	dir := b.TempDir()
	hwm, sampled := filepath.Join(dir, "status"), filepath.Join(dir, "samples")
	cmd := linkarcProcess([]string{hwmFileEnv + "=" + hwm, samplesFileEnv + "=" + sampled}, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("linkarc %v: %v\n%s", args, err, stderr.String())
	}
	data, err := os.ReadFile(sampled)
	if err != nil {
		b.Fatalf("child wrote no samples: %v", err)
	}
	if _, err := fmt.Sscan(string(data), &peaks.goroutines, &peaks.liveHeap); err != nil {
		b.Fatalf("samples %q: %v", data, err)
	}
	return peakRSS(b, hwm), peaks
}
