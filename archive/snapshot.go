package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Snapshot is one capture of an article as it goes into the store: the
// metadata and the three content objects.
type Snapshot struct {
	Meta     record.ArticleMeta
	Raw      []byte // page as received; nil when nothing was fetched
	Readable string // readable HTML; empty when not extracted
	Text     string // plain text; empty when not extracted
}

// snapshotWriter writes snapshots so that a crash at any point never leaves
// meta.json pointing at objects that are missing or belong to another capture
// it does not name: content objects first, meta.json last.
type snapshotWriter struct {
	store storage.Store
}

// loadMeta reads an article's meta.json; ok is false when there is none.
func (w snapshotWriter) loadMeta(ctx context.Context, slug string) (m record.ArticleMeta, ok bool, err error) {
	rc, err := w.store.Get(ctx, record.ArticleKey(slug, record.MetaFile))
	if storage.IsNotExist(err) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read meta of %s: %w", slug, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 4<<20)).Decode(&m); err != nil {
		// A meta.json we cannot read is treated as absent so the article is
		// captured again, rather than stopping the batch.
		return record.ArticleMeta{}, false, nil
	}
	return m, true, nil
}

// write stores s as the current capture of its article. prev is the
// article's existing meta.json, if any (hasPrev). Rules:
//   - a good capture already stored is never replaced by a blocked or failed
//     one: the new capture goes to history instead;
//   - otherwise the previous capture, if it had content, is copied into
//     history/<capture-id>/ before the current objects are replaced.
func (w snapshotWriter) write(ctx context.Context, s *Snapshot, prev record.ArticleMeta, hasPrev bool) (record.ArticleMeta, error) {
	slug := s.Meta.Slug
	if len(s.Raw) > 0 {
		sum := sha256.Sum256(s.Raw)
		s.Meta.SHA256 = hex.EncodeToString(sum[:])
		s.Meta.Size = int64(len(s.Raw))
	}
	if hasPrev {
		s.Meta.History = prev.History
	}

	if hasPrev && prev.Status == record.StatusOK && s.Meta.Status != record.StatusOK {
		// Keep the good capture current; remember the bad one in history.
		ref := captureRef(s.Meta)
		if err := w.putContent(ctx, func(name string) string { return record.HistoryKey(slug, ref.CaptureID, name) }, s); err != nil {
			return prev, err
		}
		if err := w.putJSON(ctx, record.HistoryKey(slug, ref.CaptureID, record.MetaFile), s.Meta); err != nil {
			return prev, err
		}
		kept := prev
		kept.History = appendRef(prev.History, ref)
		kept.Digests = mergeSorted(prev.Digests, s.Meta.Digests)
		return kept, w.putJSON(ctx, record.ArticleKey(slug, record.MetaFile), kept)
	}

	metaKey := record.ArticleKey(slug, record.MetaFile)
	if hasPrev {
		if prev.SHA256 != "" || prev.Status != record.StatusFailed {
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
		if err := w.store.Delete(ctx, metaKey); err != nil {
			return prev, fmt.Errorf("delete %s: %w", metaKey, err)
		}
	} else {
		// No meta.json: a new article, or one whose replacement was cut
		// short after the delete above. Its history, if any, is listed.
		h, err := w.historyRefs(ctx, slug)
		if err != nil {
			return prev, err
		}
		s.Meta.History = h
	}
	if err := w.putContent(ctx, func(name string) string { return record.ArticleKey(slug, name) }, s); err != nil {
		return prev, err
	}
	return s.Meta, w.putJSON(ctx, metaKey, s.Meta)
}

// historyRefs lists the captures kept in an article's history, from the
// meta.json each has there, oldest first.
func (w snapshotWriter) historyRefs(ctx context.Context, slug string) ([]record.CaptureRef, error) {
	prefix := record.ArticleKey(slug, record.HistoryDir) + "/"
	var ids []string
	err := w.store.List(ctx, prefix, func(info storage.Info) error {
		id, name, ok := strings.Cut(strings.TrimPrefix(info.Key, prefix), "/")
		if ok && name == record.MetaFile {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list history of %s: %w", slug, err)
	}
	var refs []record.CaptureRef
	for _, id := range ids {
		rc, err := w.store.Get(ctx, record.HistoryKey(slug, id, record.MetaFile))
		if err != nil {
			if storage.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("read history of %s: %w", slug, err)
		}
		var m record.ArticleMeta
		err = json.NewDecoder(io.LimitReader(rc, 4<<20)).Decode(&m)
		rc.Close()
		if err != nil {
			continue // not a capture we wrote; leave it out of the list
		}
		ref := captureRef(m)
		ref.CaptureID = id
		refs = appendRef(refs, ref)
	}
	return refs, nil
}

// putContent writes the content objects of s under the keys key(name). A
// capture without content deletes stale objects so that meta.json and the
// objects beside it always describe the same capture.
func (w snapshotWriter) putContent(ctx context.Context, key func(string) string, s *Snapshot) error {
	objects := []struct {
		name, contentType string
		data              []byte
	}{
		{record.RawFile, "text/html", s.Raw},
		{record.ReadableFile, "text/html; charset=utf-8", []byte(s.Readable)},
		{record.TextFile, "text/plain; charset=utf-8", []byte(s.Text)},
	}
	for _, o := range objects {
		k := key(o.name)
		if len(o.data) == 0 {
			if err := w.store.Delete(ctx, k); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
			continue
		}
		if err := w.store.Put(ctx, k, bytes.NewReader(o.data), int64(len(o.data)), storage.PutOptions{ContentType: o.contentType}); err != nil {
			return fmt.Errorf("store %s: %w", k, err)
		}
	}
	return nil
}

// copyToHistory copies the current capture's objects, meta.json last, into
// history/<id>/. Copies are idempotent, so a crash half-way is repaired by
// the next run doing the same copy again.
func (w snapshotWriter) copyToHistory(ctx context.Context, slug, id string, prev record.ArticleMeta) error {
	for _, name := range []string{record.RawFile, record.ReadableFile, record.TextFile} {
		src := record.ArticleKey(slug, name)
		rc, err := w.store.Get(ctx, src)
		if storage.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("keep history of %s: %w", src, err)
		}
		info, statErr := w.store.Stat(ctx, src)
		size := int64(-1)
		if statErr == nil {
			size = info.Size
		}
		dst := record.HistoryKey(slug, id, name)
		err = w.store.Put(ctx, dst, rc, size, storage.PutOptions{})
		rc.Close()
		if err != nil {
			return fmt.Errorf("keep history %s: %w", dst, err)
		}
	}
	old := prev
	old.History = nil
	return w.putJSON(ctx, record.HistoryKey(slug, id, record.MetaFile), old)
}

func (w snapshotWriter) putJSON(ctx context.Context, key string, v any) error {
	// Not HTML-escaped: other tools read these files, and URLs with "&"
	// should read as URLs, not as \u0026.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	data := buf.Bytes()
	if err := w.store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// captureRef names a capture by its fetch time, which sorts and is unique
// per article in practice (captures of one article are seconds apart).
func captureRef(m record.ArticleMeta) record.CaptureRef {
	return record.CaptureRef{
		CaptureID: m.FetchedAt.UTC().Format("20060102T150405.000Z"),
		Status:    m.Status,
		FetchedAt: m.FetchedAt,
		SHA256:    m.SHA256,
	}
}

// appendRef adds ref to a history unless a re-run already recorded it.
func appendRef(h []record.CaptureRef, ref record.CaptureRef) []record.CaptureRef {
	for _, r := range h {
		if r.CaptureID == ref.CaptureID {
			return h
		}
	}
	out := append(append([]record.CaptureRef(nil), h...), ref)
	sort.Slice(out, func(i, j int) bool { return out[i].CaptureID < out[j].CaptureID })
	return out
}

// mergeSorted returns the sorted union of two string sets.
func mergeSorted(a, b []string) []string {
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

func sameSet(a, b []string) bool {
	return strings.Join(mergeSorted(a, nil), "\x00") == strings.Join(mergeSorted(b, nil), "\x00")
}
