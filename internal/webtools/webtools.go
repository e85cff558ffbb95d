// Package webtools installs, for tests, the web-archiving tools linkarc's
// WARC and WACZ files are checked against, tools nobody at linkarc wrote:
// the npm packages warcio (Webrecorder's WARC library, which ReplayWeb.page
// reads WARCs with) and replaywebpage (ReplayWeb.page's ui.js and sw.js).
//
// The versions are pinned by package.json and package-lock.json beside this
// file and installed with `npm ci --ignore-scripts` into a cache directory,
// once per lockfile: $LINKARC_WEBTOOLS_DIR if set, else
// $HOME/.cache/linkarc/webtools/<lockfile hash>. The first install takes
// about half a minute and 100 MB; later runs reuse it. Like
// internal/browsertest, it never skips: without node and npm, or without
// the npm registry, the tests that need it fail and say how to fix it.
package webtools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Env overrides the install directory.
const Env = "LINKARC_WEBTOOLS_DIR"

//go:embed package.json package-lock.json scripts
var files embed.FS

var (
	once     sync.Once
	dir      string
	node     string
	setupErr error
)

// Dir returns the directory holding node_modules (with warcio and
// replaywebpage) and the scripts of scripts/, installing them first if
// needed. It fails the test when it cannot.
func Dir(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { dir, node, setupErr = setup(tb.Logf) })
	if setupErr != nil {
		tb.Fatal(setupErr)
	}
	return dir
}

// Node returns the node binary the tools run with.
func Node(tb testing.TB) string {
	tb.Helper()
	Dir(tb)
	return node
}

// RunScript runs one of the scripts of scripts/ with node in Dir and
// returns what it printed on standard output. A non-zero exit fails the
// test with its standard error.
func RunScript(tb testing.TB, ctx context.Context, script string, args ...string) []byte {
	tb.Helper()
	return RunScriptInput(tb, ctx, nil, script, args...)
}

// RunScriptInput is RunScript with stdin as the script's standard input.
func RunScriptInput(tb testing.TB, ctx context.Context, stdin []byte, script string, args ...string) []byte {
	tb.Helper()
	d := Dir(tb)
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(d, script)}, args...)...)
	cmd.Dir = d
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("node %s: %v\n%s", script, err, tail(stderr.Bytes()))
	}
	return stdout.Bytes()
}

// ModulePath returns the path of a file inside an installed package, e.g.
// ModulePath(tb, "replaywebpage", "sw.js").
func ModulePath(tb testing.TB, pkg, file string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), "node_modules", pkg, file)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("webtools: %v", err)
	}
	return p
}

func setup(logf func(string, ...any)) (string, string, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("webtools: node is not installed (apt-get install -y nodejs npm): %w", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", "", fmt.Errorf("webtools: npm is not installed (apt-get install -y npm): %w", err)
	}
	pkg, _ := files.ReadFile("package.json")
	lock, _ := files.ReadFile("package-lock.json")
	sum := sha256.Sum256(append(append([]byte{}, pkg...), lock...))
	key := hex.EncodeToString(sum[:6])

	d := os.Getenv(Env)
	if d == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", fmt.Errorf("webtools: no home directory for the cache (set %s): %w", Env, err)
		}
		d = filepath.Join(home, ".cache", "linkarc", "webtools", key)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", "", fmt.Errorf("webtools: %w", err)
	}
	// Test binaries of several packages may install at once.
	lockFile, err := os.OpenFile(filepath.Join(d, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("webtools: %w", err)
	}
	defer lockFile.Close()
	if err := syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX); err != nil {
		return "", "", fmt.Errorf("webtools: lock: %w", err)
	}
	defer syscall.Flock(int(lockFile.Fd()), syscall.LOCK_UN)

	if err := writeFiles(d); err != nil {
		return "", "", err
	}
	marker := filepath.Join(d, "node_modules", ".linkarc-"+key)
	if _, err := os.Stat(marker); err == nil {
		return d, nodeBin, nil
	}
	logf("webtools: installing warcio and replaywebpage with npm ci into %s (once; about half a minute)", d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = d
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("webtools: npm ci in %s: %v\n%s", d, err, tail(out))
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return "", "", fmt.Errorf("webtools: %w", err)
	}
	return d, nodeBin, nil
}

// writeFiles puts package.json, the lockfile and the scripts in d,
// rewriting only what changed.
func writeFiles(d string) error {
	return fs.WalkDir(files, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		want, _ := files.ReadFile(path)
		dst := filepath.Join(d, filepath.Base(path))
		if have, err := os.ReadFile(dst); err == nil && bytes.Equal(have, want) {
			return nil
		}
		if err := os.WriteFile(dst, want, 0o644); err != nil {
			return fmt.Errorf("webtools: %w", err)
		}
		return nil
	})
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
