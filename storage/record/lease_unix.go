//go:build unix

package record

import "syscall"

func processSignal0(pid int) error { return syscall.Kill(pid, 0) }
