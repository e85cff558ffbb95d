package usage

import (
	"testing"
	"time"
)

var sink []byte

// TestMeasure: holding 64 MiB shows as most of it and sleeping costs
// next to no CPU; spinning costs about as much CPU as it spun, whatever
// else the machine runs (the bound allows a slow, shared core).
func TestMeasure(t *testing.T) {
	const size = 64 << 20
	held := Measure(func() {
		sink = make([]byte, size)
		for i := range sink {
			sink[i] = 1
		}
		time.Sleep(20 * Interval)
		sink = nil
	})
	if held.Heap < size*3/4 {
		t.Errorf("holding %d MiB measured as %d MiB", size>>20, held.Heap>>20)
	}
	if held.Allocated < size {
		t.Errorf("allocating %d MiB measured as %d MiB", size>>20, held.Allocated>>20)
	}
	if held.Wall < 20*Interval {
		t.Errorf("wall %v, slept %v", held.Wall, 20*Interval)
	}
	idle := Measure(func() { time.Sleep(200 * time.Millisecond) })
	if idle.Heap > size/4 {
		t.Errorf("holding nothing measured as %d MiB", idle.Heap>>20)
	}
	if idle.CPU > 100*time.Millisecond {
		t.Errorf("sleeping 200ms cost %v of CPU", idle.CPU)
	}
	var n uint64
	busy := Measure(func() {
		// Spin until this process has spent 300 ms of CPU, however long
		// a loaded machine makes that take.
		start := processCPU()
		for processCPU()-start < 300*time.Millisecond {
			for i := 0; i < 1_000_000; i++ {
				n += uint64(i)
			}
		}
	})
	if busy.CPU < 300*time.Millisecond {
		t.Errorf("spinning for 300ms of CPU measured as %v", busy.CPU)
	}
	_ = n
}
