package dedupe

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// fold merges the others into keeper, in the order that makes every step
// safe to cut short: the others' captures are copied into the keeper's
// history; the keeper's meta.json lists them (or the promoted capture
// becomes its current one); the URL index names the keeper; and only then
// is each other article retired, its alias written before its meta.json
// goes. A run cut short anywhere is finished by running it again: a
// capture copied already is found in the keeper's history (same fetch
// time, status and raw.html, merged from the same slug) and not copied
// twice.
func (r *runner) fold(ctx context.Context, g *group, keeper *member, others []*member, promoted *member, out *Merge) error {
	k := keeper.slug
	kc := keeper.current()
	if kc == nil && promoted == nil {
		out.Skipped = "no article of the group has a current capture: run linkarc archive on a digest listing it first"
		return nil
	}
	// Where the keeper's current capture goes when it is replaced
	// (history/<its capture id>, by Promote now or a later capture): no
	// capture folded in may take that id.
	reserved := map[string]bool{}
	if kc != nil {
		reserved[record.CaptureID(kc.FetchedAt)] = true
	}
	if promoted != nil {
		reserved[record.CaptureID(promoted.current().FetchedAt)] = true
	}
	var refs []record.CaptureRef
	retire := make([]string, len(others)) // where each other's current capture goes in its own history
	for i, o := range others {
		var moved []record.MovedCapture
		for _, h := range o.history {
			src := record.CaptureDir{Slug: o.slug, ID: h.CaptureID}
			if !record.ValidCaptureID(h.CaptureID) {
				r.log.Warn("dedupe: a capture in history has an id that names no folder; left where it is", "slug", o.slug, "capture", h.CaptureID)
				continue
			}
			m, err := record.ReadMetaKey(ctx, r.st, src.Key(record.MetaFile))
			switch {
			case storage.IsNotExist(err):
				r.log.Warn("dedupe: a capture listed in history is not there; nothing to merge", "slug", o.slug, "capture", h.CaptureID)
				continue
			case errors.Is(err, record.ErrUnreadable):
				m = nil // copied byte for byte
			case err != nil:
				return err
			}
			ref, err := r.place(ctx, k, src, m, reserved)
			if err != nil {
				return err
			}
			refs = append(refs, ref)
			moved = append(moved, record.MovedCapture{CaptureID: h.CaptureID, As: ref.CaptureID})
		}
		if c := o.current(); c != nil {
			own, err := r.slot(ctx, o.slug, o.slug, c)
			if err != nil {
				return err
			}
			retire[i] = own
			as := record.CaptureID(c.FetchedAt)
			switch {
			case o == promoted:
				// Becomes the keeper's current capture below.
			case kc != nil && record.SameCapture(kc, c) && kc.MergedFrom == cmp.Or(c.MergedFrom, o.slug):
				// Promoted by a run cut short after Promote.
				as = record.CaptureID(kc.FetchedAt)
			default:
				ref, err := r.place(ctx, k, record.CaptureDir{Slug: o.slug}, c, reserved)
				if err != nil {
					return err
				}
				refs = append(refs, ref)
				as = ref.CaptureID
			}
			moved = append(moved, record.MovedCapture{CaptureID: own, As: as})
		}
		out.Merged[i].Moved = moved
	}

	// The keeper's meta.json, last of its writes.
	if err := r.checkLeases(); err != nil {
		return err
	}
	digests := keeperDigests(keeper, others)
	if promoted != nil {
		pc := promoted.current()
		pm := *pc
		pm.Slug, pm.MergedFrom = k, cmp.Or(pc.MergedFrom, promoted.slug)
		// The keeper keeps its title and publisher: its slug is made of
		// them (record.ArticleSlug), and links to it name it.
		if named := keeper.named(ctx, r.st); named != nil {
			pm.Title, pm.Publisher = named.Title, named.Publisher
		}
		pm.Digests = digests
		pm.History = record.AppendRefs(slices.Clone(keeper.history), refs...)
		if _, err := r.w.Promote(ctx, keeper.prior, record.CaptureDir{Slug: promoted.slug}, pm); err != nil {
			return err
		}
		out.Keeper.Status = pm.Status
	} else {
		km := *kc
		km.History = record.AppendRefs(slices.Clone(kc.History), refs...)
		km.Digests = digests
		if len(km.History) != len(kc.History) || !record.SameDigests(km.Digests, kc.Digests) {
			if err := r.w.PutMeta(ctx, km); err != nil {
				return err
			}
		}
	}
	if err := r.index(ctx, g.url, k); err != nil {
		return err
	}

	// Each other article goes: its alias first, then its meta.json.
	now := r.opts.Now().UTC()
	for i, o := range others {
		if err := r.checkLeases(); err != nil {
			return err
		}
		a := record.Alias{Slug: o.slug, Target: k, URL: g.url, MergedAt: now, Current: retire[i], Captures: out.Merged[i].Moved}
		c := o.current()
		if c == nil {
			if err := r.w.PutAlias(ctx, a); err != nil {
				return err
			}
			continue
		}
		a.Digests = c.Digests
		if err := r.w.Retire(ctx, *c, a); err != nil {
			return err
		}
	}
	return nil
}

// keeperDigests is every digest that lists an article of the group.
func keeperDigests(keeper *member, others []*member) []string {
	var out []string
	for _, m := range append([]*member{keeper}, others...) {
		if c := m.current(); c != nil {
			out = record.MergeDigests(out, c.Digests)
		}
	}
	return out
}

// named is the meta.json that gives the keeper its title and publisher:
// its current one, else the newest of its own captures in history (a
// merge cut short in Promote leaves it without a current one).
func (m *member) named(ctx context.Context, st storage.Store) *record.ArticleMeta {
	if c := m.current(); c != nil {
		return c
	}
	return m.newest(ctx, st, true)
}

// place copies a capture of another article (src, m; m nil when its
// meta.json is unreadable) into the keeper k's history, under the first
// of record.FoldIDs that is free there and not reserved, and returns its
// History entry. A capture already copied there by an earlier run is
// found and not copied again.
func (r *runner) place(ctx context.Context, k string, src record.CaptureDir, m *record.ArticleMeta, reserved map[string]bool) (record.CaptureRef, error) {
	id := src.ID
	if id == "" {
		id = record.CaptureID(m.FetchedAt)
	}
	from := src.Slug
	if m != nil {
		from = cmp.Or(m.MergedFrom, src.Slug)
	}
	for _, as := range record.FoldIDs(id, src.Slug) {
		if reserved[as] {
			continue
		}
		dst := record.CaptureDir{Slug: k, ID: as}
		there, err := record.ReadMetaKey(ctx, r.st, dst.Key(record.MetaFile))
		switch {
		case storage.IsNotExist(err):
			return r.w.FoldCapture(ctx, src, m, k, as)
		case errors.Is(err, record.ErrUnreadable):
			if m == nil {
				same, err := sameObject(ctx, r.st, src.Key(record.MetaFile), dst.Key(record.MetaFile))
				if err != nil {
					return record.CaptureRef{}, err
				}
				if same {
					return record.CaptureRef{CaptureID: as, MergedFrom: src.Slug}, nil
				}
			}
			continue
		case err != nil:
			return record.CaptureRef{}, err
		case m != nil && record.SameCapture(there, m) && there.MergedFrom == from:
			return record.RefOf(there, as), nil // copied by an earlier run
		}
	}
	return record.CaptureRef{}, fmt.Errorf("fold %s into %s: every capture id it may take is another capture's", src, k)
}

// slot is the capture id under which the retired article slug keeps its
// current capture c in its own history: the capture's id, unless another
// capture has it there.
func (r *runner) slot(ctx context.Context, slug, from string, c *record.ArticleMeta) (string, error) {
	for _, id := range record.FoldIDs(record.CaptureID(c.FetchedAt), from) {
		there, err := record.ReadMetaKey(ctx, r.st, record.HistoryKey(slug, id, record.MetaFile))
		switch {
		case storage.IsNotExist(err):
			return id, nil
		case errors.Is(err, record.ErrUnreadable):
			continue
		case err != nil:
			return "", err
		case record.SameCapture(there, c) && there.MergedFrom == c.MergedFrom:
			return id, nil // moved there by an earlier run
		}
	}
	return "", fmt.Errorf("retire %s: every capture id its current capture may take in history is another capture's", slug)
}

// index points the URL index entry of u at slug.
func (r *runner) index(ctx context.Context, u, slug string) error {
	for range 4 {
		cur, etag, err := record.ReadURLIndexVersion(ctx, r.st, u)
		if err != nil {
			return err
		}
		if cur == slug {
			return nil
		}
		ok, err := r.w.PutURLIndex(ctx, u, slug, etag)
		if err != nil {
			return err
		}
		if ok {
			r.rep.Index++
			return nil
		}
	}
	return fmt.Errorf("URL index entry of %s: changed by another run four times in a row; run linkarc dedupe again", u)
}

// sameObject reports whether two objects hold the same bytes (small
// records: both are read whole, up to MaxRecordSize).
func sameObject(ctx context.Context, st storage.Store, a, b string) (bool, error) {
	read := func(key string) ([]byte, error) {
		rc, err := st.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, record.MaxRecordSize+1))
	}
	x, err := read(a)
	if err != nil {
		return false, err
	}
	y, err := read(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(x, y), nil
}
