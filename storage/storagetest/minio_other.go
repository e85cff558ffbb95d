//go:build !linux

package storagetest

import "syscall"

// sysProcAttr: without Pdeathsig, Main's deferred Close and signal handler
// are what stop MinIO.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// lockFile does nothing here: concurrent builds of MinIO are merely wasteful.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }

// processAlive cannot tell here, so nothing is taken for dead.
func processAlive(int) bool { return true }
