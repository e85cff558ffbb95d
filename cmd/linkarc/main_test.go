package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage/storagetest"
)

// minioServer is one real MinIO for every test of this binary.
var minioServer *storagetest.MinIO

// asMainEnv makes the test binary behave as the linkarc binary, so tests can
// run it as a separate process (and kill it) without building it first.
const asMainEnv = "LINKARC_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		return
	}
	storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
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
