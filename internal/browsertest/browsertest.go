// Package browsertest finds a headless Chromium for browser tests. When
// none is installed and the tests run as root on a Debian-like system, it
// installs Debian's chromium package first, so that `go test ./...` works on
// a fresh machine that has only Go (as the README promises). It never skips:
// without a browser the tests that need one fail with instructions.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Env overrides the browser binary.
const Env = "LINKARC_CHROMIUM"

// Flags returns the flags every test browser runs with: headless, no
// sandbox (tests run as root), and no background traffic to Google's
// services (this machine's network is closed, and tests stay on loopback).
func Flags() []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"}
}

// The search runs once per test binary; installing is slow.
var (
	once     sync.Once
	found    string
	foundErr error
)

// Path returns the Chromium binary, installing it if needed (see the
// package comment). It fails the test when there is none.
func Path(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { found, foundErr = locate(tb.Logf) })
	if foundErr != nil {
		tb.Fatal(foundErr)
	}
	return found
}

func locate(logf func(string, ...any)) (string, error) {
	if p := os.Getenv(Env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", Env, p, err)
		}
		return p, nil
	}
	if p, ok := lookup(); ok {
		return p, nil
	}
	if err := install(logf); err != nil {
		return "", fmt.Errorf("no Chromium found and it could not be installed (%v); install it with `apt-get install -y chromium` or set %s to the browser binary", err, Env)
	}
	if p, ok := lookup(); ok {
		return p, nil
	}
	return "", fmt.Errorf("chromium was installed but not found on PATH; set %s", Env)
}

func lookup() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// install runs apt-get, once per machine at a time: test binaries of
// several packages may get here together, so they take a file lock.
func install(logf func(string, ...any)) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root, so not installing Debian's chromium package")
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("no apt-get on this machine")
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "linkarc-chromium-install.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, ok := lookup(); ok {
		return nil // another test binary installed it while we waited
	}
	logf("browsertest: installing Debian's chromium package (once; about a minute)")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "chromium"}} {
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %v: %v: %s", args, err, tail(out))
		}
	}
	return nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
