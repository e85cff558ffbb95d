package viewer

import (
	"context"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// minioServer is the MinIO the tests share; tests that stop a server start
// their own.
var minioServer *storagetest.MinIO

func TestMain(m *testing.M) {
	storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
}

// backend makes an empty store of one kind.
type backend struct {
	name     string
	newStore func(t testing.TB) storage.Store
}

// backends are the stores every handler test runs against: the local
// directory and a real MinIO.
func backends() []backend {
	return []backend{
		{"local", func(t testing.TB) storage.Store {
			st, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatalf("local store: %v", err)
			}
			return st
		}},
		{"minio", func(t testing.TB) storage.Store { return minioServer.NewBucketStore(t) }},
	}
}

// testContext is a context that ends with the test.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
