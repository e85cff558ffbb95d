package archive

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// An article's identity is its canonical publisher URL (weburl.Canonical),
// not the slug its title gives: a digest that names an archived page
// under another title, or with tracking parameters or a fragment, points
// at the article already stored. Within a run the planner merges such
// links (planner.byKey); across runs the store's URL index
// (record.URLIndexKey) names the article holding each URL, and the planner
// gives that article's slug before any title-derived one (planner.plan).
// Runs at once check the index again under the article's lease, just
// before fetching (run.acquire).

// urlIndex is a run's view of the store's URL index.
type urlIndex struct {
	// scanned holds what a scan of a store without the index marker
	// found (canonical URL -> slug): a dry run keeps it in memory, as it
	// writes nothing; a run also writes it to the store.
	scanned map[string]string
	// readers is how many meta.json the scan reads (and entries it
	// writes) at once; 0 means scanReaders.
	readers int
}

// scanReaders is how many meta.json the scan of an older store reads, and
// how many index entries it writes, at once: on S3 each is a round trip
// (see BenchmarkURLIndexScan).
const scanReaders = 8

// prepareURLIndex makes sure the articles stored before the URL index
// existed can be found by URL: when the store has no marker, every
// current meta.json is read once (a List of articles/ and a Get each,
// scanReaders at a time). With write, the entries and then the marker are
// stored, so later runs skip the scan; a dry run (write false) keeps them
// in memory only.
func (a *run) prepareURLIndex(ctx context.Context, write bool) error {
	built, err := record.URLIndexBuilt(ctx, a.opts.Store)
	if err != nil || built {
		return err
	}
	var slugs []string
	err = a.opts.Store.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		if slug, name, _ := strings.Cut(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/"); name == record.MetaFile {
			slugs = append(slugs, slug)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index the URLs of stored articles: %w", err)
	}
	scanned := map[string]string{}
	ok := map[string]bool{} // canonical URL -> its article in scanned is ok
	readers := cmp.Or(a.urls.readers, scanReaders)
	err = record.ReadMetas(ctx, a.opts.Store, slugs, readers, func(slug string, m record.Prior) error {
		if !m.Exists || m.Meta.URL == "" {
			return nil
		}
		u := weburl.Canonical(m.Meta.URL)
		// Of two articles stored with one URL by earlier versions (which
		// linkarc dedupe merges), an ok one is preferred, then the first
		// in key order.
		if _, seen := scanned[u]; !seen || (m.Meta.Status == record.StatusOK && !ok[u]) {
			scanned[u], ok[u] = slug, m.Meta.Status == record.StatusOK
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index the URLs of stored articles: %w", err)
	}
	a.urls.scanned = scanned
	if !write {
		return nil
	}
	// Written scanReaders at a time, as they are read: on S3 each entry
	// is a round trip. An entry there already (a run at once) is kept.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for u, slug := range scanned {
		g.Go(func() error {
			_, err := a.writer.PutURLIndex(gctx, u, slug, "")
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if len(scanned) > 0 {
		a.log.Info("indexed the URLs of articles stored by an earlier version", "articles", len(scanned))
	}
	return a.writer.PutURLIndexMarker(ctx, a.opts.Now())
}

// indexedSlug is the slug the URL index gives for the canonical URL u, or
// "" when it gives none. It is a hint: callers check the article's
// meta.json.
func (a *run) indexedSlug(ctx context.Context, u string) (string, error) {
	if slug, ok := a.urls.scanned[u]; ok {
		return slug, nil
	}
	return record.ReadURLIndex(ctx, a.opts.Store, u)
}

// indexURL records in the URL index that art's slug holds its URL, once
// it is stored, on a store without conditional writes (on the others,
// urlTakenElsewhere claimed the URL under the article's lease).
func (a *run) indexURL(ctx context.Context, art *article) error {
	if art.url == "" || a.leases.leaser != nil {
		return nil
	}
	_, err := a.writer.PutURLIndex(ctx, weburl.Canonical(art.url), art.slug, "")
	return err
}

// indexed is the article the store already holds at the canonical URL u
// under a slug of its own (another title gave it), when the URL index
// names one, its meta.json has that URL and this run has not given the
// slug to another article. Its slug is then this article's.
func (p *planner) indexed(ctx context.Context, u, key string) (string, metaEntry, bool, error) {
	slug, err := p.r.indexedSlug(ctx, u)
	if err != nil || slug == "" {
		return "", metaEntry{}, false, err
	}
	if owner, taken := p.owner[slug]; taken && owner != key {
		return "", metaEntry{}, false, nil
	}
	e, err := p.metaEntry(ctx, slug)
	if err != nil {
		return "", metaEntry{}, false, err
	}
	if !e.Exists || weburl.Canonical(e.Meta.URL) != u {
		return "", metaEntry{}, false, nil
	}
	p.own(slug, key, e)
	return slug, e, true, nil
}

// urlTakenElsewhere runs under art's lease, just before it is fetched: it
// reports true when another article holds art's URL, so art is not
// fetched. That happens when another run, planning at the same time from a
// digest that gives the page another title, took another slug for it:
//
//   - that run stored the page ok: its capture counts, art becomes that
//     article (its slug is the one the digests list), reported unchanged;
//   - that run claimed the URL (the index names its slug) but has not
//     stored it yet: art is deferred to the end of the run (wait false).
//     At the end (wait true) the other article's lease is waited for, and
//     the index read again; a claim still without a capture is taken over.
//
// Otherwise art's slug claims the URL in the index, with a conditional
// write (record.Writer.PutURLIndex): of two runs claiming at once, one
// wins and the other sees its claim. Only called when the store writes
// conditionally (leases).
func (a *run) urlTakenElsewhere(ctx context.Context, art *article, wait bool) (bool, error) {
	if art.url == "" {
		return false, nil
	}
	u := weburl.Canonical(art.url)
	waited := false
	for range 4 {
		slug, etag, err := record.ReadURLIndexVersion(ctx, a.opts.Store, u)
		if err != nil {
			return false, err
		}
		if slug == art.slug {
			return false, nil
		}
		if slug != "" {
			other, err := a.writer.LoadMeta(ctx, slug)
			if err != nil {
				return false, err
			}
			switch {
			case other.Exists && other.Meta.Status == record.StatusOK && weburl.Canonical(other.Meta.URL) == u:
				a.log.Info("page archived by another run under another slug meanwhile; listing that one", "slug", art.slug, "as", slug, "url", art.url)
				art.slug = slug
				a.done(art, other.Meta, Event{Slug: art.slug, Link: art.link, URL: art.url, Host: art.host, Status: record.StatusOK, Unchanged: true})
				return true, nil
			case other.Exists || waited:
				// Another page there, or a failed capture of this one
				// (fetched again here), or a claim by a run that stopped.
			case !wait:
				a.log.Info("page being archived by another run under another slug; coming back to it at the end", "slug", art.slug, "as", slug)
				a.leases.deferArticle(art)
				return true, nil
			default:
				// Wait for the other run to let go of its article (it
				// has written it, or stopped), then look again.
				waited = true
				lease, err := a.leases.leaser.AcquireWait(ctx, record.ArticleLeaseKey(slug), art.key, a.opts.LeaseWait)
				if err == nil {
					lease.Release(ctx)
				} else if ctx.Err() != nil {
					return false, err
				}
				continue
			}
		}
		ok, err := a.writer.PutURLIndex(ctx, u, art.slug, etag)
		if err != nil || ok {
			return false, err
		}
		// Another run wrote the entry since it was read: read it again.
	}
	return false, nil
}
