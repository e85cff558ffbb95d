package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/linkarc/linkarc/storage"
)

// Snapshot is one capture of an article as it goes into the store: the
// metadata and the three content objects.
type Snapshot struct {
	Meta     ArticleMeta
	Raw      []byte // page as received; nil when nothing was fetched
	Readable string // readable HTML; empty when not extracted
	Text     string // plain text; empty when not extracted
	// Extra are the capture's further objects (the WARC, the
	// self-contained page), streamed into the store beside the content
	// objects; Write lists their names in Meta.Files.
	Extra []Object
}

// Object is one further object of a capture. Open is called once per
// attempt to store it and must return the object from its start, so that
// an upload can be retried and a 16 MiB WARC never has to sit in memory.
type Object struct {
	Name        string // object name beside meta.json, e.g. WARCFile
	ContentType string
	Size        int64 // bytes, or -1 when unknown
	Open        func() (io.ReadCloser, error)
}

// Writer writes an archive's records so that a crash at any point never
// leaves a meta.json pointing at objects that are missing or belong to
// another capture: content objects first, meta.json last, and the capture
// being replaced copied into history/ before anything of it is touched.
type Writer struct {
	Store storage.Store
}

// Prior is what an article's meta.json held before a write: the capture
// the write replaces, if any.
type Prior struct {
	Meta   ArticleMeta
	Exists bool // Meta was read from the store
	// Unreadable is set (wrapping ErrUnreadable) when a meta.json exists
	// but could not be read. Write then keeps it, with the objects beside
	// it, in history before writing the new capture.
	Unreadable error
}

// LoadMeta reads an article's meta.json as the Prior of its next write. A
// missing or unreadable meta.json is not an error (see Prior); err is the
// store's failure.
func (w Writer) LoadMeta(ctx context.Context, slug string) (Prior, error) {
	m, err := ReadMeta(ctx, w.Store, slug)
	switch {
	case err == nil:
		return Prior{Meta: *m, Exists: true}, nil
	case storage.IsNotExist(err):
		return Prior{}, nil
	case errors.Is(err, ErrUnreadable):
		return Prior{Unreadable: err}, nil
	}
	return Prior{}, fmt.Errorf("read meta of %s: %w", slug, err)
}

// Write stores s as the current capture of its article and returns the
// meta.json now current. prior is what LoadMeta found. Rules:
//   - a good capture already stored is never replaced by a blocked or failed
//     one: the new capture goes to history instead;
//   - otherwise the previous capture, if it had content, is copied into
//     history/<capture-id>/ before the current objects are replaced;
//   - an unreadable meta.json is copied into history as it is, with the
//     objects beside it, under the id of its modification time.
func (w Writer) Write(ctx context.Context, s *Snapshot, prior Prior) (ArticleMeta, error) {
	slug := s.Meta.Slug
	s.Meta.Bound()
	prev, hasPrev := prior.Meta, prior.Exists
	if len(s.Raw) > 0 {
		sum := sha256.Sum256(s.Raw)
		s.Meta.SHA256 = hex.EncodeToString(sum[:])
		s.Meta.Size = int64(len(s.Raw))
	}
	if hasPrev {
		// A new capture is listed by every digest that listed the old
		// one: a run over some of them (--refresh) does not unlist it
		// from the others.
		s.Meta.History = prev.History
		s.Meta.Digests = MergeDigests(prev.Digests, s.Meta.Digests)
	}

	if hasPrev && prev.Status == StatusOK && s.Meta.Status != StatusOK {
		// Keep the good capture current; remember the bad one in history.
		ref := captureRef(s.Meta)
		if err := w.putContent(ctx, func(name string) string { return HistoryKey(slug, ref.CaptureID, name) }, s); err != nil {
			return prev, err
		}
		if err := w.putJSON(ctx, HistoryKey(slug, ref.CaptureID, MetaFile), s.Meta); err != nil {
			return prev, err
		}
		kept := prev
		kept.History = appendRef(prev.History, ref)
		kept.Digests = MergeDigests(prev.Digests, s.Meta.Digests)
		return kept, w.putJSON(ctx, ArticleKey(slug, MetaFile), kept)
	}

	metaKey := ArticleKey(slug, MetaFile)
	if hasPrev {
		if prev.SHA256 != "" || prev.Status != StatusFailed {
			ref := captureRef(prev)
			if err := w.copyToHistory(ctx, slug, ref.CaptureID, prev); err != nil {
				return prev, err
			}
			s.Meta.History = appendRef(prev.History, ref)
		}
		// The objects about to be replaced are the ones meta.json describes.
		// Remove it first: a crash while they are replaced then leaves the
		// article without a current capture (the previous one is complete
		// in history, and the next run lists it again) instead of a
		// meta.json describing objects of another capture.
		if err := w.Store.Delete(ctx, metaKey); err != nil {
			return prev, fmt.Errorf("delete %s: %w", metaKey, err)
		}
	} else {
		// No meta.json we can read: a new article, one whose replacement
		// was cut short after the delete above, or a damaged one, kept
		// first. Its history, if any, is listed.
		if prior.Unreadable != nil {
			if err := w.keepUnreadable(ctx, slug); err != nil {
				return prev, err
			}
		}
		h, err := w.HistoryRefs(ctx, slug)
		if err != nil {
			return prev, err
		}
		s.Meta.History = h
	}
	if err := w.putContent(ctx, func(name string) string { return ArticleKey(slug, name) }, s); err != nil {
		return prev, err
	}
	if hasPrev {
		if err := w.deleteStale(ctx, slug, prev.Files, s.Meta.Files); err != nil {
			return prev, err
		}
	}
	return s.Meta, w.putJSON(ctx, metaKey, s.Meta)
}

// HistoryRefs lists the captures kept in an article's history, from the
// meta.json each has there, oldest first.
func (w Writer) HistoryRefs(ctx context.Context, slug string) ([]CaptureRef, error) {
	prefix := ArticleKey(slug, HistoryDir) + "/"
	var ids []string
	err := w.Store.List(ctx, prefix, func(info storage.Info) error {
		id, name, ok := strings.Cut(strings.TrimPrefix(info.Key, prefix), "/")
		if ok && name == MetaFile {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list history of %s: %w", slug, err)
	}
	var refs []CaptureRef
	for _, id := range ids {
		m, err := ReadMetaKey(ctx, w.Store, HistoryKey(slug, id, MetaFile))
		switch {
		case storage.IsNotExist(err):
			continue
		case errors.Is(err, ErrUnreadable):
			// A damaged meta.json kept by keepUnreadable, or not a capture
			// we wrote: listed by its id alone, so it stays reachable.
			refs = appendRef(refs, CaptureRef{CaptureID: id})
			continue
		case err != nil:
			return nil, fmt.Errorf("read history of %s: %w", slug, err)
		}
		ref := captureRef(*m)
		ref.CaptureID = id
		refs = appendRef(refs, ref)
	}
	return refs, nil
}

// putContent writes the content objects of s under the keys key(name). A
// capture without content deletes stale objects so that meta.json and the
// objects beside it always describe the same capture.
func (w Writer) putContent(ctx context.Context, key func(string) string, s *Snapshot) error {
	objects := []struct {
		name, contentType string
		data              []byte
	}{
		{RawFile, "text/html", s.Raw},
		{ReadableFile, "text/html; charset=utf-8", []byte(s.Readable)},
		{TextFile, "text/plain; charset=utf-8", []byte(s.Text)},
	}
	s.Meta.Sums = nil
	for _, o := range objects {
		k := key(o.name)
		if len(o.data) == 0 {
			if err := w.Store.Delete(ctx, k); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
			continue
		}
		if err := w.Store.Put(ctx, k, bytes.NewReader(o.data), int64(len(o.data)), storage.PutOptions{ContentType: o.contentType}); err != nil {
			return fmt.Errorf("store %s: %w", k, err)
		}
		if o.name != RawFile {
			s.Meta.setSum(o.name, sha256Hex(o.data))
		}
	}
	s.Meta.Files = nil
	for _, o := range s.Extra {
		sum, err := w.putObject(ctx, key(o.Name), o)
		if err != nil {
			return err
		}
		s.Meta.Files = append(s.Meta.Files, o.Name)
		if sum != "" {
			s.Meta.setSum(o.Name, sum)
		}
	}
	return nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (m *ArticleMeta) setSum(name, sum string) {
	if m.Sums == nil {
		m.Sums = map[string]string{}
	}
	m.Sums[name] = sum
}

// putObject streams one further object of a capture into the store and
// returns its SHA-256, or "" when it cannot be known (a retried upload
// rewound its reader to somewhere other than its start).
func (w Writer) putObject(ctx context.Context, key string, o Object) (string, error) {
	rc, err := o.Open()
	if err != nil {
		return "", fmt.Errorf("store %s: %w", key, err)
	}
	defer rc.Close()
	hr := &hashingReader{r: rc, h: sha256.New()}
	var body io.Reader = hr
	if sk, ok := rc.(io.Seeker); ok {
		body = &hashingSeeker{hashingReader: hr, s: sk}
	}
	if err := w.Store.Put(ctx, key, body, o.Size, storage.PutOptions{ContentType: o.ContentType}); err != nil {
		return "", fmt.Errorf("store %s: %w", key, err)
	}
	if hr.unknown {
		return "", nil
	}
	return hex.EncodeToString(hr.h.Sum(nil)), nil
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r       io.Reader
	h       hash.Hash
	unknown bool // rewound to somewhere other than the start
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

// hashingSeeker is a hashingReader over a seekable reader, so that the
// retrying store can rewind it for another attempt: a rewind to the start
// starts the hash again.
type hashingSeeker struct {
	*hashingReader
	s io.Seeker
}

func (h *hashingSeeker) Seek(offset int64, whence int) (int64, error) {
	pos, err := h.s.Seek(offset, whence)
	if err != nil || (whence == io.SeekCurrent && offset == 0) {
		return pos, err // asking where it is
	}
	h.h.Reset()
	h.unknown = pos != 0
	return pos, nil
}

// deleteStale removes the further objects an earlier capture listed that
// the new one does not have, so that meta.json and the objects beside it
// always describe one capture.
func (w Writer) deleteStale(ctx context.Context, slug string, prev, next []string) error {
	keep := make(map[string]bool, len(next))
	for _, n := range next {
		keep[n] = true
	}
	for _, n := range prev {
		if keep[n] || !ValidObjectName(n) {
			continue
		}
		k := ArticleKey(slug, n)
		if err := w.Store.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// ValidObjectName reports whether name may be one of a capture's further
// objects: a single safe path segment that is not one of the layout's own
// names (a hostile meta.json must not make the writer touch other keys).
func ValidObjectName(name string) bool {
	switch name {
	case "", ".", "..", MetaFile, RawFile, ReadableFile, TextFile, HistoryDir:
		return false
	}
	return !strings.ContainsAny(name, "/\\\x00") && len(name) <= 255
}

// keepUnreadable copies an article's current objects and its unreadable
// meta.json, byte for byte, into history/<id>/, id being the capture id of
// the meta.json's modification time. Nothing is decoded, so nothing is
// lost; the copy is idempotent, so a crash half-way is repaired by the next
// run doing it again.
func (w Writer) keepUnreadable(ctx context.Context, slug string) error {
	metaKey := ArticleKey(slug, MetaFile)
	info, err := w.Store.Stat(ctx, metaKey)
	if storage.IsNotExist(err) {
		return nil // gone since it was read
	}
	if err != nil {
		return fmt.Errorf("keep unreadable %s: %w", metaKey, err)
	}
	id := CaptureID(info.ModTime)
	for _, name := range []string{RawFile, ReadableFile, TextFile, WARCFile, PageFile, ThumbFile, MetaFile} {
		if err := w.copyObject(ctx, ArticleKey(slug, name), HistoryKey(slug, id, name)); err != nil {
			return err
		}
	}
	return nil
}

// copyObject copies the object at src to dst; a missing src is skipped.
func (w Writer) copyObject(ctx context.Context, src, dst string) error {
	rc, err := w.Store.Get(ctx, src)
	if storage.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keep history of %s: %w", src, err)
	}
	defer rc.Close()
	size := int64(-1)
	if info, err := w.Store.Stat(ctx, src); err == nil {
		size = info.Size
	}
	if err := w.Store.Put(ctx, dst, rc, size, storage.PutOptions{}); err != nil {
		return fmt.Errorf("keep history %s: %w", dst, err)
	}
	return nil
}

// copyToHistory copies the current capture's objects, meta.json last, into
// history/<id>/. Copies are idempotent, so a crash half-way is repaired by
// the next run doing the same copy again.
func (w Writer) copyToHistory(ctx context.Context, slug, id string, prev ArticleMeta) error {
	names := []string{RawFile, ReadableFile, TextFile}
	for _, n := range prev.Files {
		if ValidObjectName(n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		if err := w.copyObject(ctx, ArticleKey(slug, name), HistoryKey(slug, id, name)); err != nil {
			return err
		}
	}
	old := prev
	old.History = nil
	return w.putJSON(ctx, HistoryKey(slug, id, MetaFile), old)
}

// PutMeta writes m as its article's current meta.json. Write is the way to
// store a capture; PutMeta only updates the record of the current one (its
// digest list, say).
func (w Writer) PutMeta(ctx context.Context, m ArticleMeta) error {
	return w.putJSON(ctx, ArticleKey(m.Slug, MetaFile), m)
}

// PutDigest writes a digest record. A digest whose articles do not fit in
// one record of MaxRecordSize (about 13,000 articles of ordinary length)
// is written in parts: the record holds the first articles, and the rest
// go, in order, to continuation parts (DigestPartKey, ReadDigestPart),
// written before the record and each within MaxRecordSize. Parts a larger
// earlier version of the record had are removed after it.
func (w Writer) PutDigest(ctx context.Context, d DigestRecord) error {
	d.Bound()
	d.Parts = 0
	first, rest, _, err := splitDigest(d.Articles, func(a []DigestArticle) ([]byte, error) {
		c := d
		c.Articles, c.Parts = a, 1
		return encodeJSON(c)
	})
	if err != nil {
		return fmt.Errorf("encode %s: %w", DigestKey(d.Slug), err)
	}
	d.Articles = first
	offset := len(first)
	for len(rest) > 0 {
		part := DigestPart{Slug: d.Slug, Part: d.Parts + 2, Offset: offset}
		var take []DigestArticle
		var data []byte
		take, rest, data, err = splitDigest(rest, func(a []DigestArticle) ([]byte, error) {
			p := part
			p.Articles = a
			return encodeJSON(p)
		})
		key := DigestPartKey(d.Slug, part.Part)
		if err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
		offset += len(take)
		if err := w.Store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "application/json"}); err != nil {
			return fmt.Errorf("store %s: %w", key, err)
		}
		d.Parts++
	}
	if err := w.putJSON(ctx, DigestKey(d.Slug), d); err != nil {
		return err
	}
	return w.deleteParts(ctx, d.Slug, d.Parts+1)
}

// deleteParts removes the continuation parts of a digest after part last.
func (w Writer) deleteParts(ctx context.Context, slug string, last int) error {
	prefix := DigestsPrefix + slug + "/"
	var stale []string
	err := w.Store.List(ctx, prefix, func(info storage.Info) error {
		name, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, prefix), ".json")
		if n, err := strconv.Atoi(name); ok && err == nil && n > last {
			stale = append(stale, info.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list parts of digest %s: %w", slug, err)
	}
	for _, k := range stale {
		if err := w.Store.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

func (w Writer) putJSON(ctx context.Context, key string, v any) error {
	data, err := encodeRecord(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := w.Store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// captureRef names a capture by its fetch time (see CaptureID).
func captureRef(m ArticleMeta) CaptureRef {
	return CaptureRef{
		CaptureID:  CaptureID(m.FetchedAt),
		Status:     m.Status,
		FetchedAt:  m.FetchedAt,
		SHA256:     m.SHA256,
		MergedFrom: m.MergedFrom,
	}
}

// appendRef adds ref to a history unless a re-run already recorded it.
func appendRef(h []CaptureRef, ref CaptureRef) []CaptureRef {
	for _, r := range h {
		if r.CaptureID == ref.CaptureID {
			return h
		}
	}
	out := append(append([]CaptureRef(nil), h...), ref)
	sort.Slice(out, func(i, j int) bool { return out[i].CaptureID < out[j].CaptureID })
	return out
}

// MergeDigests returns the sorted union of two lists of digest slugs, the
// form ArticleMeta.Digests keeps.
func MergeDigests(a, b []string) []string {
	set := make(map[string]bool, len(a)+len(b))
	for _, s := range a {
		set[s] = true
	}
	for _, s := range b {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// SameDigests reports whether two lists of digest slugs hold the same set.
func SameDigests(a, b []string) bool {
	return strings.Join(MergeDigests(a, nil), "\x00") == strings.Join(MergeDigests(b, nil), "\x00")
}
