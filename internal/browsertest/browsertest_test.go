package browsertest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPathRunsABrowser checks that what Path returns is a working Chromium.
func TestPathRunsABrowser(t *testing.T) {
	out, err := exec.Command(Path(t), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v: %s", Path(t), err, out)
	}
	if !strings.Contains(strings.ToLower(string(out)), "chrom") {
		t.Errorf("--version says %q, not a Chromium", out)
	}
}

func TestEnvOverrideMustExist(t *testing.T) {
	t.Setenv(Env, "/nonexistent/chromium")
	if _, err := locate(t.Logf); err == nil || !strings.Contains(err.Error(), Env) {
		t.Errorf("locate with a missing %s: err %v, want an error naming it", Env, err)
	}
}
