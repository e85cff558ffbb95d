package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

func startMinIO(t *testing.T) *MinIO {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	srv, err := StartMinIO(ctx, MinIOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func (m *MinIO) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return 0
	}
	return m.proc.cmd.Process.Pid
}

// running reports whether pid is a live process (zombies count as dead:
// in a container nobody may reap them).
func running(pid int) bool {
	if !processAlive(pid) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return runtime.GOOS != "linux"
	}
	// The state follows the parenthesised command name.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	return !bytes.HasPrefix(bytes.TrimSpace(rest), []byte("Z"))
}

func healthy(endpoint string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(endpoint + "/minio/health/live")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestMinIOLifecycle(t *testing.T) {
	srv := startMinIO(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(srv.Endpoint()) {
		t.Errorf("Endpoint() = %q", srv.Endpoint())
	}
	wantEnv := []string{
		"AWS_ENDPOINT_URL=" + srv.Endpoint(),
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_REGION=us-east-1",
	}
	if got := srv.Env(); strings.Join(got, "\n") != strings.Join(wantEnv, "\n") {
		t.Errorf("Env() = %q, want %q", got, wantEnv)
	}
	if len(srv.AccessKey) < 8 || len(srv.SecretKey) < 32 {
		t.Errorf("credentials too short: %q %q", srv.AccessKey, srv.SecretKey)
	}

	ctx := t.Context()
	st := srv.NewBucketStore(t)
	if err := st.Put(ctx, "kept/across/restarts", strings.NewReader("data"), 4, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Buckets are fresh for each call.
	other := srv.NewBucketStore(t)
	if _, err := other.Stat(ctx, "kept/across/restarts"); !storage.IsNotExist(err) {
		t.Errorf("a new bucket store sees another's object: %v", err)
	}

	endpoint, pid := srv.Endpoint(), srv.pid()
	srv.Stop()
	if running(pid) {
		t.Errorf("MinIO (pid %d) still runs after Stop", pid)
	}
	if healthy(endpoint) {
		t.Error("MinIO answers after Stop")
	}
	srv.Stop() // stopping a stopped server is harmless

	if err := srv.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if srv.Endpoint() != endpoint || !healthy(endpoint) {
		t.Errorf("after restart: endpoint %q (was %q), healthy %v", srv.Endpoint(), endpoint, healthy(endpoint))
	}
	rc, err := st.Get(ctx, "kept/across/restarts")
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "data" {
		t.Errorf("after restart: Get = %q", b)
	}
	if err := srv.Start(ctx); err != nil {
		t.Errorf("Start of a running server = %v", err)
	}

	pid, dir := srv.pid(), srv.dir
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if running(pid) {
		t.Errorf("MinIO (pid %d) still runs after Close", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data directory %s remains after Close: %v", dir, err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := srv.Start(ctx); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestMinIOBinaryLookup(t *testing.T) {
	real, err := minioBinary(t.Context(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !isExecutable(real) {
		t.Fatalf("minioBinary = %q, not executable", real)
	}
	tmp := t.TempDir()
	notExec := filepath.Join(tmp, "minio")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	tests := []struct {
		env     string
		want    string
		wantErr string
	}{
		{real, real, ""},
		{filepath.Join(tmp, "missing"), "", "LINKARC_MINIO_BIN=" + filepath.Join(tmp, "missing") + ": not an executable file"},
		{notExec, "", "not an executable file"},
	}
	for _, tt := range tests {
		t.Setenv("LINKARC_MINIO_BIN", tt.env)
		got, err := minioBinary(t.Context(), io.Discard)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LINKARC_MINIO_BIN=%s: %q, %v; want error %q", tt.env, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("LINKARC_MINIO_BIN=%s: %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
	// A bad binary gives an error that says what went wrong.
	t.Setenv("LINKARC_MINIO_BIN", "")
	fake := filepath.Join(tmp, "fake-minio")
	os.WriteFile(fake, []byte("#!/bin/sh\necho 'FATAL something is broken' >&2\nexit 1\n"), 0o755)
	_, err = StartMinIO(t.Context(), MinIOOptions{Binary: fake, ReadyTimeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "FATAL something is broken") {
		t.Errorf("StartMinIO with a failing binary = %v, want its log in the error", err)
	}
}

// childEnv marks the re-executed test binary of TestMinIODiesWithTestBinary.
const childEnv = "STORAGETEST_DIE_WITH_MINIO"

// A test binary that dies without cleaning up (a panic, a -timeout) takes
// its MinIO with it, and the next start removes the data it left.
func TestMinIODiesWithTestBinary(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		srv, err := StartMinIO(context.Background(), MinIOOptions{})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Printf("MINIO %d %s\n", srv.pid(), srv.dir)
		panic("the test binary dies with MinIO running")
	}
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux-only; elsewhere Main's cleanup stops MinIO")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMinIODiesWithTestBinary$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child test binary did not die:\n%s", out)
	}
	m := regexp.MustCompile(`MINIO (\d+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the child did not start MinIO:\n%s", out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	dir := string(m[2])
	deadline := time.Now().Add(15 * time.Second)
	for running(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if running(pid) {
		t.Errorf("MinIO (pid %d) outlived its test binary", pid)
		syscallKill(pid)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the dead child's directory %s: %v", dir, err)
	}
	removeAbandoned()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("removeAbandoned left %s: %v", dir, err)
	}
}

func syscallKill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// Directories of live test binaries are left alone.
func TestRemoveAbandonedKeepsLive(t *testing.T) {
	srv := startMinIO(t)
	removeAbandoned()
	if _, err := os.Stat(filepath.Join(srv.dir, ownerFile)); err != nil {
		t.Errorf("removeAbandoned removed a live server's directory: %v", err)
	}
	if !healthy(srv.Endpoint()) {
		t.Error("server unhealthy after removeAbandoned")
	}
}
