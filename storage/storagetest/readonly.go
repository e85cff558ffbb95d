package storagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ReadOnlyDir returns a new empty directory that refuses to have files
// created in it, even for root: it is made immutable (chattr +i, which
// root can still undo) when the test runs as root, and mode 0555
// otherwise. The directory is removed when the test ends. The test is
// skipped, saying why, when neither works here (a file system without
// file attributes): a write that succeeds would prove nothing.
func ReadOnlyDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "readonly")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot make a directory read-only for root: chattr +i: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	probe := filepath.Join(dir, "probe")
	if f, err := os.Create(probe); err == nil {
		f.Close()
		os.Remove(probe)
		t.Skip("this file system lets files be created in a read-only directory")
	}
	return dir
}
