package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/viewer"
)

// WriteSite writes the selection as a static, read-only web site into dir:
// the viewer's pages (home, tags, digests, articles with their readable
// text and capture details) and the archived pages, inert, rendered by the
// viewer itself (viewer.Site) from a view of the store that holds only the
// selection. Links between pages are relative and no page has a script,
// so the site opens from the folder (file://) or from any static host;
// index.html is its home. Links to articles the selection leaves out are
// kept as text.
//
// dir must be ready (PrepareDir); what an earlier export there wrote and
// this one does not is removed (Report.Removed). ErrNothing when no digest
// is selected.
func WriteSite(ctx context.Context, sel *stored.Selection, dir string, logger *slog.Logger) (Report, error) {
	rep := Report{Format: FormatSite, Digests: len(sel.DigestSlugs())}
	if rep.Digests == 0 {
		return rep, fmt.Errorf("%w: the selection holds no digest", ErrNothing)
	}
	site, err := viewer.NewSite(viewer.SiteOptions{Store: sel.View(), Logger: logger})
	if err != nil {
		return rep, err
	}
	defer site.Close()
	out := newDirOut(dir, FormatSite)
	st, err := site.Write(ctx, out.write)
	rep.Articles, rep.Files, rep.Bytes = st.Articles, st.Files, st.Bytes
	removed, ferr := out.finish(err == nil)
	rep.Removed = removed
	return rep, errors.Join(err, ferr)
}
