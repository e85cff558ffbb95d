package main

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/linkarc/linkarc/archive/archivetest"
)

// TestTempFilesOfKilledRuns: a `linkarc archive` killed with SIGKILL while
// a capture is in flight leaves its temporary directory behind, spill
// file and all; the next run removes it and says how much it removed,
// while the directory of another run, still alive, is left intact; a
// `linkarc reextract` cleans the same way. Every temporary file of these
// runs is in a directory of its process: nothing lands in TMPDIR itself.
func TestTempFilesOfKilledRuns(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 6, Digests: 1, Pages: loadPages(t, 6)})
	stuck := w.Publishers[1]
	stuck.SetHandler(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"TMPDIR=" + tmp}
	base := filepath.Join(tmp, "linkarc-"+strconv.Itoa(os.Getuid()))
	storeDir := filepath.Join(t.TempDir(), "store")
	args := func(store string) []string {
		return archiveArgs(w, store, 10*time.Millisecond, "--progress", "none", "--read-timeout", "5m", "--timeout", "10m")
	}

	// Two runs, each held up by the stuck publisher with its capture's
	// WARC spill file open: the first is killed, the second stays alive.
	killed, killedDir := startStuck(t, env, base, stuck, args(storeDir)...)
	alive, aliveDir := startStuck(t, env, base, stuck, args(filepath.Join(t.TempDir(), "other-store"))...)
	if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.Wait()
	if len(spillFiles(t, killedDir)) == 0 {
		t.Fatal("the killed run left no spill file: the test proves nothing")
	}
	// Besides the WARC spill files, the bodies of fetched pages that were
	// waiting for extraction when the kill came (archive/pagespill.go).
	left := regularFiles(t, killedDir)
	t.Logf("the killed run left %s: %v", killedDir, left)

	// The next run, with the publisher answering again.
	stuck.SetHandler(nil)
	next := linkarcProcess(env, args(storeDir)...)
	stderr, _ := runWithin(t, next, 3*time.Minute)
	if code := next.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("the run after the kill: exit %d, want 0\n%s", code, stderr)
	}
	line := cleanedLine(t, stderr.String(), "temporary files")
	if got := logField(line, "runs"); got != "1" {
		t.Errorf("runs=%s, want 1 (the killed run's): %s", got, line)
	}
	if got := logField(line, "in_use"); got != "1" {
		t.Errorf("in_use=%s, want 1 (the run still alive): %s", got, line)
	}
	if got := logField(line, "files"); got != strconv.Itoa(len(left)) {
		t.Errorf("files=%s, want %d: %s", got, len(left), line)
	}
	if _, err := os.Lstat(killedDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed run's directory is still there: %v", err)
	}
	if len(spillFiles(t, aliveDir)) == 0 {
		t.Errorf("the live run's directory %s lost its spill file", aliveDir)
	}
	checkTempDirs(t, tmp, base, aliveDir)

	// reextract cleans too: a directory of a dead process planted by hand.
	dead := filepath.Join(base, "1-1")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, "linkarc-warc-1.warc.gz"), make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, _ = runWithin(t, linkarcProcess(env, "reextract", "--store", storeDir, "--rebuild-pages", "all"), 3*time.Minute)
	if !strings.Contains(stderr.String(), "built 6 self-contained pages") {
		t.Errorf("reextract did not rebuild the 6 pages:\n%s", stderr)
	}
	line = cleanedLine(t, stderr.String(), "temporary files")
	for field, want := range map[string]string{"runs": "1", "files": "1", "size": `"2.0 MiB"`, "in_use": "1"} {
		if got := logField(line, field); got != want {
			t.Errorf("reextract: %s=%s, want %s: %s", field, got, want, line)
		}
	}
	checkTempDirs(t, tmp, base, aliveDir)

	alive.Process.Signal(syscall.SIGKILL)
	alive.Wait()
}

// TestTempDirUnwritable: a TMPDIR that cannot hold linkarc's temporary
// directory stops the run before anything is fetched, with an error that
// names the path and TMPDIR.
func TestTempDirUnwritable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	cmd := linkarcProcess([]string{"TMPDIR=" + missing}, "archive", "--store", filepath.Join(t.TempDir(), "store"), "--progress", "none", "http://127.0.0.1:9/a")
	stderr, _ := runWithin(t, cmd, time.Minute)
	if code := cmd.ProcessState.ExitCode(); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	want := "linkarc archive: temporary files: cannot create " + filepath.Join(missing, "linkarc-"+strconv.Itoa(os.Getuid())) +
		": no such file or directory; set TMPDIR to a writable directory (now TMPDIR=" + missing + ")"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not say\n  %s\n%s", want, stderr)
	}
}

// startStuck starts `linkarc archive` with args as a child process and
// waits until its request to the stuck publisher is in flight and its
// temporary directory under base holds the capture's spill file. It
// returns the process and that directory.
func startStuck(t *testing.T, env []string, base string, stuck *archivetest.Publisher, args ...string) (*exec.Cmd, string) {
	t.Helper()
	before := len(stuck.Arrivals(false))
	cmd := linkarcProcess(env, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", args, stderr.String())
		}
	})
	var dir string
	waitUntil(t, 2*time.Minute, "a request to the stuck publisher and a spill file", func() bool {
		dirs, _ := filepath.Glob(filepath.Join(base, strconv.Itoa(cmd.Process.Pid)+"-*"))
		if len(dirs) != 1 || len(stuck.Arrivals(false)) == before {
			return false
		}
		dir = dirs[0]
		return len(spillFiles(t, dir)) > 0
	})
	return cmd, dir
}

// spillFiles lists the WARC spill files of captures in dir.
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "linkarc-capture-*.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// regularFiles lists the regular files at or under dir.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkTempDirs checks that TMPDIR (tmp) holds the base directory alone,
// and base the directory of the live run alone: each run that ended
// removed its own.
func checkTempDirs(t *testing.T, tmp, base, alive string) {
	t.Helper()
	for dir, want := range map[string]string{tmp: base, base: alive} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) != 1 || names[0] != filepath.Base(want) {
			t.Errorf("%s holds %v, want %s alone", dir, names, filepath.Base(want))
		}
	}
}

// cleanedLine is the log line that says what was removed of killed runs:
// of their temporary files, or of their partial outputs (what).
func cleanedLine(t *testing.T, stderr, what string) string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "removed the "+what+" of runs that were killed or crashed") {
			return l
		}
	}
	t.Fatalf("no line says what was removed of killed runs' %s:\n%s", what, stderr)
	return ""
}

// logField is the value of key in a slog text line ("" when absent).
func logField(line, key string) string {
	m := regexp.MustCompile(`(?:^| )` + regexp.QuoteMeta(key) + `=("[^"]*"|\S*)`).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestExportPartialOutputs: `linkarc export --out FILE` removes the
// partial files killed exports of FILE left beside it (a killed process's
// lock is free: one planted without a lock is what it leaves) and says
// so, and leaves the one a live export holds.
func TestExportPartialOutputs(t *testing.T) {
	_, store := archivedWorld(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "archive.wacz")
	killed := filepath.Join(dir, ".archive.wacz.1234.tmp")
	live := filepath.Join(dir, ".archive.wacz.5678.tmp")
	for _, p := range []string{killed, live} {
		if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	cmd := linkarcProcess(nil, "export", "--store", store, "--format", "wacz", "--out", out)
	stderr, _ := runWithin(t, cmd, 2*time.Minute)
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	line := cleanedLine(t, stderr.String(), "partial outputs")
	for field, want := range map[string]string{"runs": "1", "files": "1", "size": `"1.0 MiB"`, "in_use": "1", "dir": dir} {
		if got := logField(line, field); got != want {
			t.Errorf("%s=%s, want %s: %q\n%s", field, got, want, line, stderr)
		}
	}
	if _, err := os.Lstat(killed); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed export's partial output is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live export's partial output was removed: %v", err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no output: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".archive.wacz.*.tmp")); len(left) != 1 {
		t.Errorf("partial outputs after the export: %q, want the live one alone", left)
	}
}
