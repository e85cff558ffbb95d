//go:build unix

package tempdir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// holderEnv turns the test binary into a process that opens a Dir under
// the root it names, prints the directory's path and waits to be killed.
const holderEnv = "LINKARC_TEMPDIR_HOLDER"

func TestMain(m *testing.M) {
	if root := os.Getenv(holderEnv); root != "" {
		d, err := Open(Options{Root: root})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(d.Path(), "spill.warc.gz"), make([]byte, 4096), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(d.Path())
		select {} // until killed
	}
	os.Exit(m.Run())
}

// setup is the files a case starts with, under root; the base directory
// is "$base".
type setup struct {
	dirs  []string
	files map[string]int // path: size
	links map[string]string
	held  []string // process directories whose lock a live owner holds
}

func TestCleaningRules(t *testing.T) {
	tests := []struct {
		name  string
		setup setup
		// gone and kept are paths under root after Open (the caller's own
		// directory aside).
		gone, kept []string
		want       Cleaned // Base and Errors are not compared
	}{
		{
			name: "a dead process's directory is removed, files and size counted",
			setup: setup{
				dirs:  []string{"$base/4242-17/sub"},
				files: map[string]int{"$base/4242-17/linkarc-capture-1.warc.gz": 3000, "$base/4242-17/sub/tmp-diskbuffer-1": 1000},
			},
			gone: []string{"$base/4242-17"},
			want: Cleaned{Runs: 1, Files: 2, Bytes: 4000},
		},
		{
			name:  "an empty dead directory is removed",
			setup: setup{dirs: []string{"$base/1-1"}},
			gone:  []string{"$base/1-1"},
			want:  Cleaned{Runs: 1},
		},
		{
			name: "a live process's directory is left intact",
			setup: setup{
				dirs:  []string{"$base/77-5"},
				files: map[string]int{"$base/77-5/linkarc-gnews-1.body": 500},
				held:  []string{"$base/77-5"},
			},
			kept: []string{"$base/77-5/linkarc-gnews-1.body"},
			want: Cleaned{InUse: 1},
		},
		{
			name: "dead and live side by side",
			setup: setup{
				dirs:  []string{"$base/10-1", "$base/11-1", "$base/12-1"},
				files: map[string]int{"$base/10-1/a": 10, "$base/11-1/b": 20, "$base/12-1/c": 30},
				held:  []string{"$base/11-1"},
			},
			gone: []string{"$base/10-1", "$base/12-1"},
			kept: []string{"$base/11-1/b"},
			want: Cleaned{Runs: 2, Files: 2, Bytes: 40, InUse: 1},
		},
		{
			name: "unrelated files in TMPDIR are left alone",
			setup: setup{
				dirs: []string{"other/dir", "4242-17"},
				files: map[string]int{
					"linkarc-gnews-123.body":      100, // left by a version before per-process directories
					"tmp-diskbuffer-99":           100,
					"other/dir/file":              100,
					"4242-17/named-like-ours.txt": 100, // in TMPDIR, not in the base directory
				},
			},
			kept: []string{"linkarc-gnews-123.body", "tmp-diskbuffer-99", "other/dir/file", "4242-17/named-like-ours.txt"},
		},
		{
			name: "what the base directory holds that is not named like a process's directory is left alone",
			setup: setup{
				dirs:  []string{"$base/cache", "$base/abc-1", "$base/-1"},
				files: map[string]int{"$base/notes.txt": 5, "$base/123": 5, "$base/cache/x": 5, "$base/abc-1/x": 5, "$base/-1/x": 5},
			},
			kept: []string{"$base/notes.txt", "$base/123", "$base/cache/x", "$base/abc-1/x", "$base/-1/x"},
		},
		{
			name: "a file named like a process's directory is left alone",
			setup: setup{
				files: map[string]int{"$base/55-1": 5},
			},
			kept: []string{"$base/55-1"},
		},
		{
			name: "a symlink planted in a dead directory is removed, not followed",
			setup: setup{
				dirs:  []string{"$base/4242-17", "outside/deep"},
				files: map[string]int{"outside/keep.txt": 7, "outside/deep/keep2.txt": 7, "$base/4242-17/own": 3},
				links: map[string]string{
					"$base/4242-17/to-dir":  "outside",
					"$base/4242-17/to-file": "outside/keep.txt",
				},
			},
			gone: []string{"$base/4242-17"},
			kept: []string{"outside/keep.txt", "outside/deep/keep2.txt"},
			want: Cleaned{Runs: 1, Files: 1, Bytes: 3},
		},
		{
			name: "a symlink in the base directory named like a process's directory is not followed",
			setup: setup{
				dirs:  []string{"outside"},
				files: map[string]int{"outside/keep.txt": 7},
				links: map[string]string{"$base/4242-18": "outside"},
			},
			kept: []string{"outside/keep.txt", "$base/4242-18"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			base := filepath.Join(root, baseName())
			at := func(p string) string {
				return filepath.Join(root, strings.Replace(p, "$base", baseName(), 1))
			}
			if err := os.Mkdir(base, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, d := range tt.setup.dirs {
				if err := os.MkdirAll(at(d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for p, n := range tt.setup.files {
				if err := os.MkdirAll(filepath.Dir(at(p)), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(at(p), make([]byte, n), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for p, target := range tt.setup.links {
				if err := os.Symlink(at(target), at(p)); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range tt.setup.held {
				// A lock taken through another open file is refused as
				// one another process holds (flock locks belong to open
				// files); TestKilledHolder shows it with a process.
				f, err := openLocked(at(p), true)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
			}

			d, err := Open(Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, e := range d.Cleaned.Errors {
				t.Errorf("cleaning error: %v", e)
			}
			got := d.Cleaned
			got.Where, got.Errors = "", nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("cleaned %+v, want %+v", got, tt.want)
			}
			if d.Cleaned.Where != base {
				t.Errorf("base %s, want %s", d.Cleaned.Where, base)
			}
			for _, p := range tt.gone {
				if _, err := os.Lstat(at(p)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s still there (%v)", p, err)
				}
			}
			for _, p := range tt.kept {
				fi, err := os.Lstat(at(p))
				if err != nil {
					t.Errorf("%s was removed: %v", p, err)
					continue
				}
				if n, ok := tt.setup.files[p]; ok && fi.Size() != int64(n) {
					t.Errorf("%s changed: %d bytes, want %d", p, fi.Size(), n)
				}
			}
			if !strings.HasPrefix(d.Path(), base+string(filepath.Separator)) {
				t.Errorf("own directory %s is not in %s", d.Path(), base)
			}
		})
	}
}

// TestKilledHolder: a directory whose owner, another process, is alive is
// left intact; once the owner is killed with SIGKILL its lock is free and
// the next Open removes it.
func TestKilledHolder(t *testing.T) {
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("holder: %v\n%s", err, stderr.String())
	}
	held := strings.TrimSpace(line)

	d, err := Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if d.Cleaned.InUse != 1 || d.Cleaned.Runs != 0 {
		t.Errorf("with the holder alive: %+v, want 1 in use, none removed", d.Cleaned)
	}
	if _, err := os.Stat(filepath.Join(held, "spill.warc.gz")); err != nil {
		t.Fatalf("the live holder's file: %v", err)
	}
	d.Close()

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(held, "spill.warc.gz")); err != nil {
		t.Fatalf("SIGKILL took the holder's file (nothing to clean: the test proves nothing): %v", err)
	}
	d, err = Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if want := (Cleaned{Where: filepath.Join(root, baseName()), Runs: 1, Files: 1, Bytes: 4096}); !reflect.DeepEqual(d.Cleaned, want) {
		t.Errorf("after the holder was killed: %+v, want %+v", d.Cleaned, want)
	}
	if _, err := os.Lstat(held); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed holder's directory is still there: %v", err)
	}
}

// TestOpenClose: Close removes the directory and what is in it, once; a
// directory is the caller's alone while open, also against a second Open
// in the same process.
func TestOpenClose(t *testing.T) {
	root := t.TempDir()
	a, err := Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.Path(), "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(a.Path()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("own directory: %v, mode %v; want 0700", err, fi.Mode())
	}
	b, err := Open(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if b.Path() == a.Path() || b.Cleaned.InUse != 1 || b.Cleaned.Runs != 0 {
		t.Errorf("second Open: %s (first %s), %+v; want its own directory and the first in use", b.Path(), a.Path(), b.Cleaned)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(a.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Close: %v, want the directory gone", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, baseName()))
	if len(entries) != 0 {
		t.Errorf("base directory after both closed: %v", entries)
	}
}

// TestOpenRaces: processes that open, use and close their directories
// while others clean never lose their directory to a cleaner (a new
// directory is unlocked for an instant; Open checks it kept it).
func TestOpenRaces(t *testing.T) {
	root := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				d, err := Open(Options{Root: root})
				if err != nil {
					errs <- err
					return
				}
				if err := os.WriteFile(filepath.Join(d.Path(), "f"), nil, 0o600); err != nil {
					errs <- fmt.Errorf("goroutine %d, round %d: own directory lost: %w", g, i, err)
				}
				if i%2 == 0 { // half are left behind, as by a killed process
					d.Close()
				} else {
					d.lock.Close()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBaseDirectory: the base directory must be a directory of this
// user's; a TMPDIR that cannot hold it is an error naming the path and
// TMPDIR.
func TestBaseDirectory(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, root, base string) string // returns the root to use
		want    []string                                     // in the error ("$base" for the base directory); none: no error
	}{
		{"missing TMPDIR", func(t *testing.T, root, base string) string {
			return filepath.Join(root, "missing")
		}, []string{"missing/" + baseName(), "no such file or directory", "set TMPDIR to a writable directory"}},
		{"TMPDIR is a file", func(t *testing.T, root, base string) string {
			p := filepath.Join(root, "file")
			os.WriteFile(p, nil, 0o600)
			return p
		}, []string{"file/" + baseName(), "not a directory", "TMPDIR"}},
		{"base is a symlink", func(t *testing.T, root, base string) string {
			os.Mkdir(filepath.Join(root, "elsewhere"), 0o700)
			os.Symlink(filepath.Join(root, "elsewhere"), base)
			return root
		}, []string{"$base", "is not a directory (a symlink)", "TMPDIR"}},
		{"base is a file", func(t *testing.T, root, base string) string {
			os.WriteFile(base, nil, 0o600)
			return root
		}, []string{"$base", "is not a directory (a file)"}},
		{"base open to others is made private", func(t *testing.T, root, base string) string {
			os.Mkdir(base, 0o700)
			os.Chmod(base, 0o777)
			return root
		}, nil},
		{"base of another user", func(t *testing.T, root, base string) string {
			if os.Getuid() != 0 {
				t.Skip("needs root to give the directory away")
			}
			os.Mkdir(base, 0o700)
			if err := os.Chown(base, 4242, 4242); err != nil {
				t.Fatal(err)
			}
			return root
		}, []string{"$base", "belongs to another user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			base := filepath.Join(root, baseName())
			use := tt.prepare(t, root, base)
			d, err := Open(Options{Root: use})
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				d.Close()
				if fi, err := os.Stat(base); err != nil || fi.Mode().Perm() != 0o700 {
					t.Errorf("base: %v, mode %v; want 0700", err, fi.Mode())
				}
				return
			}
			if err == nil {
				d.Close()
				t.Fatalf("no error, want one saying %q", tt.want)
			}
			for _, w := range tt.want {
				if w = strings.Replace(w, "$base", base, 1); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestLogLine: what was cleaned is said in one line, at warn level (the
// commands' default) when something was removed, at debug level when
// nothing was.
func TestLogLine(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(root, baseName())
	os.MkdirAll(filepath.Join(base, "9-9"), 0o700)
	os.WriteFile(filepath.Join(base, "9-9", "spill"), make([]byte, 3<<20), 0o600)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := Open(Options{Root: root, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), buf.String())
	}
	for _, w := range []string{"level=WARN", `msg="removed the temporary files of runs that were killed or crashed"`, "runs=1", "files=1", `size="3.0 MiB"`, "in_use=0", "dir=" + base} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("log line %q does not say %q", lines[0], w)
		}
	}
	buf.Reset()
	d, err = Open(Options{Root: root, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if buf.Len() != 0 {
		t.Errorf("nothing to clean, yet at warn level: %s", buf.String())
	}
}

// TestBeside: the partial output Beside makes is in the output's
// directory, named for it and locked; it removes the partial outputs of
// killed runs of the same output only, leaves those whose lock is held,
// and follows no symlink.
func TestBeside(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "keep.txt")
	files := map[string]int{
		".out.wacz.123.tmp":   3000, // a killed export's
		".out.wacz.456.tmp":   500,  // another killed export's
		".out.wacz.789.tmp":   100,  // a live export's: held below
		"out.wacz":            10,   // the output itself
		".other.wacz.123.tmp": 10,   // another output's
		".out.wacz.tmp":       10,   // not named as Beside names
		".out.wacz.12a.tmp":   10,
		"out.wacz.123.tmp":    10,
	}
	for name, n := range files {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, ".out.wacz.111.tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".out.wacz.222.tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	held, err := openLocked(filepath.Join(dir, ".out.wacz.789.tmp"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	var buf bytes.Buffer
	f, c, err := Beside(filepath.Join(dir, "out.wacz"), slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.Errors = nil
	if want := (Cleaned{Where: dir, Runs: 2, Files: 2, Bytes: 3500, InUse: 1}); !reflect.DeepEqual(c, want) {
		t.Errorf("cleaned %+v, want %+v", c, want)
	}
	if !strings.Contains(buf.String(), `msg="removed the partial outputs of runs that were killed or crashed" runs=2 files=2 size="3.4 KiB" in_use=1`) {
		t.Errorf("log: %s", buf.String())
	}
	for _, name := range []string{".out.wacz.123.tmp", ".out.wacz.456.tmp"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want it removed", name, err)
		}
	}
	for _, name := range []string{".out.wacz.789.tmp", "out.wacz", ".other.wacz.123.tmp", ".out.wacz.tmp", ".out.wacz.12a.tmp", "out.wacz.123.tmp", ".out.wacz.111.tmp", ".out.wacz.222.tmp"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the symlink's target was removed: %v", err)
	}
	if d, n := filepath.Split(f.Name()); d != dir+string(filepath.Separator) || !strings.HasPrefix(n, ".out.wacz.") || !strings.HasSuffix(n, ".tmp") {
		t.Errorf("partial output %s: want .out.wacz.*.tmp in %s", f.Name(), dir)
	}
	if _, err := openLocked(f.Name(), false); !errors.Is(err, errBusy) {
		t.Errorf("the partial output is not locked: %v", err)
	}
	f.Close()
	if _, err := openLocked(f.Name(), false); err != nil {
		t.Errorf("closed, the partial output is still locked: %v", err)
	}
}
