package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Config says where the S3 service of s3:// stores is and how to sign in.
// S3ConfigFromEnv reads it the way the AWS tools do.
type S3Config struct {
	// Endpoint is the service's URL; its scheme picks plain HTTP
	// ("http://127.0.0.1:9000") or TLS ("https://s3.example.com").
	Endpoint string

	AccessKey, SecretKey string
	SessionToken         string // only for temporary credentials
	Region               string // empty: asked from the service

	// Retry tunes how failed S3 calls are retried, including the first
	// contact in Open. Set Retry.Logger to have retries logged.
	Retry RetryOptions
}

// S3ConfigFromEnv reads S3Config from the variables the AWS tools use:
// AWS_ENDPOINT_URL_S3 (or else AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_REGION (or else
// AWS_DEFAULT_REGION).
func S3ConfigFromEnv(getenv func(string) string) S3Config {
	first := func(names ...string) string {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return v
			}
		}
		return ""
	}
	return S3Config{
		Endpoint:     first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		AccessKey:    first("AWS_ACCESS_KEY_ID"),
		SecretKey:    first("AWS_SECRET_ACCESS_KEY"),
		SessionToken: first("AWS_SESSION_TOKEN"),
		Region:       first("AWS_REGION", "AWS_DEFAULT_REGION"),
	}
}

// schemeRE matches the scheme of a URL-like store spec.
var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// Open opens the store that spec names:
//
//	s3://BUCKET[/PREFIX]  objects PREFIX/KEY in an S3 bucket (created if
//	                      missing) at s3.Endpoint; calls are retried as
//	                      NewRetrying does
//	file://PATH, PATH     a directory (created if missing), see NewLocal
//
// Errors name the spec.
func Open(ctx context.Context, spec string, s3 S3Config) (Store, error) {
	return open(ctx, spec, s3, true)
}

// ErrNoStore is returned (wrapped) by OpenExisting for a store that does
// not exist: no such directory, or no such bucket. Test for it with
// errors.Is.
var ErrNoStore = errors.New("no such store")

// noStoreError says what is missing, wrapping ErrNoStore without repeating it.
type noStoreError string

func (e noStoreError) Error() string { return string(e) }
func (e noStoreError) Unwrap() error { return ErrNoStore }

// OpenExisting is Open for those who only read an archive (the viewer, an
// export): it creates nothing, and a directory or bucket that does not
// exist is an error wrapping ErrNoStore, so that a mistyped --store is
// reported instead of served as an empty archive.
func OpenExisting(ctx context.Context, spec string, s3 S3Config) (Store, error) {
	return open(ctx, spec, s3, false)
}

func open(ctx context.Context, spec string, s3 S3Config, create bool) (Store, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("store: empty; want a directory or s3://BUCKET[/PREFIX]")
	}
	scheme := ""
	if m := schemeRE.FindStringSubmatch(spec); m != nil {
		scheme = strings.ToLower(m[1])
	}
	switch scheme {
	case "":
		return openLocal(spec, spec, create)
	case "file":
		return openLocal(spec, spec[len("file://"):], create)
	case "s3":
		st, err := openS3(ctx, spec[len("s3://"):], s3, create)
		if err != nil {
			return nil, fmt.Errorf("store %q: %w", spec, err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("store %q: unsupported scheme %q; want a directory, file://PATH or s3://BUCKET[/PREFIX]", spec, scheme)
}

func openLocal(spec, dir string, create bool) (Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("store %q: no directory after file://", spec)
	}
	if !create {
		fi, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store %q: %w", spec, noStoreError("the directory does not exist"))
		}
		if err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("store %q: not a directory", spec)
		}
	}
	l, err := NewLocal(dir)
	if err != nil {
		return nil, fmt.Errorf("store %q: %w", spec, err)
	}
	return l, nil
}

func openS3(ctx context.Context, rest string, cfg S3Config, create bool) (Store, error) {
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, errors.New("no bucket; want s3://BUCKET[/PREFIX]")
	}
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return nil, fmt.Errorf("bucket %q: %w", bucket, err)
	}
	if prefix = strings.TrimSuffix(prefix, "/"); prefix != "" {
		if err := ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("prefix: %w", err)
		}
	}
	host, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	opts := S3Options{
		Endpoint:     host,
		Secure:       secure,
		AccessKey:    cfg.AccessKey,
		SecretKey:    cfg.SecretKey,
		SessionToken: cfg.SessionToken,
		Region:       cfg.Region,
		Bucket:       bucket,
		Prefix:       prefix,
		MaxRetries:   1, // NewRetrying retries, with logging and one policy
		NoCreate:     !create,
	}
	retryOpts := cfg.Retry.withDefaults()
	// A service that is restarting as we start is worth a short wait; a
	// wrong endpoint should not keep the user waiting long.
	openOpts := retryOpts
	if openOpts.MaxElapsed > openWait {
		openOpts.MaxElapsed = openWait
	}
	var st *S3
	err = retry(ctx, openOpts, "open", "s3://"+rest, func() (err error) {
		st, err = NewS3(ctx, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return NewRetrying(st, retryOpts), nil
}

// openWait bounds the retrying of the first contact with S3 in Open.
const openWait = 15 * time.Second

// parseEndpoint splits an endpoint URL into the host[:port] the S3 client
// wants and whether to use TLS.
func parseEndpoint(raw string) (host string, secure bool, err error) {
	if raw == "" {
		return "", false, errors.New("no S3 endpoint: set AWS_ENDPOINT_URL, e.g. http://127.0.0.1:9000 for a local MinIO")
	}
	bad := fmt.Errorf("S3 endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", false, bad
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return u.Host, false, nil
	case "https":
		return u.Host, true, nil
	}
	return "", false, bad
}
