package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Options configures NewS3, in the manner of minio.Options.
type S3Options struct {
	// Endpoint is the S3 service's host[:port], without a scheme, e.g.
	// "127.0.0.1:9000" or "s3.eu-west-1.amazonaws.com".
	Endpoint string
	// Secure selects HTTPS.
	Secure bool

	AccessKey, SecretKey string
	// SessionToken is needed only with temporary credentials.
	SessionToken string
	// Region of the bucket; empty lets the client ask the service.
	Region string

	// Bucket holds the archive; NewS3 creates it if it does not exist,
	// unless NoCreate is set: then a missing bucket is an error wrapping
	// ErrNoStore.
	Bucket   string
	NoCreate bool
	// Prefix is prepended to every key, so that several archives (or other
	// data) can share a bucket: Prefix "linkarc" stores key
	// "articles/x/meta.json" as object "linkarc/articles/x/meta.json".
	Prefix string

	// PartSize is the part size of uploads of unknown length, which buffer
	// one part in memory; 0 means 5 MiB, the smallest S3 accepts (objects
	// of unknown size are then limited to 10000 parts, about 48 GiB).
	PartSize uint64

	// MaxRetries is how often the S3 client itself retries a request; 0
	// keeps minio-go's default (10), 1 disables retrying, for stores
	// wrapped by NewRetrying.
	MaxRetries int

	// Transport replaces the HTTP transport, e.g. for custom TLS roots.
	Transport http.RoundTripper
}

// defaultPartSize is S3's minimum part size. Parts of unknown-size uploads
// are buffered, so the smallest keeps memory per upload low.
const defaultPartSize = 5 << 20

// S3 is a Store in an S3 bucket (MinIO, AWS S3 or compatible). Each key is
// one object, named Prefix + key. Puts are atomic because S3 makes an object
// visible only once its upload completes; failed multipart uploads are
// aborted.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string // "" or ending in "/"
	partSize uint64
}

// NewS3 connects to the bucket, creating it if it does not exist.
func NewS3(ctx context.Context, opts S3Options) (*S3, error) {
	if opts.Endpoint == "" {
		return nil, errors.New("s3: no endpoint")
	}
	if err := s3utils.CheckValidBucketNameStrict(opts.Bucket); err != nil {
		return nil, fmt.Errorf("s3 bucket %q: %w", opts.Bucket, err)
	}
	prefix := strings.Trim(opts.Prefix, "/")
	if prefix != "" {
		if err := ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("s3 prefix: %w", err)
		}
		prefix += "/"
	}
	if opts.PartSize != 0 && opts.PartSize < defaultPartSize {
		return nil, fmt.Errorf("s3: part size %d below the 5 MiB S3 requires", opts.PartSize)
	}
	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, opts.SessionToken),
		Secure:     opts.Secure,
		Region:     opts.Region,
		MaxRetries: opts.MaxRetries,
		Transport:  opts.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %q: %w", opts.Endpoint, err)
	}
	s := &S3{client: client, bucket: opts.Bucket, prefix: prefix, partSize: opts.PartSize}
	if s.partSize == 0 {
		s.partSize = defaultPartSize
	}
	if err := s.ensureBucket(ctx, opts.Region, opts.NoCreate); err != nil {
		return nil, fmt.Errorf("s3 bucket %q at %s: %w", opts.Bucket, opts.Endpoint, err)
	}
	return s, nil
}

func (s *S3) ensureBucket(ctx context.Context, region string, noCreate bool) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s3Err(ctx, err)
	}
	if exists {
		return nil
	}
	if noCreate {
		return noStoreError("the bucket does not exist")
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err == nil {
		return nil
	}
	// Another process may have created it since we looked.
	switch errorResponse(err).Code {
	case "BucketAlreadyOwnedByYou":
		return nil
	case "BucketAlreadyExists":
		if exists, _ := s.client.BucketExists(ctx, s.bucket); exists {
			return nil
		}
		return fmt.Errorf("the bucket name is taken by another account: %w", err)
	}
	return fmt.Errorf("create: %w", s3Err(ctx, err))
}

func (s *S3) object(key string) string { return s.prefix + key }

// Put implements Store. Objects of unknown size are uploaded in parts of
// S3Options.PartSize, so memory stays bounded.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	contentType := opts.ContentType
	if contentType == "" {
		contentType = mime.TypeByExtension(path.Ext(key))
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	po := minio.PutObjectOptions{ContentType: contentType}
	if size < 0 {
		po.PartSize = s.partSize
	}
	body := newPutBody(ctx, r, size)
	if _, err := s.client.PutObject(ctx, s.bucket, s.object(key), body, size, po); err != nil {
		if berr := body.failure(); berr != nil {
			err = berr // the cause; the client may have disguised it
		}
		return fmt.Errorf("put %q: %w", key, s3Err(ctx, err))
	}
	return nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %q: %w", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", key, s3Err(ctx, err))
	}
	// GetObject is lazy; Stat sends the request, so that a missing object
	// is reported here and not on the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, fmt.Errorf("get %q: %w", key, s3Err(ctx, err))
	}
	return obj, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, fmt.Errorf("stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("stat %q: %w", key, err)
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("stat %q: %w", key, s3Err(ctx, err))
	}
	return Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// List implements Store. Objects in the bucket whose names are not valid
// keys (written by other tools) are skipped.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	// Canceling lctx is how one stops the client's listing early.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.object(prefix), Recursive: true}
	for oi := range s.client.ListObjectsIter(lctx, s.bucket, opts) {
		if oi.Err != nil {
			return fmt.Errorf("list %q: %w", prefix, s3Err(ctx, oi.Err))
		}
		key, ok := strings.CutPrefix(oi.Key, s.prefix)
		if !ok || ValidKey(key) != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		if err := fn(Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	return nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{}); err != nil {
		if err := s3Err(ctx, err); !IsNotExist(err) {
			return fmt.Errorf("delete %q: %w", key, err)
		}
	}
	return nil
}

// errorResponse returns the S3 error in err's chain, or a zero one.
func errorResponse(err error) minio.ErrorResponse {
	var resp minio.ErrorResponse
	errors.As(err, &resp)
	return resp
}

// ErrAccessDenied is returned (wrapped) when S3 refuses the credentials
// or what they may do: AccessDenied, InvalidAccessKeyId,
// SignatureDoesNotMatch and the like. Retrying does not help; the user
// must give other credentials. Test for it with errors.Is.
var ErrAccessDenied = errors.New("S3 refused the credentials")

// authCodes are the S3 error codes of ErrAccessDenied.
var authCodes = map[string]bool{
	"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"InvalidToken": true, "ExpiredToken": true, "AllAccessDisabled": true,
}

// s3Err classifies an S3 client error: missing objects wrap ErrNotExist,
// errors the service says may pass are marked transient for NewRetrying,
// and a canceled or expired ctx shows in the chain.
func s3Err(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	resp := errorResponse(err)
	if authCodes[resp.Code] {
		return fmt.Errorf("%w (%s): %w", ErrAccessDenied, resp.Code, err)
	}
	switch resp.Code {
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%w: %w", ErrNotExist, err)
	case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "XMinioServerNotInitialized",
		"ClientDisconnected": // MinIO shutting down cancels the requests in flight
		return &transientError{err}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return &transientError{err}
	}
	// minio-go replaces HTTP errors that mention EOF (the server closed the
	// connection) with an error of its own, losing the original.
	if urlErr := (*url.Error)(nil); errors.As(err, &urlErr) && strings.HasPrefix(urlErr.Err.Error(), "Connection closed by foreign host") {
		return &transientError{err}
	}
	return err
}

// GetVersion implements Conditional. The object is read whole (it is a
// conditional object, at most MaxConditionalSize bytes): minio-go learns
// the ETag from a HEAD and reads with If-Match on it, so an object replaced
// in between fails the read, and the pair is asked again.
func (s *S3) GetVersion(ctx context.Context, key string) (io.ReadCloser, string, error) {
	if err := ValidKey(key); err != nil {
		return nil, "", fmt.Errorf("get: %w", err)
	}
	var err error
	for range 5 {
		var data []byte
		var etag string
		data, etag, err = s.getVersion(ctx, key)
		if err == nil {
			return io.NopCloser(bytes.NewReader(data)), etag, nil
		}
		if resp := errorResponse(err); resp.Code != "PreconditionFailed" && resp.StatusCode != http.StatusPreconditionFailed {
			break
		}
	}
	return nil, "", fmt.Errorf("get %q: %w", key, s3Err(ctx, err))
}

func (s *S3) getVersion(ctx context.Context, key string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, "", err
	}
	defer obj.Close()
	oi, err := obj.Stat()
	if err != nil {
		return nil, "", err
	}
	if oi.Size > MaxConditionalSize {
		return nil, "", fmt.Errorf("%d bytes, too large for a conditional object (at most %d)", oi.Size, MaxConditionalSize)
	}
	data, err := io.ReadAll(io.LimitReader(obj, MaxConditionalSize+1))
	if err != nil {
		return nil, "", err
	}
	return data, oi.ETag, nil
}

// PutIf implements Conditional with S3's conditional writes: If-None-Match: *
// to create, If-Match: <etag> to replace (MinIO, and AWS S3 since 2024).
func (s *S3) PutIf(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, opts PutOptions) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("put %q: %w", key, err)
	}
	if size < 0 || size > MaxConditionalSize {
		return "", fmt.Errorf("put %q: conditional writes need a known size of at most %d bytes, not %d", key, MaxConditionalSize, size)
	}
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	po := minio.PutObjectOptions{ContentType: contentType}
	if ifMatch == "" {
		po.SetMatchETagExcept("*")
	} else {
		po.SetMatchETag(ifMatch)
	}
	body := newPutBody(ctx, r, size)
	info, err := s.client.PutObject(ctx, s.bucket, s.object(key), body, size, po)
	if err != nil {
		if berr := body.failure(); berr != nil {
			err = berr
		}
		resp := errorResponse(err)
		switch {
		case resp.Code == "PreconditionFailed" || resp.StatusCode == http.StatusPreconditionFailed,
			ifMatch != "" && (resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound):
			return "", fmt.Errorf("put %q: %w: %w", key, ErrPreconditionFailed, err)
		}
		return "", fmt.Errorf("put %q: %w", key, s3Err(ctx, err))
	}
	return info.ETag, nil
}
