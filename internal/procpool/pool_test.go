package procpool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Budgets are short and margins generous: on a busy machine a worker can
// take seconds to start, so the tests assert what the pool did (the kind
// of each outcome, which worker ran a job, the time a killed job ran at
// least), never how fast it did it.

func TestRoundTrip(t *testing.T) {
	p := newPool(t, Options{Size: 1})
	in := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB: larger than a pipe's buffer both ways
	r := mustDo(t, p, "echo", string(in))
	if !bytes.Equal(r.Out, in) {
		t.Errorf("echo: %d bytes back, want %d", len(r.Out), len(in))
	}
	if r.Worker == 0 || r.Worker == os.Getpid() {
		t.Errorf("worker pid %d", r.Worker)
	}
	if r.PeakRSS < 8<<20 {
		t.Errorf("peak RSS %d: the job holds 8 MiB", r.PeakRSS)
	}
	r2 := mustDo(t, p, "pid", "")
	if string(r2.Out) != strconv.Itoa(r.Worker) {
		t.Errorf("second job ran on %s, want the same worker %d", r2.Out, r.Worker)
	}
	if s := p.Stats(); s.Started != 1 || s.OK != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestParts: an input given in parts reaches the handler joined, empty
// parts included, and the limit counts every part.
func TestParts(t *testing.T) {
	p := newPool(t, Options{Size: 1, MaxInput: 1 << 20})
	big := bytes.Repeat([]byte("z"), 300<<10)
	for _, tc := range []struct {
		name  string
		parts [][]byte
	}{
		{"none", nil},
		{"one", [][]byte{[]byte("abc")}},
		{"head and body", [][]byte{[]byte("https://a.example/\n"), big}},
		{"empty parts between", [][]byte{{}, []byte("x"), nil, []byte("y"), {}}},
		{"three large", [][]byte{big, big, big}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := p.Do(context.Background(), "echo", tc.parts...)
			if err != nil {
				t.Fatal(err)
			}
			if want := bytes.Join(tc.parts, nil); !bytes.Equal(r.Out, want) {
				t.Errorf("echo: %d bytes back, want %d", len(r.Out), len(want))
			}
		})
	}
	_, err := p.Do(context.Background(), "echo", big, big, big, big)
	wantKind(t, err, KindRefused)
}

func TestDefaults(t *testing.T) {
	p := newPool(t, Options{})
	if p.Size() != runtime.GOMAXPROCS(0) {
		t.Errorf("size %d, want GOMAXPROCS %d", p.Size(), runtime.GOMAXPROCS(0))
	}
	if p.opts.Timeout != DefaultTimeout || p.opts.Memory != DefaultMemory {
		t.Errorf("options %+v", p.opts)
	}
}

// TestOverTime: a job that never ends is killed at its budget, and the
// next job runs on a fresh worker.
func TestOverTime(t *testing.T) {
	const budget = time.Second
	p := newPool(t, Options{Size: 1, Timeout: budget})
	before := mustDo(t, p, "pid", "")
	_, err := do(t, p, "spin", "")
	e := wantKind(t, err, KindTime)
	if !errors.Is(err, ErrOverTime) || !OverBudget(err) {
		t.Errorf("%v: not ErrOverTime / OverBudget", err)
	}
	if e.Elapsed < budget || e.Elapsed > budget+30*time.Second {
		t.Errorf("killed after %v, budget %v", e.Elapsed, budget)
	}
	if e.Worker != pidOf(t, before) {
		t.Errorf("killed worker %d, the job ran on %d", e.Worker, pidOf(t, before))
	}
	noZombies(t) // reaped before Do returned
	after := mustDo(t, p, "pid", "")
	if pidOf(t, after) == e.Worker {
		t.Errorf("next job ran on the killed worker %d", e.Worker)
	}
	if s := p.Stats(); s.Started != 2 || s.OverTime != 1 || s.OK != 2 || s.Running != 1 {
		t.Errorf("stats %+v", s)
	}
}

func pidOf(t *testing.T, r Result) int {
	t.Helper()
	pid, err := strconv.Atoi(string(r.Out))
	if err != nil {
		t.Fatalf("pid %q", r.Out)
	}
	return pid
}

// TestOverMemory: under a 512 MiB budget, a job allocating 4 GiB at once
// is refused by the OS limit, and one growing towards 4 GiB is stopped
// too (by the pool reading its RSS, or by the limit, whichever first);
// the parent's own memory stays small and the next job runs.
func TestOverMemory(t *testing.T) {
	skipRace(t)
	const budget = 512 << 20
	p := newPool(t, Options{Size: 1, Memory: budget, Timeout: 2 * time.Minute})
	for _, job := range []string{"alloc", "grow"} {
		_, err := do(t, p, job, strconv.Itoa(4<<30))
		e := wantKind(t, err, KindMemory)
		if !errors.Is(err, ErrOverMemory) || !OverBudget(err) {
			t.Errorf("%v: not ErrOverMemory / OverBudget", err)
		}
		t.Logf("%s: %v", job, err)
		if job == "alloc" && !strings.Contains(e.Detail, "out of memory") {
			t.Errorf("alloc: %q, want the runtime's out of memory", e.Detail)
		}
		noZombies(t)
	}
	// Within budget, the same jobs succeed on a fresh worker.
	mustDo(t, p, "alloc", strconv.Itoa(128<<20))
	mustDo(t, p, "grow", strconv.Itoa(128<<20))
	if rss := processRSS(os.Getpid()); rss > 200<<20 {
		t.Errorf("parent RSS %d MiB", rss>>20)
	}
	if s := p.Stats(); s.OverMemory != 2 || s.OK != 2 || s.Started != 3 {
		t.Errorf("stats %+v", s)
	}
}

// TestMemoryPoll: without the OS limit, the pool's own RSS readings stop
// a growing job, before the 4 GiB it asks for.
func TestMemoryPoll(t *testing.T) {
	skipRace(t)
	p := newPool(t, Options{Size: 1, Memory: 256 << 20, OSMemoryLimit: -1, Timeout: 2 * time.Minute})
	_, err := do(t, p, "grow", strconv.Itoa(4<<30))
	e := wantKind(t, err, KindMemory)
	if !strings.Contains(e.Detail, "RSS") || e.PeakRSS < 256<<20 || e.PeakRSS > 3<<30 {
		t.Errorf("%v (RSS reading %d MiB)", err, e.PeakRSS>>20)
	}
	t.Logf("%v", err)
	mustDo(t, p, "pid", "")
}

// TestCrash: a worker that panics, panics in another goroutine, or exits
// is replaced; a handler error keeps its worker.
func TestCrash(t *testing.T) {
	p := newPool(t, Options{Size: 1})
	for _, tt := range []struct{ job, detail string }{
		{"panic", "panic: boom"},
		{"go-panic", "panic: boom in a goroutine"},
		{"exit3", "exit status 3"},
	} {
		before := pidOf(t, mustDo(t, p, "pid", ""))
		_, err := do(t, p, tt.job, "")
		e := wantKind(t, err, KindCrash)
		if !errors.Is(err, ErrCrashed) || !OverBudget(err) || !strings.Contains(e.Detail, tt.detail) {
			t.Errorf("%s: %v, want ErrCrashed with %q", tt.job, err, tt.detail)
		}
		noZombies(t)
		if after := pidOf(t, mustDo(t, p, "pid", "")); after == before {
			t.Errorf("%s: worker %d not replaced", tt.job, before)
		}
	}
	before := pidOf(t, mustDo(t, p, "pid", ""))
	_, err := do(t, p, "fail", "")
	if e := wantKind(t, err, KindHandler); e.Detail != "no good" || OverBudget(err) {
		t.Errorf("fail: %v", err)
	}
	_, err = do(t, p, "nonesuch", "")
	wantKind(t, err, KindUnknown)
	if after := pidOf(t, mustDo(t, p, "pid", "")); after != before {
		t.Errorf("handler error replaced the worker")
	}
	if s := p.Stats(); s.Crashed != 3 || s.Failed != 2 || s.Started != 4 {
		t.Errorf("stats %+v", s)
	}
}

// TestConcurrency: Size jobs run at once (a barrier that returns only
// then), never more; the rest wait in line.
func TestConcurrency(t *testing.T) {
	const size = 3
	p := newPool(t, Options{Size: size, Timeout: 3 * time.Minute})
	dir := t.TempDir()
	type done struct {
		r   Result
		err error
	}
	results := make(chan done)
	for range size {
		go func() {
			r, err := p.Do(context.Background(), "barrier", []byte(dir+" "+strconv.Itoa(size)))
			results <- done{r, err}
		}()
	}
	pids := map[int]bool{}
	for range size {
		d := <-results
		if d.err != nil {
			t.Fatal(d.err)
		}
		pids[pidOf(t, d.r)] = true
	}
	if len(pids) != size {
		t.Errorf("%d workers ran the barrier, want %d", len(pids), size)
	}
	// Twice as many jobs as workers: none starts a process of its own.
	for range 2 * size {
		go func() {
			r, err := p.Do(context.Background(), "sleep", []byte("50ms"))
			results <- done{r, err}
		}()
	}
	for range 2 * size {
		if d := <-results; d.err != nil || !pids[pidOf(t, d.r)] {
			t.Errorf("sleep: %v on %s", d.err, d.r.Out)
		}
	}
	if s := p.Stats(); s.Started != size {
		t.Errorf("started %d workers, want %d", s.Started, size)
	}
}

// TestCancel: canceling a job kills its worker only; closing the pool
// (its context canceled) ends running and waiting jobs and leaves no
// process behind.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := New(ctx, Options{Size: 2, Timeout: -1})
	defer p.Close()

	jobCtx, jobCancel := context.WithCancel(context.Background())
	errs := make(chan error, 8)
	go func() {
		_, err := p.Do(jobCtx, "spin", nil)
		errs <- err
	}()
	waitFor(t, func() bool { return p.Stats().Running == 1 })
	time.Sleep(100 * time.Millisecond) // let the job reach the worker; either way it is canceled
	jobCancel()
	wantKind(t, <-errs, KindCanceled)
	noZombies(t)

	for range 5 { // 2 run, 3 wait
		go func() {
			_, err := p.Do(context.Background(), "spin", nil)
			errs <- err
		}()
	}
	waitFor(t, func() bool { return p.Stats().Running == 2 })
	cancel()
	for range 5 {
		if err := <-errs; !errors.Is(err, ErrCanceled) {
			t.Errorf("after cancel: %v", err)
		}
	}
	p.Close()
	noChildren(t)
	if _, err := p.Do(context.Background(), "pid", nil); !errors.Is(err, ErrCanceled) {
		t.Errorf("Do after Close: %v", err)
	}
	if s := p.Stats(); s.Running != 0 || s.Canceled != 7 {
		t.Errorf("stats %+v", s)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in a minute")
		}
	}
}

// TestParentDeath: when the parent is killed (no chance to clean up), its
// busy worker dies too.
func TestParentDeath(t *testing.T) {
	pidFile := t.TempDir() + "/worker.pid"
	exe, _ := os.Executable()
	parent, err := os.StartProcess(exe, []string{exe, "-test.run=^$"}, &os.ProcAttr{
		Env: append(os.Environ(), parentEnv+"="+pidFile), Files: []*os.File{nil, os.Stderr, os.Stderr}})
	if err != nil {
		t.Fatal(err)
	}
	var worker int
	waitFor(t, func() bool {
		b, _ := os.ReadFile(pidFile)
		worker, _ = strconv.Atoi(string(b))
		return worker > 0
	})
	parent.Kill()
	parent.Wait()
	// Pdeathsig kills it at once; the worker's own watch within a second.
	// Reparented, it may linger as a zombie of a PID 1 that does not reap.
	waitFor(t, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", worker))
		return err != nil || strings.Contains(string(b), ") Z ")
	})
	if err := syscall.Kill(worker, 0); err == nil {
		t.Logf("worker %d is a zombie of its new parent", worker)
	}
}

// TestRecycle: a worker is replaced after RecycleAfter jobs.
func TestRecycle(t *testing.T) {
	p := newPool(t, Options{Size: 1, RecycleAfter: 2})
	a, b, c := mustDo(t, p, "pid", ""), mustDo(t, p, "pid", ""), mustDo(t, p, "pid", "")
	if pidOf(t, a) != pidOf(t, b) || pidOf(t, b) == pidOf(t, c) {
		t.Errorf("pids %s %s %s", a.Out, b.Out, c.Out)
	}
	if s := p.Stats(); s.Recycled != 1 || s.Started != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestLimits: an input over MaxInput is refused unsent; a result over
// MaxOutput kills the worker.
func TestLimits(t *testing.T) {
	p := newPool(t, Options{Size: 1, MaxInput: 1 << 20, MaxOutput: 1 << 20})
	_, err := do(t, p, "echo", strings.Repeat("x", 1<<20+1))
	wantKind(t, err, KindRefused)
	_, err = do(t, p, "big", strconv.Itoa(2<<20))
	if e := wantKind(t, err, KindCrash); !strings.Contains(e.Detail, "limit") {
		t.Errorf("big: %v", err)
	}
	mustDo(t, p, "big", strconv.Itoa(1<<19))
	if s := p.Stats(); s.Started != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestNotByHand: a worker command that does not serve is a start error,
// not a crash of the input.
func TestNotByHand(t *testing.T) {
	p := newPool(t, Options{Size: 1, Command: []string{"/bin/true"}})
	_, err := do(t, p, "pid", "")
	if e := wantKind(t, err, KindStart); OverBudget(err) {
		t.Errorf("%v: start failure counted as over budget", e)
	}
}

// TestIdleWorkerDied: a worker killed from outside while idle costs the
// next job nothing: the job never reached it and runs on a fresh worker.
func TestIdleWorkerDied(t *testing.T) {
	p := newPool(t, Options{Size: 1})
	before := pidOf(t, mustDo(t, p, "pid", ""))
	syscall.Kill(before, syscall.SIGKILL)
	waitFor(t, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", before))
		return err != nil || strings.Contains(string(b), ") Z ")
	})
	r, err := do(t, p, "pid", "")
	if err != nil {
		t.Fatalf("before %d: %v (%#v) stats %+v", before, err, err, p.Stats())
	}
	if after := pidOf(t, r); after == before {
		t.Errorf("ran on the dead worker")
	}
	if s := p.Stats(); s.OK != 2 || s.Crashed != 0 || s.Started != 2 {
		t.Errorf("stats %+v", s)
	}
}
