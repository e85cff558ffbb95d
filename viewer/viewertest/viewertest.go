// Package viewertest writes archives for the viewer's tests, screenshots and
// load benchmark. It writes through storage.Store with the layout types, the
// way the archiver does (an article's meta.json last), so a generated archive
// is indistinguishable from a real one to the viewer.
package viewertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Article is one article to write: its meta.json and its three documents.
// Empty documents are not written (a failed capture has none).
type Article struct {
	Meta     record.ArticleMeta
	Raw      string // raw.html
	Readable string // readable.html
	Text     string // text.txt

	// Files are the capture's further objects (record.PageFile,
	// record.ThumbFile…), written beside meta.json and listed in
	// Meta.Files, in order.
	Files []File

	// History are earlier captures, written under history/<CaptureID>/.
	// PutArticle adds their CaptureRefs to Meta.History.
	History []Capture
}

// File is one further object of a capture.
type File struct {
	Name string
	Body []byte
}

// Capture is an earlier capture of an article.
type Capture struct {
	Meta     record.ArticleMeta // Meta.Slug and Meta.FetchedAt as for the article
	ID       string             // capture id, a path segment
	Raw      string
	Readable string
	Text     string
	Files    []File
}

// PutArticle writes an article: documents first, meta.json last, as the
// archiver does. Meta.SHA256 and Meta.Size are filled in from Raw when empty.
func PutArticle(ctx context.Context, st storage.Store, a Article) error {
	slug := a.Meta.Slug
	for _, c := range a.History {
		m := c.Meta
		m.Slug = slug
		fillRaw(&m, c.Raw)
		docs := map[string]string{record.RawFile: c.Raw, record.ReadableFile: c.Readable, record.TextFile: c.Text}
		for name, body := range docs {
			if body != "" {
				if err := putString(ctx, st, record.HistoryKey(slug, c.ID, name), body, contentType(name)); err != nil {
					return err
				}
			}
		}
		if err := putFiles(ctx, st, func(name string) string { return record.HistoryKey(slug, c.ID, name) }, &m, c.Files); err != nil {
			return err
		}
		if err := putJSON(ctx, st, record.HistoryKey(slug, c.ID, record.MetaFile), m); err != nil {
			return err
		}
		a.Meta.History = append(a.Meta.History, record.CaptureRef{
			CaptureID: c.ID, Status: m.Status, FetchedAt: m.FetchedAt, SHA256: m.SHA256,
		})
	}
	for _, d := range []struct{ name, body string }{
		{record.RawFile, a.Raw}, {record.ReadableFile, a.Readable}, {record.TextFile, a.Text},
	} {
		if d.body != "" {
			if err := putString(ctx, st, record.ArticleKey(slug, d.name), d.body, contentType(d.name)); err != nil {
				return err
			}
		}
	}
	if err := putFiles(ctx, st, func(name string) string { return record.ArticleKey(slug, name) }, &a.Meta, a.Files); err != nil {
		return err
	}
	fillRaw(&a.Meta, a.Raw)
	if a.Meta.Digests == nil {
		a.Meta.Digests = []string{}
	}
	return putJSON(ctx, st, record.ArticleKey(slug, record.MetaFile), a.Meta)
}

// PutDigest writes a digest record, filling in Counts from its articles
// when it has none.
func PutDigest(ctx context.Context, st storage.Store, d record.DigestRecord) error {
	if d.Counts == nil {
		d.Counts = map[string]int{}
		for _, a := range d.Articles {
			d.Counts[a.Status]++
		}
	}
	return putJSON(ctx, st, record.DigestKey(d.Slug), d)
}

// PutRaw writes one object as it is, for tests that need a damaged record.
func PutRaw(ctx context.Context, st storage.Store, key, body string) error {
	return putString(ctx, st, key, body, "application/octet-stream")
}

// putFiles writes a capture's further objects and lists them in m.Files.
func putFiles(ctx context.Context, st storage.Store, key func(string) string, m *record.ArticleMeta, files []File) error {
	for _, f := range files {
		if err := putString(ctx, st, key(f.Name), string(f.Body), contentType(f.Name)); err != nil {
			return err
		}
		m.Files = append(m.Files, f.Name)
	}
	return nil
}

func fillRaw(m *record.ArticleMeta, raw string) {
	if raw == "" {
		return
	}
	if m.SHA256 == "" {
		sum := sha256.Sum256([]byte(raw))
		m.SHA256 = hex.EncodeToString(sum[:])
	}
	if m.Size == 0 {
		m.Size = int64(len(raw))
	}
}

func contentType(name string) string {
	switch name {
	case record.RawFile, record.ReadableFile, record.PageFile:
		return "text/html; charset=utf-8"
	case record.ThumbFile:
		return "image/jpeg"
	case record.WARCFile:
		return "application/warc"
	case record.TextFile:
		return "text/plain; charset=utf-8"
	default:
		return "application/json"
	}
}

func putString(ctx context.Context, st storage.Store, key, body, ct string) error {
	if err := st.Put(ctx, key, strings.NewReader(body), int64(len(body)), storage.PutOptions{ContentType: ct}); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func putJSON(ctx context.Context, st storage.Store, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return putString(ctx, st, key, string(b), "application/json")
}
