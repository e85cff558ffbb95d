//go:build !linux

package procpool

import (
	"os"
	"syscall"
)

// Outside Linux only the time budget and the soft memory limit
// (debug.SetMemoryLimit) are enforced: no RSS readings, no OS limit.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killProcess(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

func processRSS(pid int) int64  { return 0 }
func limitMemory(n int64) error { return nil }
func resetPeakRSS() bool        { return false }
func peakRSS() int64            { return 0 }
