package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/linkarc/linkarc/storage"
)

// MinIOModule is what StartMinIO builds when no MinIO binary is found.
const MinIOModule = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIORegion is the region the test server reports.
const MinIORegion = "us-east-1"

// MinIOOptions tunes StartMinIO. The zero value is what tests want.
type MinIOOptions struct {
	// Binary is the MinIO server executable. Empty means: $LINKARC_MINIO_BIN,
	// then minio in $PATH, then $GOBIN/minio or $(go env GOPATH)/bin/minio,
	// and if none exists, build MinIOModule with go install (a few minutes).
	Binary string

	// Progress receives messages about slow steps such as building MinIO;
	// nil means os.Stderr.
	Progress io.Writer

	// ReadyTimeout bounds the wait for the server to answer its health
	// check after each start; 0 means 60 seconds.
	ReadyTimeout time.Duration
}

// MinIO is a real MinIO server on 127.0.0.1, with its data in a temporary
// directory, for tests. Stop and Start simulate an outage; Close ends it.
type MinIO struct {
	// Root credentials, random for each server.
	AccessKey, SecretKey string

	bin, dir, dataDir, logPath string
	addr                       string // 127.0.0.1:port, kept across restarts
	readyTimeout               time.Duration

	mu     sync.Mutex
	proc   *process // nil while stopped
	closed bool

	buckets atomic.Int64
}

// process is one run of the server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, valid once done is closed
}

// StartMinIO starts a MinIO server on a free loopback port and waits until
// it is ready. ctx bounds finding or building the binary and the start, not
// the server's life; call Close when done.
func StartMinIO(ctx context.Context, opts MinIOOptions) (*MinIO, error) {
	progress := opts.Progress
	if progress == nil {
		progress = os.Stderr
	}
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = minioBinary(ctx, progress); err != nil {
			return nil, err
		}
	}
	removeAbandoned()
	dir, err := os.MkdirTemp("", "linkarc-minio-")
	if err != nil {
		return nil, fmt.Errorf("start minio: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start minio: %w", err)
	}
	m := &MinIO{
		AccessKey:    "linkarc-" + randomHex(6),
		SecretKey:    randomHex(20),
		bin:          bin,
		dir:          dir,
		dataDir:      filepath.Join(dir, "data"),
		logPath:      filepath.Join(dir, "minio.log"),
		readyTimeout: opts.ReadyTimeout,
	}
	if m.readyTimeout <= 0 {
		m.readyTimeout = 60 * time.Second
	}
	// The free port we pick can be taken before MinIO binds it (MinIO also
	// binds [::1]), so a clash means: pick another.
	for range 5 {
		if m.addr, err = freeLoopbackAddr(); err != nil {
			break
		}
		if err = m.Start(ctx); !errors.Is(err, errPortInUse) {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return m, nil
}

var errPortInUse = errors.New("port already in use")

// ownerFile, in a server's directory, holds the process id of the test
// binary that started it.
const ownerFile = "owner.pid"

// removeAbandoned removes the directories of servers whose test binary
// died without cleaning up (a panic or a timeout; the kernel has killed the
// servers themselves).
func removeAbandoned() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "linkarc-minio-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or being set up right now
		}
		if pid, err := strconv.Atoi(string(b)); err == nil && pid > 0 && !processAlive(pid) {
			os.RemoveAll(dir)
		}
	}
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Endpoint returns the server's URL, http://127.0.0.1:PORT. It stays the
// same across Stop and Start.
func (m *MinIO) Endpoint() string { return "http://" + m.addr }

// Env returns the environment variables that point linkarc (and the AWS
// tools) at this server.
func (m *MinIO) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.Endpoint(),
		"AWS_ACCESS_KEY_ID=" + m.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + m.SecretKey,
		"AWS_REGION=" + MinIORegion,
	}
}

// S3Config returns the settings storage.Open needs for s3:// stores on
// this server.
func (m *MinIO) S3Config() storage.S3Config {
	return storage.S3Config{Endpoint: m.Endpoint(), AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: MinIORegion}
}

// S3Options returns the options of storage.NewS3 for bucket on this server.
func (m *MinIO) S3Options(bucket string) storage.S3Options {
	return storage.S3Options{Endpoint: m.addr, AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: MinIORegion, Bucket: bucket}
}

// NewBucket creates a bucket with a fresh name and returns the name. The
// bucket and its objects are removed when the test ends.
func (m *MinIO) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test-%d-%s", m.buckets.Add(1), randomHex(4))
	client, err := minio.New(m.addr, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""), Region: MinIORegion})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: MinIORegion}); err != nil {
		t.Fatalf("create bucket %s: %v%s", name, err, m.logTail())
	}
	t.Cleanup(func() {
		m.mu.Lock()
		running := m.proc != nil
		m.mu.Unlock()
		if !running {
			return // stopped or closed: the data directory goes with Close
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.RemoveBucketWithOptions(ctx, name, minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
			t.Logf("remove bucket %s: %v", name, err)
		}
	})
	return name
}

// NewBucketStore returns an S3 store on a new, empty bucket of its own.
func (m *MinIO) NewBucketStore(t testing.TB) storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := storage.NewS3(ctx, m.S3Options(m.NewBucket(t)))
	if err != nil {
		t.Fatalf("open S3 store: %v", err)
	}
	return s
}

// Start starts the server again after Stop, on the same port and with the
// same data, and waits until it is ready. Starting a running server does
// nothing.
func (m *MinIO) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return errors.New("start minio: server closed")
	case m.proc != nil:
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.readyTimeout)
	defer cancel()
	for {
		err := m.startOnce(ctx)
		// After a Stop the old socket may linger briefly.
		if !errors.Is(err, errPortInUse) || m.proc != nil || !m.hadRun() {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// hadRun reports whether the server ran before (so its port was ours).
func (m *MinIO) hadRun() bool {
	_, err := os.Stat(filepath.Join(m.dataDir, ".minio.sys"))
	return err == nil
}

func (m *MinIO) startOnce(ctx context.Context) error {
	logf, err := os.OpenFile(m.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start minio: %w", err)
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(m.bin, "server", "--address", m.addr, m.dataDir)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + m.dir,
		"TMPDIR=" + os.TempDir(),
		"MINIO_ROOT_USER=" + m.AccessKey,
		"MINIO_ROOT_PASSWORD=" + m.SecretKey,
		"MINIO_REGION=" + MinIORegion,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	p, err := startProcess(cmd)
	logf.Close()
	if err != nil {
		return fmt.Errorf("start minio %s: %w", m.bin, err)
	}
	if err := m.waitReady(ctx, p); err != nil {
		stopProcess(p)
		log := m.logSince(logStart)
		if strings.Contains(log, "already in use") {
			return fmt.Errorf("start minio on %s: %w", m.addr, errPortInUse)
		}
		return fmt.Errorf("start minio on %s: %w\nminio log:\n%s", m.addr, err, log)
	}
	m.proc = p
	return nil
}

// startProcess starts cmd from a goroutine locked to its OS thread that
// lives as long as the child: on Linux the child gets SIGKILL when the
// thread that started it exits (Pdeathsig), which must mean "when the test
// binary dies", not "when the Go runtime retires a thread".
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with the goroutine, after the child.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (m *MinIO) waitReady(ctx context.Context, p *process) error {
	client := &http.Client{Timeout: 2 * time.Second}
	url := m.Endpoint() + "/minio/health/live"
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("minio exited: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("minio not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 seconds) and waits
// for it to exit. The data directory and the port stay, for Start.
func (m *MinIO) Stop() {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p != nil {
		stopProcess(p)
	}
}

func stopProcess(p *process) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Close stops the server and removes its data. It is safe to call more
// than once.
func (m *MinIO) Close() error {
	m.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	return os.RemoveAll(m.dir)
}

// logTail returns the end of the server's log, for error messages.
func (m *MinIO) logTail() string {
	if log := m.logSince(-4096); log != "" {
		return "\nminio log (end):\n" + log
	}
	return ""
}

// logSince returns the log from byte offset off; a negative off counts
// from the end.
func (m *MinIO) logSince(off int64) string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return ""
	}
	if off < 0 {
		off = max(0, int64(len(b))+off)
	}
	return string(bytes.TrimSpace(b[min(off, int64(len(b))):]))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
