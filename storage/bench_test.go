package storage_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/linkarc/linkarc/storage"
)

// benchBackends are the stores benchmarked, local first as the baseline.
var benchBackends = []struct {
	name string
	new  func(testing.TB) storage.Store
}{
	{"local", func(tb testing.TB) storage.Store { return newLocal(tb) }},
	{"minio", func(tb testing.TB) storage.Store { return minioServer.NewBucketStore(tb) }},
}

// BenchmarkPutGet writes an object and reads it back; MB/s counts the
// object once per Put+Get pair.
func BenchmarkPutGet(b *testing.B) {
	for _, size := range []int{64 << 10, 4 << 20} {
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{1}).Read(data)
		for _, be := range benchBackends {
			b.Run(fmt.Sprintf("%s/%dKiB", be.name, size>>10), func(b *testing.B) {
				s := be.new(b)
				ctx := b.Context()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					key := fmt.Sprintf("bench/%d/raw.html", i%16)
					if err := s.Put(ctx, key, bytes.NewReader(data), int64(size), storage.PutOptions{}); err != nil {
						b.Fatal(err)
					}
					rc, err := s.Get(ctx, key)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.Copy(io.Discard, rc)
					rc.Close()
					if err != nil || n != int64(size) {
						b.Fatalf("read %d bytes: %v", n, err)
					}
				}
			})
		}
	}
}

// BenchmarkList lists an archive of 1000 articles (2000 objects); ns/op
// and B/op are per listing.
func BenchmarkList(b *testing.B) {
	const articles = 1000
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.new(b)
			ctx := b.Context()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for i := range articles {
				for _, name := range []string{"meta.json", "raw.html"} {
					wg.Go(func() {
						sem <- struct{}{}
						defer func() { <-sem }()
						if err := s.Put(ctx, "articles/"+fmt.Sprintf("slug-%d", i)+"/"+name, bytes.NewReader(nil), 0, storage.PutOptions{}); err != nil {
							b.Error(err)
						}
					})
				}
			}
			wg.Wait()
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				if err := s.List(ctx, "articles/", func(storage.Info) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				if n != 2*articles {
					b.Fatalf("listed %d objects, want %d", n, 2*articles)
				}
			}
		})
	}
}

// zeros is an endless reader that is not an io.Seeker, like a network body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// BenchmarkPutStreamed uploads 32 MiB of unknown size. B/op shows the
// memory an upload takes: about one part (5 MiB) for S3, not the object.
func BenchmarkPutStreamed(b *testing.B) {
	const size = 32 << 20
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.new(b)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Put(b.Context(), "bench/streamed", io.LimitReader(zeros{}, size), -1, storage.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConditional is the cost of a lease renewal, a compare-and-swap
// of a 200-byte object (GetVersion, then PutIf with its ETag), against a
// plain Put of the same object as the baseline, per backend.
func BenchmarkConditional(b *testing.B) {
	data := bytes.Repeat([]byte("l"), 200)
	for _, be := range benchBackends {
		b.Run(be.name+"/put", func(b *testing.B) {
			s := be.new(b)
			ctx := b.Context()
			for b.Loop() {
				if err := s.Put(ctx, "leases/articles/x.json", bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(be.name+"/cas", func(b *testing.B) {
			s := be.new(b)
			c, _ := storage.AsConditional(s)
			ctx := b.Context()
			if _, err := c.PutIf(ctx, "leases/articles/x.json", bytes.NewReader(data), int64(len(data)), "", storage.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				rc, etag, err := c.GetVersion(ctx, "leases/articles/x.json")
				if err != nil {
					b.Fatal(err)
				}
				rc.Close()
				next := append(fmt.Appendf(nil, "%d ", i), data...)
				if _, err := c.PutIf(ctx, "leases/articles/x.json", bytes.NewReader(next), int64(len(next)), etag, storage.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
