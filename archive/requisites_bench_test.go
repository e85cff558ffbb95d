package archive

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// BenchmarkRequisites archives articles of two publishers that share a CDN
// and an image host (newCapWorld: 14 requisites per page, 7 of them shared)
// and reports, in one run:
//
//   - floor-ratio: wall time over the politeness floor, the busiest host's
//     requests spaced by its interval (page hosts at the page interval,
//     asset hosts at the asset interval) — the target is at most 1.2;
//
//   - req/article and KiB/article as the servers saw them (with the run's
//     deduplication), and nodedup-req/article and nodedup-KiB/article:
//     what each article names fetched for it alone (every requisite a
//     request, priced at its size);
//
//   - stored-KiB/article-median and -p90: every object of a capture
//     (meta.json, raw.html, readable.html, text.txt, capture.warc.gz).
//
//     go test -run '^$' -bench 'BenchmarkRequisites$' -benchtime 1x ./archive
func BenchmarkRequisites(b *testing.B) {
	for range b.N {
		benchRequisitesOnce(b)
	}
}

func benchRequisitesOnce(b *testing.B) {
	w := newCapWorld(b, 10)
	store := localStore(b)
	logs := &sendTimes{}
	a := w.archiver(b, store, logs, CaptureOptions{}, false)
	start := time.Now()
	rep, err := a.Run(context.Background(), []string{w.dir})
	wall := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	n := len(w.pages)
	if rep.Counts[record.StatusOK] != n {
		b.Fatalf("counts %v", rep.Counts)
	}
	var floor time.Duration
	reqs := 0
	var bytes int64
	for _, s := range w.sites() {
		r := s.requests()
		reqs += r
		iv := capAssetInterval
		if slices.Contains(w.pubs, s) {
			iv = capPageInterval
		}
		floor = max(floor, time.Duration(r-1)*iv)
		bytes += s.servedBytes()
	}
	// Without deduplication every article fetches all it names: robots.txt
	// of its hosts aside, one request per requisite, at its size.
	sizes := map[string]int64{}
	for _, s := range w.sites() {
		for p, sz := range s.sizes() {
			sizes["http://"+s.host+p] = sz
		}
	}
	var ndReq int
	var ndBytes int64
	var stored []int64
	for _, u := range w.pages {
		m := metaForURL(b, store, u)
		st := m.Requisites
		ndReq += 1 + st.Fetched + st.Deduplicated
		ndBytes += sizes[u]
		stored = append(stored, storedBytes(b, store, m.Slug))
	}
	ndBytes += requisiteBytesPerArticle(w, sizes) * int64(n)
	slices.Sort(stored)
	for host, ss := range logs.sends {
		slices.SortFunc(ss, func(x, y [2]time.Time) int { return x[0].Compare(y[0]) })
		b.Logf("%s: %d sends from +%v to +%v", host, len(ss), ss[0][0].Sub(start).Round(time.Millisecond), ss[len(ss)-1][1].Sub(start).Round(time.Millisecond))
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(float64(wall)/float64(floor), "floor-ratio")
	b.ReportMetric(float64(reqs)/float64(n), "req/article")
	b.ReportMetric(float64(bytes)/1024/float64(n), "KiB/article")
	b.ReportMetric(float64(ndReq)/float64(n), "nodedup-req/article")
	b.ReportMetric(float64(ndBytes)/1024/float64(n), "nodedup-KiB/article")
	b.ReportMetric(float64(stored[len(stored)/2])/1024, "stored-KiB/article-median")
	b.ReportMetric(float64(stored[len(stored)*9/10])/1024, "stored-KiB/article-p90")
}

// requisiteBytesPerArticle is the size of what one article of the world
// names: its own images and the shared stylesheets, font and images.
func requisiteBytesPerArticle(w *capWorld, sizes map[string]int64) int64 {
	var total int64
	for u, sz := range sizes {
		switch {
		case strings.Contains(u, "/story/"), strings.HasSuffix(u, "-640.png"), strings.HasSuffix(u, "-2560.png"):
		case strings.Contains(u, "/p/") || strings.Contains(u, "/lazy/") || strings.Contains(u, "/ns/") || strings.Contains(u, "/lead/"):
			total += sz
		default:
			total += sz * int64(len(w.pages)) // shared: every article names it
		}
	}
	return total / int64(len(w.pages))
}

func storedBytes(b *testing.B, s storage.Store, slug string) int64 {
	var n int64
	err := s.List(context.Background(), record.ArticlesPrefix+slug+"/", func(info storage.Info) error {
		if !strings.Contains(info.Key, "/"+record.HistoryDir+"/") {
			n += info.Size
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkRequisitesMemory archives LINKARC_REQUISITE_ARTICLES articles
// (default 2,000) of newCapWorld with requisites, no spacing, and reports
// the Go heap in use at its peak (sampled every 20 ms) and the test
// process's peak RSS (VmHWM), which includes the loopback servers and the
// pages they hold. The run holds one entry per distinct requisite URL and
// at most --concurrency captures finishing: the heap should not grow with
// the batch.
//
//	go test -run '^$' -bench 'BenchmarkRequisitesMemory$' -benchtime 1x ./archive
func BenchmarkRequisitesMemory(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("LINKARC_REQUISITE_ARTICLES")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		w := newCapWorld(b, n/2)
		w.pageInterval, w.assetInterval = -1, -1
		store := localStore(b)
		a := w.archiver(b, store, &sendTimes{}, CaptureOptions{}, false)
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		done := make(chan struct{})
		peak := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var top uint64
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					peak <- top
					return
				case <-t.C:
					runtime.ReadMemStats(&m)
					top = max(top, m.HeapInuse)
				}
			}
		}()
		start := time.Now()
		rep, err := a.Run(context.Background(), []string{w.dir})
		wall := time.Since(start)
		close(done)
		top := <-peak
		if err != nil {
			b.Fatal(err)
		}
		// What the run still holds (its requisite index, the report) while
		// the archiver is alive.
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(a)
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-after-gc-MiB")
		b.ReportMetric(float64(n), "articles")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(base.HeapInuse)/(1<<20), "heap-before-MiB")
		b.ReportMetric(float64(top)/(1<<20), "heap-peak-MiB")
		b.ReportMetric(float64(vmHWM())/(1<<20), "process-hwm-MiB")
		b.ReportMetric(float64(rep.Requisites.Fetched)/float64(n), "fetched/article")
		b.ReportMetric(float64(rep.Requisites.Deduplicated)/float64(n), "dedup/article")
		if rep.Counts[record.StatusOK] != n {
			b.Fatalf("counts %v", rep.Counts)
		}
	}
}

// vmHWM is this process's peak resident set, from /proc/self/status.
func vmHWM() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
