package record

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"

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
	return w.RederiveCapture(ctx, m, Rederived{Readable: readable, Text: text})
}

// Rederived is what a re-extraction replaces of the current capture of an
// article (Writer.RederiveCapture).
type Rederived struct {
	// Readable and Text are readable.html and text.txt; empty removes the
	// object.
	Readable, Text string
	// Objects are objects derived from the capture's WARC
	// (DerivedFile: PageFile, ThumbFile), built again. Each is written
	// and its SHA-256 recorded in Sums; its name stays where it was in
	// Files, or is added at the end. Nil leaves those objects as they are.
	Objects []Object
	// Drop names derived objects the capture no longer has (a thumbnail
	// whose lead image is no longer one the WARC holds): their names are
	// taken off Files and Sums, and the objects deleted once meta.json no
	// longer lists them.
	Drop []string
}

// RederiveCapture is Rederive with the objects derived from the WARC
// too. The WARC, raw.html and the capture's history are never touched:
// an object in d that is not a DerivedFile is an error, and nothing is
// written. m.PageVersion is kept only while Files lists PageFile.
//
// Order: the objects of d, readable.html and text.txt are written first
// and meta.json last, so meta.json never lists an object that is not
// there; dropped objects are deleted after it. Run it under the
// article's lease (ArticleLeaseKey), as `linkarc reextract` does, so that
// no other writer works on the article meanwhile.
func (w Writer) RederiveCapture(ctx context.Context, m ArticleMeta, d Rederived) error {
	for _, o := range d.Objects {
		if !DerivedFile(o.Name) {
			return fmt.Errorf("rederive %s: %q is not derived from the capture", m.Slug, o.Name)
		}
	}
	for _, name := range d.Drop {
		if !DerivedFile(name) {
			return fmt.Errorf("rederive %s: %q is not derived from the capture", m.Slug, name)
		}
	}
	m.Files = slices.Clone(m.Files)
	if m.Sums != nil {
		m.Sums = maps.Clone(m.Sums)
	}
	for _, o := range d.Objects {
		sum, err := w.putObject(ctx, ArticleKey(m.Slug, o.Name), o)
		if err != nil {
			return err
		}
		if !slices.Contains(m.Files, o.Name) {
			m.Files = append(m.Files, o.Name)
		}
		if sum != "" {
			m.setSum(o.Name, sum)
		} else if m.Sums != nil {
			delete(m.Sums, o.Name) // an upload retried from elsewhere: no sum is better than a wrong one
		}
	}
	var dropped []string
	for _, name := range d.Drop {
		if slices.ContainsFunc(d.Objects, func(o Object) bool { return o.Name == name }) {
			continue
		}
		m.Files = slices.DeleteFunc(m.Files, func(f string) bool { return f == name })
		if m.Sums != nil {
			delete(m.Sums, name)
		}
		dropped = append(dropped, name)
	}
	if len(m.Files) == 0 {
		m.Files = nil
	}
	if !slices.Contains(m.Files, PageFile) {
		m.PageVersion = 0
	}
	for _, o := range []struct {
		name, contentType, data string
	}{
		{ReadableFile, "text/html; charset=utf-8", d.Readable},
		{TextFile, "text/plain; charset=utf-8", d.Text},
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
	if err := w.putJSON(ctx, ArticleKey(m.Slug, MetaFile), m); err != nil {
		return err
	}
	for _, name := range dropped {
		k := ArticleKey(m.Slug, name)
		if err := w.Store.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}
