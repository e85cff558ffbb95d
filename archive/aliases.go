package archive

import (
	"context"
	"errors"
	"fmt"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// `linkarc dedupe` (archive/dedupe) merges articles that hold one URL and
// leaves an alias for each slug it merged away (record.Alias): the slug's
// meta.json is gone, its captures are in the keeper's history. A run
// treats such a slug as taken, never as free: a digest that still gives
// the old title is archived under the keeper (the URL index names it; for
// a link that did not resolve, under the alias's keeper when it is that
// link's article, else a collision slug), an article the run planned
// under an old slug before a merge happening meanwhile is archived under
// the keeper, and digest records name the keeper, not the old slug. An
// alias applies only to a slug without a meta.json: a merge cut short
// leaves both, and the slug is still an article.

// loadAliases lists the store's aliases once, for the planner (one
// listing; the aliases themselves are read only for slugs a digest
// names). The checks under each article's lease (aliasOf) see merges made
// after it.
func (a *run) loadAliases(ctx context.Context) error {
	a.aliased = map[string]bool{}
	return record.ListAliases(ctx, a.opts.Store, func(slug string) error {
		a.aliased[slug] = true
		return nil
	})
}

// aliasOf is the article slug was merged into, read under slug's lease
// from what the store holds now: "" when slug has no alias. Call it only
// when slug has no meta.json (an alias applies to nothing else).
func (a *run) aliasOf(ctx context.Context, slug string) (string, error) {
	end, _, err := record.ResolveAlias(ctx, a.opts.Store, slug)
	switch {
	case storage.IsNotExist(err):
		return "", nil
	case errors.Is(err, record.ErrUnreadable), errors.Is(err, record.ErrAliasLoop):
		// A damaged alias still says the slug was merged away: it stays
		// taken, and the article is left for a re-run after a fix.
		return "", fmt.Errorf("article %s: %w", slug, err)
	case err != nil:
		return "", err
	}
	return end, nil
}

// mergedAway reports whether the planner must not give slug to an
// article: it has an alias and no meta.json (e).
func (p *planner) mergedAway(slug string, e metaEntry) bool {
	return !e.Exists && e.Unreadable == nil && p.r.aliased[slug]
}

// aliasTarget is the article slug was merged into, when slug's alias
// names one that holds the article with identity key: it is this
// article's slug then. "" otherwise.
func (p *planner) aliasTarget(ctx context.Context, slug, key string, same func(record.ArticleMeta) bool) (string, metaEntry, error) {
	end, _, err := record.ResolveAlias(ctx, p.r.opts.Store, slug)
	if err != nil {
		if storage.IsNotExist(err) || errors.Is(err, record.ErrUnreadable) || errors.Is(err, record.ErrAliasLoop) {
			return "", metaEntry{}, nil
		}
		return "", metaEntry{}, err
	}
	e, found, err := p.heldBy(ctx, end, key, same)
	if err != nil || !found {
		return "", metaEntry{}, err
	}
	return end, e, nil
}

// followAlias runs under art's lease when its slug has no meta.json: if
// a merge made meanwhile has given the slug an alias, art moves to the
// article its aliases end at and is deferred, to be archived there under
// that article's lease (true). The caller releases art's lease.
func (a *run) followAlias(ctx context.Context, art *article) (bool, error) {
	end, err := a.aliasOf(ctx, art.slug)
	if err != nil || end == "" {
		return false, err
	}
	a.log.Info("article merged into another by linkarc dedupe meanwhile; archiving it there", "slug", art.slug, "as", end)
	// What the run now plans to replace is that article's capture (with
	// --refresh it is captured again; without, it counts if it is ok).
	prior, err := a.writer.LoadMeta(ctx, end)
	if err != nil {
		return false, err
	}
	art.slug, art.prior = end, &prior
	a.leases.deferArticle(art)
	return true, nil
}

// listedSlugs maps the slugs of a digest record's items through the
// store's aliases, read under the digest's lease: an item whose article
// was merged away (by a `linkarc dedupe` running since this run planned
// it) names the article it was merged into, and keeps the old slug in
// MergedFrom.
func (a *run) listedSlugs(ctx context.Context, rec *record.DigestRecord) error {
	aliased := map[string]bool{}
	if err := record.ListAliases(ctx, a.opts.Store, func(slug string) error { aliased[slug] = true; return nil }); err != nil {
		return err
	}
	if len(aliased) == 0 {
		return nil
	}
	ends := map[string]string{}
	for i := range rec.Articles {
		e := &rec.Articles[i]
		if !aliased[e.Slug] {
			continue
		}
		end, ok := ends[e.Slug]
		if !ok {
			if _, err := a.opts.Store.Stat(ctx, record.ArticleKey(e.Slug, record.MetaFile)); err == nil {
				ends[e.Slug] = "" // still an article
				continue
			} else if !storage.IsNotExist(err) {
				return err
			}
			var err error
			if end, err = a.aliasOf(ctx, e.Slug); err != nil {
				a.log.Warn("digest lists an article whose alias cannot be followed", "digest", rec.Slug, "slug", e.Slug, "err", err)
			}
			ends[e.Slug] = end
		}
		if end != "" {
			a.log.Info("digest lists an article merged into another by linkarc dedupe meanwhile; listing that one", "digest", rec.Slug, "slug", e.Slug, "as", end)
			e.MergedFrom, e.Slug = e.Slug, end
		}
	}
	return nil
}
