// Package stored reads an archive back, for the commands that work on what
// is already stored rather than on the web (`linkarc export`, `linkarc
// reextract`): which digests and articles a Filter selects, streamed from
// the store one record at a time, a read-only view of the store holding
// only the selection, the page a capture received, from its WARC or,
// for captures made before WARC recording, from raw.html, and the WARC
// holding the original of a revisit record, wherever its capture is now
// (FindOriginal, OpenOriginal: the one resolver of revisits).
//
// It reads through storage/record only, and never writes.
package stored

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Filter says which part of an archive to work on. The zero Filter
// selects everything.
//
// Digests are selected by Digests, Tag, From and To together (all that are
// given must hold); articles are those the selected digests list, or every
// article when none of those four is given, and then by Status.
type Filter struct {
	// Digests names digests by their slug (the name of their record,
	// digests/<slug>.json) or their front matter's slug:, without regard
	// to case; any of them selects.
	Digests []string
	// Tag selects digests with the tag (a front-matter category or tag, or
	// one of an item's own), without regard to case; an article is then
	// selected through a digest when the tag is the digest's own or its
	// item's.
	Tag string
	// From and To select digests dated within [From, To], both days
	// included: the front matter's date, else when the digest was
	// archived, as the viewer's filter does. Zero means unbounded.
	From, To time.Time
	// Status selects articles whose current capture has it
	// (record.StatusOK, StatusBlocked, StatusFailed); "" any.
	Status string
}

// DigestLevel reports whether f selects among digests (and so articles
// through them), rather than every digest and article.
func (f Filter) DigestLevel() bool {
	return len(f.Digests) > 0 || f.Tag != "" || !f.From.IsZero() || !f.To.IsZero()
}

// Validate checks the values of f.
func (f Filter) Validate() error {
	switch f.Status {
	case "", record.StatusOK, record.StatusBlocked, record.StatusFailed:
	default:
		return fmt.Errorf("status %q: want %s, %s or %s", f.Status, record.StatusOK, record.StatusBlocked, record.StatusFailed)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return fmt.Errorf("the date range ends (%s) before it starts (%s)", f.To.Format(time.DateOnly), f.From.Format(time.DateOnly))
	}
	return nil
}

// UnknownDigestsError names digests a Filter asks for that the archive
// does not have.
type UnknownDigestsError struct {
	Names []string
}

func (e *UnknownDigestsError) Error() string {
	return fmt.Sprintf("no digest %s in the archive", strings.Join(quoteAll(e.Names), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// Selection is what a Filter selects in one store. Select lists the
// digests once; what it keeps is the slugs of the selected digests and,
// when the filter is digest-level, of the articles they list: names, never
// records or content. Records are read again, one at a time, as they are
// walked.
type Selection struct {
	st      storage.Store
	filter  Filter
	digests []string            // selected digest slugs, sorted
	all     bool                // every article (no digest-level filter)
	listed  map[string]struct{} // articles the selected digests list (digest-level filters)

	// Skipped are digest records that could not be read: listed, not
	// selected.
	Skipped []error

	mu     sync.Mutex
	status map[string]bool // article slug -> its meta.json passes the status filter
}

// Select decides what f selects in st. A digest named in f.Digests that is
// not in the archive is an *UnknownDigestsError; an unreadable digest
// record is skipped (Selection.Skipped).
func Select(ctx context.Context, st storage.Store, f Filter) (*Selection, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	s := &Selection{st: st, filter: f, all: !f.DigestLevel(), status: map[string]bool{}}
	if !s.all {
		s.listed = map[string]struct{}{}
	}
	wanted := map[string]bool{}
	for _, d := range f.Digests {
		wanted[strings.ToLower(strings.TrimSpace(d))] = false
	}
	tag := normTag(f.Tag)
	err := eachDigestSlug(ctx, st, func(slug string) error {
		d, err := record.ReadDigestAll(ctx, st, slug)
		switch {
		case storage.IsNotExist(err):
			return nil // deleted since the listing
		case errors.Is(err, record.ErrUnreadable):
			s.Skipped = append(s.Skipped, err)
			return nil
		case err != nil:
			return err
		}
		d.Slug = slug
		if len(wanted) > 0 {
			fm := strings.ToLower(strings.TrimSpace(d.FrontMatter.Slug))
			_, bySlug := wanted[slug]
			_, byFM := wanted[fm]
			if !bySlug && !byFM {
				return nil
			}
			if bySlug {
				wanted[slug] = true
			}
			if byFM {
				wanted[fm] = true
			}
		}
		if !f.From.IsZero() || !f.To.IsZero() {
			day := DigestDate(d)
			if !f.From.IsZero() && day.Before(f.From) || !f.To.IsZero() && day.After(endOfDay(f.To)) {
				return nil
			}
		}
		own := tag != "" && slices.ContainsFunc(slices.Concat(d.FrontMatter.Categories, d.FrontMatter.Tags), func(t string) bool { return normTag(t) == tag })
		matched := tag == "" || own
		for _, a := range d.Articles {
			if tag != "" && !own && !slices.ContainsFunc(a.Tags, func(t string) bool { return normTag(t) == tag }) {
				continue
			}
			matched = true
			if s.listed != nil && record.ValidSlug(a.Slug) {
				s.listed[a.Slug] = struct{}{}
			}
		}
		if matched {
			s.digests = append(s.digests, slug)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, d := range f.Digests {
		if !wanted[strings.ToLower(strings.TrimSpace(d))] {
			unknown = append(unknown, d)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownDigestsError{Names: unknown}
	}
	slices.Sort(s.digests)
	return s, nil
}

// eachDigestSlug calls fn with the slug of every digest record, as the
// store lists them.
func eachDigestSlug(ctx context.Context, st storage.Store, fn func(string) error) error {
	var slugs []string
	err := st.List(ctx, record.DigestsPrefix, func(info storage.Info) error {
		slug, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.DigestsPrefix), ".json")
		if ok && record.ValidSlug(slug) {
			slugs = append(slugs, slug)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list digests: %w", err)
	}
	for _, slug := range slugs {
		if err := fn(slug); err != nil {
			return err
		}
	}
	return nil
}

func normTag(t string) string { return strings.ToLower(strings.Join(strings.Fields(t), " ")) }

func endOfDay(t time.Time) time.Time { return t.Add(24*time.Hour - time.Nanosecond) }

// DigestDate is the day a digest is filed under: its front matter's date
// when it reads as one, else when it was archived.
func DigestDate(d *record.DigestRecord) time.Time {
	s := strings.TrimSpace(d.FrontMatter.Date)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return d.ArchivedAt
}

// Store is the store the selection was made in, unfiltered: where the
// originals of the selected captures' revisits are found
// (OpenOriginal), which may be in captures the selection leaves out.
// Read it only.
func (s *Selection) Store() storage.Store { return s.st }

// Filter is the filter the selection was made with.
func (s *Selection) Filter() Filter { return s.filter }

// DigestSlugs are the slugs of the selected digests, sorted.
func (s *Selection) DigestSlugs() []string { return slices.Clone(s.digests) }

// Digests calls fn with each selected digest record, in slug order, read
// one at a time. A record deleted since Select is passed over.
func (s *Selection) Digests(ctx context.Context, fn func(*record.DigestRecord) error) error {
	for _, slug := range s.digests {
		d, err := record.ReadDigestAll(ctx, s.st, slug)
		switch {
		case storage.IsNotExist(err):
			continue
		case err != nil:
			return err
		}
		d.Slug = slug
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// Articles calls fn with the current meta.json of each selected article,
// read one at a time: in slug order for a digest-level filter, in the
// store's listing order otherwise. An article whose meta.json is missing
// or does not read is passed over; a store failure ends the walk.
func (s *Selection) Articles(ctx context.Context, fn func(*record.ArticleMeta) error) error {
	visit := func(slug string) error {
		m, err := record.ReadMeta(ctx, s.st, slug)
		switch {
		case storage.IsNotExist(err), errors.Is(err, record.ErrUnreadable):
			return nil
		case err != nil:
			return err
		}
		m.Slug = slug
		if s.filter.Status != "" && m.Status != s.filter.Status {
			return nil
		}
		return fn(m)
	}
	if !s.all {
		for _, slug := range slices.Sorted(mapKeys(s.listed)) {
			if err := visit(slug); err != nil {
				return err
			}
		}
		return nil
	}
	// The listing names every object; an article is its meta.json.
	var slugs []string
	err := s.st.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		slug, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/"+record.MetaFile)
		if ok && !strings.Contains(slug, "/") && record.ValidSlug(slug) {
			slugs = append(slugs, slug)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list articles: %w", err)
	}
	for _, slug := range slugs {
		if err := visit(slug); err != nil {
			return err
		}
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// HasArticle reports whether the selection holds the article: listed by a
// selected digest (or any, for a filter that is not digest-level), with a
// meta.json that reads and has the status asked for. The answer is
// remembered (one bool per article asked about).
func (s *Selection) HasArticle(ctx context.Context, slug string) (bool, error) {
	if !record.ValidSlug(slug) {
		return false, nil
	}
	if !s.all {
		if _, ok := s.listed[slug]; !ok {
			return false, nil
		}
	}
	s.mu.Lock()
	ok, known := s.status[slug]
	s.mu.Unlock()
	if known {
		return ok, nil
	}
	m, err := record.ReadMeta(ctx, s.st, slug)
	switch {
	case storage.IsNotExist(err), errors.Is(err, record.ErrUnreadable):
		ok = false
	case err != nil:
		return false, err
	default:
		ok = s.filter.Status == "" || m.Status == s.filter.Status
	}
	s.mu.Lock()
	s.status[slug] = ok
	s.mu.Unlock()
	return ok, nil
}

// HasDigest reports whether the selection holds the digest.
func (s *Selection) HasDigest(slug string) bool {
	_, ok := slices.BinarySearch(s.digests, slug)
	return ok
}

// View returns the store as the selection sees it, read-only: the
// selected digests' records, the selected articles' objects, and nothing
// else under digests/ and articles/ (missing, as storage.IsNotExist says);
// other keys as they are. Writes fail. It is what a static site of the
// selection is rendered from.
func (s *Selection) View() storage.Store { return &view{Store: s.st, sel: s} }

// view is Selection.View. It embeds the store so that it is a Store
// whatever methods the interface gains; the writing ones are refused.
type view struct {
	storage.Store
	sel *Selection
}

// errReadOnly is what writing to a view gives.
var errReadOnly = errors.New("stored: the selection's view of a store is read-only")

// visible reports whether key is part of the selection.
func (v *view) visible(ctx context.Context, key string) (bool, error) {
	if rest, ok := strings.CutPrefix(key, record.DigestsPrefix); ok {
		slug, ok := strings.CutSuffix(rest, ".json")
		return ok && v.sel.HasDigest(slug), nil
	}
	if rest, ok := strings.CutPrefix(key, record.ArticlesPrefix); ok {
		slug, _, _ := strings.Cut(rest, "/")
		return v.sel.HasArticle(ctx, slug)
	}
	return true, nil
}

func (v *view) notExist(key string) error {
	return fmt.Errorf("%q: %w (not in the selection)", key, storage.ErrNotExist)
}

func (v *view) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	ok, err := v.visible(ctx, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, v.notExist(key)
	}
	return v.Store.Get(ctx, key)
}

func (v *view) Stat(ctx context.Context, key string) (storage.Info, error) {
	ok, err := v.visible(ctx, key)
	if err != nil {
		return storage.Info{}, err
	}
	if !ok {
		return storage.Info{}, v.notExist(key)
	}
	return v.Store.Stat(ctx, key)
}

func (v *view) List(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	return v.Store.List(ctx, prefix, func(info storage.Info) error {
		ok, err := v.visible(ctx, info.Key)
		if err != nil || !ok {
			return err
		}
		return fn(info)
	})
}

func (v *view) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) error {
	return errReadOnly
}

func (v *view) Delete(ctx context.Context, key string) error { return errReadOnly }

// PutIf is refused too, for stores that have it.
func (v *view) PutIf(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, opts storage.PutOptions) (string, error) {
	return "", errReadOnly
}
