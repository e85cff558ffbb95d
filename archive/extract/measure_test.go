package extract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/hostile"
	"github.com/linkarc/linkarc/internal/procpool"
)

// The measurement runs each (page, size, step) in a child process: the
// test binary re-executed with measureEnv set, which runs one step on one
// page, prints a JSON line and exits. The parent reads the child's peak
// RSS from its rusage and kills it at a time or memory cap.
const (
	measureEnv = "LINKARC_MEASURE_CHILD" // "step page n [profile]"
	measureCap = 4 << 30                 // bytes of RSS; the child is killed above it
	measureMax = 120 * time.Second       // the child is killed after it
)

// childResult is what a child prints.
type childResult struct {
	Pages   int     `json:"pages"`
	Bytes   int     `json:"bytes"`
	Seconds float64 `json:"seconds"` // wall time of the step, generation excluded
	Slowest float64 `json:"slowest"` // the slowest page's seconds (benchmark pages)
	Err     string  `json:"err,omitempty"`
	Text    int     `json:"text"` // bytes of text extracted
}

// steps are what a child can run on a page: the whole extraction, or one
// of the libraries it is made of, each on a fresh parse as Extract does.
var steps = map[string]func(page []byte, u *url.URL) (int, error){
	"extract": func(page []byte, u *url.URL) (int, error) {
		ex, err := Extract(page, u)
		if err != nil {
			return 0, err
		}
		return len(ex.Text), nil
	},
	"parse": func(page []byte, u *url.URL) (int, error) {
		_, err := html.Parse(bytes.NewReader(page))
		return 0, err
	},
	"trafilatura": func(page []byte, u *url.URL) (int, error) {
		doc, err := html.Parse(bytes.NewReader(page))
		if err != nil {
			return 0, err
		}
		res, err := trafilatura.ExtractDocument(doc, trafilatura.Options{
			OriginalURL: u, ExcludeComments: true, HtmlDateMode: trafilatura.Disabled})
		if err != nil {
			return 0, err
		}
		return len(res.ContentText), nil
	},
	"bounded": func(page []byte, u *url.URL) (int, error) {
		ex, err := ExtractBounded(page, u)
		if err != nil {
			return 0, err
		}
		return len(ex.Text), nil
	},
	"readability": func(page []byte, u *url.URL) (int, error) {
		doc, err := html.Parse(bytes.NewReader(page))
		if err != nil {
			return 0, err
		}
		p := readability.NewParser()
		art, err := p.ParseAndMutate(doc, u)
		if err != nil {
			return 0, err
		}
		return len(art.Excerpt()), nil
	},
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(measureEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	if procpool.IsWorker() {
		procpool.ServeWorker(testHandlers()) // never returns
	}
	os.Exit(m.Run())
}

// runChild runs one measurement: spec is "step page n [cpu-profile-path]".
func runChild(spec string) int {
	f := strings.Fields(spec)
	step := steps[f[0]]
	n, _ := strconv.Atoi(f[2])
	pages, err := inputs(f[1], n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if len(f) > 3 {
		prof, err := os.Create(f[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pprof.StartCPUProfile(prof)
		defer func() { pprof.StopCPUProfile(); prof.Close() }()
	}
	u, _ := url.Parse("https://news.example/2026/story")
	var r childResult
	start := time.Now()
	for _, p := range pages {
		t0 := time.Now()
		text, err := step(p, u)
		r.Slowest = max(r.Slowest, time.Since(t0).Seconds())
		r.Pages++
		r.Bytes += len(p)
		r.Text += text
		if err != nil && r.Err == "" {
			r.Err = err.Error()
			if len(r.Err) > 80 {
				r.Err = r.Err[:80]
			}
		}
	}
	r.Seconds = time.Since(start).Seconds()
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// inputs returns the pages a measurement runs on: the hostile page name
// at scale n, or "benchmark", the benchmark pages of testdata/extraction.
func inputs(name string, n int) ([][]byte, error) {
	if name == "benchmark" {
		pages, err := readBenchmark()
		if err != nil {
			return nil, err
		}
		out := make([][]byte, len(pages))
		for i, p := range pages {
			out[i] = p.html
		}
		return out, nil
	}
	for _, p := range hostile.Pages() {
		if p.Name == name {
			return [][]byte{p.Gen(n)}, nil
		}
	}
	if d, ok := strings.CutPrefix(name, "nested-"); ok {
		depth, err := strconv.Atoi(d)
		if err == nil {
			return [][]byte{hostile.NestedDivs(depth, n)}, nil
		}
	}
	return nil, fmt.Errorf("no page %q", name)
}

// measurement is one child's run as the parent saw it.
type measurement struct {
	childResult
	PeakRSS int64  // bytes, the child's maxrss (generation included)
	Killed  string // "time" or "memory" when the parent killed it
}

// measure runs spec in a child process under the caps.
func measure(t *testing.T, spec string) measurement {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), measureEnv+"="+spec)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var m measurement
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(measureMax)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-deadline:
			m.Killed = "time"
			cmd.Process.Kill()
		case <-tick.C:
			if rss := statmRSS(cmd.Process.Pid); rss > measureCap && m.Killed == "" {
				m.Killed = "memory"
				cmd.Process.Kill()
			}
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.PeakRSS = ru.Maxrss << 10
	}
	if m.Killed == "" {
		if err := json.NewDecoder(bufio.NewReader(&out)).Decode(&m.childResult); err != nil {
			m.Err = fmt.Sprintf("child: %v (%v)", err, cmd.ProcessState)
		}
	}
	return m
}

// statmRSS returns a process's resident set in bytes, 0 when unknown.
func statmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func (m measurement) String() string {
	switch {
	case m.Killed == "time":
		return fmt.Sprintf(">%.0f s (killed) rss>=%d MB", measureMax.Seconds(), m.PeakRSS>>20)
	case m.Killed == "memory":
		return fmt.Sprintf("killed at %d MB", m.PeakRSS>>20)
	}
	s := fmt.Sprintf("%7.2f s %5d MB", m.Seconds, m.PeakRSS>>20)
	if m.Err != "" {
		s += " err=" + m.Err
	}
	return s
}

// TestMeasureHostile prints, for each hostile page and size, the wall time
// and peak RSS of Extract and of each library step alone; it stops growing
// a page once it is over the caps. CPU profiles of the slowest runs are
// written to $LINKARC_MEASURE_PROFILES when set.
//
// LINKARC_MEASURE_PAGES (comma-separated names) and LINKARC_MEASURE_STEPS
// narrow it; LINKARC_MEASURE_SIZES lists sizes in KiB.
func TestMeasureHostile(t *testing.T) {
	if os.Getenv("LINKARC_MEASURE") == "" {
		t.Skip("set LINKARC_MEASURE=1: takes tens of minutes")
	}
	only := func(env, name string) bool {
		v := os.Getenv(env)
		return v == "" || strings.Contains(","+v+",", ","+name+",")
	}
	sizes := []int{256, 512, 1024, 2048, 4096}
	if v := os.Getenv("LINKARC_MEASURE_SIZES"); v != "" {
		sizes = nil
		for _, s := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(s)
			sizes = append(sizes, n)
		}
	}
	profiles := os.Getenv("LINKARC_MEASURE_PROFILES")
	for _, step := range []string{"extract", "parse", "trafilatura", "readability", "bounded"} {
		if !only("LINKARC_MEASURE_STEPS", step) {
			continue
		}
		if only("LINKARC_MEASURE_PAGES", "benchmark") {
			m := measure(t, step+" benchmark 0")
			t.Logf("%-12s %-16s %8s %s (%d pages, slowest %.2f s, %.1f pages/s)", step, "benchmark", "all", m, m.Pages, m.Slowest, float64(m.Pages)/m.Seconds)
		}
		pages := hostile.Pages()
		for _, name := range strings.Split(os.Getenv("LINKARC_MEASURE_PAGES"), ",") {
			if d, ok := strings.CutPrefix(name, "nested-"); ok && !slices.ContainsFunc(pages, func(p hostile.Page) bool { return p.Name == name }) {
				depth, _ := strconv.Atoi(d)
				pages = append(pages, hostile.Page{Name: name, Unit: hostile.Bytes,
					Gen: func(n int) []byte { return hostile.NestedDivs(depth, n) }})
			}
		}
		for _, p := range pages {
			if !only("LINKARC_MEASURE_PAGES", p.Name) {
				continue
			}
			for _, kb := range sizes {
				n, label := kb<<10, fmt.Sprintf("%d KiB", kb)
				if p.Unit == hostile.Depth {
					n, label = kb/2, fmt.Sprintf("depth %d", kb/2) // 128..2048 deep
				}
				spec := fmt.Sprintf("%s %s %d", step, p.Name, n)
				if profiles != "" {
					spec += " " + filepath.Join(profiles, fmt.Sprintf("%s-%s-%d.pprof", step, p.Name, kb))
				}
				m := measure(t, spec)
				t.Logf("%-12s %-16s %8s %s", step, p.Name, label, m)
				if m.Killed != "" || m.Seconds > 40 {
					break
				}
			}
		}
	}
}
