// Package usage measures, for tests, what a piece of code costs while it
// runs: the most heap it holds and the CPU time the process spends. A
// hostile-input test asserts its bounds with them ("a million url()s never
// hold more than N MiB or take more than S seconds of CPU"), so that a busy
// machine, which stretches wall-clock time but not CPU time, cannot turn
// the test red.
package usage

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Interval is how often Measure samples the heap.
const Interval = 2 * time.Millisecond

// Usage is what f cost.
type Usage struct {
	// Heap is how far the heap in use (runtime.MemStats HeapInuse, in
	// bytes) grew above where it was before f, at its highest sample. A
	// spike shorter than Interval can be missed, so it is a lower bound
	// of the true peak: assert ceilings with it, never floors.
	Heap uint64
	// Allocated is the bytes f allocated in all (MemStats TotalAlloc),
	// garbage included: what a parser's work costs, not what it holds.
	Allocated uint64
	// CPU is the user and system time the whole process spent while f
	// ran (getrusage(2) RUSAGE_SELF, so the sampler and the collector are
	// included; 0 where the platform has no getrusage). Other processes'
	// load does not add to it.
	CPU time.Duration
	// Wall is the elapsed time, for logs: on a loaded machine it says as
	// much about the machine as about f.
	Wall time.Duration
}

// Measure runs f and returns what it cost. The collector is made eager
// (GOGC=10) while f runs, so that the heap peak is what f holds rather
// than garbage awaiting collection; the previous setting is restored
// after. Tests that call Measure must not run in parallel with others.
func Measure(f func()) Usage {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak.Store(max(peak.Load(), m.HeapInuse))
			select {
			case <-stop:
				return
			case <-time.After(Interval):
			}
		}
	}()
	cpu0, start := processCPU(), time.Now()
	f()
	u := Usage{Wall: time.Since(start), CPU: processCPU() - cpu0}
	close(stop)
	<-sampled
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	u.Allocated = after.TotalAlloc - before.TotalAlloc
	if p := peak.Load(); p > before.HeapInuse {
		u.Heap = p - before.HeapInuse
	}
	return u
}
