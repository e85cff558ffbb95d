package procpool

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// workerEnv marks a worker process; its value is the pool's settings for
// it: "1 <memory budget> <RLIMIT_DATA> <max input>", in bytes, 0 for none.
const workerEnv = "LINKARC_PROCPOOL_WORKER"

// IsWorker reports whether a Pool started this process as a worker. A
// program whose pool uses the default Options.Command calls ServeWorker
// when it is, before anything else.
func IsWorker() bool { return os.Getenv(workerEnv) != "" }

// ServeWorker makes this process a worker: it applies the memory limits
// the pool asked for, then runs the jobs it is sent with handlers until the
// pool closes its pipe, and exits. It never returns. Run by hand (not by a
// Pool) it prints why it cannot serve and exits with status 2.
//
// It must run before the program starts goroutines or allocates much:
// the memory limit is set at its start and covers the whole process.
func ServeWorker(handlers Handlers) {
	memory, osLimit, maxInput, err := parseWorkerEnv(os.Getenv(workerEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "procpool: this process is started by its parent as a worker, not by hand:", err)
		os.Exit(2)
	}
	os.Unsetenv(workerEnv) // a handler starting programs does not start workers
	if memory > 0 {
		debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), memory/4*3))
	}
	if osLimit > 0 {
		if err := limitMemory(osLimit); err != nil {
			fmt.Fprintln(os.Stderr, "procpool:", err)
			os.Exit(2)
		}
	}
	go watchParent(os.Getppid())
	jobs, results := os.NewFile(3, "procpool-jobs"), os.NewFile(4, "procpool-results")
	if jobs == nil || results == nil {
		fmt.Fprintln(os.Stderr, "procpool: no job pipes (fd 3 and 4)")
		os.Exit(2)
	}
	names := make([]string, 0, len(handlers))
	for name := range handlers {
		names = append(names, name)
	}
	slices.Sort(names)
	if err := writeResponse(results, response{status: statusReady, out: []byte(strings.Join(names, "\n"))}); err != nil {
		os.Exit(2)
	}
	r := bufio.NewReaderSize(jobs, 64<<10)
	for {
		frame, err := readFrame(r, maxInput+2+1<<16)
		if err != nil {
			os.Exit(0) // the pool closed the pipe, or died
		}
		name, in, err := parseRequest(frame)
		if err != nil {
			os.Exit(2)
		}
		frame = nil
		h, ok := handlers[name]
		if !ok {
			writeResponse(results, response{status: statusUnknown, detail: name})
			continue
		}
		if err := writeResponse(results, response{status: statusAccepted}); err != nil {
			os.Exit(0)
		}
		measured := resetPeakRSS()
		resp := call(h, in)
		in = nil
		if measured {
			resp.peakRSS = peakRSS()
		}
		if err := writeResponse(results, resp); err != nil || resp.status == statusPanic {
			// After a panic the handler's libraries may hold broken state:
			// the pool starts a fresh worker.
			os.Exit(2)
		}
		resp = response{}
		// A large job leaves its heap mapped and resident until the
		// scavenger returns it; give it back now, so the worker's RSS is
		// its baseline when the next job starts.
		if memory > 0 && processRSS(os.Getpid()) > memory/4 {
			debug.FreeOSMemory()
		}
	}
}

// call runs a handler, turning its panic into a response.
func call(h Handler, in []byte) (resp response) {
	defer func() {
		if r := recover(); r != nil {
			resp = response{status: statusPanic, detail: short("panic: " + fmt.Sprint(r))}
		}
	}()
	out, err := h(in)
	if err != nil {
		return response{status: statusError, detail: short(err.Error())}
	}
	return response{status: statusOK, out: out}
}

// watchParent ends the worker when its parent is gone (it is re-parented),
// in case Pdeathsig did not fire. It runs beside a job that never yields:
// goroutines are preempted.
func watchParent(ppid int) {
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != ppid {
			os.Exit(2)
		}
	}
}

func parseWorkerEnv(v string) (memory, osLimit int64, maxInput int, err error) {
	f := strings.Fields(v)
	if len(f) != 4 || f[0] != "1" {
		return 0, 0, 0, fmt.Errorf("%s=%q", workerEnv, v)
	}
	memory, err1 := strconv.ParseInt(f[1], 10, 64)
	osLimit, err2 := strconv.ParseInt(f[2], 10, 64)
	maxInput, err3 := strconv.Atoi(f[3])
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, 0, 0, fmt.Errorf("%s=%q: %w", workerEnv, v, err)
	}
	return memory, osLimit, maxInput, nil
}

// maxDetail bounds the text of an error, panic or crash line.
const maxDetail = 300

func short(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxDetail {
		s = s[:maxDetail] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
