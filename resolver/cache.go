package resolver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Cache remembers which publisher URL a Google News article id or a short
// link (IsShortLink) resolved to, so that a link costs requests once, ever.
// Its key is the id, or the short link as an absolute URL (an id never
// holds "://"). Only successes are put; signatures are never cached (they
// change on every fetch), nor other links' redirects (whose last page is
// the answer, and may change).
//
// Implementations must be safe for concurrent use. A Get error is logged and
// treated as a miss; a Put error is logged and otherwise ignored, so a broken
// cache costs requests, never results.
type Cache interface {
	// Get returns the URL stored for key; ok is false when there is none.
	Get(ctx context.Context, key string) (url string, ok bool, err error)
	// Put stores the URL key resolved to, replacing any earlier one.
	Put(ctx context.Context, key, url string) error
}

// CacheDates is implemented by a Cache that knows when each entry was put.
// A cache hit then says when its link was first resolved
// (Result.ResolvedAt), which a capture records as its provenance. Both
// caches of this package implement it; entries written before the time
// was kept have none (zero).
type CacheDates interface {
	// GetDated is Get, with the time the entry was put (zero if unknown).
	GetDated(ctx context.Context, key string) (url string, resolvedAt time.Time, ok bool, err error)
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

// NewStoreCache returns a Cache kept in s, one object per key: ids under
// cache/gnews/ (record.GNewsCacheKey), short links under cache/links/
// (record.LinkCacheKey), so that every machine sharing the store (a
// directory or an S3 bucket) reuses every resolution.
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
func (c *storeCache) GetDated(ctx context.Context, key string) (string, time.Time, bool, error) {
	obj, e := c.entry(key)
	err := record.ReadJSON(ctx, c.s, obj, e)
	switch {
	case storage.IsNotExist(err):
		return "", time.Time{}, false, nil
	case errors.Is(err, record.ErrUnreadable):
		return "", time.Time{}, false, fmt.Errorf("resolver cache %s: not a cache entry (delete it to resolve again)", obj)
	case err != nil:
		return "", time.Time{}, false, fmt.Errorf("resolver cache: %w", err)
	}
	k, u, at := e.fields()
	if k != key {
		return "", time.Time{}, false, nil // a hash collision, or a hand-edited object: not ours
	}
	u, ok := cleanURL(u)
	if !ok {
		return "", time.Time{}, false, fmt.Errorf("resolver cache %s: stored URL %q is not a usable http(s) URL (delete it to resolve again)", obj, textnorm.Shorten(u, 80))
	}
	return u, at, true, nil
}

func (c *storeCache) Put(ctx context.Context, key, u string) error {
	obj, e := c.entry(key)
	e.set(key, u, c.now().UTC())
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("resolver cache encode: %w", err)
	}
	if err := c.s.Put(ctx, obj, bytes.NewReader(b), int64(len(b)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("resolver cache put %s: %w", obj, err)
	}
	return nil
}

// cacheEntry is the record of one key: a Google News id's, or a short
// link's.
type cacheEntry interface {
	fields() (key, url string, at time.Time)
	set(key, url string, at time.Time)
}

// entry returns the store key of key's entry and an empty record of its
// kind.
func (c *storeCache) entry(key string) (string, cacheEntry) {
	if isLinkKey(key) {
		return record.LinkCacheKey(key), &linkEntry{}
	}
	return record.GNewsCacheKey(key), &gnewsEntry{}
}

// isLinkKey tells a short link's key from an id's.
func isLinkKey(key string) bool { return strings.Contains(key, "://") }

type gnewsEntry record.GNewsCacheEntry

func (e *gnewsEntry) fields() (string, string, time.Time) { return e.ID, e.URL, e.ResolvedAt }
func (e *gnewsEntry) set(k, u string, at time.Time)       { e.ID, e.URL, e.ResolvedAt = k, u, at }

type linkEntry record.LinkCacheEntry

func (e *linkEntry) fields() (string, string, time.Time) { return e.Link, e.URL, e.ResolvedAt }
func (e *linkEntry) set(k, u string, at time.Time)       { e.Link, e.URL, e.ResolvedAt = k, u, at }
