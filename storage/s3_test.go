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

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

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

// The same suite through what storage.Open returns for s3:// specs: the
// S3 store inside the retrying wrapper, as linkarc uses it.
func TestOpenS3Conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := storage.Open(t.Context(), "s3://"+minioServer.NewBucket(t), minioServer.S3Config())
		if err != nil {
			t.Fatal(err)
		}
		if _, bare := s.(*storage.S3); bare {
			t.Fatalf("Open returned a bare %T, not the retrying wrapper", s)
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
		{"part size too small", func(o *storage.S3Options) { o.PartSize = 1 << 20 }, "below the 5 MiB"},
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
	if err := whole.Put(ctx, "one/ok", strings.NewReader(""), 0, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Objects other tools wrote whose names are no valid keys, such as
	// "directory markers", are not listed.
	client := minioClient(t)
	for _, name := range []string{"one/dir/", "one/sub/dir/"} {
		if _, err := client.PutObject(ctx, bucket, name, strings.NewReader(""), 0, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
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

func minioClient(t *testing.T) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(minioServer.Endpoint(), "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(minioServer.AccessKey, minioServer.SecretKey, ""), Region: storagetest.MinIORegion,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A failed multipart upload is aborted: no parts are left in the bucket,
// where they would take space without being listed.
func TestS3FailedPutLeavesNoUpload(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		put  func(ctx context.Context, s storage.Store) error
		want error
	}{
		{"reader fails after two parts", func(ctx context.Context, s storage.Store) error {
			r := io.MultiReader(io.LimitReader(zeroReader{}, 12<<20), errReader{errBoom})
			return s.Put(ctx, "articles/big/raw.html", r, -1, storage.PutOptions{})
		}, errBoom},
		{"context canceled after two parts", func(ctx context.Context, s storage.Store) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			r := io.LimitReader(&cancelAfter{after: 11 << 20, cancel: cancel}, 20<<20)
			return s.Put(ctx, "articles/big/raw.html", r, -1, storage.PutOptions{})
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := minioServer.NewBucket(t)
			s, err := storage.NewS3(t.Context(), minioServer.S3Options(bucket))
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.put(t.Context(), s); !errors.Is(err, tt.want) {
				t.Fatalf("Put = %v, want %v", err, tt.want)
			}
			for u := range minioClient(t).ListIncompleteUploads(t.Context(), bucket, "", true) {
				t.Errorf("incomplete upload left: %+v", u)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// cancelAfter yields zeros and cancels its context after some bytes.
type cancelAfter struct {
	n, after int
	cancel   context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
	}
	clear(p)
	c.n += len(p)
	return len(p), nil
}
