package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// faultyStore fails the first calls of each operation with err, as a flaky
// network does, and otherwise passes them to a real store.
type faultyStore struct {
	storage.Store
	err error

	mu        sync.Mutex
	failFirst map[string]int // operation -> how many calls fail
	calls     map[string]int
	listAfter int // a failing List delivers this many objects first
}

func newFaulty(s storage.Store, err error, failFirst map[string]int) *faultyStore {
	return &faultyStore{Store: s, err: err, failFirst: failFirst, calls: map[string]int{}}
}

// call counts a call of op and reports whether it is to fail.
func (f *faultyStore) call(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.calls[op] <= f.failFirst[op]
}

func (f *faultyStore) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *faultyStore) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) error {
	if f.call("put") {
		io.CopyN(io.Discard, r, max(size, 1)/2) // the upload broke off half-way
		return f.err
	}
	return f.Store.Put(ctx, key, r, size, opts)
}

func (f *faultyStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if f.call("get") {
		return nil, f.err
	}
	return f.Store.Get(ctx, key)
}

func (f *faultyStore) Stat(ctx context.Context, key string) (storage.Info, error) {
	if f.call("stat") {
		return storage.Info{}, f.err
	}
	return f.Store.Stat(ctx, key)
}

func (f *faultyStore) Delete(ctx context.Context, key string) error {
	if f.call("delete") {
		return f.err
	}
	return f.Store.Delete(ctx, key)
}

func (f *faultyStore) List(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	if !f.call("list") {
		return f.Store.List(ctx, prefix, fn)
	}
	n := 0
	err := f.Store.List(ctx, prefix, func(i storage.Info) error {
		if n == f.listAfter {
			return f.err
		}
		n++
		return fn(i)
	})
	if err == nil {
		err = f.err
	}
	return err
}

// fastRetry retries quickly, so that tests do not wait.
func fastRetry(logger *slog.Logger) storage.RetryOptions {
	return storage.RetryOptions{MaxElapsed: 10 * time.Second, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, Logger: logger}
}

// timeoutErr is a network timeout, as net.Conn deadlines produce.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// Which errors are retried and which are returned at once.
func TestRetryClassifiesErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		retry bool
	}{
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"connection refused, wrapped", fmt.Errorf("put x: %w", &url.Error{Op: "Put", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}), true},
		{"bare errno", fmt.Errorf("stat: %w", syscall.EPIPE), true},
		{"timeout", fmt.Errorf("get: %w", timeoutErr{}), true},
		{"deadline of a connection", fmt.Errorf("get: %w", os.ErrDeadlineExceeded), true},
		{"server closed mid-response", &url.Error{Op: "Get", URL: "http://x", Err: io.ErrUnexpectedEOF}, true},
		{"DNS temporary failure", &net.DNSError{Err: "server misbehaving", Name: "s3.example", IsTemporary: true}, true},
		{"DNS no such host", &net.DNSError{Err: "no such host", Name: "s3.example", IsNotFound: true}, false},
		{"not exist", fmt.Errorf("stat k: %w", storage.ErrNotExist), false},
		{"invalid key", storage.ValidKey("a//b"), false},
		{"canceled", fmt.Errorf("get: %w", context.Canceled), false},
		{"permission", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}, false},
		{"disk full", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, false},
		{"other", errors.New("something else"), false},
		{"unexpected EOF outside HTTP", io.ErrUnexpectedEOF, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local := newLocal(t)
			if err := local.Put(t.Context(), "k", strings.NewReader("v"), 1, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			f := newFaulty(local, tt.err, map[string]int{"stat": 2})
			info, err := storage.NewRetrying(f, fastRetry(nil)).Stat(t.Context(), "k")
			if tt.retry {
				if err != nil || info.Size != 1 || f.count("stat") != 3 {
					t.Errorf("Stat = %+v, %v after %d calls; want success after 3", info, err, f.count("stat"))
				}
				return
			}
			if !errors.Is(err, tt.err) || f.count("stat") != 1 {
				t.Errorf("Stat = %v after %d calls; want the error after 1", err, f.count("stat"))
			}
		})
	}
}

var errReset = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}

// Every operation recovers from transient failures.
func TestRetryEachOperation(t *testing.T) {
	ctx := t.Context()
	local := newLocal(t)
	f := newFaulty(local, errReset, map[string]int{"put": 2, "get": 2, "stat": 2, "delete": 2, "list": 2})
	s := storage.NewRetrying(f, fastRetry(nil))

	data := bytes.Repeat([]byte("0123456789"), 1000)
	r := bytes.NewReader(data)
	if err := s.Put(ctx, "a/k", r, int64(len(data)), storage.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	rc, err := s.Get(ctx, "a/k")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	// The failed attempts consumed half the reader; the retry rewound it.
	if !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes, want the %d written", len(got), len(data))
	}
	if info, err := s.Stat(ctx, "a/k"); err != nil || info.Size != int64(len(data)) {
		t.Errorf("Stat = %+v, %v", info, err)
	}
	var keys []string
	if err := s.List(ctx, "a/", func(i storage.Info) error { keys = append(keys, i.Key); return nil }); err != nil || !slices.Equal(keys, []string{"a/k"}) {
		t.Errorf("List = %q, %v", keys, err)
	}
	if err := s.Delete(ctx, "a/k"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := local.Stat(ctx, "a/k"); !storage.IsNotExist(err) {
		t.Errorf("after Delete: %v", err)
	}
	for _, op := range []string{"put", "get", "stat", "delete", "list"} {
		if n := f.count(op); n != 3 {
			t.Errorf("%s called %d times, want 3", op, n)
		}
	}
}

// A Put rewinds its reader to where it was, not to the start.
func TestRetryPutRewindsToStartOffset(t *testing.T) {
	local := newLocal(t)
	f := newFaulty(local, errReset, map[string]int{"put": 1})
	r := strings.NewReader("skip:the payload")
	r.Seek(5, io.SeekStart)
	if err := storage.NewRetrying(f, fastRetry(nil)).Put(t.Context(), "k", r, 11, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, local, "k"); got != "the payload" {
		t.Errorf("stored %q, want %q", got, "the payload")
	}
}

// seekableFailing is a seekable reader that fails: the caller's data
// source is broken, which retrying cannot mend.
type seekableFailing struct{ *strings.Reader }

func (s seekableFailing) Read(p []byte) (int, error) {
	if s.Len() < 5 {
		return 0, io.ErrUnexpectedEOF
	}
	return s.Reader.Read(p[:min(len(p), 2)])
}

func TestRetryPutNotRetried(t *testing.T) {
	tests := []struct {
		name string
		r    func() io.Reader
		size int64
		err  error // what the faulty store fails with
	}{
		{"reader is not a seeker", func() io.Reader { return io.MultiReader(strings.NewReader("data")) }, 4, errReset},
		{"reader fails", func() io.Reader { return seekableFailing{strings.NewReader("0123456789")} }, 10, nil},
		{"reader shorter than size", func() io.Reader { return strings.NewReader("short") }, 99, nil},
	}
	backends := []struct {
		name string
		new  func(t *testing.T) storage.Store
	}{
		{"local", func(t *testing.T) storage.Store { return newLocal(t) }},
		{"s3", func(t *testing.T) storage.Store { return minioServer.NewBucketStore(t) }},
	}
	for _, b := range backends {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				fail := map[string]int{}
				if tt.err != nil {
					fail["put"] = 1
				}
				f := newFaulty(b.new(t), tt.err, fail)
				err := storage.NewRetrying(f, fastRetry(nil)).Put(t.Context(), "k", tt.r(), tt.size, storage.PutOptions{})
				if err == nil || f.count("put") != 1 {
					t.Errorf("Put = %v after %d calls, want an error after 1", err, f.count("put"))
				}
				if _, err := f.Stat(t.Context(), "k"); !storage.IsNotExist(err) {
					t.Errorf("after the failed Put: Stat = %v, want not-exist", err)
				}
			})
		}
	}
}

// A List that fails part-way resumes after the last key delivered.
func TestRetryListResumes(t *testing.T) {
	local := newLocal(t)
	want := []string{"l/a", "l/b", "l/c", "l/d", "l/e"}
	for _, k := range want {
		if err := local.Put(t.Context(), k, strings.NewReader(k), -1, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f := newFaulty(local, errReset, map[string]int{"list": 3})
	f.listAfter = 2
	var got []string
	err := storage.NewRetrying(f, fastRetry(nil)).List(t.Context(), "l/", func(i storage.Info) error {
		got = append(got, i.Key)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("List = %q, %v; want each key once: %q", got, err, want)
	}
}

// An error of List's callback is the caller's, never retried, even when it
// looks like a network error (the callback may write to a client).
func TestRetryListCallbackError(t *testing.T) {
	local := newLocal(t)
	local.Put(t.Context(), "k", strings.NewReader("v"), 1, storage.PutOptions{})
	f := newFaulty(local, nil, nil)
	err := storage.NewRetrying(f, fastRetry(nil)).List(t.Context(), "", func(storage.Info) error { return errReset })
	if !errors.Is(err, errReset) || f.count("list") != 1 {
		t.Errorf("List = %v after %d calls, want the callback's error after 1", err, f.count("list"))
	}
}

func TestRetryGivesUp(t *testing.T) {
	local := newLocal(t)
	f := newFaulty(local, errReset, map[string]int{"stat": 1 << 30})
	logs := &recordingHandler{}
	opts := storage.RetryOptions{MaxElapsed: 200 * time.Millisecond, InitialInterval: 10 * time.Millisecond, Logger: slog.New(logs)}
	_, err := storage.NewRetrying(f, opts).Stat(t.Context(), "k")
	if !errors.Is(err, errReset) || !strings.Contains(err.Error(), "gave up after") {
		t.Errorf("Stat = %v, want the last error and that it gave up", err)
	}
	if n := f.count("stat"); n < 3 {
		t.Errorf("gave up after %d calls; the backoff allows more", n)
	}
	if logs.count("storage retrying") != f.count("stat")-1 || logs.count("storage giving up") != 1 {
		t.Errorf("logged %q", logs.messages())
	}

	// Retrying disabled.
	f = newFaulty(local, errReset, map[string]int{"stat": 1 << 30})
	if _, err := storage.NewRetrying(f, storage.RetryOptions{MaxElapsed: -1}).Stat(t.Context(), "k"); !errors.Is(err, errReset) || f.count("stat") != 1 {
		t.Errorf("with retrying disabled: %v after %d calls", err, f.count("stat"))
	}
}

// Canceling the context ends the waiting at once.
func TestRetryStopsOnCancel(t *testing.T) {
	f := newFaulty(newLocal(t), errReset, map[string]int{"stat": 1 << 30})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := &recordingHandler{onRetry: cancel}
	opts := storage.RetryOptions{MaxElapsed: 10 * time.Hour, InitialInterval: time.Hour, Logger: slog.New(logs)}
	_, err := storage.NewRetrying(f, opts).Stat(ctx, "k")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errReset) || f.count("stat") != 1 {
		t.Errorf("Stat = %v after %d calls, want context.Canceled (and the last error) after 1", err, f.count("stat"))
	}
}

// recordingHandler is a slog.Handler that keeps the records logged, with
// their times, levels and attributes, and calls onRetry (once) on the next
// retry.
type recordingHandler struct {
	mu      sync.Mutex
	recs    []logRecord
	onRetry func()
}

// logRecord is one record a recordingHandler kept.
type logRecord struct {
	time  time.Time
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{time: r.Time, level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	h.mu.Lock()
	h.recs = append(h.recs, rec)
	var f func()
	if r.Message == "storage retrying" {
		f, h.onRetry = h.onRetry, nil
	}
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

// arm forgets the messages so far and has f called on the next retry.
func (h *recordingHandler) arm(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs, h.onRetry = nil, f
}

func (h *recordingHandler) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	msgs := make([]string, len(h.recs))
	for i, r := range h.recs {
		msgs[i] = r.msg
	}
	return msgs
}

func (h *recordingHandler) count(msg string) int {
	n := 0
	for _, m := range h.messages() {
		if m == msg {
			n++
		}
	}
	return n
}

func get(t *testing.T, s storage.Store, key string) string {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(b)
}

// Failures of real HTTP exchanges with S3 are retried: a proxy in front of
// MinIO answers the first uploads with throttling, or drops the connection.
func TestRetryS3Faults(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(w http.ResponseWriter, r *http.Request)
		wantRaw string // in the error of a store that does not retry
	}{
		{"503 SlowDown", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		}, "reduce your request rate"},
		{"connection reset mid-upload", func(w http.ResponseWriter, r *http.Request) {
			// Closing with unread data sends a TCP reset. The client's
			// writer sees it as a reset or a broken pipe, or, when its
			// reader saw the reset first and closed the connection, as
			// the use of a closed connection: one event, three wordings.
			io.CopyN(io.Discard, r.Body, 10)
			hangUp(w)
		}, "connection reset|broken pipe|use of closed network connection"},
		{"connection closed before the response", func(w http.ResponseWriter, r *http.Request) {
			// The client sees EOF, which minio-go reports in words of its own.
			io.Copy(io.Discard, r.Body)
			hangUp(w)
		}, "Connection closed by foreign host"},
	}
	target, err := url.Parse(minioServer.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var faults atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut && faults.Add(-1) >= 0 {
					tt.fault(w, r)
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			defer srv.Close()

			opts := minioServer.S3Options(minioServer.NewBucket(t))
			opts.Endpoint = strings.TrimPrefix(srv.URL, "http://")
			opts.MaxRetries = 1 // the client's own retrying off: only the wrapper retries
			raw, err := storage.NewS3(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			data := bytes.Repeat([]byte("payload "), 4096)
			faults.Store(1)
			err = raw.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data)), storage.PutOptions{})
			if err == nil || !regexp.MustCompile(tt.wantRaw).MatchString(err.Error()) {
				t.Fatalf("unwrapped Put through the faulty proxy = %v, want %q", err, tt.wantRaw)
			}

			logs := &recordingHandler{}
			faults.Store(3)
			s := storage.NewRetrying(raw, fastRetry(slog.New(logs)))
			if err := s.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
				t.Fatalf("retrying Put: %v", err)
			}
			if got := get(t, raw, "k"); got != string(data) {
				t.Errorf("Get returned %d bytes, want %d", len(got), len(data))
			}
			if n := logs.count("storage retrying"); n != 3 {
				t.Errorf("logged %d retries, want 3: %q", n, logs.messages())
			}
		})
	}
}

// hangUp closes the connection of w without answering.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// The real thing: MinIO goes down in the middle of the work and comes back;
// the retrying store rides it out.
// ownMinIO starts a MinIO of the test's own, which it may stop and start
// again, with a bucket; both end with the test, as does ctx (3 minutes).
func ownMinIO(t *testing.T) (context.Context, *storagetest.MinIO, string) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	srv, err := storagetest.StartMinIO(ctx, storagetest.MinIOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return ctx, srv, srv.NewBucket(t)
}

func TestRetryMinIORestart(t *testing.T) {
	ctx, srv, bucket := ownMinIO(t)
	logs := &recordingHandler{}
	cfg := srv.S3Config()
	cfg.Retry = storage.RetryOptions{MaxElapsed: 2 * time.Minute, InitialInterval: 50 * time.Millisecond, MaxInterval: 500 * time.Millisecond, Logger: slog.New(logs)}
	s, err := storage.Open(ctx, "s3://"+bucket, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rawOpts := srv.S3Options(bucket)
	rawOpts.MaxRetries = 1
	raw, err := storage.NewS3(ctx, rawOpts)
	if err != nil {
		t.Fatal(err)
	}
	before := bytes.Repeat([]byte("before the outage "), 1000)
	if err := s.Put(ctx, "articles/a/raw.html", bytes.NewReader(before), int64(len(before)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	// outage stops MinIO, checks that it is really down, and has it start
	// again once the retrying store has logged its first retry.
	outage := func() (restarted chan error) {
		srv.Stop()
		if _, err := raw.Stat(ctx, "articles/a/raw.html"); err == nil || storage.IsNotExist(err) {
			t.Fatalf("during the outage the unwrapped store answered Stat with %v", err)
		}
		retried := make(chan struct{})
		logs.arm(func() { close(retried) })
		restarted = make(chan error, 1)
		go func() {
			select {
			case <-retried:
				restarted <- srv.Start(ctx)
			case <-ctx.Done():
				restarted <- ctx.Err()
			}
		}()
		return restarted
	}

	// A multipart upload of unknown size cannot be replayed, but a seekable
	// reader can: 7 MiB, so that it crosses the 5 MiB part size.
	during := bytes.Repeat([]byte("written while MinIO was down "), 7<<20/29)
	restarted := outage()
	if err := s.Put(ctx, "articles/b/raw.html", bytes.NewReader(during), int64(len(during)), storage.PutOptions{}); err != nil {
		t.Fatalf("Put across the outage: %v", err)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("restart MinIO: %v", err)
	}
	if logs.count("storage retrying") == 0 || logs.count("storage recovered") != 1 {
		t.Errorf("logged %q, want retries and a recovery", logs.messages())
	}

	restarted = outage()
	var keys []string
	if err := s.List(ctx, "articles/", func(i storage.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatalf("List across the outage: %v", err)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("restart MinIO: %v", err)
	}
	if want := []string{"articles/a/raw.html", "articles/b/raw.html"}; !slices.Equal(keys, want) {
		t.Errorf("List = %q, want %q", keys, want)
	}

	restarted = outage()
	got := get(t, s, "articles/a/raw.html")
	if err := <-restarted; err != nil {
		t.Fatalf("restart MinIO: %v", err)
	}
	if got != string(before) {
		t.Errorf("object written before the outage: got %d bytes, want %d", len(got), len(before))
	}
	if got := get(t, s, "articles/b/raw.html"); got != string(during) {
		t.Errorf("object written during the outage: got %d bytes, want %d", len(got), len(during))
	}
}

// records returns the records kept with message msg.
func (h *recordingHandler) records(msg string) []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logRecord
	for _, r := range h.recs {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestRetryOutageAgainstMinIO: with MinIO stopped, calls are retried for
// the whole of MaxElapsed, not as many attempts as fit before the next
// wait would overrun it (the times the client logged prove it), and the
// outage is logged once at its start and once at its end, however many
// calls retried, each retry only at debug level.
func TestRetryOutageAgainstMinIO(t *testing.T) {
	ctx, srv, bucket := ownMinIO(t)
	logs := &recordingHandler{}
	const budget = 2 * time.Second
	cfg := srv.S3Config()
	cfg.Retry = storage.RetryOptions{MaxElapsed: budget, InitialInterval: 50 * time.Millisecond, MaxInterval: 700 * time.Millisecond, Logger: slog.New(logs)}
	s, err := storage.Open(ctx, "s3://"+bucket, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	const calls = 4
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Stat(ctx, "k")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "gave up after") {
			t.Errorf("call %d: %v, want it to give up", i, err)
		}
	}
	gaveUp := logs.records("storage giving up")
	if len(gaveUp) != calls {
		t.Fatalf("%d give-ups logged, want %d", len(gaveUp), calls)
	}
	for _, r := range gaveUp {
		if spent := r.time.Sub(start); spent < budget {
			t.Errorf("a call gave up %s after the outage began, before its %s budget was spent (attempts %s)", spent, budget, r.attrs["attempts"])
		}
	}
	retries := logs.records("storage retrying")
	for _, r := range retries {
		if r.level != slog.LevelDebug {
			t.Errorf("a retry logged at %s, want debug", r.level)
		}
	}
	if n := len(logs.records("storage unavailable; retrying")); n != 1 {
		t.Errorf("the outage start logged %d times for %d calls, want once", n, calls)
	}
	if u := logs.records("storage unavailable; retrying"); len(u) == 1 && strings.Contains(u[0].attrs["err"], "http://") {
		t.Errorf("the outage warning carries the request URL: %q", u[0].attrs["err"])
	}

	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "k"); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	rec := logs.records("storage recovered")
	if len(rec) != 1 {
		t.Fatalf("recovery logged %d times, want once", len(rec))
	}
	// Every attempt that was retried, the restarted server's first
	// answers included if it was still starting.
	if got, want := rec[0].attrs["failed_attempts"], fmt.Sprint(len(logs.records("storage retrying"))); got != want {
		t.Errorf("recovery counts %s failed attempts, want the %s retried", got, want)
	}
}
