package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage/record"
)

// planner turns digest items into distinct articles: it resolves links,
// merges links that lead to the same publisher URL, gives each article its
// slug, skips what the store already holds as ok, and hands the rest to
// the host queues. Fetching starts with the first link whose publisher URL
// is known, and goes on as the resolver's answers arrive (resolver.Stream):
// Google's, and those of short links (t.co, bit.ly…), whose redirects are
// followed up to the publisher URL they name.
//
// It runs on one goroutine, in an order that does not depend on timing
// except for short links followed in this run, so slug assignment is
// deterministic: first every link that needs no resolving (publisher
// links), in digest order; then the Google News links the store already
// holds as ok, in digest order; then the resolver's answers as
// resolver.Stream hands them on (those from the id or the cache first, in
// digest order, then Google's, in digest order, with the short links
// followed as their chains end). A resumed run keeps the same order:
// Google answers ids in digest order, so what an earlier run cached is a
// prefix of what it would have asked, and short links followed before
// come from the cache. (Where two articles of one run want one slug, the
// one planned first gets it; across runs the URL index keeps each
// article's slug.)
type planner struct {
	r        *run
	digests  []*digestState
	links    []string             // distinct links, in digest order
	refs     map[string][]itemRef // link -> the digest items naming it
	byKey    map[string]*article  // identity (publisher URL or unresolved link) -> article
	owner    map[string]string    // slug -> identity claiming it in this run
	metas    map[string]metaEntry // slug -> meta.json as read from the store, for the link being planned
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

// googleLinks is the number of distinct Google News links.
func (p *planner) googleLinks() int {
	n := 0
	for _, link := range p.links {
		if resolver.IsGoogleNews(link) {
			n++
		}
	}
	return n
}

// total is the number of progress events the run will report: one per
// distinct link.
func (p *planner) total() int { return len(p.links) }

// run plans every link, handing articles that need capturing to enqueue.
// When ctx ends (an interrupt, a store failure) it plans nothing more, but
// waits for the resolver, which posts the signatures it has collected and
// caches the answers (see resolver.Stream).
func (p *planner) run(ctx context.Context, enqueue func(*article)) error {
	var direct, google []string
	short := map[string]bool{}
	for _, link := range p.links {
		switch {
		case resolver.IsGoogleNews(link):
			google = append(google, link)
		case p.r.opts.Resolver.IsShortLink(link):
			short[link] = true
		default:
			direct = append(direct, link)
		}
	}

	// Google News links whose article the store already holds as ok are
	// answered from the store, so a re-run asks Google nothing even if the
	// resolver cache was lost.
	known, askGoogle, err := p.storeKnown(ctx, google)
	if err != nil {
		return err
	}
	// The resolver is asked about those and the short links, in digest
	// order.
	var ask []string
	asked := map[string]bool{}
	for _, link := range askGoogle {
		asked[link] = true
	}
	for _, link := range p.links {
		if asked[link] || short[link] {
			ask = append(ask, link)
		}
	}

	// The resolver starts at once; its answers wait in answers (one per
	// link at most, so it never blocks) until the links known without it
	// are planned.
	type answer struct {
		link string
		res  resolver.Result
	}
	answers := make(chan answer, len(ask))
	go func() {
		defer close(answers)
		if len(ask) == 0 {
			return
		}
		p.r.opts.Resolver.Stream(ctx, ask, resolver.Sink{
			Result: func(i int, res resolver.Result) { answers <- answer{ask[i], res} },
			// The exchanges that resolved each link (Google's, a short
			// link's hops) go into its capture's WARC.
			Provenance: !p.r.opts.Capture.NoWARC,
		})
	}()
	// After an interrupt or a store failure the answers still arriving
	// (the signatures collected are posted, and cached) are not planned.
	drain := func() {
		for a := range answers {
			a.res.Provenance.Release()
		}
	}

	for _, link := range direct {
		if ctx.Err() != nil {
			drain()
			return nil
		}
		if err := p.planOne(ctx, link, resolution{url: link, method: "direct"}, enqueue); err != nil {
			drain()
			return err
		}
	}
	for _, k := range known {
		if ctx.Err() != nil {
			drain()
			return nil
		}
		p.r.stages.update(func(s *Stages) { s.Resolved++ })
		if err := p.planOne(ctx, k.link, k.res, enqueue); err != nil {
			drain()
			return err
		}
	}
	for a := range answers {
		if ctx.Err() != nil {
			drain()
			return nil
		}
		if !short[a.link] {
			// The stages count Google's work; a short link shows once
			// it is fetched.
			p.r.stages.update(func(s *Stages) { s.Resolved++ })
		}
		res := resolution{url: a.res.URL, method: a.res.Method, resolvedAt: a.res.ResolvedAt, prov: a.res.Provenance}
		if a.res.Err != nil {
			res = resolution{err: a.res.Err}
			var ue *resolver.UnreachableError
			if errors.As(a.res.Err, &ue) {
				p.r.googleUnreachable(ue)
			}
		}
		if err := p.planOne(ctx, a.link, res, enqueue); err != nil {
			res.prov.Release()
			drain()
			return err
		}
	}
	return nil
}

// planOne plans one link and counts it.
func (p *planner) planOne(ctx context.Context, link string, res resolution, enqueue func(*article)) error {
	err := p.plan(ctx, link, res, enqueue)
	// The meta.json reads have served; keeping them would make a run over
	// a large archive hold every article's metadata.
	clear(p.metas)
	if err != nil {
		return err
	}
	p.planned++
	return nil
}

// resolution is what the planner knows of a link's publisher URL. prov,
// when set, goes to the article planned (or is released when there is
// none to capture).
type resolution struct {
	url        string
	method     string
	resolvedAt time.Time
	prov       *resolver.Provenance
	err        *resolver.Error
}

// knownLink is a Google News link answered from the store.
type knownLink struct {
	link string
	res  resolution
}

// storeReaders bounds the meta.json reads of storeKnown in flight.
const storeReaders = 8

// storeKnown splits Google News links into those whose article the store
// holds as ok (with the URL it was resolved to) and those to resolve,
// both in digest order. Reads run storeReaders at a time: on S3 each is a
// round trip, and Google waits for them.
func (p *planner) storeKnown(ctx context.Context, links []string) ([]knownLink, []string, error) {
	if p.r.opts.Refresh {
		return nil, links, nil
	}
	found := make([]*resolution, len(links))
	errs := make([]error, len(links))
	sem := make(chan struct{}, storeReaders)
	var wg sync.WaitGroup
	for i, link := range links {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			slug := p.baseSlug(link)
			e, err := p.r.writer.LoadMeta(ctx, slug)
			if err != nil {
				errs[i] = err
				return
			}
			if e.Unreadable != nil {
				p.r.unreadable(slug, e.Unreadable)
			}
			if m := e.Meta; e.Exists && m.Status == record.StatusOK && m.URL != "" && m.GoogleNewsURL == link {
				found[i] = &resolution{url: m.URL, method: m.ResolveMethod}
			}
		}()
	}
	wg.Wait()
	var known []knownLink
	var ask []string
	for i, link := range links {
		if errs[i] != nil {
			if ctx.Err() != nil {
				return nil, nil, nil
			}
			return nil, nil, errs[i]
		}
		if found[i] != nil {
			known = append(known, knownLink{link, *found[i]})
		} else {
			ask = append(ask, link)
		}
	}
	return known, ask, nil
}

// plan turns one resolved link into an article (or merges it into one).
func (p *planner) plan(ctx context.Context, link string, res resolution, enqueue func(*article)) error {
	refs := p.refs[link]
	var digestSlugs []string
	for _, ref := range refs {
		digestSlugs = append(digestSlugs, ref.ds.slug)
	}

	if res.err == nil {
		// Each item keeps its own link's resolution: another link to the
		// same article may carry other tracking parameters.
		for _, ref := range refs {
			if ref.ds.urls == nil {
				ref.ds.urls = make([]string, len(ref.ds.d.Items))
			}
			ref.ds.urls[ref.i] = res.url
		}
	}

	// A link that failed to resolve is recorded by its Google News URL, or,
	// a short link, as its URL (unresolvable).
	key, same := "link:"+link, func(m record.ArticleMeta) bool { return m.GoogleNewsURL == link || m.URL == link }
	var u string // canonical publisher URL, when resolved
	if res.err == nil {
		u = weburl.Canonical(res.url)
		key = "url:" + u
		same = func(m record.ArticleMeta) bool {
			// A failure with neither URL is of no article in particular
			// (no link was recorded): this one may take its place.
			return weburl.Canonical(m.URL) == u || m.GoogleNewsURL == link || m.URL == link ||
				(m.Status == record.StatusFailed && m.URL == "" && m.GoogleNewsURL == "")
		}
	}
	if art := p.byKey[key]; art != nil {
		// Another link already led here: one article, listed by each
		// digest. Its capture records the first link's resolution.
		res.prov.Release()
		art.addDigests(digestSlugs)
		p.attach(art, refs)
		art.mu.Lock()
		pending := art.status == ""
		art.mu.Unlock()
		p.r.progressDone(Event{Slug: art.slug, Link: link, URL: art.url, Host: art.host, Status: "duplicate", Pending: pending})
		return nil
	}

	// An article the store holds at this URL keeps its slug, whatever
	// title this digest gives it; otherwise the title gives the slug.
	first := refs[0].ds.d.Items[refs[0].i]
	var slug string
	var prev metaEntry
	found := false
	if u != "" {
		var err error
		if slug, prev, found, err = p.indexed(ctx, u, key); err != nil {
			return err
		}
	}
	if !found {
		var err error
		if slug, prev, err = p.claim(ctx, first.Title, first.Publisher, key, same); err != nil {
			return err
		}
	}
	art := &article{
		slug: slug, title: first.Title, publisher: first.Publisher, link: link,
		url: res.url, method: res.method, resolvedAt: res.resolvedAt, prov: res.prov, host: weburl.HostOf(res.url),
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
		art.dropProvenance()
		p.report(Event{Slug: slug, Link: link, URL: art.url, Host: art.host, Status: record.StatusOK, Unchanged: true})
		return nil
	}
	if prev.Exists || prev.Unreadable != nil {
		art.prior = &prev
	}
	if res.err != nil {
		return p.unresolvable(ctx, art, res.err)
	}
	art.queued = true
	p.r.stages.update(func(s *Stages) { s.Fetching++; s.Waiting++ })
	enqueue(art)
	return nil
}

// unresolvable stores a failed capture for a link that could not be
// resolved (Google would not, a short link's redirects went nowhere), so
// the digest and the viewer say why; a re-run retries it. A short link is
// recorded as the article's URL: there is no other.
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
		GoogleNewsURL: googleLink(art.link), URL: shortLink(art.link),
		Status: record.StatusFailed, Reason: kind, Error: rerr.Error(),
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

// metaEntry reads meta.json once per slug per planned link.
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
	p.r.progressDone(ev)
}
