package archive

import (
	"context"
	"fmt"
	"strings"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage/record"
)

// planner turns digest items into distinct articles, in digest order:
// it resolves links a chunk at a time, merges links that lead to the same
// publisher URL, gives each article its slug, skips what the store already
// holds as ok, and hands the rest to the host queues.
//
// It runs on one goroutine, so slug assignment is deterministic: for the
// same digests and the same store, every run makes the same choices.
type planner struct {
	r        *run
	digests  []*digestState
	links    []string             // distinct links, in digest order
	refs     map[string][]itemRef // link -> the digest items naming it
	byKey    map[string]*article  // identity (publisher URL or unresolved link) -> article
	owner    map[string]string    // slug -> identity claiming it in this run
	metas    map[string]metaEntry // slug -> meta.json as read from the store, for the current chunk
	articles []*article

	unresolved int // links left unresolved because Google rate-limited us
	planned    int // links planned so far; the rest were not reached
}

type itemRef struct {
	ds *digestState
	i  int
}

// metaEntry is an article's meta.json as read from the store.
type metaEntry = record.Prior

func newPlanner(r *run, digests []*digestState) *planner {
	p := &planner{
		r: r, digests: digests,
		refs:  map[string][]itemRef{},
		byKey: map[string]*article{},
		owner: map[string]string{},
		metas: map[string]metaEntry{},
	}
	for _, ds := range digests {
		for i, it := range ds.d.Items {
			link := strings.TrimSpace(it.URL)
			if _, seen := p.refs[link]; !seen {
				p.links = append(p.links, link)
			}
			p.refs[link] = append(p.refs[link], itemRef{ds, i})
		}
	}
	return p
}

// total is the number of progress events the run will report: one per
// distinct link.
func (p *planner) total() int { return len(p.links) }

// run plans every link, handing articles that need capturing to enqueue.
func (p *planner) run(ctx context.Context, enqueue func(*article)) error {
	chunk := p.r.opts.ResolveChunk
	for start := 0; start < len(p.links); start += chunk {
		if ctx.Err() != nil {
			return nil
		}
		links := p.links[start:min(start+chunk, len(p.links))]
		resolved, err := p.resolveChunk(ctx, links)
		if err != nil {
			return err
		}
		for i, link := range links {
			if ctx.Err() != nil {
				return nil
			}
			if err := p.plan(ctx, link, resolved[i], enqueue); err != nil {
				return err
			}
			p.planned++
		}
		// The chunk's meta.json reads have served; keeping them would make
		// a run over a large archive hold every article's metadata.
		clear(p.metas)
	}
	return nil
}

// resolution is what the planner knows of a link's publisher URL.
type resolution struct {
	url    string
	method string
	err    *resolver.Error
}

// resolveChunk resolves a chunk of links. Links whose article the store
// already holds as ok are answered from the store, so a re-run asks Google
// nothing even if the resolver cache was lost; other non-Google links are
// their own publisher URL (the fetcher follows their redirects).
func (p *planner) resolveChunk(ctx context.Context, links []string) ([]resolution, error) {
	out := make([]resolution, len(links))
	var ask []string
	var askIdx []int
	for i, link := range links {
		if m, ok, err := p.meta(ctx, p.baseSlug(link)); err != nil {
			return nil, err
		} else if ok && !p.r.opts.Refresh && m.Status == record.StatusOK && m.URL != "" && m.GoogleNewsURL == link {
			out[i] = resolution{url: m.URL, method: m.ResolveMethod}
			continue
		}
		if resolver.IsGoogleNews(link) {
			ask = append(ask, link)
			askIdx = append(askIdx, i)
			continue
		}
		out[i] = resolution{url: link, method: "direct"}
	}
	if len(ask) == 0 {
		return out, nil
	}
	for j, res := range p.r.opts.Resolver.Resolve(ctx, ask) {
		i := askIdx[j]
		if res.Err != nil {
			out[i] = resolution{err: res.Err}
			continue
		}
		out[i] = resolution{url: res.URL, method: res.Method}
	}
	return out, nil
}

// plan turns one resolved link into an article (or merges it into one).
func (p *planner) plan(ctx context.Context, link string, res resolution, enqueue func(*article)) error {
	refs := p.refs[link]
	var digestSlugs []string
	for _, ref := range refs {
		digestSlugs = append(digestSlugs, ref.ds.slug)
	}

	key, same := "link:"+link, func(m record.ArticleMeta) bool { return m.GoogleNewsURL == link }
	if res.err == nil {
		u := weburl.Canonical(res.url)
		key = "url:" + u
		same = func(m record.ArticleMeta) bool {
			// A failure with neither URL is of no article in particular
			// (no link was recorded): this one may take its place.
			return weburl.Canonical(m.URL) == u || m.GoogleNewsURL == link || (m.Status == record.StatusFailed && m.URL == "" && m.GoogleNewsURL == "")
		}
	}
	if art := p.byKey[key]; art != nil {
		// Another link already led here: one article, listed by each digest.
		art.addDigests(digestSlugs)
		p.attach(art, refs)
		p.r.opts.Progress.Done(Event{Slug: art.slug, Link: link, URL: art.url, Host: art.host, Status: "duplicate"})
		return nil
	}

	first := refs[0].ds.d.Items[refs[0].i]
	slug, prev, err := p.claim(ctx, first.Title, first.Publisher, key, same)
	if err != nil {
		return err
	}
	art := &article{
		slug: slug, title: first.Title, publisher: first.Publisher, link: link,
		url: res.url, method: res.method, host: weburl.HostOf(res.url),
		digests: record.MergeDigests(digestSlugs, nil),
		key:     key, same: same,
	}
	p.byKey[key] = art
	p.articles = append(p.articles, art)
	p.attach(art, refs)

	// Already archived: nothing to request.
	if prev.Exists && prev.Meta.Status == record.StatusOK && !p.r.opts.Refresh &&
		(res.err != nil || weburl.Canonical(prev.Meta.URL) == weburl.Canonical(res.url)) {
		if art.url == "" {
			art.url, art.host = prev.Meta.URL, weburl.HostOf(prev.Meta.URL)
		}
		art.status, art.stored, art.writtenDigests = record.StatusOK, true, prev.Meta.Digests
		p.report(Event{Slug: slug, Link: link, URL: art.url, Host: art.host, Status: record.StatusOK, Unchanged: true})
		return nil
	}
	if prev.Exists || prev.Unreadable != nil {
		art.prior = &prev
	}
	if res.err != nil {
		return p.unresolvable(ctx, art, res.err)
	}
	enqueue(art)
	return nil
}

// unresolvable stores a failed capture for a link Google would not resolve,
// so the digest and the viewer say why; a re-run retries it.
func (p *planner) unresolvable(ctx context.Context, art *article, rerr *resolver.Error) error {
	if ok, err := p.r.leaseUnresolvable(ctx, art); !ok || err != nil {
		return err
	}
	defer p.r.release(ctx, art)
	kind := rerr.Kind
	if kind == record.ReasonRateLimited {
		p.unresolved++
	}
	snap := &record.Snapshot{Meta: record.ArticleMeta{
		Slug: art.slug, Title: art.title, Publisher: art.publisher,
		GoogleNewsURL: googleLink(art.link),
		Status:        record.StatusFailed, Reason: kind, Error: rerr.Error(),
		FetchedAt: p.r.opts.Now().UTC(),
		Digests:   art.snapshotDigests(),
	}}
	stored, err := p.r.writer.Write(ctx, snap, art.previous())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("article %s: %w", art.slug, err)
	}
	p.r.done(art, stored, Event{Slug: art.slug, Link: art.link, Status: record.StatusFailed, Reason: kind, Error: rerr.Error()})
	return nil
}

// meta and metaEntry read meta.json once per slug per chunk.
func (p *planner) meta(ctx context.Context, slug string) (record.ArticleMeta, bool, error) {
	e, err := p.metaEntry(ctx, slug)
	return e.Meta, e.Exists, err
}

func (p *planner) metaEntry(ctx context.Context, slug string) (metaEntry, error) {
	if e, ok := p.metas[slug]; ok {
		return e, nil
	}
	e, err := p.r.writer.LoadMeta(ctx, slug)
	if err != nil {
		return metaEntry{}, err
	}
	if e.Unreadable != nil {
		p.r.unreadable(slug, e.Unreadable)
	}
	p.metas[slug] = e
	return e, nil
}

// baseSlug is the slug a link's article gets when nothing collides.
func (p *planner) baseSlug(link string) string {
	ref := p.refs[link][0]
	it := ref.ds.d.Items[ref.i]
	return record.ArticleSlug(it.Title, it.Publisher)
}

func (p *planner) attach(art *article, refs []itemRef) {
	for _, ref := range refs {
		ref.ds.articles[ref.i] = art
	}
}

func (p *planner) report(ev Event) {
	p.r.rep.add(ev)
	p.r.opts.Progress.Done(ev)
}
