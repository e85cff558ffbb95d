// Package dedupe merges articles that hold one publisher URL (`linkarc
// dedupe`). An article's identity is its canonical URL
// (internal/weburl.Canonical); the URL index (record.URLIndexKey) keeps
// a run from storing a page twice, but stores written before it can hold
// one page under two or more slugs (listed by two digests under two
// titles). Run finds them and merges each group into one article:
//
//   - the keeper is the article archived first (its earliest capture,
//     current or in history; the smaller slug on a tie);
//   - every capture of the others is copied into the keeper's history,
//     each object checked against the SHA-256 its meta.json records
//     (record.Writer.FoldCapture); when the keeper's current capture is
//     not ok and another's is, that one becomes the keeper's current
//     capture (record.Writer.Promote) and the keeper's goes to history;
//   - the keeper's URL index entry is written, and each other article is
//     retired: its current capture moves into its own history, an alias
//     (record.Alias, aliases/<old-slug>.json) says where it went, and its
//     meta.json goes (record.Writer.Retire). Nothing else of it is
//     touched, so revisits whose originals are in its WARCs still resolve;
//   - digest records that list an old slug are pointed at the keeper
//     (record.DigestArticle.MergedFrom keeps the old one), and aliases of
//     aliases are pointed at the end of their chain.
//
// Every article of a group is merged under its lease (record.Leaser), as
// `linkarc archive` and `linkarc reextract` write articles, and every
// digest record under the digest's: a run of either at the same time never
// reads or writes an article half merged. Each step is idempotent and
// writes meta.json last, so a run that is interrupted (or loses a lease) is
// finished by running it again. A dry run reads the store and writes
// nothing.
package dedupe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Options configures Run.
type Options struct {
	// Store is the archive; required. A dry run may pass it read-only
	// (storage.ReadOnly).
	Store storage.Store
	// DryRun reads the store and says what a run would do (Report,
	// Progress), writing nothing.
	DryRun bool
	// LeaseWait is how long an article or digest another run is writing
	// is waited for; a group still held after that is left for a later
	// run (Merge.Skipped). 0 means DefaultLeaseWait.
	LeaseWait time.Duration
	// Now stamps aliases (Alias.MergedAt); nil means time.Now.
	Now func() time.Time
	// Logger receives what went wrong with single articles and digests;
	// nil discards.
	Logger *slog.Logger
	// Progress, when set, is told of each group as it is merged (or, in
	// a dry run, planned) or left.
	Progress func(Merge)
}

// DefaultLeaseWait is Options.LeaseWait's default, the archiver's
// (archive.DefaultLeaseWait).
const DefaultLeaseWait = 2 * record.DefaultLeaseTTL

// metaReaders is how many meta.json are read at once while the store is
// scanned: on S3 each read is a round trip.
const metaReaders = 8

// Merge is one URL held by several articles, and what became of them.
type Merge struct {
	URL    string    // canonical publisher URL
	Keeper Article   // the article kept
	Merged []Article // the articles merged into it, first archived first
	// Promoted is the slug of the merged article whose current capture
	// became the keeper's (the keeper's was not ok and that one was);
	// "" when the keeper kept its own.
	Promoted string
	// Skipped says why the group was left as it is ("" when it was
	// merged, or in a dry run would be): another run held one of its
	// articles, a record could not be read, an object was not what its
	// meta.json records. A later run tries it again.
	Skipped string
}

// Article is one article of a Merge.
type Article struct {
	Slug          string
	FirstArchived time.Time // its earliest capture's fetch time
	Status        string    // its current capture's status ("" when it has none)
	Captures      int       // captures it held: current and history
	Digests       []string  // digests its meta.json names
	// Moved says where each of its captures is in the keeper (merged
	// articles of a run that merged; empty in a dry run).
	Moved []record.MovedCapture
}

// Report sums up a run.
type Report struct {
	DryRun   bool
	Articles int     // articles scanned (current meta.json)
	Merges   []Merge // every URL held by several articles, in URL order
	Merged   int     // articles merged into a keeper (or that would be)
	Captures int     // captures folded into keepers' histories (or that would be)
	Skipped  int     // groups left for a later run
	// Aliases counts aliases pointed at the end of their chain; Cleared
	// the retired articles whose leftover current objects were removed
	// (an earlier run interrupted); Index the URL index entries pointed
	// at a keeper.
	Aliases, Cleared, Index int
	// Digests and Entries count the digest records, and their items,
	// pointed from an old slug at its keeper (or that would be).
	Digests, Entries int
	// Unreadable names digest records that could not be read, left as
	// they are.
	Unreadable []string
	// Left names the aliases and digest records another run held for
	// longer than LeaseWait, left for a later run.
	Left []string
}

// runner is one Run's state.
type runner struct {
	opts   Options
	st     storage.Store
	w      record.Writer
	leaser *record.Leaser // nil: the store cannot write conditionally
	log    *slog.Logger
	rep    *Report
	// final maps every old slug (merged now or by an earlier run) to the
	// article its aliases end at; changed holds the keepers, whose
	// listings take their status (a promotion changes it).
	final   map[string]string
	changed map[string]bool
	// held are the leases of the group being merged: checked before
	// each write, so that a run that stalled past them writes nothing.
	held []*record.Lease
}

// checkLeases returns an error wrapping record.ErrLeaseLost when a lease
// of the group being merged is no longer safely held.
func (r *runner) checkLeases() error {
	for _, l := range r.held {
		if err := l.Check(); err != nil {
			return err
		}
	}
	return nil
}

// Run finds the articles that hold one canonical URL and merges each
// group into its keeper (see the package comment). Problems with one
// group or one digest record are in the Report and the run goes on; the
// error is the store's, or ctx's, and stops it: run it again to finish.
func Run(ctx context.Context, opts Options) (*Report, error) {
	rep := &Report{DryRun: opts.DryRun}
	if opts.Store == nil {
		return rep, errors.New("dedupe: Options.Store is nil")
	}
	if opts.LeaseWait <= 0 {
		opts.LeaseWait = DefaultLeaseWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &runner{opts: opts, st: opts.Store, w: record.Writer{Store: opts.Store}, log: opts.Logger, rep: rep,
		final: map[string]string{}, changed: map[string]bool{}}
	if !opts.DryRun {
		r.leaser = record.NewLeaser(opts.Store)
	}
	inv, err := scan(ctx, opts.Store)
	if err != nil {
		return rep, err
	}
	rep.Articles = len(inv.current)
	groups, err := r.groups(ctx, inv)
	if err != nil {
		return rep, err
	}
	for _, g := range groups {
		m, err := r.merge(ctx, g)
		if err != nil {
			return rep, err
		}
		rep.Merges = append(rep.Merges, m)
		if m.Skipped != "" {
			rep.Skipped++
			r.log.Warn("dedupe: group left as it is", "url", m.URL, "why", m.Skipped)
		} else {
			rep.Merged += len(m.Merged)
			for _, a := range m.Merged {
				rep.Captures += a.Captures
				r.final[a.Slug] = m.Keeper.Slug
			}
			if m.Promoted != "" {
				r.changed[m.Keeper.Slug] = true
			}
		}
		if opts.Progress != nil {
			opts.Progress(m)
		}
	}
	if err := r.aliases(ctx, inv); err != nil {
		return rep, err
	}
	if err := r.digests(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// inventory is what one listing of articles/ and aliases/ found.
type inventory struct {
	current map[string]record.Prior // slug -> its meta.json (Exists false: none, or unreadable)
	history map[string]bool         // slugs with captures in history
	objects map[string]bool         // slugs with current objects beside (or instead of) a meta.json
	aliases []string                // old slugs with an alias, in key order
}

// scan lists every key under articles/ (one listing) and every alias, and
// reads each current meta.json, metaReaders at a time.
func scan(ctx context.Context, st storage.Store) (*inventory, error) {
	inv := &inventory{current: map[string]record.Prior{}, history: map[string]bool{}, objects: map[string]bool{}}
	var slugs []string
	err := st.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		slug, name, ok := strings.Cut(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/")
		if !ok || !record.ValidSlug(slug) {
			return nil
		}
		switch {
		case name == record.MetaFile:
			slugs = append(slugs, slug)
		case strings.HasPrefix(name, record.HistoryDir+"/"):
			if strings.HasSuffix(name, "/"+record.MetaFile) {
				inv.history[slug] = true
			}
		case !strings.Contains(name, "/"):
			inv.objects[slug] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	err = record.ReadMetas(ctx, st, slugs, metaReaders, func(slug string, p record.Prior) error {
		inv.current[slug] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read articles: %w", err)
	}
	err = record.ListAliases(ctx, st, func(slug string) error {
		inv.aliases = append(inv.aliases, slug)
		return nil
	})
	return inv, err
}

// member is an article of a group, as read under its lease (or, to plan,
// as the scan found it).
type member struct {
	slug    string
	prior   record.Prior        // its meta.json; Exists false for an article with history only
	history []record.CaptureRef // its earlier captures
	first   time.Time           // its earliest capture
}

func (m *member) current() *record.ArticleMeta {
	if m.prior.Exists {
		return &m.prior.Meta
	}
	return nil
}

// group is the articles holding one canonical URL.
type group struct {
	url   string
	slugs []string
}

// groups finds every canonical URL that more than one article holds. An
// article with captures in history but no meta.json (a capture being
// replaced when a run stopped, or a merge's keeper cut short in Promote)
// belongs to the URL of its newest capture, unless it was merged away
// (it has an alias).
func (r *runner) groups(ctx context.Context, inv *inventory) ([]*group, error) {
	byURL := map[string][]string{}
	for slug, p := range inv.current {
		if p.Exists && p.Meta.URL != "" {
			u := weburl.Canonical(p.Meta.URL)
			byURL[u] = append(byURL[u], slug)
		}
	}
	aliased := map[string]bool{}
	for _, s := range inv.aliases {
		aliased[s] = true
	}
	for slug := range inv.history {
		if p := inv.current[slug]; p.Exists || p.Unreadable != nil || aliased[slug] {
			continue
		}
		m, err := r.load(ctx, slug)
		if err != nil {
			return nil, err
		}
		if newest := m.newest(ctx, r.st, false); newest != nil && newest.URL != "" {
			u := weburl.Canonical(newest.URL)
			byURL[u] = append(byURL[u], slug)
		}
	}
	var out []*group
	for u, slugs := range byURL {
		if len(slugs) > 1 {
			slices.Sort(slugs)
			out = append(out, &group{url: u, slugs: slugs})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].url < out[j].url })
	return out, nil
}

// load reads an article as a member: its meta.json and history.
func (r *runner) load(ctx context.Context, slug string) (*member, error) {
	p, err := r.w.LoadMeta(ctx, slug)
	if err != nil {
		return nil, err
	}
	m := &member{slug: slug, prior: p}
	if p.Exists {
		m.history = p.Meta.History
	} else if m.history, err = r.w.HistoryRefs(ctx, slug); err != nil {
		return nil, err
	}
	if p.Exists {
		m.first = p.Meta.FetchedAt
	}
	for _, h := range m.history {
		if !h.FetchedAt.IsZero() && (m.first.IsZero() || h.FetchedAt.Before(m.first)) {
			m.first = h.FetchedAt
		}
	}
	return m, nil
}

// newest is the meta.json of an article without a current one: its newest
// capture in history (with own, the newest of its own, not merged in),
// nil when none reads.
func (m *member) newest(ctx context.Context, st storage.Store, own bool) *record.ArticleMeta {
	for _, h := range slices.Backward(m.history) {
		if own && h.MergedFrom != "" {
			continue
		}
		if got, err := record.ReadMetaKey(ctx, st, record.HistoryKey(m.slug, h.CaptureID, record.MetaFile)); err == nil {
			return got
		}
	}
	return nil
}

func (m *member) article() Article {
	a := Article{Slug: m.slug, FirstArchived: m.first, Captures: len(m.history)}
	if c := m.current(); c != nil {
		a.Status, a.Digests = c.Status, c.Digests
		a.Captures++
	}
	return a
}

// keeperFirst orders a group's members: the keeper (archived first; the
// smaller slug on a tie) first, then the others in the same order.
func keeperFirst(ms []*member) {
	slices.SortFunc(ms, func(a, b *member) int {
		switch {
		case a.first.IsZero() != b.first.IsZero():
			if a.first.IsZero() {
				return 1
			}
			return -1
		case !a.first.Equal(b.first):
			return a.first.Compare(b.first)
		}
		return strings.Compare(a.slug, b.slug)
	})
}

// promotion picks the capture the keeper should have as current: the
// keeper's own, unless it has none, or it is not ok and a merged
// article's is: then the newest ok current capture of the others (or,
// when the keeper has none and no other is ok, the newest of theirs).
// It returns nil for the keeper's own.
func promotion(keeper *member, others []*member) *member {
	kc := keeper.current()
	if kc != nil && kc.Status == record.StatusOK {
		return nil
	}
	var best *member
	for _, o := range others {
		c := o.current()
		if c == nil {
			continue
		}
		if kc != nil && c.Status != record.StatusOK {
			continue
		}
		if best == nil {
			best = o
			continue
		}
		bc := best.current()
		if (c.Status == record.StatusOK) != (bc.Status == record.StatusOK) {
			if c.Status == record.StatusOK {
				best = o
			}
			continue
		}
		if c.FetchedAt.After(bc.FetchedAt) {
			best = o
		}
	}
	return best
}

// merge merges one group under the leases of its articles: planned only,
// in a dry run.
func (r *runner) merge(ctx context.Context, g *group) (Merge, error) {
	out := Merge{URL: g.url}
	release, skip, err := r.lock(ctx, g)
	if err != nil || skip != "" {
		out.Skipped = skip
		return r.described(ctx, g, out), err
	}
	defer release()
	// Read again under the leases: another run may have written since
	// the scan.
	var ms []*member
	for _, slug := range g.slugs {
		m, err := r.load(ctx, slug)
		if err != nil {
			return out, err
		}
		switch c := m.current(); {
		case m.prior.Unreadable != nil:
			out.Skipped = fmt.Sprintf("%s: %v; linkarc archive keeps it in history and captures the article again", slug, m.prior.Unreadable)
			return r.described(ctx, g, out), nil
		case c != nil && weburl.Canonical(c.URL) != g.url:
			continue // another page now
		case c == nil && len(m.history) == 0:
			continue // gone
		case c == nil:
			if _, err := record.ReadAlias(ctx, r.st, slug); err == nil {
				continue // merged away meanwhile
			} else if !storage.IsNotExist(err) && !errors.Is(err, record.ErrUnreadable) {
				return out, err
			}
		}
		ms = append(ms, m)
	}
	if len(ms) < 2 {
		out.Skipped = "changed while it was being merged: run linkarc dedupe again"
		return r.described(ctx, g, out), nil
	}
	keeperFirst(ms)
	keeper, others := ms[0], ms[1:]
	out.Keeper = keeper.article()
	for _, o := range others {
		out.Merged = append(out.Merged, o.article())
	}
	promoted := promotion(keeper, others)
	if promoted != nil {
		out.Promoted = promoted.slug
	}
	if r.opts.DryRun {
		return out, nil
	}
	switch err := r.fold(ctx, g, keeper, others, promoted, &out); {
	case errors.Is(err, record.ErrCopyMismatch):
		out.Skipped = fmt.Sprintf("%v: the group was left unmerged (its records do not describe its objects)", err)
	case errors.Is(err, record.ErrLeaseLost):
		out.Skipped = fmt.Sprintf("%v: the merge stopped half-way; run linkarc dedupe again to finish it", err)
	case err != nil:
		return out, err
	}
	return out, nil
}

// described fills a group left as it is from what the scan knew.
func (r *runner) described(ctx context.Context, g *group, out Merge) Merge {
	var ms []*member
	for _, slug := range g.slugs {
		if m, err := r.load(ctx, slug); err == nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return out
	}
	keeperFirst(ms)
	out.Keeper = ms[0].article()
	out.Merged = nil
	for _, o := range ms[1:] {
		out.Merged = append(out.Merged, o.article())
	}
	return out
}

// lock takes the leases of a group's articles, in slug order, waiting up
// to LeaseWait for each. skip says why the group is left when another run
// still holds one.
func (r *runner) lock(ctx context.Context, g *group) (release func(), skip string, err error) {
	var held []*record.Lease
	releaseAll := func() {
		r.held = nil
		for _, l := range slices.Backward(held) {
			l.Release(ctx)
		}
	}
	if r.leaser == nil {
		return releaseAll, "", nil
	}
	for _, slug := range g.slugs {
		l, err := r.leaser.AcquireWait(ctx, record.ArticleLeaseKey(slug), "dedupe "+g.url, r.opts.LeaseWait)
		if le := (*record.LeasedError)(nil); errors.As(err, &le) {
			releaseAll()
			return nil, fmt.Sprintf("%s is %v; run linkarc dedupe again when that run is done", slug, le), nil
		}
		if err != nil {
			releaseAll()
			return nil, "", fmt.Errorf("lease %s: %w", slug, err)
		}
		held = append(held, l)
	}
	r.held = held
	return releaseAll, "", nil
}
