package procpool

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// worker is the parent's handle on one worker process.
type worker struct {
	cmd      *exec.Cmd
	pid      int
	jobs     *os.File      // write end of the worker's fd 3
	results  *bufio.Reader // over the read end of its fd 4
	resultsF *os.File
	handlers map[string]bool
	log      *crashLog // its stdout and stderr
	jobCount int
	dead     bool        // reaped
	killed   atomic.Bool // by the pool
	pool     *Pool
}

// startWorker starts a worker and waits for it to say which handlers it
// serves.
func (p *Pool) startWorker() (*worker, error) {
	if err := p.ctx.Err(); err != nil {
		return nil, err
	}
	argv := p.opts.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this executable: %w", err)
		}
		argv = []string{exe}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), p.opts.Env...),
		fmt.Sprintf("%s=1 %d %d %d", workerEnv, max(p.opts.Memory, 0), max(p.opts.OSMemoryLimit, 0), p.opts.MaxInput))
	jobsR, jobsW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resultsR, resultsW, err := os.Pipe()
	if err != nil {
		jobsR.Close()
		jobsW.Close()
		return nil, err
	}
	cmd.ExtraFiles = []*os.File{jobsR, resultsW}
	log := &crashLog{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = time.Second // a grandchild holding the output pipe cannot stall a reap
	err = cmd.Start()
	// The worker has its own copies; the parent's would keep the pipes
	// open after the worker died, hiding its death.
	jobsR.Close()
	resultsW.Close()
	if err != nil {
		jobsW.Close()
		resultsR.Close()
		return nil, fmt.Errorf("start worker %s: %w", argv[0], err)
	}
	p.started.Add(1)
	p.running.Add(1)
	w := &worker{cmd: cmd, pid: cmd.Process.Pid, jobs: jobsW, resultsF: resultsR,
		results: bufio.NewReaderSize(resultsR, 64<<10), log: log, pool: p}

	ready := make(chan error, 1)
	go func() {
		frame, err := readFrame(w.results, 1<<20)
		if err == nil {
			var r response
			if r, err = parseResponse(frame); err == nil && r.status != statusReady {
				err = fmt.Errorf("status %d", r.status)
			}
			w.handlers = map[string]bool{}
			for _, name := range strings.Split(string(r.out), "\n") {
				w.handlers[name] = true
			}
		}
		ready <- err
	}()
	timer := time.NewTimer(p.opts.StartTimeout)
	defer timer.Stop()
	select {
	case err = <-ready:
	case <-timer.C:
		err = fmt.Errorf("no answer in %v", p.opts.StartTimeout)
		w.kill()
		<-ready
	case <-p.ctx.Done():
		err = p.ctx.Err()
		w.kill()
		<-ready
	}
	if err != nil {
		w.kill()
		w.reap()
		return nil, fmt.Errorf("worker %s (pid %d): %v; %s", argv[0], w.pid, err, w.log.summary(w.cmd.ProcessState, w.killed.Load()))
	}
	return w, nil
}

// run hands a job to w and waits for its result, killing w when the job
// goes over a budget or is canceled. When run returns, a killed or dead
// worker has been reaped (w.dead). delivered is false when the worker died
// before it accepted the job: the job did not run.
func (p *Pool) run(w *worker, j *job) (_ Result, _ error, delivered bool) {
	delivered = true
	fail := func(k Kind, elapsed time.Duration, detail string) (Result, error, bool) {
		return Result{}, &Error{Job: j.name, Kind: k, Detail: detail, Elapsed: elapsed, Worker: w.pid}, delivered
	}
	if !w.handlers[j.name] {
		return fail(KindUnknown, 0, "")
	}
	w.jobCount++
	w.log.reset()

	type reply struct {
		resp     response
		err      error
		accepted bool // the worker read the whole job
	}
	replies := make(chan reply, 1)
	start := time.Now()
	go func() {
		if err := writeRequest(w.jobs, j.name, j.in); err != nil {
			replies <- reply{err: err}
			return
		}
		accepted := false
		for {
			frame, err := readFrame(w.results, p.opts.MaxOutput+13+maxDetail*2)
			var resp response
			if err == nil {
				resp, err = parseResponse(frame)
				if err != nil {
					err = fmt.Errorf("%w: %v", errProtocol, err)
				}
			}
			if err == nil && resp.status == statusAccepted && !accepted {
				accepted = true
				continue
			}
			replies <- reply{resp, err, accepted}
			return
		}
	}()

	var overTime <-chan time.Time
	if p.opts.Timeout > 0 {
		t := time.NewTimer(p.opts.Timeout)
		defer t.Stop()
		overTime = t.C
	}
	var poll <-chan time.Time
	if p.opts.Memory > 0 {
		t := time.NewTicker(p.opts.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	jobDone, poolDone := j.ctx.Done(), p.ctx.Done()
	var killed Kind
	var killDetail string
	var lastRSS int64
	kill := func(k Kind, detail string) {
		killed, killDetail = k, detail
		w.kill()
		overTime, poll, jobDone, poolDone = nil, nil, nil, nil
	}
	for {
		select {
		case r := <-replies:
			elapsed := time.Since(start)
			if killed != 0 {
				w.reap()
				e := &Error{Job: j.name, Kind: killed, Detail: killDetail, Elapsed: elapsed, Worker: w.pid}
				if killed == KindMemory {
					e.PeakRSS = lastRSS
				}
				return Result{}, e, true
			}
			if errors.Is(r.err, errFrameTooLarge) {
				w.kill()
				w.reap()
				return fail(KindCrash, elapsed, "result "+r.err.Error())
			}
			if errors.Is(r.err, errProtocol) {
				w.kill()
				w.reap()
				return fail(KindCrash, elapsed, r.err.Error())
			}
			if r.err != nil {
				// The pipe broke or closed: the worker died on its own.
				w.reap()
				k, detail := w.death()
				delivered = r.accepted
				return fail(k, elapsed, detail)
			}
			resp := r.resp
			switch resp.status {
			case statusOK:
				return Result{Out: resp.out, Elapsed: elapsed, PeakRSS: resp.peakRSS, Worker: w.pid}, nil, true
			case statusError:
				return fail(KindHandler, elapsed, resp.detail)
			case statusPanic:
				w.reap() // it exits after a panic
				return fail(KindCrash, elapsed, resp.detail)
			case statusUnknown:
				return fail(KindUnknown, elapsed, "")
			}
			w.kill()
			w.reap()
			return fail(KindCrash, elapsed, fmt.Sprintf("protocol: status %d", resp.status))
		case <-overTime:
			kill(KindTime, fmt.Sprintf("budget %v", p.opts.Timeout))
		case <-poll:
			if lastRSS = processRSS(w.pid); lastRSS > p.opts.Memory {
				kill(KindMemory, fmt.Sprintf("RSS %d MiB over the budget of %d MiB", lastRSS>>20, p.opts.Memory>>20))
			}
		case <-jobDone:
			kill(KindCanceled, j.ctx.Err().Error())
		case <-poolDone:
			kill(KindCanceled, "pool closed")
		}
	}
}

func (w *worker) kill() {
	w.killed.Store(true)
	killProcess(w.pid)
}

// reap waits for the worker's exit and releases its pipes.
func (w *worker) reap() {
	if w.dead {
		return
	}
	w.jobs.Close()
	w.cmd.Wait()
	w.resultsF.Close()
	w.dead = true
	w.pool.running.Add(-1)
}

// stop ends an idle worker: closing its job pipe makes it exit; it is
// killed if it has not within a second.
func (w *worker) stop() {
	if w.dead {
		return
	}
	w.jobs.Close()
	t := time.AfterFunc(time.Second, w.kill)
	w.reap()
	t.Stop()
}

// death classifies a worker that died by itself: out of memory when the Go
// runtime says so (the OS limit refused its heap), a crash otherwise.
func (w *worker) death() (Kind, string) {
	line := w.log.summary(w.cmd.ProcessState, false)
	if strings.Contains(line, "out of memory") || strings.Contains(line, "cannot allocate memory") {
		return KindMemory, line + " (OS limit)"
	}
	return KindCrash, line
}

// crashLog is a worker's output as far as the pool cares: the first line
// since the current job started that says why a Go program died, and the
// last line. Lines are cut to maxDetail bytes.
type crashLog struct {
	mu      sync.Mutex
	partial []byte
	fatal   string // first "panic: ", "fatal error: " or "runtime: " line
	last    string
}

var fatalPrefixes = []string{"panic: ", "fatal error: ", "runtime: ", "SIGSEGV", "SIGBUS"}

func (l *crashLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := strings.IndexByte(string(b), '\n')
		if i < 0 {
			if len(l.partial) < maxDetail {
				l.partial = append(l.partial, b[:min(len(b), maxDetail-len(l.partial))]...)
			}
			break
		}
		if len(l.partial) < maxDetail {
			l.partial = append(l.partial, b[:min(i, maxDetail-len(l.partial))]...)
		}
		l.line(string(l.partial))
		l.partial = l.partial[:0]
		b = b[i+1:]
	}
	return n, nil
}

func (l *crashLog) line(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	l.last = s
	if l.fatal == "" {
		for _, p := range fatalPrefixes {
			if strings.HasPrefix(s, p) {
				l.fatal = s
			}
		}
	}
}

func (l *crashLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fatal, l.last = "", ""
}

// summary says why the worker ended: its fatal line and exit status.
func (l *crashLog) summary(ps *os.ProcessState, killedByPool bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = l.partial[:0]
	}
	status := "still running"
	if ps != nil {
		status = ps.String() // "exit status 3", "signal: killed"
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && !killedByPool && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			status += " (SIGKILL from outside the pool: the kernel's OOM killer, or an operator)"
		}
	}
	if l.fatal != "" {
		return short(l.fatal + "; " + status)
	}
	return short(status)
}
