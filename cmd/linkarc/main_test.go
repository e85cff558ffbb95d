package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage/storagetest"
)

// minioServer is one real MinIO for every test of this binary.
var minioServer *storagetest.MinIO

// asMainEnv makes the test binary behave as the linkarc binary, so tests can
// run it as a separate process (and kill it) without building it first.
const asMainEnv = "LINKARC_TEST_AS_MAIN"

// hwmFileEnv names a file where the child writes its peak RSS (VmHWM) at
// exit. The kernel's own counters cannot be used from the parent: rusage
// maxrss of an exec'd child starts at the parent's RSS.
const hwmFileEnv = "LINKARC_TEST_HWM_FILE"

// goroutinesFileEnv names a file where the child writes the largest number
// of goroutines it had at once, sampled every millisecond while it runs
// (the sampler's own goroutine included). Nothing in linkarc itself is
// instrumented for this.
const goroutinesFileEnv = "LINKARC_TEST_GOROUTINES_FILE"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		var peakGoroutines func() int
		if os.Getenv(goroutinesFileEnv) != "" {
			peakGoroutines = sampleGoroutines(time.Millisecond)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv})
		stop()
		if path := os.Getenv(hwmFileEnv); path != "" {
			status, _ := os.ReadFile("/proc/self/status")
			os.WriteFile(path, status, 0o644)
		}
		if path := os.Getenv(goroutinesFileEnv); path != "" {
			os.WriteFile(path, []byte(strconv.Itoa(peakGoroutines())), 0o644)
		}
		os.Exit(code)
	}
	storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
}

// sampleGoroutines samples runtime.NumGoroutine every interval until the
// returned function is called, which gives the largest number seen.
func sampleGoroutines(interval time.Duration) (peak func() int) {
	var most atomic.Int64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if n := int64(runtime.NumGoroutine()); n > most.Load() {
				most.Store(n)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int {
		close(done)
		return int(most.Load())
	}
}

// result is what one in-process run of linkarc produced.
type result struct {
	code           int
	stdout, stderr string
}

// runLinkarc runs linkarc in-process with exactly the environment given
// (nothing leaks in from the test's own environment).
func runLinkarc(t testing.TB, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb, getenv: envLookup(env)})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// envLookup turns KEY=VALUE pairs into a getenv function.
func envLookup(env []string) func(string) string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

// linkarcProcess prepares linkarc as a child process (the test binary
// re-executed as main) with the given extra environment.
func linkarcProcess(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), env...)
	return cmd
}
