package archive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// A digest record is one listing: the digest of one day, from one file.
// Another day's digest with the same slug (a daily "morning-news") must not
// replace it, so each digest gets a key of its own: its slug when that is
// free or holds the same listing (record.SameListing: same front-matter
// date, same source), else its slug with its date appended, else collision
// slugs of its identity. A re-run finds its own record and keeps its key
// and its archived_at.

// digestSource is record.DigestRecord.Source of an input path: the last
// two segments of its absolute path, so that the same file is the same
// source from wherever linkarc is started; a URL or "-" as it is.
func digestSource(p string) string {
	if p == "" || p == "-" || strings.Contains(p, "://") {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	abs = filepath.ToSlash(abs)
	dir, base := path.Split(abs)
	return path.Base(path.Clean(dir)) + "/" + base
}

// identity is what makes two digests with one slug the same listing.
func (ds *digestState) identity() string {
	return strings.TrimSpace(ds.d.FrontMatter.Date) + "\x00" + ds.source
}

// keys are the keys the digest may have, in the order they are tried.
func (ds *digestState) keys() []string {
	base := ds.d.Slug
	out := []string{base}
	if date, ok := record.SlugifyOK(ds.d.FrontMatter.Date); ok {
		if k := record.SuffixedSlug(base, date); k != base {
			out = append(out, k)
		}
	}
	for round := 1; round <= maxSlugRounds; round++ {
		out = append(out, record.CollisionSlugRound(base, ds.identity(), round))
	}
	return out
}

// keyState reports whether key may hold the digest: no record there, or
// the record of the same listing. An unreadable record (damaged, or too
// large for the readers) is never replaced: it is another listing.
func (a *run) keyState(ctx context.Context, ds *digestState, key string) (free bool, prev *record.DigestRecord, err error) {
	d, err := record.ReadDigest(ctx, a.opts.Store, key)
	switch {
	case storage.IsNotExist(err):
		return true, nil, nil
	case errors.Is(err, record.ErrUnreadable):
		a.log.Warn("digest record unreadable; the digest gets another key", "key", record.DigestKey(key), "err", err)
		return false, nil, nil
	case err != nil:
		return false, nil, err
	}
	return record.SameListing(d, ds.d.FrontMatter.Date, ds.source, ds.d.Path), d, nil
}

// assignDigestKeys gives each digest its key before articles are planned
// (articles list the keys of the digests that list them). Within the run
// two digests with one identity share a key, as they are one listing.
func (a *run) assignDigestKeys(ctx context.Context, digests []*digestState) error {
	owner := map[string]string{} // key -> identity, in this run
	for _, ds := range digests {
		chosen := ""
		for _, key := range ds.keys() {
			if id, taken := owner[key]; taken {
				if id == ds.identity() {
					chosen = key
					break
				}
				continue
			}
			free, _, err := a.keyState(ctx, ds, key)
			if err != nil {
				return fmt.Errorf("digest %s: %w", key, err)
			}
			if free {
				chosen = key
				break
			}
		}
		if chosen == "" {
			return fmt.Errorf("digest %s: %d keys in a row hold other listings", ds.d.Slug, len(ds.keys()))
		}
		owner[chosen] = ds.identity()
		ds.slug = chosen
	}
	return nil
}

// writeDigest writes the digest's record under the digest's lease. The key
// assigned at the start is checked again: another run may have written
// another listing there since (then the next free key is used). A re-run
// keeps the record's first archived_at and sets updated_at.
func (a *run) writeDigest(ctx context.Context, ds *digestState, now time.Time) error {
	keys := ds.keys()
	start := 0
	for i, k := range keys {
		if k == ds.slug {
			start = i
		}
	}
	for _, key := range keys[start:] {
		lease, err := a.leaseRecord(ctx, record.DigestLeaseKey(key), ds.identity())
		if err != nil {
			return fmt.Errorf("digest %s: lease: %w", key, err)
		}
		free, prev, err := a.keyState(ctx, ds, key)
		if err != nil || !free {
			lease.Release(ctx)
			if err != nil {
				return fmt.Errorf("digest %s: %w", key, err)
			}
			continue
		}
		rec := a.digestRecord(ds, key, now)
		if err := a.listedSlugs(ctx, &rec); err != nil {
			lease.Release(ctx)
			return fmt.Errorf("digest %s: %w", key, err)
		}
		if prev != nil && !prev.ArchivedAt.IsZero() {
			rec.ArchivedAt, rec.UpdatedAt = prev.ArchivedAt, now
		}
		if key != ds.slug {
			a.log.Warn("another run wrote another listing under this digest's key meanwhile", "key", ds.slug, "now", key)
			ds.slug = key
		}
		err = a.writer.PutDigest(ctx, rec)
		lease.Release(ctx)
		return err
	}
	return fmt.Errorf("digest %s: %d keys in a row hold other listings", ds.d.Slug, len(keys))
}

func (a *run) digestRecord(ds *digestState, key string, now time.Time) record.DigestRecord {
	rec := record.DigestRecord{
		Slug:        key,
		SourceFile:  ds.d.Path,
		Source:      ds.source,
		FrontMatter: ds.d.FrontMatter,
		ArchivedAt:  now,
		Counts:      map[string]int{},
	}
	for i, it := range ds.d.Items {
		da := record.DigestArticle{Title: it.Title, Publisher: it.Publisher, Tags: it.Tags}
		if link := strings.TrimSpace(it.URL); resolver.IsGoogleNews(link) {
			da.GoogleNewsURL = link
		} else {
			da.Link = link
		}
		if art := ds.articles[i]; art != nil {
			da.Slug, da.URL, da.Status, da.Reason = art.slug, art.url, art.status, art.reason
			if i < len(ds.urls) && ds.urls[i] != "" {
				da.URL = ds.urls[i]
			}
		}
		if da.Status == "" {
			da.Status = record.StatusFailed
			da.Reason = record.ReasonUnfinished
		}
		rec.Counts[da.Status]++
		rec.Articles = append(rec.Articles, da)
	}
	if n := len(ds.d.Skipped); n > 0 {
		rec.Skipped = slices.Clone(ds.d.Skipped[:min(n, record.MaxSkippedLinks)])
		if n > record.MaxSkippedLinks {
			rec.SkippedTotal = n
		}
	}
	return rec
}
