package viewer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// digestSummary is what the home page and /api/digests show of a digest.
type digestSummary struct {
	Slug       string    `json:"slug"`
	Title      string    `json:"title"`
	Date       string    `json:"date,omitempty"` // as the digest's front matter gives it
	ArchivedAt time.Time `json:"archived_at,omitzero"`
	Articles   int       `json:"articles"`
	OK         int       `json:"ok"`
	Blocked    int       `json:"blocked"`
	Failed     int       `json:"failed"`
	// Tags are the digest's own tags (front-matter categories, then tags).
	Tags []string `json:"tags,omitempty"`

	when          time.Time           // sort key: the digest's date, else when it was archived
	version       string              // fingerprint of the record it was read from
	fmSlug        string              // the front matter's slug:, lower case
	lead          string              // slug of its first article with a valid slug
	itemTags      []string            // its items' tags that are not its own
	tagKeys       []string            // its tags and its items', lower case
	publishers    []string            // publishers of its articles, as first spelled
	publisherKeys []string            // the same, lower case
	articleTags   map[string][]string // article slug -> the tags it has in this digest
}

func summarize(d *record.DigestRecord, version string) digestSummary {
	s := digestSummary{
		Slug:       d.Slug,
		Title:      strings.TrimSpace(d.FrontMatter.Title),
		Date:       strings.TrimSpace(d.FrontMatter.Date),
		ArchivedAt: d.ArchivedAt,
		Articles:   len(d.Articles),
		version:    version,
	}
	if d.Parts > 0 {
		// The record holds the first articles; its counts count them all.
		s.Articles = 0
		for _, n := range d.Counts {
			s.Articles += n
		}
	}
	if s.Title == "" {
		s.Title = d.Slug
	}
	if len(d.Counts) > 0 {
		s.OK, s.Blocked, s.Failed = d.Counts[record.StatusOK], d.Counts[record.StatusBlocked], d.Counts[record.StatusFailed]
	} else {
		for _, a := range d.Articles {
			switch a.Status {
			case record.StatusOK:
				s.OK++
			case record.StatusBlocked:
				s.Blocked++
			case record.StatusFailed:
				s.Failed++
			}
		}
	}
	s.when = d.ArchivedAt
	if t, ok := parseDate(s.Date); ok {
		s.when = t
	}
	s.fmSlug = strings.ToLower(strings.TrimSpace(d.FrontMatter.Slug))
	s.Tags = digestTags(d)
	all := tagSet{}
	all.add(s.Tags...)
	pubs := tagSet{}
	for _, a := range d.Articles {
		all.add(a.Tags...)
		pubs.add(a.Publisher)
		if !record.ValidSlug(a.Slug) {
			continue
		}
		if s.lead == "" {
			s.lead = a.Slug
		}
		if len(s.Tags) > 0 || len(a.Tags) > 0 {
			ts := tagSet{max: maxTagsPerDigest}
			ts.add(s.Tags...)
			ts.add(a.Tags...)
			if s.articleTags == nil {
				s.articleTags = map[string][]string{}
			}
			s.articleTags[a.Slug] = ts.list
		}
	}
	s.itemTags = all.list[len(s.Tags):]
	s.tagKeys = lowerAll(all.list)
	s.publishers, s.publisherKeys = pubs.list, lowerAll(pubs.list)
	return s
}

func lowerAll(list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = strings.ToLower(v)
	}
	return out
}

// parseDate reads the date forms digests use in their front matter.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// CatalogStats describes the in-memory digest list, for /healthz.
type CatalogStats struct {
	Digests     int       `json:"digests"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// catalog is the list of digest summaries, newest first, kept in memory and
// refreshed in the background so that the home page costs no store reads.
// Only digests whose record changed since the last refresh are re-read.
type catalog struct {
	store storage.Store
	log   *slog.Logger

	refreshMu sync.Mutex // one refresh at a time

	mu      sync.RWMutex
	loaded  bool
	digests []digestSummary // newest first
	bySlug  map[string]int  // index into digests
	derived catalogIndex
	stats   CatalogStats
}

// catalogIndex is what the catalog derives from all its digests at each
// refresh. It is replaced whole, never modified, so readers may keep it.
type catalogIndex struct {
	byFMSlug    map[string]string   // front-matter slug (lower case) -> digest slug, newest digest
	articleTags map[string][]string // article slug -> its tags in every digest listing it
	tags        []tagCount          // every tag, most used first
	publishers  []string            // every publisher, by name
}

// tagCount is a tag and the number of digests that have it.
type tagCount struct {
	Tag     string `json:"tag"`
	Digests int    `json:"digests"`
}

func deriveIndex(digests []digestSummary) catalogIndex {
	ix := catalogIndex{byFMSlug: map[string]string{}, articleTags: map[string][]string{}}
	counts, spelling := map[string]int{}, map[string]string{}
	pubs := tagSet{}
	for _, d := range digests { // newest first: the newest digest wins a front-matter slug
		if d.fmSlug != "" {
			if _, ok := ix.byFMSlug[d.fmSlug]; !ok {
				ix.byFMSlug[d.fmSlug] = d.Slug
			}
		}
		for slug, tags := range d.articleTags {
			ts := tagSet{max: maxTagsPerDigest}
			ts.add(ix.articleTags[slug]...)
			ts.add(tags...)
			ix.articleTags[slug] = ts.list
		}
		for _, t := range slices.Concat(d.Tags, d.itemTags) { // unique within a digest
			k := strings.ToLower(t)
			counts[k]++
			if _, ok := spelling[k]; !ok {
				spelling[k] = t
			}
		}
		pubs.add(d.publishers...)
	}
	for k, n := range counts {
		ix.tags = append(ix.tags, tagCount{Tag: spelling[k], Digests: n})
	}
	slices.SortFunc(ix.tags, func(a, b tagCount) int {
		return cmp.Or(cmp.Compare(b.Digests, a.Digests), cmp.Compare(strings.ToLower(a.Tag), strings.ToLower(b.Tag)))
	})
	ix.publishers = pubs.list
	slices.SortFunc(ix.publishers, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return ix
}

func newCatalog(st storage.Store, log *slog.Logger) *catalog {
	return &catalog{store: st, log: log, bySlug: map[string]int{}}
}

// list returns the summaries, newest first, loading them on first use. The
// returned slice is shared: callers must not modify it. stale is non-nil
// when the last refresh failed and the list may be out of date.
func (c *catalog) list(ctx context.Context) (digests []digestSummary, stale error, err error) {
	c.mu.RLock()
	loaded := c.loaded
	c.mu.RUnlock()
	if !loaded {
		if err := c.refresh(ctx); err != nil {
			return nil, nil, err
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.stats.LastError != "" {
		stale = fmt.Errorf("the archive store could not be reached at %s; this list is from %s",
			c.stats.LastErrorAt.UTC().Format("15:04:05 UTC"), c.stats.LastRefresh.UTC().Format("15:04:05 UTC"))
	}
	return c.digests, stale, nil
}

// lookup returns the summary of one digest, if the catalog has it.
func (c *catalog) lookup(slug string) (digestSummary, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.bySlug[slug]
	if !ok {
		return digestSummary{}, false
	}
	return c.digests[i], true
}

// index returns what the catalog derived from its digests at the last
// refresh (see catalogIndex), loading the catalog on first use.
func (c *catalog) index(ctx context.Context) (catalogIndex, error) {
	if _, _, err := c.list(ctx); err != nil {
		return catalogIndex{}, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.derived, nil
}

// Stats reports the catalog state.
func (c *catalog) Stats() CatalogStats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.stats
	s.Digests = len(c.digests)
	return s
}

// refresh re-lists the digests and re-reads those that changed. On failure
// the previous list stays in place.
func (c *catalog) refresh(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	err := c.refreshLocked(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.stats.LastError, c.stats.LastErrorAt = publicError(err), time.Now()
		return err
	}
	c.stats.LastError, c.stats.LastRefresh = "", time.Now()
	return nil
}

func (c *catalog) refreshLocked(ctx context.Context) error {
	c.mu.RLock()
	old := make(map[string]digestSummary, len(c.digests))
	for _, d := range c.digests {
		old[d.Slug] = d
	}
	c.mu.RUnlock()

	type entry struct {
		slug, version string
	}
	var entries []entry
	err := c.store.List(ctx, record.DigestsPrefix, func(info storage.Info) error {
		name := strings.TrimPrefix(info.Key, record.DigestsPrefix)
		slug, ok := strings.CutSuffix(name, ".json")
		if !ok || !record.ValidSlug(slug) {
			return nil
		}
		entries = append(entries, entry{slug, fingerprint(info)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("list digests: %w", err)
	}

	next := make([]digestSummary, 0, len(entries))
	for _, e := range entries {
		if s, ok := old[e.slug]; ok && s.version == e.version {
			next = append(next, s)
			continue
		}
		d, err := record.ReadDigest(ctx, c.store, e.slug)
		switch {
		case storage.IsNotExist(err):
			continue // deleted since the listing
		case errors.Is(err, record.ErrUnreadable):
			c.log.Warn("catalog: skipping unreadable digest", "slug", e.slug, "err", err)
			continue
		case err != nil:
			return err
		}
		d.Slug = e.slug // the key names the digest, whatever the record says
		next = append(next, summarize(d, e.version))
	}
	slices.SortFunc(next, func(a, b digestSummary) int {
		return cmp.Or(b.when.Compare(a.when), b.ArchivedAt.Compare(a.ArchivedAt), cmp.Compare(a.Slug, b.Slug))
	})
	bySlug := make(map[string]int, len(next))
	for i, d := range next {
		bySlug[d.Slug] = i
	}
	derived := deriveIndex(next)
	c.mu.Lock()
	c.digests, c.bySlug, c.derived, c.loaded = next, bySlug, derived, true
	c.mu.Unlock()
	return nil
}
