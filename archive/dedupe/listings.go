package dedupe

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// aliases brings every alias up to date, those of earlier runs included:
// an alias whose target was merged since is pointed at the end of its
// chain (its captures at where they are now), what is left beside a
// retired article by a run cut short is cleared, and the URL index entry
// of its URL names the end of the chain. It also fills r.final, for the
// digest records.
func (r *runner) aliases(ctx context.Context, inv *inventory) error {
	slugs := slices.Clone(inv.aliases)
	merged := maps.Clone(r.final) // merged by this run (Retire cleared them)
	for s := range merged {
		if !slices.Contains(slugs, s) {
			slugs = append(slugs, s)
		}
	}
	slices.Sort(slugs)
	for _, slug := range slugs {
		if _, planned := merged[slug]; planned && r.opts.DryRun {
			continue // merged by this run, were it not a dry run
		}
		if _, err := r.st.Stat(ctx, record.ArticleKey(slug, record.MetaFile)); err == nil {
			// An article again, or a merge cut short before its meta.json
			// went: the alias waits (see record.AliasesPrefix).
			continue
		} else if !storage.IsNotExist(err) {
			return err
		}
		end, chain, err := record.ResolveAlias(ctx, r.st, slug)
		switch {
		case storage.IsNotExist(err):
			continue
		case errors.Is(err, record.ErrUnreadable), errors.Is(err, record.ErrAliasLoop):
			r.log.Warn("dedupe: alias left as it is", "slug", slug, "err", err)
			continue
		case err != nil:
			return err
		}
		r.final[slug] = end
		// Its digest items name the keeper with the keeper's status: a
		// run cut short after a promotion leaves some that do not.
		r.changed[end] = true
		a := chain[0]
		stale := end != a.Target
		// Current objects beside an alias found by the scan: a merge cut
		// short between removing the meta.json and them.
		_, mergedNow := merged[slug]
		clear := inv.objects[slug] && !mergedNow
		u := a.URL
		if r.opts.DryRun {
			if stale {
				r.rep.Aliases++
			}
			if clear {
				r.rep.Cleared++
			}
			continue
		}
		if stale || clear {
			if err := r.underArticle(ctx, slug, func() error {
				if stale {
					a.Target = end
					for i := range a.Captures {
						for _, hop := range chain[1:] {
							if as, ok := hop.In(a.Captures[i].As); ok {
								a.Captures[i].As = as
							}
						}
					}
					if err := r.w.PutAlias(ctx, *a); err != nil {
						return err
					}
					r.rep.Aliases++
				}
				if clear {
					if err := r.w.ClearRetired(ctx, a); err != nil {
						return err
					}
					r.rep.Cleared++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if u == "" {
			continue
		}
		cur, err := record.ReadURLIndex(ctx, r.st, u)
		if err != nil {
			return err
		}
		if cur != end && (cur == "" || slices.Contains(slugs, cur)) {
			if err := r.index(ctx, u, end); err != nil {
				return err
			}
		}
	}
	return nil
}

// under runs fn holding the lease at leaseKey (record.ArticleLeaseKey or
// DigestLeaseKey), as the archiver writes what it guards; another run
// holding it past LeaseWait leaves what, the record it guards, for a
// later run (Report.Left).
func (r *runner) under(ctx context.Context, leaseKey, what string, fn func() error) error {
	if r.leaser == nil {
		return fn()
	}
	l, err := r.leaser.AcquireWait(ctx, leaseKey, "dedupe "+what, r.opts.LeaseWait)
	if le := (*record.LeasedError)(nil); errors.As(err, &le) {
		r.log.Warn("dedupe: left for a later run", "record", what, "err", err)
		r.rep.Left = append(r.rep.Left, what)
		return nil
	}
	if err != nil {
		return err
	}
	defer l.Release(ctx)
	return fn()
}

// underArticle runs fn under the lease of article slug (under).
func (r *runner) underArticle(ctx context.Context, slug string, fn func() error) error {
	return r.under(ctx, record.ArticleLeaseKey(slug), record.ArticleKey(slug, ""), fn)
}

// digests points every digest record item that names an old slug at the
// article its aliases end at (DigestArticle.MergedFrom keeps the old
// slug), with that article's status, and updates the status of items
// naming a keeper whose current capture changed. Each record is rewritten
// under its lease, from what the store holds then. Keepers' meta.json
// gain the digests that now list them.
func (r *runner) digests(ctx context.Context) error {
	if len(r.final) == 0 && len(r.changed) == 0 {
		return nil
	}
	var slugs []string
	err := r.st.List(ctx, record.DigestsPrefix, func(info storage.Info) error {
		name, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.DigestsPrefix), ".json")
		if ok && !strings.Contains(name, "/") && record.ValidSlug(name) {
			slugs = append(slugs, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	targets := map[string]*record.ArticleMeta{} // slug -> its meta.json, nil when it has none
	listed := map[string][]string{}             // keeper -> digests now listing it
	for _, ds := range slugs {
		rec, err := r.readDigest(ctx, ds)
		if err != nil || rec == nil {
			return err
		}
		n, err := r.repoint(ctx, rec, targets, nil)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if r.opts.DryRun {
			r.rep.Digests++
			r.rep.Entries += n
			continue
		}
		if err := r.under(ctx, record.DigestLeaseKey(ds), record.DigestKey(ds), func() error {
			rec, err := r.readDigest(ctx, ds)
			if err != nil || rec == nil {
				return err
			}
			n, err := r.repoint(ctx, rec, targets, listed)
			if err != nil || n == 0 {
				return err
			}
			if err := r.w.PutDigest(ctx, *rec); err != nil {
				return err
			}
			r.rep.Digests++
			r.rep.Entries += n
			return nil
		}); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(listed)) {
		if err := r.underArticle(ctx, k, func() error {
			p, err := r.w.LoadMeta(ctx, k)
			if err != nil || !p.Exists {
				return err
			}
			m := p.Meta
			m.Digests = record.MergeDigests(m.Digests, listed[k])
			if record.SameDigests(m.Digests, p.Meta.Digests) {
				return nil
			}
			return r.w.PutMeta(ctx, m)
		}); err != nil {
			return err
		}
	}
	return nil
}

// readDigest reads a digest record whole; nil when it is gone or
// unreadable (named in the report and left as it is).
func (r *runner) readDigest(ctx context.Context, slug string) (*record.DigestRecord, error) {
	rec, err := record.ReadDigestAll(ctx, r.st, slug)
	switch {
	case storage.IsNotExist(err):
		return nil, nil
	case errors.Is(err, record.ErrUnreadable):
		if !slices.Contains(r.rep.Unreadable, slug) {
			r.rep.Unreadable = append(r.rep.Unreadable, slug)
		}
		r.log.Warn("dedupe: digest record unreadable; left as it is", "digest", slug, "err", err)
		return nil, nil
	}
	return rec, err
}

// repoint rewrites the items of rec that name an old slug, or a keeper
// whose status changed, and returns how many it changed; listed (when not
// nil) gains rec for every keeper an item now names.
func (r *runner) repoint(ctx context.Context, rec *record.DigestRecord, targets map[string]*record.ArticleMeta, listed map[string][]string) (int, error) {
	n := 0
	for i := range rec.Articles {
		e := &rec.Articles[i]
		to, old := r.final[e.Slug]
		if !old && !r.changed[e.Slug] {
			continue
		}
		if !old {
			to = e.Slug
		}
		tm, ok := targets[to]
		if !ok {
			p, err := r.w.LoadMeta(ctx, to)
			if err != nil {
				return n, err
			}
			if p.Exists {
				tm = &p.Meta
			}
			targets[to] = tm
		}
		before := [4]string{e.Slug, e.MergedFrom, e.Status, string(e.Reason)}
		if old {
			e.MergedFrom, e.Slug = cmp.Or(e.MergedFrom, e.Slug), to
		}
		if tm != nil {
			e.Status, e.Reason = tm.Status, tm.Reason
		}
		if before != [4]string{e.Slug, e.MergedFrom, e.Status, string(e.Reason)} {
			n++
		}
		if listed != nil {
			listed[to] = record.MergeDigests(listed[to], []string{rec.Slug})
		}
	}
	if n > 0 {
		rec.Counts = map[string]int{}
		for _, e := range rec.Articles {
			rec.Counts[e.Status]++
		}
	}
	return n, nil
}
