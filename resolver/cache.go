package resolver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Cache remembers which publisher URL a Google News article id resolved to,
// so that a link costs Google requests once, ever. Only successes are put;
// signatures are never cached (they change on every fetch).
//
// Implementations must be safe for concurrent use. A Get error is logged and
// treated as a miss; a Put error is logged and otherwise ignored, so a broken
// cache costs requests, never results.
type Cache interface {
	// Get returns the URL stored for id; ok is false when there is none.
	Get(ctx context.Context, id string) (url string, ok bool, err error)
	// Put stores the URL id resolved to, replacing any earlier one.
	Put(ctx context.Context, id, url string) error
}

// CacheDates is implemented by a Cache that knows when each entry was put.
// A cache hit then says when its link was first resolved
// (Result.ResolvedAt), which a capture records as its provenance. Both
// caches of this package implement it; entries written before the time
// was kept have none (zero).
type CacheDates interface {
	// GetDated is Get, with the time the entry was put (zero if unknown).
	GetDated(ctx context.Context, id string) (url string, resolvedAt time.Time, ok bool, err error)
}

// NewMemoryCache returns a Cache that lives as long as the process: the
// default of a Resolver with no Cache, and the right one for --no-cache runs
// and tests.
func NewMemoryCache() Cache { return &memoryCache{m: make(map[string]memoryEntry)} }

type memoryCache struct {
	mu sync.Mutex
	m  map[string]memoryEntry
}

type memoryEntry struct {
	url string
	at  time.Time
}

func (c *memoryCache) Get(ctx context.Context, id string) (string, bool, error) {
	u, _, ok, err := c.GetDated(ctx, id)
	return u, ok, err
}

func (c *memoryCache) GetDated(_ context.Context, id string) (string, time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return e.url, e.at, ok, nil
}

func (c *memoryCache) Put(_ context.Context, id, u string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = memoryEntry{url: u, at: time.Now().UTC()}
	return nil
}

// NewStoreCache returns a Cache kept in s, one object per id under
// cache/gnews/, so that every machine sharing the store (a directory or an
// S3 bucket) reuses every resolution.
func NewStoreCache(s storage.Store) Cache { return &storeCache{s: s, now: time.Now} }

type storeCache struct {
	s   storage.Store
	now func() time.Time
}

func (c *storeCache) Get(ctx context.Context, id string) (string, bool, error) {
	u, _, ok, err := c.GetDated(ctx, id)
	return u, ok, err
}

// GetDated reads the entry; its resolved_at is zero in entries that lack
// it.
func (c *storeCache) GetDated(ctx context.Context, id string) (string, time.Time, bool, error) {
	key := record.GNewsCacheKey(id)
	var e record.GNewsCacheEntry
	err := record.ReadJSON(ctx, c.s, key, &e)
	switch {
	case storage.IsNotExist(err):
		return "", time.Time{}, false, nil
	case errors.Is(err, record.ErrUnreadable):
		return "", time.Time{}, false, fmt.Errorf("resolver cache %s: not a cache entry (delete it to resolve again)", key)
	case err != nil:
		return "", time.Time{}, false, fmt.Errorf("resolver cache: %w", err)
	}
	if e.ID != id {
		return "", time.Time{}, false, nil // a hash collision, or a hand-edited object: not ours
	}
	u, ok := cleanURL(e.URL)
	if !ok {
		return "", time.Time{}, false, fmt.Errorf("resolver cache %s: stored URL %q is not a usable http(s) URL (delete it to resolve again)", key, textnorm.Shorten(e.URL, 80))
	}
	return u, e.ResolvedAt, true, nil
}

func (c *storeCache) Put(ctx context.Context, id, u string) error {
	b, err := json.Marshal(record.GNewsCacheEntry{ID: id, URL: u, ResolvedAt: c.now().UTC()})
	if err != nil {
		return fmt.Errorf("resolver cache encode: %w", err)
	}
	key := record.GNewsCacheKey(id)
	if err := c.s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("resolver cache put %s: %w", key, err)
	}
	return nil
}
