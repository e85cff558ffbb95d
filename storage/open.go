package storage

import (
	"context"
	"errors"
)

// PLACEHOLDER: replaced by the storage implementation in this session.

// S3Config holds S3 settings.
type S3Config struct {
	Endpoint, AccessKey, SecretKey, Region string
}

// S3ConfigFromEnv reads S3 settings from the environment.
func S3ConfigFromEnv(getenv func(string) string) S3Config {
	return S3Config{Endpoint: getenv("AWS_ENDPOINT_URL"), AccessKey: getenv("AWS_ACCESS_KEY_ID"), SecretKey: getenv("AWS_SECRET_ACCESS_KEY"), Region: getenv("AWS_REGION")}
}

// Open opens a store.
func Open(ctx context.Context, spec string, s3 S3Config) (Store, error) { return nil, errors.New("todo") }
