package record

import (
	"bytes"
	"context"
	"fmt"

	"github.com/linkarc/linkarc/storage"
)

// Rederive replaces what is derived from the current capture of an
// article, its readable.html and text.txt, and its meta.json, m: for
// re-extraction (`linkarc reextract`), when the extractor has improved
// since the capture was made. The capture itself (raw.html, its WARC, its
// history) is left as it is and nothing goes to history: no new capture
// was made. As in Write, the content objects are written first and
// meta.json last, so meta.json never describes objects that are not yet
// there; an empty readable or text removes its object.
func (w Writer) Rederive(ctx context.Context, m ArticleMeta, readable, text string) error {
	for _, o := range []struct {
		name, contentType, data string
	}{
		{ReadableFile, "text/html; charset=utf-8", readable},
		{TextFile, "text/plain; charset=utf-8", text},
	} {
		k := ArticleKey(m.Slug, o.name)
		if o.data == "" {
			if err := w.Store.Delete(ctx, k); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
			if m.Sums != nil {
				delete(m.Sums, o.name)
			}
			continue
		}
		if err := w.Store.Put(ctx, k, bytes.NewReader([]byte(o.data)), int64(len(o.data)), storage.PutOptions{ContentType: o.contentType}); err != nil {
			return fmt.Errorf("store %s: %w", k, err)
		}
		m.setSum(o.name, sha256Hex([]byte(o.data)))
	}
	return w.putJSON(ctx, ArticleKey(m.Slug, MetaFile), m)
}
