package extractbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/internal/hostile"
	"github.com/linkarc/linkarc/internal/procpool"
)

// handlers are what the workers of these tests and benchmarks serve:
// "extract" is extract.Extract as the pipeline would call it through the
// pool (the page's URL, a newline, the page; the Extraction as JSON back),
// "echo" the trivial job that measures the pool's own cost.
var handlers = procpool.Handlers{
	"extract": extractJob,
	"echo":    func(in []byte) ([]byte, error) { return in, nil },
}

func extractJob(in []byte) ([]byte, error) {
	rawURL, page, _ := bytes.Cut(in, []byte("\n"))
	u, err := url.Parse(string(rawURL))
	if err != nil {
		return nil, err
	}
	ex, err := extract.Extract(page, u)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ex)
}

func extractInput(u string, page []byte) []byte {
	return append([]byte(u+"\n"), page...)
}

// poolWorker serves jobs and exits when the process is a worker.
func poolWorker() bool {
	if procpool.IsWorker() {
		procpool.ServeWorker(handlers)
	}
	return false
}

const pageURL = "https://news.example/2026/story"

func benchmarkPages(tb testing.TB) [][]byte {
	pages, err := archivetest.LoadPages(filepath.Join("..", "..", "testdata", "extraction"), 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]byte, len(pages))
	for i, p := range pages {
		out[i] = p.HTML
	}
	return out
}

// TestHostileThroughPool is the isolation's proof on real extraction:
// hostile pages end over their budget (killed for time or memory, never
// taking the test process with them), the ordinary pages around them are
// extracted, and the test process stays small.
func TestHostileThroughPool(t *testing.T) {
	p := procpool.New(context.Background(), procpool.Options{Size: 2, Timeout: 5 * time.Second, Memory: 384 << 20})
	defer p.Close()
	normal := benchmarkPages(t)[:6]
	jobs := []struct {
		name string
		page []byte
		over bool // must end over budget
	}{
		{"normal-0", normal[0], false},
		{"formatting-bomb 1 MiB", hostile.FormattingBomb(1 << 20), true}, // ~2.4 GB in process
		{"normal-1", normal[1], false},
		{"paragraphs 8 MiB", hostile.Paragraphs(8 << 20), true}, // quadratic: tens of seconds
		{"normal-2", normal[2], false},
		{"br-words 8 MiB", hostile.BRWords(8 << 20), true}, // ~3 GB in process
		{"normal-3", normal[3], false},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Do(context.Background(), "extract", extractInput(pageURL, j.page))
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		t.Logf("%-22s %v", j.name, errs[i])
		if j.over && !procpool.OverBudget(errs[i]) {
			t.Errorf("%s: %v, want over budget", j.name, errs[i])
		}
		if !j.over && errs[i] != nil {
			t.Errorf("%s: %v", j.name, errs[i])
		}
	}
	if rss := statmRSS(os.Getpid()); rss > 400<<20 {
		t.Errorf("test process RSS %d MiB", rss>>20)
	}
	t.Logf("pool: %+v", p.Stats())
}

// BenchmarkIsolation compares, in one run, the same work in process and
// through the pool, alternating within each iteration so that a busy
// machine slows both alike: a trivial job (echo of 1 KiB), and Extract on
// every benchmark page, both with as many jobs at once as the pool has
// workers (GOMAXPROCS). It reports jobs/s of each and their ratio, the
// CPU time per job of each (this process and the workers: what a busy
// machine does not distort), and the largest peak RSS of a worker during
// one page.
//
//	go test ./archive/extractbench -run '^$' -bench Isolation -benchtime 3x
func BenchmarkIsolation(b *testing.B) {
	size := runtime.GOMAXPROCS(0)
	opts := procpool.Options{Size: size}
	if v := os.Getenv("LINKARC_BENCH_WORKER_GOGC"); v != "" {
		opts.Env = []string{"GOGC=" + v} // to compare the workers' GC settings
	}
	p := procpool.New(context.Background(), opts)
	defer p.Close()
	pages := benchmarkPages(b)
	echo := make([][]byte, 2000)
	for i := range echo {
		echo[i] = bytes.Repeat([]byte{'x'}, 1024)
	}
	extractIn := make([][]byte, len(pages))
	for i, pg := range pages {
		extractIn[i] = extractInput(pageURL, pg)
	}
	// Warm the workers up: their start (package init) is not per job.
	var mu sync.Mutex
	workers := map[int]time.Duration{} // pid -> CPU time so far
	if err := runAll(size, echo[:size], func(in []byte) error {
		r, err := p.Do(context.Background(), "echo", in)
		mu.Lock()
		workers[r.Worker] = 0
		mu.Unlock()
		return err
	}); err != nil {
		b.Fatal(err)
	}
	for pid := range workers {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		var data string
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmData:") || strings.HasPrefix(line, "VmSize:") {
				data += " " + strings.Join(strings.Fields(line), " ")
			}
		}
		b.Logf("worker %d after start: RSS %d MiB;%s", pid, statmRSS(pid)>>20, data)
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

	var peak struct {
		sync.Mutex
		rss int64
	}
	modes := []struct {
		name    string
		inputs  [][]byte
		inProc  func([]byte) error
		through func([]byte) error
	}{
		{"trivial", echo,
			func(in []byte) error { _, err := handlers["echo"](in); return err },
			func(in []byte) error { _, err := p.Do(context.Background(), "echo", in); return err }},
		{"extract", extractIn,
			func(in []byte) error { _, err := extractJob(in); return err },
			func(in []byte) error {
				r, err := p.Do(context.Background(), "extract", in)
				peak.Lock()
				peak.rss = max(peak.rss, r.PeakRSS)
				peak.Unlock()
				return err
			}},
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
		b.ReportMetric(jobs/in.Seconds(), m.name+"-inproc-jobs/s")
		b.ReportMetric(jobs/out.Seconds(), m.name+"-pool-jobs/s")
		b.ReportMetric(in.Seconds()/out.Seconds(), m.name+"-pool/inproc")
		cin, cout := cpuUsed[m.name+"/inproc"], cpuUsed[m.name+"/pool"]
		b.ReportMetric(float64(cin.Microseconds())/jobs, m.name+"-inproc-cpu-µs/job")
		b.ReportMetric(float64(cout.Microseconds())/jobs, m.name+"-pool-cpu-µs/job")
	}
	b.ReportMetric(float64(peak.rss>>20), "worker-peak-MiB")
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

// runAll runs f on every input with n at once, returning the first error.
func runAll(n int, inputs [][]byte, f func([]byte) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan []byte)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range next {
				if err := f(in); err != nil {
					mu.Lock()
					first = errors.Join(first, fmt.Errorf("%w", err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, in := range inputs {
		next <- in
	}
	close(next)
	wg.Wait()
	return first
}
