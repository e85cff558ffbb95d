// Package procpool runs jobs in a small pool of long-lived worker
// processes, each job under a wall-clock and a memory budget that are
// enforced from outside the job: a job that overruns is killed with its
// process, never trusted to stop. It exists so that one hostile input (a
// page that makes an extractor quadratic, or hungry for gigabytes) costs
// that input, not the run (issue 10).
//
// A worker is the caller's own binary started again in worker mode (see
// ServeWorker): the parent's handlers are code, not data, so both sides
// register the same Handlers by name. Jobs are bytes in and bytes out,
// sent over two pipes with length-prefixed frames, one job at a time per
// worker.
//
// Enforcement, on Linux:
//   - time: the parent kills the worker (SIGKILL) when a job runs past
//     Options.Timeout, and starts a replacement;
//   - memory, three layers: the worker sets debug.SetMemoryLimit to 3/4 of
//     Options.Memory (the GC works harder before anything is killed);
//     the worker limits its own RLIMIT_DATA to Options.Memory, so the
//     kernel refuses heap mappings past it and the Go runtime dies with
//     "fatal error: out of memory" (measured: a 4 GiB make under a 512 MiB
//     budget fails at once, the worker's RSS never grows); and the parent
//     reads the worker's RSS from /proc/<pid>/statm every PollInterval
//     while a job runs and kills it above Options.Memory. RLIMIT_AS is not
//     used: the Go runtime reserves address space far beyond what it
//     touches (measured with Go 1.26: VmSize 1.2 GB for a program with a
//     2 MB RSS), so an address-space limit refuses ordinary programs.
//     Under the race detector (its shadow memory) no budget fits;
//   - lifetime: workers get SIGKILL when the parent dies (Pdeathsig),
//     also exit when their job pipe closes or their parent changes, and
//     run in their own process group so a terminal's Ctrl-C reaches only
//     the parent, which then stops them. Every worker is reaped before
//     the job it ran returns.
//
// Elsewhere only the time budget and the soft memory limit apply.
package procpool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMemory       = 1 << 30 // bytes
	DefaultMaxFrame     = 64 << 20
	DefaultStartTimeout = 30 * time.Second
	DefaultPollInterval = 25 * time.Millisecond
)

// Handler does one job in a worker process. It runs alone in its worker;
// if it panics, the job is reported as crashed and the worker replaced.
// The error's text is all that reaches the caller.
type Handler func(in []byte) ([]byte, error)

// Handlers are the jobs a worker can run, by name. The parent's and the
// worker's must be the same (both are the same binary).
type Handlers map[string]Handler

// Options configure a Pool. The zero value of a field means its Default.
type Options struct {
	// Size is the number of worker processes, hence of jobs running at
	// once; more jobs wait in line. Default runtime.GOMAXPROCS(0).
	Size int
	// Timeout is each job's wall-clock budget, from when the job is handed
	// to a started worker until its result is read; a job still running
	// then is killed with its worker (ErrOverTime). Negative means none.
	Timeout time.Duration
	// Memory is each worker's memory budget in bytes: the limit of its
	// RSS, checked by the parent, and of its heap mappings (RLIMIT_DATA),
	// enforced by the kernel (ErrOverMemory). It covers the worker's own
	// baseline (~10-30 MB for a Go binary) as well as the job. Negative
	// means none.
	Memory int64
	// OSMemoryLimit is the worker's RLIMIT_DATA in bytes, the kernel's
	// refusal of heap beyond it. Default Memory; negative means none, for
	// systems where the limit misbehaves (the RSS readings still apply).
	OSMemoryLimit int64
	// Command is the worker's command line: the program and arguments
	// that make it call ServeWorker. Default: this executable
	// (os.Executable) with no arguments, for programs that call
	// ServeWorker when IsWorker is true before anything else (TestMain).
	Command []string
	// Env is added to the workers' environment, which is otherwise the
	// parent's (GOGC=50, GOMAXPROCS=1...).
	Env []string
	// MaxInput and MaxOutput bound the bytes of a job's input and result
	// (DefaultMaxFrame each). A larger input is refused before it is sent;
	// a worker sending a larger result is killed (ErrCrashed).
	MaxInput, MaxOutput int
	// RecycleAfter replaces a worker after that many jobs; 0 or less
	// means never (workers are replaced only when they die or are killed).
	RecycleAfter int
	// StartTimeout bounds a worker's start, until it has said which
	// handlers it serves. Default DefaultStartTimeout.
	StartTimeout time.Duration
	// PollInterval is how often the parent reads a busy worker's RSS.
	// Default DefaultPollInterval.
	PollInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.Size <= 0 {
		o.Size = runtime.GOMAXPROCS(0)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Memory == 0 {
		o.Memory = DefaultMemory
	}
	if o.OSMemoryLimit == 0 {
		o.OSMemoryLimit = o.Memory
	}
	if o.MaxInput <= 0 {
		o.MaxInput = DefaultMaxFrame
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = DefaultMaxFrame
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	return o
}

// Pool runs jobs in worker processes. Its methods may be called from any
// number of goroutines.
type Pool struct {
	opts   Options
	ctx    context.Context // done when the pool closes
	cancel context.CancelFunc
	queue  chan *job
	wg     sync.WaitGroup
	closed sync.Once

	started, running                      atomic.Int64
	ok, overTime, overMemory, crashed     atomic.Int64
	failed, canceled, recycled, startFail atomic.Int64
	refused                               atomic.Int64
}

// Result is a finished job.
type Result struct {
	Out     []byte        // the handler's output
	Elapsed time.Duration // from hand-over to the worker until the result was read
	PeakRSS int64         // bytes: the worker's peak RSS during the job (VmHWM), 0 when unknown
	Worker  int           // the worker's process id
}

// job is one Do call waiting for, or held by, a slot.
type job struct {
	ctx  context.Context
	name string
	in   [][]byte     // the input in parts, written to the worker one after another
	done chan outcome // buffered; the slot sends exactly once
}

type outcome struct {
	res Result
	err error
}

// New starts a pool. A worker is started when a job finds its slot
// without one: at the first jobs, and after a worker was killed, died or
// was recycled (so no idle process is kept for a pool that is not used).
// All of them are stopped when ctx is done or Close is called.
func New(ctx context.Context, opts Options) *Pool {
	opts = opts.withDefaults()
	p := &Pool{opts: opts, queue: make(chan *job)}
	p.ctx, p.cancel = context.WithCancel(ctx)
	for range opts.Size {
		p.wg.Add(1)
		go p.slot()
	}
	return p
}

// Size is the number of workers the pool runs at most.
func (p *Pool) Size() int { return p.opts.Size }

// Do runs the job name on in, in a worker, waiting for a free worker
// first. The handler gets the parts of in joined; they are written to the
// worker one after another, so a caller can send a header and a large
// body without first copying them into one slice. The error is nil or an *Error: the job was over its time or
// memory budget, crashed its worker, failed in its handler, or was
// canceled by ctx or by the pool's end. See OverBudget for when a caller
// should fall back to a cheaper path.
func (p *Pool) Do(ctx context.Context, name string, in ...[]byte) (res Result, err error) {
	defer func() { p.count(err) }()
	size := 0
	for _, part := range in {
		size += len(part)
	}
	if size > p.opts.MaxInput {
		return Result{}, &Error{Job: name, Kind: KindRefused,
			Detail: fmt.Sprintf("input of %d bytes is over the limit of %d", size, p.opts.MaxInput)}
	}
	j := &job{ctx: ctx, name: name, in: in, done: make(chan outcome, 1)}
	select {
	case p.queue <- j:
	case <-ctx.Done():
		return Result{}, &Error{Job: name, Kind: KindCanceled, Detail: "while waiting for a worker: " + ctx.Err().Error()}
	case <-p.ctx.Done():
		return Result{}, &Error{Job: name, Kind: KindCanceled, Detail: "pool closed"}
	}
	o := <-j.done
	return o.res, o.err
}

// Close stops every worker (a busy one is killed, its job canceled) and
// waits until all are reaped. Jobs still waiting are canceled.
func (p *Pool) Close() error {
	p.closed.Do(p.cancel)
	p.wg.Wait()
	return nil
}

// Stats counts what the pool did.
type Stats struct {
	Started    int64 // worker processes started
	Running    int64 // worker processes alive now
	OK         int64 // jobs that returned a result
	Failed     int64 // jobs whose handler returned an error
	OverTime   int64 // jobs killed at their time budget
	OverMemory int64 // jobs killed or refused at their memory budget
	Crashed    int64 // jobs whose worker died (panic, exit, fatal error)
	Canceled   int64 // jobs canceled by their context or the pool's end
	Refused    int64 // jobs whose input was over Options.MaxInput
	Recycled   int64 // workers retired after Options.RecycleAfter jobs
	StartFails int64 // workers that did not start
}

// Stats returns the pool's counters so far.
func (p *Pool) Stats() Stats {
	return Stats{
		Started: p.started.Load(), Running: p.running.Load(),
		OK: p.ok.Load(), Failed: p.failed.Load(), OverTime: p.overTime.Load(),
		OverMemory: p.overMemory.Load(), Crashed: p.crashed.Load(), Canceled: p.canceled.Load(),
		Recycled: p.recycled.Load(), StartFails: p.startFail.Load(), Refused: p.refused.Load(),
	}
}

// slot owns at most one worker at a time and runs the jobs it takes from
// the queue on it, starting a worker when it has none.
func (p *Pool) slot() {
	defer p.wg.Done()
	var w *worker
	defer func() {
		if w != nil {
			w.stop()
		}
	}()
	for {
		var j *job
		select {
		case j = <-p.queue:
		case <-p.ctx.Done():
			return
		}
		var res Result
		var err error
		// A worker that died while idle (killed from outside, its parent
		// watch) fails the write of the next job, which then never ran:
		// that job is given to a fresh worker, once.
		for attempt := 0; ; attempt++ {
			if ctxErr := j.ctx.Err(); ctxErr != nil {
				// Given up while it waited: no worker is started or killed for it.
				err = &Error{Job: j.name, Kind: KindCanceled, Detail: "while waiting for a worker: " + ctxErr.Error()}
				break
			}
			if w == nil {
				if w, err = p.startWorker(); err != nil {
					e := &Error{Job: j.name, Kind: KindStart, Detail: err.Error()}
					if p.ctx.Err() != nil {
						e.Kind, e.Detail = KindCanceled, "pool closed"
					} else {
						p.startFail.Add(1)
					}
					err = e
					break
				}
			}
			var delivered bool
			res, err, delivered = p.run(w, j)
			if w.dead {
				w = nil // reaped by run; the next job starts a fresh worker
			} else if p.opts.RecycleAfter > 0 && w.jobCount >= p.opts.RecycleAfter {
				w.stop()
				w = nil
				p.recycled.Add(1)
			}
			if delivered || attempt > 0 {
				break
			}
		}
		j.done <- outcome{res, err}
	}
}

func (p *Pool) count(err error) {
	var e *Error
	switch {
	case err == nil:
		p.ok.Add(1)
	case !errors.As(err, &e):
	case e.Kind == KindTime:
		p.overTime.Add(1)
	case e.Kind == KindMemory:
		p.overMemory.Add(1)
	case e.Kind == KindCrash:
		p.crashed.Add(1)
	case e.Kind == KindHandler, e.Kind == KindUnknown:
		p.failed.Add(1)
	case e.Kind == KindCanceled:
		p.canceled.Add(1)
	case e.Kind == KindRefused:
		p.refused.Add(1)
	}
}
