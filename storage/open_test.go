package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/storagetest"
)

func TestOpen(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	if err := os.WriteFile("a-file", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := minioServer.S3Config()
	good.Retry.MaxElapsed = 2 * time.Second
	noEndpoint := good
	noEndpoint.Endpoint = ""
	endpoint := func(e string) storage.S3Config { c := good; c.Endpoint = e; return c }
	wrongSecret := good
	wrongSecret.SecretKey = "not-the-secret"

	tests := []struct {
		name    string
		spec    string
		s3      storage.S3Config
		wantDir string // for local stores: the directory, relative to tmp
		wantErr string // substring of the error
	}{
		{name: "relative path", spec: "archive", wantDir: "archive"},
		{name: "dot path", spec: "./archive2/sub", wantDir: "archive2/sub"},
		{name: "absolute path", spec: filepath.Join(tmp, "abs"), wantDir: "abs"},
		{name: "file URL, absolute", spec: "file://" + filepath.Join(tmp, "viaurl"), wantDir: "viaurl"},
		{name: "file URL, relative", spec: "file://rel/dir", wantDir: "rel/dir"},
		{name: "path with a colon", spec: "dir:with:colons", wantDir: "dir:with:colons"},
		{name: "s3 bucket", spec: "s3://" + uniqueName("open"), s3: good},
		{name: "s3 bucket and prefix", spec: "s3://" + uniqueName("open") + "/some/prefix/", s3: good},
		{name: "s3 scheme in capitals", spec: "S3://" + uniqueName("open"), s3: good},

		{name: "empty", spec: "", wantErr: "empty"},
		{name: "blank", spec: "  ", wantErr: "empty"},
		{name: "file URL without path", spec: "file://", wantErr: "no directory"},
		{name: "path is a file", spec: "a-file", wantErr: "not a directory"},
		{name: "unknown scheme", spec: "gs://bucket", wantErr: `unsupported scheme "gs"`},
		{name: "http URL", spec: "http://example.com/archive", wantErr: `unsupported scheme "http"`},
		{name: "s3 without bucket", spec: "s3://", wantErr: "no bucket"},
		{name: "s3 empty bucket, prefix", spec: "s3:///prefix", wantErr: "no bucket"},
		{name: "s3 bad bucket", spec: "s3://Bad_Bucket", wantErr: `bucket "Bad_Bucket"`},
		{name: "s3 bucket too short", spec: "s3://ab", wantErr: `bucket "ab"`},
		{name: "s3 bad prefix", spec: "s3://bucket/a/../b", wantErr: "invalid key"},
		{name: "s3 without endpoint", spec: "s3://bucket", s3: noEndpoint, wantErr: "set AWS_ENDPOINT_URL"},
		{name: "s3 endpoint without scheme", spec: "s3://bucket", s3: endpoint("127.0.0.1:9000"), wantErr: "want http://HOST[:PORT] or https://HOST[:PORT]"},
		{name: "s3 endpoint ftp", spec: "s3://bucket", s3: endpoint("ftp://127.0.0.1:9000"), wantErr: "want http://HOST"},
		{name: "s3 endpoint with path", spec: "s3://bucket", s3: endpoint(good.Endpoint + "/sub"), wantErr: "want http://HOST"},
		{name: "s3 endpoint https to a plain HTTP server", spec: "s3://bucket", s3: endpoint(strings.Replace(good.Endpoint, "http://", "https://", 1)), wantErr: "HTTP response to HTTPS client"},
		{name: "s3 wrong secret", spec: "s3://" + uniqueName("open"), s3: wrongSecret, wantErr: "signature"},
		{name: "s3 nothing listening", spec: "s3://bucket", s3: endpoint("http://127.0.0.1:1"), wantErr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := storage.Open(t.Context(), tt.spec, tt.s3)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open(%q) = %v, want error containing %q", tt.spec, err, tt.wantErr)
				}
				if strings.TrimSpace(tt.spec) != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.spec)) {
					t.Errorf("error %q does not name the spec %q", err, tt.spec)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.spec, err)
			}
			if tt.wantDir != "" {
				l, ok := st.(*storage.Local)
				if !ok {
					t.Fatalf("Open(%q) = %T, want *storage.Local", tt.spec, st)
				}
				if want := filepath.Join(tmp, filepath.FromSlash(tt.wantDir)); l.Dir() != want {
					t.Errorf("Open(%q).Dir() = %q, want %q", tt.spec, l.Dir(), want)
				}
			}
			roundTrip(t, st)
		})
	}
}

func roundTrip(t *testing.T, st storage.Store) {
	t.Helper()
	ctx := t.Context()
	if err := st.Put(ctx, "articles/x/meta.json", strings.NewReader("{}"), 2, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := st.Get(ctx, "articles/x/meta.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "{}" {
		t.Errorf("Get = %q", b)
	}
}

// The PREFIX of s3://BUCKET/PREFIX is where the keys go in the bucket.
func TestOpenS3Prefix(t *testing.T) {
	ctx := t.Context()
	bucket := minioServer.NewBucket(t)
	st, err := storage.Open(ctx, "s3://"+bucket+"/team/linkarc", minioServer.S3Config())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, st)
	raw, err := storage.NewS3(ctx, minioServer.S3Options(bucket))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := raw.List(ctx, "", func(i storage.Info) error { got = append(got, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"team/linkarc/articles/x/meta.json"}; !slices.Equal(got, want) {
		t.Errorf("bucket holds %q, want %q", got, want)
	}
}

func TestS3ConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want storage.S3Config
	}{
		{"nothing set", nil, storage.S3Config{}},
		{"all set", map[string]string{
			"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
			"AWS_SESSION_TOKEN": "token", "AWS_REGION": "eu-west-1",
		}, storage.S3Config{Endpoint: "http://127.0.0.1:9000", AccessKey: "id", SecretKey: "secret", SessionToken: "token", Region: "eu-west-1"}},
		{"S3-specific endpoint wins", map[string]string{
			"AWS_ENDPOINT_URL": "http://general:1", "AWS_ENDPOINT_URL_S3": "https://s3only:2",
		}, storage.S3Config{Endpoint: "https://s3only:2"}},
		{"default region as fallback", map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}, storage.S3Config{Region: "us-west-2"}},
		{"region beats default region", map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "eu-central-1"}, storage.S3Config{Region: "eu-central-1"}},
		{"blanks trimmed", map[string]string{"AWS_ENDPOINT_URL": " http://x:1 \n"}, storage.S3Config{Endpoint: "http://x:1"}},
	}
	for _, tt := range tests {
		got := storage.S3ConfigFromEnv(func(k string) string { return tt.env[k] })
		if got != tt.want {
			t.Errorf("%s: S3ConfigFromEnv = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestOpenExisting: OpenExisting opens what exists and creates nothing: a
// missing directory or bucket is ErrNoStore, and is still missing after.
// Credentials S3 refuses are ErrAccessDenied, whatever the call.
func TestOpenExisting(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	if _, err := storage.OpenExisting(ctx, dir, storage.S3Config{}); err != nil {
		t.Errorf("existing directory: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	_, err := storage.OpenExisting(ctx, missing, storage.S3Config{})
	if !errors.Is(err, storage.ErrNoStore) || !strings.Contains(err.Error(), "the directory does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("OpenExisting created %s", missing)
	}

	if _, err := storage.OpenExisting(ctx, "s3://"+minioServer.NewBucket(t)+"/prefix", minioServer.S3Config()); err != nil {
		t.Errorf("existing bucket: %v", err)
	}
	name := uniqueName("missing")
	_, err = storage.OpenExisting(ctx, "s3://"+name, minioServer.S3Config())
	if !errors.Is(err, storage.ErrNoStore) || !strings.Contains(err.Error(), "the bucket does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	client, err := minio.New(strings.TrimPrefix(minioServer.Endpoint(), "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(minioServer.AccessKey, minioServer.SecretKey, ""), Region: storagetest.MinIORegion})
	if err != nil {
		t.Fatal(err)
	}
	if exists, err := client.BucketExists(ctx, name); exists || err != nil {
		t.Errorf("OpenExisting created the bucket %s (%v)", name, err)
	}

	for _, cfg := range []storage.S3Config{
		{Endpoint: minioServer.Endpoint(), AccessKey: "NOSUCHKEY", SecretKey: "x", Region: storagetest.MinIORegion},
		{Endpoint: minioServer.Endpoint(), AccessKey: minioServer.AccessKey, SecretKey: "not-the-secret", Region: storagetest.MinIORegion},
	} {
		for _, open := range []func(context.Context, string, storage.S3Config) (storage.Store, error){storage.Open, storage.OpenExisting} {
			if _, err := open(ctx, "s3://"+uniqueName("denied"), cfg); !errors.Is(err, storage.ErrAccessDenied) {
				t.Errorf("key %s: %v, want ErrAccessDenied", cfg.AccessKey, err)
			}
		}
	}
}
