package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// minioServer is the MinIO server all tests of this package share.
var minioServer *storagetest.MinIO

func TestMain(m *testing.M) {
	storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
}

// uniqueName is a bucket name no other test uses.
func uniqueName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func TestS3Conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return minioServer.NewBucketStore(t) })
}

// The same suite through a key prefix inside the bucket.
func TestS3ConformanceWithPrefix(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		opts := minioServer.S3Options(minioServer.NewBucket(t))
		opts.Prefix = "archives/linkarc/"
		s, err := storage.NewS3(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewS3(t *testing.T) {
	ctx := t.Context()
	existing := minioServer.NewBucket(t)
	tests := []struct {
		name    string
		edit    func(*storage.S3Options)
		wantErr string
	}{
		{"creates a missing bucket", func(o *storage.S3Options) { o.Bucket = uniqueName("created") }, ""},
		{"existing bucket", func(o *storage.S3Options) {}, ""},
		{"no endpoint", func(o *storage.S3Options) { o.Endpoint = "" }, "no endpoint"},
		{"bad bucket name", func(o *storage.S3Options) { o.Bucket = "Bad_Bucket" }, `bucket "Bad_Bucket"`},
		{"bad prefix", func(o *storage.S3Options) { o.Prefix = "a/../b" }, "invalid key"},
		{"wrong secret", func(o *storage.S3Options) { o.SecretKey = "wrong-secret-key" }, "signature"},
		{"nothing listening", func(o *storage.S3Options) { o.Endpoint = "127.0.0.1:1"; o.MaxRetries = 1 }, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := minioServer.S3Options(existing)
			tt.edit(&opts)
			_, err := storage.NewS3(ctx, opts)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("NewS3: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("NewS3 = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

// Concurrent NewS3 calls racing to create the same bucket all succeed.
func TestNewS3CreateRace(t *testing.T) {
	opts := minioServer.S3Options(uniqueName("race"))
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			_, err := storage.NewS3(t.Context(), opts)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// The prefix isolates a store from the rest of the bucket.
func TestS3Prefix(t *testing.T) {
	ctx := t.Context()
	bucket := minioServer.NewBucket(t)
	open := func(prefix string) *storage.S3 {
		opts := minioServer.S3Options(bucket)
		opts.Prefix = prefix
		s, err := storage.NewS3(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	whole, inner := open(""), open("/one/")
	other := open("one-more")
	for _, s := range []*storage.S3{inner, other} {
		if err := s.Put(ctx, "articles/x/meta.json", strings.NewReader("{}"), 2, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A foreign object that is no valid key, such as a "directory marker".
	if err := whole.Put(ctx, "one/ok", strings.NewReader(""), 0, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var all, innerKeys []string
	whole.List(ctx, "", func(i storage.Info) error { all = append(all, i.Key); return nil })
	inner.List(ctx, "", func(i storage.Info) error { innerKeys = append(innerKeys, i.Key); return nil })
	if want := []string{"one-more/articles/x/meta.json", "one/articles/x/meta.json", "one/ok"}; !slices.Equal(all, want) {
		t.Errorf("bucket holds %q, want %q", all, want)
	}
	if want := []string{"articles/x/meta.json", "ok"}; !slices.Equal(innerKeys, want) {
		t.Errorf("store with prefix lists %q, want %q", innerKeys, want)
	}
}

// Get reports a missing object at once, not at the first Read; and a
// deleted bucket is an error, not a missing object.
func TestS3GetMissing(t *testing.T) {
	ctx := t.Context()
	s := minioServer.NewBucketStore(t)
	rc, err := s.Get(ctx, "no/such/key")
	if !storage.IsNotExist(err) || rc != nil {
		t.Fatalf("Get missing = %v, %v; want not-exist and no reader", rc, err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("v"), 1, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err = s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if string(b) != "v" || err != nil {
		t.Errorf("Get = %q, %v", b, err)
	}
}

// A per-call deadline bounds S3 calls.
func TestS3Deadline(t *testing.T) {
	s := minioServer.NewBucketStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := s.Stat(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat after the deadline = %v, want context.DeadlineExceeded", err)
	}
}
