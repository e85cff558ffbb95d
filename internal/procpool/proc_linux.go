package procpool

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr puts a worker in its own process group, so a terminal's
// SIGINT reaches the parent alone (which then stops the workers), and has
// the kernel SIGKILL it when the parent dies. Pdeathsig fires when the
// thread that started the worker exits, not the process; the Go runtime
// does not end its threads unless a goroutine locked to one exits, and the
// worker also watches its parent (watchParent), so neither is relied on
// alone.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killProcess sends SIGKILL to the worker's process group: the worker and
// anything it started.
func killProcess(pid int) {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// processRSS is a process's resident set in bytes (/proc/<pid>/statm,
// field 2 in pages); 0 when it cannot be read.
func processRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return n * int64(os.Getpagesize())
}

// limitMemory sets the worker's RLIMIT_DATA (soft and hard) to n bytes.
// Since Linux 4.7 it counts private writable mappings, which is where the
// Go heap lives (the runtime reserves address space PROT_NONE and maps it
// writable as the heap grows), so a heap over n fails to map and the
// runtime dies with "fatal error: out of memory". The hard limit is
// lowered too, so no handler can raise it again.
func limitMemory(n int64) error {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_DATA, &cur); err != nil {
		return err
	}
	lim := syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}
	if cur.Max < lim.Max {
		lim = syscall.Rlimit{Cur: min(cur.Max, lim.Cur), Max: cur.Max}
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &lim); err != nil {
		return fmt.Errorf("setrlimit RLIMIT_DATA %d: %w", n, err)
	}
	return nil
}

// resetPeakRSS resets this process's VmHWM to its current RSS ("5" in
// /proc/self/clear_refs, Linux 4.0), so peakRSS measures one job.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is this process's VmHWM in bytes, 0 when unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
