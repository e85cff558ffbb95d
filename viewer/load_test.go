package viewer

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// BenchmarkViewerLoad serves a generated archive of 10,000 articles on
// loopback and drives it with many concurrent keep-alive connections, one
// phase per kind of request, each phase for a fixed time. It reports p50
// and p99 latency and requests per second per phase, the p99 of each phase
// as a ratio of the static-file baseline measured in the same run, the
// number of errors (any transport error or non-200 answer: it must be 0),
// and the live heap and RSS before and after the load (the heap must not
// grow).
//
//	go test -run '^$' -bench BenchmarkViewerLoad -benchtime=1x ./viewer
//
// Environment: LINKARC_LOAD_DURATION per phase (default 5s; the figures in
// docs/benchmarks.md use 30s), LINKARC_LOAD_CONNS (default 100), LINKARC_LOAD_ARTICLES
// (default 10000), LINKARC_LOAD_PHASES to run only some phases besides
// the static baseline (e.g. "search,article"), LINKARC_LOAD_STORE to keep
// the generated archive in a
// directory and reuse it on the next run (it is then also a store for
// `linkarc serve`, to load it with wrk).
func BenchmarkViewerLoad(b *testing.B) {
	duration := envDuration(b, "LINKARC_LOAD_DURATION", 5*time.Second)
	conns := envInt(b, "LINKARC_LOAD_CONNS", 100)
	articles := envInt(b, "LINKARC_LOAD_ARTICLES", 10000)
	ctx := context.Background()

	dir := os.Getenv("LINKARC_LOAD_STORE")
	if dir == "" {
		dir = b.TempDir()
	}
	st, err := storage.NewLocal(dir)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	gen, err := loadArchive(ctx, st, dir, articles)
	if err != nil {
		b.Fatal(err)
	}
	ready := time.Since(start)

	srv, err := New(Options{Store: st, IndexDir: b.TempDir(), RefreshInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	start = time.Now()
	if err := srv.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	indexTime := time.Since(start)
	b.Logf("archive: %d articles in %d digests under %s (ready in %v); index of %d documents built in %v",
		len(gen.Articles), len(gen.Digests), dir, ready.Round(time.Millisecond), srv.IndexStats().Documents, indexTime.Round(time.Millisecond))
	ts := httptest.NewServer(srv)
	defer ts.Close()

	var ok []string
	for _, a := range gen.Articles {
		if gen.Status[a] == record.StatusOK {
			ok = append(ok, a)
		}
	}
	lex := viewertest.NewLexicon()
	static, err := newStaticFiles()
	if err != nil {
		b.Fatal(err)
	}
	phases := []loadPhase{
		{name: "static", path: func(*rand.Rand) string { return static.path("style.css") }},
		{name: "article", path: func(r *rand.Rand) string { return "/articles/" + ok[r.IntN(len(ok))] }},
		// Query words are drawn as they occur in the texts: common words
		// (in most articles) often, rare ones seldom.
		{name: "search", path: func(r *rand.Rand) string {
			q := lex.Keyword(r)
			if r.IntN(2) == 0 {
				q += " " + lex.Keyword(r)
			}
			return "/search?q=" + url.QueryEscape(q)
		}},
		{name: "raw", path: func(r *rand.Rand) string { return "/articles/" + ok[r.IntN(len(ok))] + "/raw.html" }},
		{name: "home", path: func(r *rand.Rand) string { return "/?page=" + strconv.Itoa(1+r.IntN((len(gen.Digests)+24)/25)) }},
	}

	if only := os.Getenv("LINKARC_LOAD_PHASES"); only != "" {
		keep := strings.Split(only, ",")
		phases = slices.DeleteFunc(phases, func(p loadPhase) bool { return p.name != "static" && !slices.Contains(keep, p.name) })
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true,
		},
	}
	// Warm up: fill caches, connections and the heap's steady state.
	runPhase(client, ts.URL, loadPhase{name: "warmup", path: func(r *rand.Rand) string {
		return phases[1+r.IntN(len(phases)-1)].path(r)
	}}, conns, min(duration, 3*time.Second))
	before := memSnapshot()

	b.ResetTimer()
	results := make([]phaseResult, len(phases))
	for range b.N {
		for i, p := range phases {
			results[i] = runPhase(client, ts.URL, p, conns, duration)
		}
	}
	b.StopTimer()
	client.CloseIdleConnections()
	after := memSnapshot()

	base := results[0].p99
	var table strings.Builder
	fmt.Fprintf(&table, "\n%d articles, %d connections, %v per phase; live heap after GC %.1f MiB before the load, %.1f MiB after (%+.1f MiB); RSS %.1f → %.1f MiB\n",
		len(gen.Articles), conns, duration, mib(before.heap), mib(after.heap), mib(after.heap)-mib(before.heap), mib(before.rss), mib(after.rss))
	fmt.Fprintf(&table, "%-8s %10s %10s %10s %10s %8s %12s\n", "phase", "requests", "req/s", "p50", "p99", "errors", "p99/static")
	for _, r := range results {
		fmt.Fprintf(&table, "%-8s %10d %10.0f %10v %10v %8d %12.1f\n", r.name, r.requests, r.rps, r.p50.Round(10*time.Microsecond),
			r.p99.Round(10*time.Microsecond), r.errors, float64(r.p99)/float64(base))
		b.ReportMetric(ms(r.p50), r.name+"-p50-ms")
		b.ReportMetric(ms(r.p99), r.name+"-p99-ms")
		b.ReportMetric(r.rps, r.name+"-req/s")
		b.ReportMetric(float64(r.errors), r.name+"-errors")
		if r.name != "static" {
			b.ReportMetric(float64(r.p99)/float64(base), r.name+"-p99/static")
		}
		if r.errors > 0 {
			b.Errorf("%s: %d errors, first: %s", r.name, r.errors, r.firstErr)
		}
	}
	b.Log(table.String())
	b.ReportMetric(mib(before.heap), "heap-before-MiB")
	b.ReportMetric(mib(after.heap), "heap-after-MiB")
	b.ReportMetric(mib(after.rss), "rss-after-MiB")
	// The viewer keeps no per-request state: after the load the live heap
	// is what it was, give or take allocator noise.
	if growth := int64(after.heap) - int64(before.heap); growth > 16<<20 && float64(after.heap) > 1.25*float64(before.heap) {
		b.Errorf("live heap grew from %.1f to %.1f MiB under load", mib(before.heap), mib(after.heap))
	}
}

// loadArchive generates the archive, or reuses one a previous run left in
// a LINKARC_LOAD_STORE directory.
func loadArchive(ctx context.Context, st storage.Store, dir string, articles int) (*viewertest.Generated, error) {
	opts := viewertest.GenerateOptions{Articles: articles, Seed: 42}
	stamp := filepath.Join(dir, fmt.Sprintf(".linkarc-load-%d", articles))
	if _, err := os.Stat(stamp); err == nil {
		return viewertest.Plan(opts), nil
	}
	gen, err := viewertest.Generate(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	return gen, os.WriteFile(stamp, nil, 0o644)
}

// loadPhase is one kind of request.
type loadPhase struct {
	name string
	path func(*rand.Rand) string
}

type phaseResult struct {
	name         string
	requests     int
	errors       int
	firstErr     string
	rps          float64
	p50, p99     time.Duration
	durationSeen time.Duration
}

// runPhase runs conns workers, each with its own keep-alive connection,
// sending requests back to back for d.
func runPhase(client *http.Client, base string, p loadPhase, conns int, d time.Duration) phaseResult {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  string
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []time.Duration
			var myErrs int
			var myFirst string
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := client.Get(base + p.path(r))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d for %s", resp.StatusCode, resp.Request.URL.Path)
					}
				}
				mine = append(mine, time.Since(t0))
				if err != nil {
					myErrs++
					if myFirst == "" {
						myFirst = err.Error()
					}
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += myErrs
			if firstErr == "" {
				firstErr = myFirst
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	res := phaseResult{name: p.name, requests: len(latencies), errors: errs, firstErr: firstErr,
		rps: float64(len(latencies)) / elapsed.Seconds(), durationSeen: elapsed}
	if n := len(latencies); n > 0 {
		res.p50, res.p99 = latencies[n/2], latencies[min(n-1, n*99/100)]
	}
	return res
}

type mem struct{ heap, rss uint64 }

// memSnapshot reads the live heap after a full collection, and the RSS.
func memSnapshot() mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heap: ms.HeapAlloc, rss: rss()}
}

// rss reads the resident set size from /proc (Linux); 0 elsewhere.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(n uint64) float64       { return float64(n) / (1 << 20) }

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a duration like 30s", name, v)
	}
	return d
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
