package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/linkarc/linkarc/storage"
)

// MaxRecordSize bounds a meta.json or digest record read from a store, in
// bytes. Real ones are a few kilobytes; the bound keeps a damaged or hostile
// object from exhausting memory. A larger record is unreadable (ErrUnreadable)
// for the archiver and the viewer alike.
const MaxRecordSize = 8 << 20

// ErrUnreadable marks a record (meta.json, digest record) that exists but
// cannot be read as one: it does not decode, or it is larger than
// MaxRecordSize. Test for it with errors.Is.
//
// Nobody overwrites an unreadable meta.json blind: the viewer reports it, and
// the archiver keeps it in the article's history before capturing again (see
// Writer.Write).
var ErrUnreadable = errors.New("unreadable record")

// ReadJSON reads the record at key into v. A missing object gives an error
// for which storage.IsNotExist is true; a damaged one an error wrapping
// ErrUnreadable; any other error is the store's.
func ReadJSON(ctx context.Context, st storage.Store, key string, v any) error {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxRecordSize+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err) // the store failed mid-read
	}
	if len(data) > MaxRecordSize {
		return fmt.Errorf("%w: %s: larger than %d MiB", ErrUnreadable, key, MaxRecordSize>>20)
	}
	// One JSON value is read, as other tools write them; what follows it
	// is not looked at.
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnreadable, key, err)
	}
	return nil
}

// ReadMeta reads articles/<slug>/meta.json. Errors as ReadJSON's.
func ReadMeta(ctx context.Context, st storage.Store, slug string) (*ArticleMeta, error) {
	m, err := ReadMetaKey(ctx, st, ArticleKey(slug, MetaFile))
	if err != nil {
		return nil, err
	}
	if m.Slug == "" {
		m.Slug = slug
	}
	return m, nil
}

// ReadMetaKey reads a meta.json by its key: the current capture's, or an
// earlier one's under history/. Errors as ReadJSON's.
func ReadMetaKey(ctx context.Context, st storage.Store, key string) (*ArticleMeta, error) {
	var m ArticleMeta
	if err := ReadJSON(ctx, st, key, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadDigest reads digests/<slug>.json. Errors as ReadJSON's.
func ReadDigest(ctx context.Context, st storage.Store, slug string) (*DigestRecord, error) {
	var d DigestRecord
	if err := ReadJSON(ctx, st, DigestKey(slug), &d); err != nil {
		return nil, err
	}
	if d.Slug == "" {
		d.Slug = slug
	}
	return &d, nil
}

// ReadDigestPart reads continuation part n (2 to record.Parts+1) of a
// digest record. Errors as ReadJSON's.
func ReadDigestPart(ctx context.Context, st storage.Store, slug string, n int) (*DigestPart, error) {
	var p DigestPart
	if err := ReadJSON(ctx, st, DigestPartKey(slug, n), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ReadDigestAll reads a digest record with the articles of all its
// continuation parts appended, for tools that need the whole listing
// (export, reextract) and may hold it in memory; the viewer reads a part
// at a time. Parts is left as stored. Errors as ReadJSON's; a missing or
// unreadable part is an error wrapping ErrUnreadable (the record promises
// it).
func ReadDigestAll(ctx context.Context, st storage.Store, slug string) (*DigestRecord, error) {
	d, err := ReadDigest(ctx, st, slug)
	if err != nil {
		return nil, err
	}
	for n := 2; n <= d.Parts+1; n++ {
		p, err := ReadDigestPart(ctx, st, slug, n)
		if storage.IsNotExist(err) {
			return nil, fmt.Errorf("%w: %s: part %d of %d is missing", ErrUnreadable, DigestKey(slug), n, d.Parts+1)
		}
		if err != nil {
			return nil, err
		}
		d.Articles = append(d.Articles, p.Articles...)
	}
	return d, nil
}
