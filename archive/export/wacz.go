package export

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/wacz"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// WACZOptions describes the package WriteWACZ writes.
type WACZOptions struct {
	// Title and Description describe the collection; "" gives a title
	// naming the selection.
	Title, Description string
	// Created is the package's time; zero means now.
	Created time.Time
	// Software names the writer, e.g. "linkarc/v1.2.0"; "" means
	// wacz.DefaultSoftware.
	Software string
}

// NoWARCReason is why an article whose capture has no WARC is left out of
// a WACZ.
const NoWARCReason = "no WARC for this capture (captured before WARC recording); re-run archive --refresh"

// WriteWACZ writes the selected articles' current captures to w as one
// WACZ package (archive/wacz): each capture's WARC (stored.WARCKey),
// copied from the store as it is read, as archive/<slug>.warc.gz, and one
// page per article in pages/pages.jsonl, at the URL and time of its page's
// response in that WARC, titled as the viewer titles it, with its excerpt
// as text. An article whose capture has no WARC is left out, with
// NoWARCReason (Report.Skipped). ErrNothing, and nothing written to w,
// when no selected capture has a WARC.
//
// A WARC whose responses were deduplicated against another capture's
// (revisit records) replays those resources only if that capture is
// exported too.
func WriteWACZ(ctx context.Context, sel *stored.Selection, w io.Writer, opts WACZOptions) (Report, error) {
	rep := Report{Format: FormatWACZ, Digests: len(sel.DigestSlugs())}
	st := sel.View()
	var zw *wacz.Writer
	cw := &countingWriter{w: w}
	err := sel.Articles(ctx, func(m *record.ArticleMeta) error {
		key := stored.WARCKey(m.Slug, "")
		rc, err := st.Get(ctx, key)
		if storage.IsNotExist(err) {
			rep.Skipped = append(rep.Skipped, Skip{Slug: m.Slug, Reason: NoWARCReason})
			return nil
		}
		if err != nil {
			return err
		}
		defer rc.Close()
		if zw == nil {
			// Opened at the first WARC: a selection without any writes
			// nothing at all.
			zw = wacz.NewWriter(cw, wacz.Options{
				Title:       cmp.Or(opts.Title, "linkarc export"),
				Description: opts.Description,
				Created:     opts.Created,
				Software:    opts.Software,
			})
		}
		if err := zw.AddWARC(m.Slug+".warc.gz", rc); err != nil {
			return fmt.Errorf("article %s: %w", m.Slug, err)
		}
		rep.Articles++
		if p, ok := pageOf(m, zw.LastWARC()); ok {
			if err := zw.AddPage(p); err != nil {
				return fmt.Errorf("article %s: %w", m.Slug, err)
			}
		} else {
			rep.Skipped = append(rep.Skipped, Skip{Slug: m.Slug, Reason: "its WARC has no response for the page; packaged without a page entry"})
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if zw == nil {
		return rep, fmt.Errorf("%w: no capture in the selection has a WARC (%d were captured before WARC recording; re-run archive --refresh)", ErrNothing, len(rep.Skipped))
	}
	err = zw.Close()
	rep.Bytes = cw.n
	return rep, err
}

// pageOf finds the page entry of an article among the index entries of
// its WARC: the response at its final URL (else its URL), the last one if
// a retry recorded several.
func pageOf(m *record.ArticleMeta, entries []warc.IndexEntry) (wacz.Page, bool) {
	var found *warc.IndexEntry
	for _, want := range []string{m.FinalURL, m.URL} {
		for i := range entries {
			e := &entries[i]
			if want != "" && e.URL == want && e.Status >= 200 && e.Status < 300 {
				found = e
			}
		}
		if found != nil {
			break
		}
	}
	if found == nil {
		return wacz.Page{}, false
	}
	ts, err := time.Parse("20060102150405", found.Timestamp)
	if err != nil {
		return wacz.Page{}, false
	}
	title := cmp.Or(strings.TrimSpace(m.ArticleTitle), strings.TrimSpace(m.Title), m.Slug)
	return wacz.Page{URL: found.URL, TS: ts, Title: title, Text: m.Excerpt, Size: m.Size}, true
}
