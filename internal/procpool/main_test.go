package procpool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests run real workers: this test binary started again, which
// TestMain turns into a worker serving testHandlers.
var testHandlers = Handlers{
	"echo": func(in []byte) ([]byte, error) { return in, nil },
	"pid":  func([]byte) ([]byte, error) { return []byte(strconv.Itoa(os.Getpid())), nil },
	"spin": func([]byte) ([]byte, error) {
		for {
		}
	},
	// spin-pid writes its pid to the file named by its input, then spins.
	"spin-pid": func(in []byte) ([]byte, error) {
		os.WriteFile(string(in), []byte(strconv.Itoa(os.Getpid())), 0o600)
		for {
		}
	},
	"sleep": func(in []byte) ([]byte, error) {
		d, err := time.ParseDuration(string(in))
		time.Sleep(d)
		return []byte(strconv.Itoa(os.Getpid())), err
	},
	// alloc allocates its input's number of bytes at once and touches
	// every page.
	"alloc": func(in []byte) ([]byte, error) {
		n, _ := strconv.ParseInt(string(in), 10, 64)
		b := make([]byte, n)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		return []byte(strconv.Itoa(len(b))), nil
	},
	// grow allocates 8 MiB blocks, touched and kept, up to its input's
	// number of bytes: memory that arrives gradually.
	"grow": func(in []byte) ([]byte, error) {
		n, _ := strconv.ParseInt(string(in), 10, 64)
		var keep [][]byte
		for total := int64(0); total < n; total += 8 << 20 {
			b := make([]byte, 8<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		return []byte(strconv.Itoa(len(keep))), nil
	},
	"panic": func([]byte) ([]byte, error) { panic("boom") },
	"go-panic": func([]byte) ([]byte, error) {
		go func() { panic("boom in a goroutine") }()
		select {}
	},
	"exit3": func([]byte) ([]byte, error) { os.Exit(3); return nil, nil },
	"fail":  func([]byte) ([]byte, error) { return nil, errors.New("no good") },
	// big answers with its input's number of bytes.
	"big": func(in []byte) ([]byte, error) {
		n, _ := strconv.Atoi(string(in))
		return make([]byte, n), nil
	},
	// barrier, given "dir n", marks its arrival in dir and waits until n
	// jobs have arrived: it returns only if n jobs run at once.
	"barrier": func(in []byte) ([]byte, error) {
		dir, ns, _ := strings.Cut(string(in), " ")
		n, _ := strconv.Atoi(ns)
		pid := strconv.Itoa(os.Getpid())
		os.WriteFile(filepath.Join(dir, pid), nil, 0o600)
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if ents, _ := os.ReadDir(dir); len(ents) >= n {
				return []byte(pid), nil
			}
		}
		return nil, errors.New("barrier: not enough jobs at once")
	},
}

// parentEnv makes the test binary a parent process for TestParentDeath:
// it starts a pool, runs spin-pid on the file named by the variable, and
// waits to be killed.
const parentEnv = "PROCPOOL_TEST_PARENT"

func TestMain(m *testing.M) {
	if IsWorker() {
		ServeWorker(testHandlers)
	}
	if f := os.Getenv(parentEnv); f != "" {
		p := New(context.Background(), Options{Size: 1})
		_, err := p.Do(context.Background(), "spin-pid", []byte(f))
		fmt.Fprintln(os.Stderr, "parent: spin-pid returned:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// child is a process whose parent is this test process.
type child struct {
	pid   int
	state string // R, S, Z...
}

// children lists this process's children from /proc/*/stat.
func children(t *testing.T) []child {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var out []child
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == os.Getpid() {
			out = append(out, child{pid, f[0]})
		}
	}
	return out
}

// noChildren fails when this process has any child, zombie or not.
func noChildren(t *testing.T) {
	t.Helper()
	if c := children(t); len(c) > 0 {
		t.Errorf("children left: %+v", c)
	}
}

// noZombies fails when a child of this process is a zombie: every worker
// the pool ended must have been reaped.
func noZombies(t *testing.T) {
	t.Helper()
	for _, c := range children(t) {
		if c.state == "Z" {
			t.Errorf("zombie child %d", c.pid)
		}
	}
}

func newPool(t *testing.T, opts Options) *Pool {
	t.Helper()
	p := New(context.Background(), opts)
	t.Cleanup(func() {
		p.Close()
		noChildren(t)
	})
	return p
}

func do(t *testing.T, p *Pool, name, in string) (Result, error) {
	t.Helper()
	return p.Do(context.Background(), name, []byte(in))
}

func mustDo(t *testing.T, p *Pool, name, in string) Result {
	t.Helper()
	r, err := do(t, p, name, in)
	if err != nil {
		t.Fatalf("%s(%q): %v", name, in, err)
	}
	return r
}

func wantKind(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *Error of kind %v", err, err, k)
	}
	if e.Kind != k {
		t.Fatalf("error %v, want kind %v", err, k)
	}
	return e
}
