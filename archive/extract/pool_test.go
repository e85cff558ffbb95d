package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/hostile"
	"github.com/linkarc/linkarc/internal/procpool"
)

// testHandlers are what the workers of these tests serve: the extraction
// jobs, and "echo", the trivial job that measures the pool's own cost.
func testHandlers() procpool.Handlers {
	h := Handlers()
	h["echo"] = func(in []byte) ([]byte, error) { return in, nil }
	return h
}

const pageURL = "https://news.example/2026/story"

// benchmarkPages are the pages of the extraction benchmark, bytes only.
func benchmarkPages(tb testing.TB) [][]byte {
	pages := loadBenchmark(tb)
	out := make([][]byte, len(pages))
	for i, p := range pages {
		out[i] = p.html
	}
	return out
}

// TestPoolHostileBeside is the isolation's proof on real extraction:
// hostile pages beside ordinary ones in one pool end over the budget of
// Extract (killed for time or memory, never taking the test process with
// them) and then give the bounded extraction's text or ErrTooComplex; the
// ordinary pages around them are extracted exactly as in process; and
// the test process stays small.
func TestPoolHostileBeside(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes and runs pages to their budget")
	}
	p := NewPool(context.Background(), PoolOptions{Workers: 2, Timeout: 5 * time.Second, Memory: 384 << 20})
	defer p.Close()
	normal := loadBenchmark(t)[:6]
	jobs := []struct {
		name    string
		page    []byte
		hostile bool
	}{
		{"normal-0", normal[0].html, false},
		{"formatting-bomb 1 MiB", hostile.FormattingBomb(1 << 20), true}, // ~2.4 GB in process
		{"normal-1", normal[1].html, false},
		{"paragraphs 8 MiB", hostile.Paragraphs(8 << 20), true}, // quadratic: tens of seconds
		{"normal-2", normal[2].html, false},
		{"br-words 8 MiB", hostile.BRWords(8 << 20), true}, // ~3 GB in process
		{"normal-3", normal[3].html, false},
		{"formatting-bomb-attrs 64 KiB", hostile.FormattingBombAttrs(64 << 10), true}, // ~6 million nodes
		{"normal-4", normal[4].html, false},
	}
	var wg sync.WaitGroup
	results := make([]*Result, len(jobs))
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() {
			results[i], errs[i] = p.Extract(context.Background(), Page{Body: j.page, FinalURL: pageURL})
		})
	}
	wg.Wait()
	for i, j := range jobs {
		r, err := results[i], errs[i]
		switch {
		case j.hostile && err == nil:
			t.Logf("%-30s ok, bounded %v, %d words", j.name, r.Bounded, r.WordCount)
			if !r.Bounded {
				t.Errorf("%s: extracted within the budget; the page is meant to be over it", j.name)
			}
		case j.hostile:
			t.Logf("%-30s %v", j.name, err)
			if !errors.Is(err, ErrTooComplex) {
				t.Errorf("%s: %v, want the bounded text or ErrTooComplex", j.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", j.name, err)
		default:
			want, _ := InProcess{}.Extract(context.Background(), Page{Body: j.page, FinalURL: pageURL})
			if r.Bounded || r.Extraction != want.Extraction || r.Junk != want.Junk {
				t.Errorf("%s: the pool's result differs from the one in process (bounded %v)", j.name, r.Bounded)
			}
		}
	}
	if rss := statmRSS(os.Getpid()); rss > 400<<20 {
		t.Errorf("test process RSS %d MiB", rss>>20)
	}
	st := p.Stats()
	t.Logf("pool: %+v", st)
	if st.OverTime+st.OverMemory+st.Crashed < 4 {
		t.Errorf("%d jobs over budget, want at least the 4 hostile pages", st.OverTime+st.OverMemory+st.Crashed)
	}
}

// TestPoolCanceled: a page still extracting when its context ends returns
// the context's error at once, its worker killed (the pipeline's Ctrl-C).
func TestPoolCanceled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a worker process")
	}
	p := NewPool(context.Background(), PoolOptions{Workers: 1, Timeout: time.Minute})
	defer p.Close()
	// Warm the worker up, so the cancel meets a running job.
	r, err := p.p.Do(context.Background(), "echo", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Extract(ctx, Page{Body: hostile.Paragraphs(8 << 20), FinalURL: pageURL})
		done <- err
	}()
	// Cancel once the worker is extracting: its CPU time grows (the page
	// takes tens of seconds).
	idle := processCPU(r.Worker)
	for deadline := time.Now().Add(time.Minute); processCPU(r.Worker) < idle+300*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not start on the page within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Extract = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Extract did not return within 10 s of the cancel")
	}
	if st := p.Stats(); st.Canceled != 1 || st.Running != 0 {
		t.Errorf("pool stats %+v, want 1 canceled job and its worker gone", st)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", r.Worker)); err == nil {
		t.Errorf("worker %d still exists", r.Worker)
	}
}

// BenchmarkIsolation compares, in one run, Extract on every benchmark
// page in process (InProcess) and through a Pool, alternating within each
// iteration so that a busy machine slows both alike, with as many pages at
// once as the pool has workers (GOMAXPROCS). It reports pages/s of each
// and their ratio, the CPU time per page of each (this process and the
// workers: what a busy machine does not distort), and the trivial job's
// rate (echo of 1 KiB), the pool's own cost.
//
//	go test ./archive/extract -run '^$' -bench Isolation -benchtime 3x
func BenchmarkIsolation(b *testing.B) {
	size := runtime.GOMAXPROCS(0)
	opts := PoolOptions{Workers: size}
	if v := os.Getenv("LINKARC_BENCH_WORKER_GOGC"); v != "" {
		opts.Env = []string{"GOGC=" + v} // to compare the workers' GC settings
	}
	pool := NewPool(context.Background(), opts)
	defer pool.Close()
	p := pool.p
	pages := benchmarkPages(b)
	echo := make([][]byte, 2000)
	for i := range echo {
		echo[i] = bytes.Repeat([]byte{'x'}, 1024)
	}
	// Warm the workers up: their start (package init) is not per page.
	var mu sync.Mutex
	workers := map[int]bool{}
	if err := runAll(size, echo[:size*4], func(in []byte) error {
		r, err := p.Do(context.Background(), "echo", in)
		mu.Lock()
		workers[r.Worker] = true
		mu.Unlock()
		return err
	}); err != nil {
		b.Fatal(err)
	}
	for pid := range workers {
		b.Logf("worker %d after start: RSS %d MiB", pid, statmRSS(pid)>>20)
	}
	// cpu is the CPU time this process and the workers have used so far.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		for pid := range workers {
			total += processCPU(pid)
		}
		return total
	}
	extractPage := func(x interface {
		Extract(context.Context, Page) (*Result, error)
	}) func([]byte) error {
		return func(in []byte) error {
			_, err := x.Extract(context.Background(), Page{Body: in, FinalURL: pageURL})
			return err
		}
	}
	modes := []struct {
		name            string
		inputs          [][]byte
		inProc, through func([]byte) error
	}{
		{"trivial", echo,
			func(in []byte) error { _, err := testHandlers()["echo"](in); return err },
			func(in []byte) error { _, err := p.Do(context.Background(), "echo", in); return err }},
		{"extract", pages, extractPage(InProcess{}), extractPage(pool)},
	}
	elapsed := make(map[string]time.Duration)
	cpuUsed := make(map[string]time.Duration)
	for b.Loop() {
		for _, m := range modes {
			for _, way := range []struct {
				name string
				f    func([]byte) error
			}{{"inproc", m.inProc}, {"pool", m.through}} {
				start, cpu0 := time.Now(), cpu()
				if err := runAll(size, m.inputs, way.f); err != nil {
					b.Fatalf("%s %s: %v", m.name, way.name, err)
				}
				elapsed[m.name+"/"+way.name] += time.Since(start)
				cpuUsed[m.name+"/"+way.name] += cpu() - cpu0
			}
		}
	}
	n := float64(b.N)
	for _, m := range modes {
		jobs := n * float64(len(m.inputs))
		in, out := elapsed[m.name+"/inproc"], elapsed[m.name+"/pool"]
		b.ReportMetric(jobs/in.Seconds(), m.name+"-inproc-pages/s")
		b.ReportMetric(jobs/out.Seconds(), m.name+"-pool-pages/s")
		b.ReportMetric(out.Seconds()/in.Seconds(), m.name+"-pool/inproc-time")
		cin, cout := cpuUsed[m.name+"/inproc"], cpuUsed[m.name+"/pool"]
		b.ReportMetric(float64(cin.Microseconds())/jobs, m.name+"-inproc-cpu-µs/page")
		b.ReportMetric(float64(cout.Microseconds())/jobs, m.name+"-pool-cpu-µs/page")
	}
	b.Logf("pool %+v", p.Stats())
}

// processCPU is the user and system CPU time of a process so far
// (/proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// runAll runs f on every input with n at once, returning the errors.
func runAll(n int, inputs [][]byte, f func([]byte) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all error
	next := make(chan []byte)
	for range n {
		wg.Go(func() {
			for in := range next {
				if err := f(in); err != nil {
					mu.Lock()
					all = errors.Join(all, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, in := range inputs {
		next <- in
	}
	close(next)
	wg.Wait()
	return all
}
