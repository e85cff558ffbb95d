package archive

import (
	"context"
	"fmt"

	"github.com/linkarc/linkarc/storage/record"
)

// maxSlugRounds bounds collision resolution: each round is a slug another
// article already holds, in the store or in this run, and each costs a
// 64-bit preimage search to make on purpose, so more than a few means the
// store is not what it seems.
const maxSlugRounds = 8

// claim picks the slug of the article with identity key (title and
// publisher as the digest gives them). A slug is never taken from another
// article: a candidate is used only when neither this run nor the store
// has it for another article (same tells whether a stored meta.json is
// this article's). In order:
//
//  1. ArticleSlug(title, publisher), when free or already this article's;
//     when free but this article is stored under the 100-byte slug of
//     earlier versions, that one (a slug once given never changes);
//  2. when the base is another article's: the 8-hex-digit collision slug of
//     earlier versions if the store has this article there, else
//     CollisionSlugRound rounds 1, 2, ... (16 hex digits of the identity's
//     SHA-256) until one is free or this article's.
//
// For the same digests and store, every run makes the same choices.
func (p *planner) claim(ctx context.Context, title, publisher, key string, same func(record.ArticleMeta) bool) (string, metaEntry, error) {
	base := record.ArticleSlug(title, publisher)
	free, e, err := p.slugState(ctx, base, key, same)
	if err != nil {
		return "", metaEntry{}, err
	}
	if free {
		if e.Exists || e.Unreadable != nil {
			return p.own(base, key, e)
		}
		if legacy, ok := record.LegacyArticleSlug(title, publisher); ok {
			if le, found, err := p.heldBy(ctx, legacy, key, same); err != nil {
				return "", metaEntry{}, err
			} else if found {
				return p.own(legacy, key, le)
			}
		}
		return p.own(base, key, e)
	}
	if p.mergedAway(base, e) {
		// Merged into another article by linkarc dedupe: that one, if it
		// is this article.
		if slug, te, err := p.aliasTarget(ctx, base, key, same); err != nil || slug != "" {
			if err != nil {
				return "", metaEntry{}, err
			}
			return p.own(slug, key, te)
		}
	}
	if legacy := record.LegacyCollisionSlug(base, key); legacy != base {
		if le, found, err := p.heldBy(ctx, legacy, key, same); err != nil {
			return "", metaEntry{}, err
		} else if found {
			return p.own(legacy, key, le)
		}
	}
	for round := 1; round <= maxSlugRounds; round++ {
		slug := record.CollisionSlugRound(base, key, round)
		free, e, err := p.slugState(ctx, slug, key, same)
		if err != nil {
			return "", metaEntry{}, err
		}
		if free {
			return p.own(slug, key, e)
		}
	}
	return "", metaEntry{}, fmt.Errorf("slug %s: %d collision slugs in a row are other articles'", base, maxSlugRounds)
}

// slugState reports whether slug may be used by the article with identity
// key: this run has not given it to another, and the store has nothing
// there or this article (an unreadable meta.json counts as this article's:
// the writer keeps it in history first, as it always has). e is the store's
// meta.json at slug.
func (p *planner) slugState(ctx context.Context, slug, key string, same func(record.ArticleMeta) bool) (bool, metaEntry, error) {
	if owner, taken := p.owner[slug]; taken && owner != key {
		return false, metaEntry{}, nil
	}
	// Also when this run gave slug to this article: another run may have
	// stored another article there since (see reclaim).
	e, err := p.metaEntry(ctx, slug)
	if err != nil {
		return false, metaEntry{}, err
	}
	return (!e.Exists || same(e.Meta)) && !p.mergedAway(slug, e), e, nil
}

// heldBy reports whether the store has this article at slug (and the run
// has not given slug to another).
func (p *planner) heldBy(ctx context.Context, slug, key string, same func(record.ArticleMeta) bool) (metaEntry, bool, error) {
	if owner, taken := p.owner[slug]; taken && owner != key {
		return metaEntry{}, false, nil
	}
	e, err := p.metaEntry(ctx, slug)
	if err != nil {
		return metaEntry{}, false, err
	}
	return e, e.Exists && same(e.Meta), nil
}

func (p *planner) own(slug, key string, e metaEntry) (string, metaEntry, error) {
	p.owner[slug] = key
	return slug, e, nil
}

// reclaim gives an article a new slug when, by the time it was to be
// written, another run had stored another article under the one it was
// planned with: the store is read afresh and claim goes on to the next
// collision slug. It runs after planning has ended (the planner is not
// running). The digests listing the article name its slug when they are
// written, at the end.
func (p *planner) reclaim(ctx context.Context, art *article) error {
	clear(p.metas)
	slug, prev, err := p.claim(ctx, art.title, art.publisher, art.key, art.same)
	if err != nil {
		return err
	}
	art.slug, art.prior = slug, nil
	if prev.Exists || prev.Unreadable != nil {
		art.prior = &prev
	}
	return nil
}
