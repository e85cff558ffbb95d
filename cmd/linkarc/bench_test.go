package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
)

// BenchmarkArchiveThroughput measures how close `linkarc archive` comes to
// the politeness floor: the time the per-host interval alone forces on the
// busiest host. The figure that matters is x-floor (elapsed / floor); 1.0 is
// perfect, the target is <= 1.2.
func BenchmarkArchiveThroughput(b *testing.B) {
	const interval = 200 * time.Millisecond
	w := archivetest.NewWorld(b, archivetest.WorldOptions{Hosts: 20, Articles: 200, Digests: 10, Pages: loadPages(b, 0)})
	floor := w.PolitenessFloor(interval)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		store := filepath.Join(b.TempDir(), fmt.Sprint("store", i))
		start := time.Now()
		res := runLinkarc(b, nil, "", archiveArgs(w, store, interval, "--progress", "none")...)
		total += time.Since(start)
		if res.code != exitOK {
			b.Fatalf("archive exit %d\n%s", res.code, res.stderr)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N)/float64(floor), "x-floor")
	b.ReportMetric(float64(floor)/float64(time.Millisecond), "floor-ms")
	b.ReportMetric(float64(len(w.Articles)*b.N)/total.Seconds(), "articles/s")
}

// BenchmarkArchivePeakRSS archives 2,000 articles from 20 hosts in a child
// process and reports its peak resident memory (target < 150 MiB), beside
// the same binary's footprint doing nothing (`linkarc version`) as the
// baseline measured in the same run.
func BenchmarkArchivePeakRSS(b *testing.B) {
	w := archivetest.NewWorld(b, archivetest.WorldOptions{Hosts: 20, Articles: 2000, Digests: 40, Pages: loadPages(b, 0)})
	baseline := childPeakRSS(b, "version")
	var peak int64
	for i := 0; i < b.N; i++ {
		store := filepath.Join(b.TempDir(), fmt.Sprint("store", i))
		peak = max(peak, childPeakRSS(b, archiveArgs(w, store, 5*time.Millisecond, "--progress", "none")...))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(baseline)/(1<<20), "baseline-RSS-MiB")
	b.ReportMetric(float64(peak)/float64(baseline), "x-baseline")
}

// childPeakRSS runs linkarc as a child process and returns its peak RSS
// (VmHWM, which the child reports as it exits) in bytes.
func childPeakRSS(b *testing.B, args ...string) int64 {
	b.Helper()
	hwm := filepath.Join(b.TempDir(), "status")
	cmd := linkarcProcess([]string{hwmFileEnv + "=" + hwm}, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Run(); err != nil {
		b.Fatalf("linkarc %v: %v", args, err)
	}
	status, err := os.ReadFile(hwm)
	if err != nil {
		b.Fatalf("child wrote no status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				b.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kib << 10
		}
	}
	b.Fatal("no VmHWM in the child's /proc status")
	return 0
}
