package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// The URL index says which article holds a publisher URL, so that a page
// reached through another digest, under another title (and so another
// title-derived slug), is found where it already is rather than archived
// twice. One small object per URL:
//
//	index/urls/<sha256 hex of the canonical URL>.json   {"url": ..., "slug": ...}
//
// The URL is the canonical form (internal/weburl.Canonical, which the
// archiver applies: this package does not interpret URLs). An entry is a
// hint, never trusted alone: a reader checks that the article it names has
// a meta.json whose URL has the same canonical form. Entries are written
// with plain Puts; the last writer wins, and either writer's entry names an
// article holding the URL.
//
// Stores written before the index existed have no entries: the first run
// that finds no URLIndexMarker indexes every article's current meta.json
// and then writes the marker.
const URLIndexPrefix = "index/urls/"

// URLIndexMarker is the key of the record saying that every article
// stored before it has its index entry (URLIndexState).
const URLIndexMarker = "index/urls.json"

// URLIndexEntry is one entry of the URL index.
type URLIndexEntry struct {
	URL  string `json:"url"`  // canonical publisher URL
	Slug string `json:"slug"` // the article holding it
}

// URLIndexState is the marker record: when the index of a store's
// earlier articles was built.
type URLIndexState struct {
	BuiltAt time.Time `json:"built_at"`
}

// URLIndexKey is the key of canonicalURL's entry:
// index/urls/<64 hex digits>.json.
func URLIndexKey(canonicalURL string) string {
	return hashedKey(URLIndexPrefix, canonicalURL)
}

// ReadURLIndex returns the slug the index gives for canonicalURL, or ""
// when it has none (no entry, an unreadable one, or one for another URL:
// a hash collision is not trusted). err is the store's failure.
func ReadURLIndex(ctx context.Context, st storage.Store, canonicalURL string) (string, error) {
	slug, _, err := ReadURLIndexVersion(ctx, st, canonicalURL)
	return slug, err
}

// ReadURLIndexVersion is ReadURLIndex with the ETag of the entry read
// ("" when there is no entry, or the store cannot write conditionally),
// for PutURLIndex's condition.
func ReadURLIndexVersion(ctx context.Context, st storage.Store, canonicalURL string) (slug, etag string, err error) {
	key := URLIndexKey(canonicalURL)
	var rc io.ReadCloser
	if c, ok := storage.AsConditional(st); ok {
		rc, etag, err = c.GetVersion(ctx, key)
	} else {
		rc, err = st.Get(ctx, key)
	}
	if storage.IsNotExist(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	var e URLIndexEntry
	data, err := io.ReadAll(io.LimitReader(rc, storage.MaxConditionalSize+1))
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", key, err)
	}
	if json.Unmarshal(data, &e) != nil || e.URL != canonicalURL || !ValidSlug(e.Slug) {
		return "", etag, nil // not trusted, but replaceable under the condition
	}
	return e.Slug, etag, nil
}

// PutURLIndex records that the article slug holds canonicalURL. On a
// store that writes conditionally (storage.Conditional) the entry is
// written only if it is still the version whose ETag is ifMatch ("": only
// if there is none), and ok is false when it is not (another writer got
// there first: read it again); entries are written only this way there.
// On other stores it is a plain Put, and ok is true.
func (w Writer) PutURLIndex(ctx context.Context, canonicalURL, slug, ifMatch string) (ok bool, err error) {
	key := URLIndexKey(canonicalURL)
	c, cond := storage.AsConditional(w.Store)
	if !cond {
		return true, w.putJSON(ctx, key, URLIndexEntry{URL: canonicalURL, Slug: slug})
	}
	data, err := json.Marshal(URLIndexEntry{URL: canonicalURL, Slug: slug})
	if err != nil {
		return false, err
	}
	_, err = c.PutIf(ctx, key, bytes.NewReader(data), int64(len(data)), ifMatch, storage.PutOptions{ContentType: "application/json"})
	if errors.Is(err, storage.ErrPreconditionFailed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store %s: %w", key, err)
	}
	return true, nil
}

// URLIndexBuilt reports whether the store's marker says its earlier
// articles are indexed.
func URLIndexBuilt(ctx context.Context, st storage.Store) (bool, error) {
	_, err := st.Stat(ctx, URLIndexMarker)
	if storage.IsNotExist(err) {
		return false, nil
	}
	return err == nil, err
}

// PutURLIndexMarker writes the marker once the earlier articles are
// indexed.
func (w Writer) PutURLIndexMarker(ctx context.Context, at time.Time) error {
	return w.putJSON(ctx, URLIndexMarker, URLIndexState{BuiltAt: at.UTC()})
}
