package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/wacz"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/textnorm"
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

// failedNoWARCReason is why a capture that failed before anything was
// recorded (a refused connection, a timeout) is left out of a WACZ.
func failedNoWARCReason(m *record.ArticleMeta) string {
	return fmt.Sprintf("no WARC: its capture failed (%s) with nothing recorded; 'linkarc archive' tries failed articles again", m.Reason)
}

// WriteWACZ writes the selected articles' current captures to w as one
// WACZ package (archive/wacz): each capture's WARC (stored.WARCKey),
// copied from the store as it is read, as archive/<slug>.warc.gz, and one
// page per article in pages/pages.jsonl, at the URL and time of its page's
// response in that WARC, titled as the viewer titles it, with its excerpt
// as text. An article whose capture has no WARC is left out, with
// NoWARCReason, or for a failed capture a reason that says so
// (Report.Skipped); one whose WARC has no 2xx response for its page (it
// failed with an HTTP error) is packaged without a page entry
// (Report.NoPage). ErrNothing, and nothing written to w, when no selected
// capture has a WARC.
//
// A capture's requisites fetched first by another capture are revisit
// records referring to that capture's WARC (archive/stored.FindOriginal,
// OpenOriginal: current or in history). Each such WARC not in the package
// already is added after the selected ones, as archive/<slug>.warc.gz for
// an article's current capture or archive/<slug>-<capture-id>.warc.gz for
// an earlier one, indexed like the others but with no page of its own
// (Report.Originals), so that the package replays alone. A revisit whose
// original is not in the store is counted in Report.MissingOriginals.
func WriteWACZ(ctx context.Context, sel *stored.Selection, w io.Writer, opts WACZOptions) (Report, error) {
	rep := Report{Format: FormatWACZ, Digests: len(sel.DigestSlugs())}
	st := sel.View()
	var zw *wacz.Writer
	cw := &countingWriter{w: w}
	inPkg := map[string]bool{} // store keys of the WARCs in the package
	var revisits []stored.Revisit
	err := sel.Articles(ctx, func(m *record.ArticleMeta) error {
		key := stored.WARCKey(m.Slug, "")
		rc, err := st.Get(ctx, key)
		if storage.IsNotExist(err) {
			reason := NoWARCReason
			if m.Status == record.StatusFailed {
				reason = failedNoWARCReason(m)
			}
			rep.Skipped = append(rep.Skipped, Skip{Slug: m.Slug, Reason: reason})
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
		revs, err := addWARC(zw, m.Slug+".warc.gz", rc)
		if err != nil {
			return fmt.Errorf("article %s: %w", m.Slug, err)
		}
		inPkg[key] = true
		revisits = append(revisits, revs...)
		rep.Articles++
		if p, ok := pageOf(m, zw.LastWARC()); ok {
			if err := zw.AddPage(p); err != nil {
				return fmt.Errorf("article %s: %w", m.Slug, err)
			}
		} else {
			rep.NoPage = append(rep.NoPage, m.Slug)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if zw == nil {
		return rep, fmt.Errorf("%w: no capture in the selection has a WARC (%d %s none: captured before WARC recording, for which archive --refresh makes one, or failed with nothing recorded)",
			ErrNothing, len(rep.Skipped), textnorm.Plural(len(rep.Skipped), "has", "have"))
	}
	if err := addOriginals(ctx, sel.Store(), zw, revisits, inPkg, &rep); err != nil {
		return rep, err
	}
	err = zw.Close()
	rep.Bytes = cw.n
	return rep, err
}

// addWARC adds a WARC to the package and returns its revisit records,
// read on the way (the WARC is read once).
func addWARC(zw *wacz.Writer, name string, r io.Reader) ([]stored.Revisit, error) {
	pr, pw := io.Pipe()
	done := make(chan []stored.Revisit, 1)
	go func() {
		revs, _ := stored.ReadRevisits(pr, warc.ReaderOptions{}) // AddWARC reports a WARC that does not read
		io.Copy(io.Discard, pr)
		done <- revs
	}()
	err := zw.AddWARC(name, io.TeeReader(r, pw))
	pw.CloseWithError(err) // nil: the reader sees the end of the file
	revs := <-done
	if err != nil {
		return nil, err
	}
	return revs, nil
}

// addOriginals adds the WARCs holding the originals of revisits that the
// package does not hold yet: each found through the requisite index in
// the whole store (st), not only the selection.
func addOriginals(ctx context.Context, st storage.Store, zw *wacz.Writer, revisits []stored.Revisit, inPkg map[string]bool, rep *Report) error {
	if len(revisits) == 0 {
		return nil
	}
	// Full responses already in the package, by URL and digest: a revisit
	// of one of them (robots.txt, a requisite two selected captures share)
	// needs nothing more.
	held := map[string]bool{}
	for _, e := range zw.Index() {
		if e.Mime != "warc/revisit" && e.Digest != "" {
			held[e.URL+" "+e.Digest] = true
		}
	}
	asked := map[string]bool{}
	names := map[string]bool{}
	for _, e := range zw.Index() {
		names[e.Filename] = true
	}
	for _, rv := range revisits {
		target := cmp.Or(rv.RefersToURI, rv.URL)
		if isRobots(target) {
			// robots.txt, read by an earlier capture of the run: no reader
			// of the package needs it, and the index does not hold it.
			continue
		}
		if held[target+" "+unlabelled(rv.PayloadDigest)] {
			continue
		}
		id := rv.RefersTo + " " + target + " " + rv.PayloadDigest
		if asked[id] {
			continue
		}
		asked[id] = true
		ref, err := stored.FindOriginal(ctx, st, rv)
		var key string
		if err == nil {
			key, err = stored.LocateOriginal(ctx, st, ref)
		}
		if errors.Is(err, stored.ErrNoOriginal) {
			rep.MissingOriginals++
			continue
		}
		if err != nil {
			return fmt.Errorf("the original of %s: %w", rv.URL, err)
		}
		if inPkg[key] {
			continue
		}
		name := originalName(key)
		if name == "" || names[name] {
			rep.MissingOriginals++
			continue
		}
		rc, err := st.Get(ctx, key)
		if storage.IsNotExist(err) {
			rep.MissingOriginals++ // gone since it was located
			continue
		}
		if err != nil {
			return err
		}
		_, err = addWARC(zw, name, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("the original of %s (%s): %w", rv.URL, key, err)
		}
		inPkg[key], names[name] = true, true
		rep.Originals++
		for _, e := range zw.LastWARC() {
			if e.Mime != "warc/revisit" && e.Digest != "" {
				held[e.URL+" "+e.Digest] = true
			}
		}
	}
	return nil
}

// originalName is the package name of a WARC added for the originals of
// revisits: <slug>.warc.gz for an article's current capture,
// <slug>-<capture-id>.warc.gz for one in its history.
func originalName(key string) string {
	rest, ok := strings.CutPrefix(key, record.ArticlesPrefix)
	if !ok {
		return ""
	}
	rest, ok = strings.CutSuffix(rest, "/"+stored.WARCFile)
	if !ok {
		return ""
	}
	slug, hist, isHist := strings.Cut(rest, "/")
	if !isHist {
		return slug + ".warc.gz"
	}
	id, ok := strings.CutPrefix(hist, record.HistoryDir+"/")
	if !ok || !record.ValidCaptureID(id) {
		return ""
	}
	return slug + "-" + id + ".warc.gz"
}

// isRobots reports whether u is a site's robots.txt.
func isRobots(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Path == "/robots.txt"
}

// unlabelled is a payload digest without its algorithm label, as the CDXJ
// index has it.
func unlabelled(d string) string {
	if _, v, ok := strings.Cut(d, ":"); ok {
		return v
	}
	return d
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
