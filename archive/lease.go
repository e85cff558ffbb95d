package archive

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// Several runs may share a store (two terminals, a cron job and a person,
// several machines on one bucket). Each article is written under a lease
// (record.Leaser): a small object leases/articles/<slug>.json created or
// taken over with a conditional write, naming the run that holds it and
// renewed while it does. A run takes the lease before it fetches the
// article and keeps it until its meta.json is written; then it reads what
// the store holds now (another run may have written since planning), so the
// capture it replaces is the current one and goes to history whole. An
// article leased by another run is deferred: the run goes on with the rest
// of its batch and comes back to it at the end, waiting up to LeaseWait for
// the other run; by then the other run has usually captured it, and that
// capture counts (no second request). See docs/storage.md, "Concurrent
// writers".

// DefaultLeaseWait is Options.LeaseWait's default: how long the end of a
// run waits for another run to finish an article both want.
const DefaultLeaseWait = 2 * record.DefaultLeaseTTL

// leases is a run's lease state.
type leases struct {
	leaser *record.Leaser // nil: the store cannot write conditionally

	mu       sync.Mutex
	deferred []*article
	leased   []string // articles left to another run, for the report
}

func (l *leases) deferArticle(art *article) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deferred = append(l.deferred, art)
}

func (l *leases) takeDeferred() []*article {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.deferred
	l.deferred = nil
	return out
}

// acquire takes art's lease before it is fetched and reloads what the store
// holds under its slug. It returns false when the article is not to be
// fetched now: deferred (another run holds it and wait is false), captured
// meanwhile by another run (reported as unchanged), or left (the store
// failed, or after waiting another run still holds it).
func (a *run) acquire(ctx context.Context, art *article, wait bool) bool {
	if a.leases.leaser == nil {
		return true
	}
	key := record.ArticleLeaseKey(art.slug)
	var lease *record.Lease
	var err error
	if wait {
		lease, err = a.leases.leaser.AcquireWait(ctx, key, art.key, a.opts.LeaseWait)
	} else {
		lease, err = a.leases.leaser.Acquire(ctx, key, art.key)
	}
	var held *record.LeasedError
	switch {
	case errors.As(err, &held) && !wait:
		a.log.Info("article being archived by another run; coming back to it at the end", "slug", art.slug, "holder", held.Holder.String())
		a.leases.deferArticle(art)
		return false
	case errors.As(err, &held):
		a.leftToOther(art, err.Error())
		return false
	case err != nil:
		if ctx.Err() == nil {
			a.storeFailed(fmt.Errorf("article %s: lease: %w", art.slug, err))
		}
		return false
	}
	art.lease = lease
	prior, err := a.writer.LoadMeta(ctx, art.slug)
	if err != nil {
		a.release(ctx, art)
		if ctx.Err() == nil {
			a.storeFailed(err)
		}
		return false
	}
	if prior.Unreadable != nil {
		a.unreadable(art.slug, prior.Unreadable)
	}
	if !prior.Exists && prior.Unreadable == nil {
		// Merged into another article meanwhile (linkarc dedupe)?
		if moved, err := a.followAlias(ctx, art); err != nil || moved {
			a.release(ctx, art)
			switch {
			case err == nil, ctx.Err() != nil:
			case errors.Is(err, record.ErrUnreadable), errors.Is(err, record.ErrAliasLoop):
				a.leftToOther(art, err.Error())
			default:
				a.storeFailed(fmt.Errorf("article %s: %w", art.slug, err))
			}
			return false
		}
	}
	if prior.Exists && art.same != nil && !art.same(prior.Meta) {
		// Another run stored another article under this slug since it was
		// planned; it is never overwritten. A re-run gives this one a
		// collision slug.
		a.release(ctx, art)
		if art.reslugged {
			a.leftToOther(art, slugTakenMeanwhile)
		} else {
			// Given another slug at the end of the run (runDeferred).
			a.log.Info("slug taken by another article meanwhile; giving this one another", "slug", art.slug, "url", art.url)
			art.reslugged = true
			a.leases.deferArticle(art)
		}
		return false
	}
	if !a.opts.Refresh {
		if elsewhere, err := a.urlTakenElsewhere(ctx, art, wait); err != nil || elsewhere {
			a.release(ctx, art)
			if err != nil && ctx.Err() == nil {
				a.storeFailed(fmt.Errorf("article %s: %w", art.slug, err))
			}
			return false
		}
	}
	planned := art.previous()
	if prior.Exists && prior.Meta.Status == record.StatusOK && art.url != "" &&
		weburl.Canonical(prior.Meta.URL) == weburl.Canonical(art.url) &&
		(!a.opts.Refresh || !planned.Exists || !prior.Meta.FetchedAt.Equal(planned.Meta.FetchedAt)) {
		// Captured by another run since this one planned it (without
		// --refresh the planner skips what is ok, so an ok capture now is
		// one made since; with it, a capture other than the one planned
		// over): that capture counts.
		a.release(ctx, art)
		a.done(art, prior.Meta, Event{Slug: art.slug, Link: art.link, URL: art.url, Host: art.host, Status: record.StatusOK, Unchanged: true})
		return false
	}
	art.prior = nil
	if prior.Exists || prior.Unreadable != nil {
		art.prior = &prior
	}
	return true
}

const slugTakenMeanwhile = "another run stored another article under this slug meanwhile, twice; a re-run gives this one another slug"

// leftToOther records an article this run leaves to another run writing
// the same store: in the log and in the report (Report.Leased); it counts
// as unfinished.
func (a *run) leftToOther(art *article, why string) {
	a.log.Warn("article left to another run", "slug", art.slug, "why", why)
	a.leases.mu.Lock()
	defer a.leases.mu.Unlock()
	a.leases.leased = append(a.leases.leased, art.slug+": "+why)
}

// checkLease returns nil when art may be written: its lease is still held
// (or nothing is leased).
func (a *run) checkLease(art *article) error {
	if art.lease == nil {
		return nil
	}
	return art.lease.Check()
}

// release gives up art's lease, if it holds one.
func (a *run) release(ctx context.Context, art *article) {
	if art.lease != nil {
		art.lease.Release(ctx)
		art.lease = nil
	}
}

// runDeferred comes back to the articles another run held, one at a time,
// waiting for each lease, and gives a new slug to those whose slug another
// run took meanwhile (planner.reclaim).
func (a *run) runDeferred(ctx context.Context, p *planner) {
	for range 3 {
		list := a.leases.takeDeferred()
		if len(list) == 0 {
			return
		}
		for _, art := range list {
			if ctx.Err() != nil {
				return
			}
			if art.reslugged && !art.reclaimed {
				art.reclaimed = true
				if err := p.reclaim(ctx, art); err != nil {
					if ctx.Err() == nil {
						a.storeFailed(fmt.Errorf("article %s: %w", art.slug, err))
					}
					return
				}
			}
			if !a.acquire(ctx, art, true) {
				continue
			}
			start := time.Now()
			rec, cap, err := a.capture.page(ctx, art)
			files := a.capture.finish(ctx, rec, art, cap, nil, err)
			if err != nil && ctx.Err() != nil {
				files.Close()
				a.release(ctx, art)
				return
			}
			a.store(ctx, fetched{art: art, cap: cap, err: err, start: start, files: files})
		}
	}
}

// lockDigests takes the lease of a digest record, waiting for another run
// to finish with it; nil when nothing is leased. The caller releases it.
func (a *run) leaseRecord(ctx context.Context, key, subject string) (*record.Lease, error) {
	if a.leases.leaser == nil {
		return nil, nil
	}
	return a.leases.leaser.AcquireWait(ctx, key, subject, a.opts.LeaseWait)
}

// leaseUnresolvable takes the lease of an article whose link would not
// resolve, before its failure is recorded, and reloads its prior. ok is
// false when another run holds it (that run records it) or another article
// now has the slug.
func (a *run) leaseUnresolvable(ctx context.Context, art *article) (bool, error) {
	if a.leases.leaser == nil {
		return true, nil
	}
	lease, err := a.leases.leaser.Acquire(ctx, record.ArticleLeaseKey(art.slug), art.key)
	if le := (*record.LeasedError)(nil); errors.As(err, &le) {
		a.leftToOther(art, err.Error())
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("article %s: lease: %w", art.slug, err)
	}
	art.lease = lease
	prior, err := a.writer.LoadMeta(ctx, art.slug)
	if err != nil {
		a.release(ctx, art)
		return false, err
	}
	if prior.Exists && art.same != nil && !art.same(prior.Meta) {
		a.release(ctx, art)
		a.leftToOther(art, slugTakenMeanwhile)
		return false, nil
	}
	if !prior.Exists && prior.Unreadable == nil {
		end, err := a.aliasOf(ctx, art.slug)
		if err != nil || end != "" {
			a.release(ctx, art)
			if err == nil {
				err = fmt.Errorf("merged into %s by linkarc dedupe meanwhile; a re-run records it under a slug of its own", end)
			}
			a.leftToOther(art, err.Error())
			return false, nil
		}
	}
	art.prior = nil
	if prior.Exists || prior.Unreadable != nil {
		art.prior = &prior
	}
	return true, nil
}

// addDigests adds the digests of this run to a stored article's meta.json,
// under its lease, to the meta.json the store holds now: the meta.json of
// the article it was merged into, when `linkarc dedupe` merged it away
// meanwhile (art moves there).
func (a *run) addDigests(ctx context.Context, art *article) error {
	for range record.MaxAliasHops {
		moved, err := a.addDigestsAt(ctx, art)
		if err != nil || !moved {
			return err
		}
	}
	return nil
}

// addDigestsAt is addDigests at art's slug; moved says art moved to the
// article its slug was merged into, where it is to be done again.
func (a *run) addDigestsAt(ctx context.Context, art *article) (moved bool, err error) {
	lease, err := a.leaseRecord(ctx, record.ArticleLeaseKey(art.slug), art.key)
	if le := (*record.LeasedError)(nil); errors.As(err, &le) {
		a.log.Warn("digest list of an article not updated: another run holds it", "slug", art.slug, "err", err)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("article %s: lease: %w", art.slug, err)
	}
	defer lease.Release(ctx)
	prior, err := a.writer.LoadMeta(ctx, art.slug)
	if err != nil {
		return false, err
	}
	if !prior.Exists {
		if prior.Unreadable != nil {
			return false, nil
		}
		end, err := a.aliasOf(ctx, art.slug)
		if errors.Is(err, record.ErrUnreadable) || errors.Is(err, record.ErrAliasLoop) {
			a.log.Warn("digest list of an article not updated: its alias cannot be followed", "slug", art.slug, "err", err)
			return false, nil
		}
		if err != nil || end == "" {
			return false, err
		}
		a.log.Info("article merged into another by linkarc dedupe meanwhile; adding the digests there", "slug", art.slug, "as", end)
		art.slug = end
		return true, nil
	}
	if art.same != nil && !art.same(prior.Meta) {
		return false, nil
	}
	m := prior.Meta
	m.Digests = record.MergeDigests(m.Digests, art.digests)
	if record.SameDigests(m.Digests, prior.Meta.Digests) {
		return false, nil
	}
	return false, a.writer.PutMeta(ctx, m)
}
