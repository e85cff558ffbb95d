package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
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

// samplesFileEnv names a file where the child writes the most goroutines
// it had at once and its largest live heap (as of a GC), sampled every
// millisecond while it runs (the sampler's own goroutine included). Nothing
// in linkarc itself is instrumented for this.
const samplesFileEnv = "LINKARC_TEST_SAMPLES_FILE"

// heapProfileEnv names a file where the child writes a heap profile
// (runtime/pprof, in-use and allocated space as of the last GC) taken
// when its heap in use was largest, sampled every 20 ms: where the memory
// of a benchmark's peak goes, with nothing in linkarc instrumented.
//
//	go tool pprof -sample_index=inuse_space -top FILE
const heapProfileEnv = "LINKARC_TEST_HEAP_PROFILE"

func TestMain(m *testing.M) {
	// The extraction workers of in-process runs are this test binary too.
	if isWorker(os.Args) {
		serveWorker()
	}
	if os.Getenv(asMainEnv) == "1" {
		var peaks func() samples
		if os.Getenv(samplesFileEnv) != "" {
			peaks = sample(time.Millisecond)
		}
		var heapAtPeak func() []byte
		if os.Getenv(heapProfileEnv) != "" {
			heapAtPeak = profileHeapAtPeak(20 * time.Millisecond)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv})
		stop()
		if path := os.Getenv(hwmFileEnv); path != "" {
			status, _ := os.ReadFile("/proc/self/status")
			os.WriteFile(path, status, 0o644)
		}
		if path := os.Getenv(heapProfileEnv); path != "" {
			os.WriteFile(path, heapAtPeak(), 0o644)
		}
		if path := os.Getenv(samplesFileEnv); path != "" {
			p := peaks()
			os.WriteFile(path, []byte(fmt.Sprintf("%d %d\n", p.goroutines, p.liveHeap)), 0o644)
		}
		os.Exit(code)
	}
	storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
}

// profileHeapAtPeak reads the heap in use every interval and takes a heap
// profile each time it is larger than ever by 2 MiB, until the returned
// function is called, which gives the last profile taken.
func profileHeapAtPeak(interval time.Duration) func() []byte {
	var profile bytes.Buffer
	done, stopped := make(chan struct{}), make(chan struct{})
	inuse := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		var top uint64
		for {
			metrics.Read(inuse)
			if v := inuse[0].Value.Uint64(); v > top+2<<20 {
				top = v
				profile.Reset()
				pprof.Lookup("heap").WriteTo(&profile, 0)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() []byte {
		close(done)
		<-stopped
		return profile.Bytes()
	}
}

// samples are the peaks the child's sampler saw.
type samples struct {
	goroutines int64 // runtime.NumGoroutine
	liveHeap   int64 // bytes of heap live after the last GC (/gc/heap/live:bytes)
}

// sample samples the goroutine count and the live heap every interval until
// the returned function is called, which gives the peaks.
func sample(interval time.Duration) (peaks func() samples) {
	var peak samples
	var mu sync.Mutex
	done, stopped := make(chan struct{}), make(chan struct{})
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			metrics.Read(live)
			mu.Lock()
			peak.goroutines = max(peak.goroutines, int64(runtime.NumGoroutine()))
			peak.liveHeap = max(peak.liveHeap, int64(live[0].Value.Uint64()))
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() samples {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// noRequisites is in the environment of every linkarc the tests run (a
// test's own env may set LINKARC_REQUISITES=1 after it): their worlds serve
// real article pages whose requisites live on the publishers' real CDNs,
// and no test reaches beyond loopback. The requisite tests are in package
// archive, on loopback sites of their own.
const noRequisites = "LINKARC_REQUISITES=0"

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
	code := run(ctx, args, stdio{in: strings.NewReader(stdin), out: &out, err: &errb, getenv: envLookup(append([]string{noRequisites}, env...))})
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
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1", noRequisites), env...)
	return cmd
}
