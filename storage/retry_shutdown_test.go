package storage

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestShutdownErrorsAreTransient: what a MinIO that is shutting down answers
// to the requests in flight, and what net/http reports for a request sent on
// a kept-alive connection the server had just closed, are both retried
// (found by cmd/linkarc TestArchiveStoreOutage on a loaded machine).
func TestShutdownErrorsAreTransient(t *testing.T) {
	ctx := context.Background()
	disconnected := s3Err(ctx, minio.ErrorResponse{Code: "ClientDisconnected", StatusCode: 499, Message: "Client disconnected before response was ready"})
	closedIdle := &url.Error{Op: "Put", URL: "http://127.0.0.1:9000/b/k", Err: errors.New("http: server closed idle connection")}
	for name, err := range map[string]error{"ClientDisconnected": disconnected, "server closed idle connection": closedIdle} {
		if !isTransient(err) {
			t.Errorf("%s: not retried: %v", name, err)
		}
	}
}
