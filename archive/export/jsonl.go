package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/storage/record"
)

// WriteJSONL writes one line per selected article to w: the article's
// meta.json (record.ArticleMeta) as one JSON object, its field names
// those of the archive format (docs/storage.md), stable across versions
// (new fields may appear, none is renamed), "&" and "<" left as they are so
// URLs read as URLs. Articles come one at a time from the store (see
// stored.Selection.Articles for their order). ErrNothing when no article is
// selected.
func WriteJSONL(ctx context.Context, sel *stored.Selection, w io.Writer) (Report, error) {
	rep := Report{Format: FormatJSONL, Digests: len(sel.DigestSlugs())}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := sel.Articles(ctx, func(m *record.ArticleMeta) error {
		if err := enc.Encode(m); err != nil {
			return fmt.Errorf("article %s: %w", m.Slug, err)
		}
		rep.Articles++
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	rep.Bytes = cw.n
	if err == nil && rep.Articles == 0 {
		err = fmt.Errorf("%w: the selection holds no article", ErrNothing)
	}
	return rep, err
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
