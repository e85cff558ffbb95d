package resolver

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

// Streaming: results as soon as they are known (issue 13).
//
// Stream hands each input's result to a Sink the moment it is known:
// invalid inputs, ids decoded offline and cache hits at once, generic
// redirect chains as each ends, and ids Google must resolve as the
// batchexecute POST that carries them returns. Google is still asked one
// request at a time at the Interval spacing; what changes is when a batch
// is posted (see BatchWait and docs/resolving.md, "When a batch is
// posted"): a full batch, no id left to ask about, or the oldest
// signature of the batch about to wait longer than BatchWait.

// Defaults of the streaming rules.
const (
	// DefaultBatchWaitTurns is BatchWait's default in Google turns: the
	// oldest signature of a batch waits at most this many intervals, so
	// at most one POST per DefaultBatchWaitTurns+1 GETs is added (about 9%
	// more Google time than posting only full batches) and fetching gets
	// new URLs at least every DefaultBatchWaitTurns+2 intervals (24 s at
	// the default 2 s) instead of every 51.
	DefaultBatchWaitTurns = 10
	// UnreachableAfter is how many Google requests in a row must fail on
	// the network (DNS, refused, reset, timeout) or end on the consent
	// wall before the Resolver stops asking Google for the rest of the
	// run.
	UnreachableAfter = 3
	// interruptGrace bounds the POST of the signatures collected when the
	// run is interrupted (plus one Interval for its turn) and the writing
	// of their answers to the cache.
	interruptGrace = 5 * time.Second
)

// Sink receives what Stream learns. Its functions are called from one
// goroutine at a time and must not block for long: Google waits while
// they run.
type Sink struct {
	// Result is called exactly once per input, with the input's index and
	// its result (Input set, Chain not shared with another input).
	// Results that need no request (invalid inputs, offline ids, cache
	// hits) all come before any result that needed Google.
	Result func(i int, res Result)
	// Asking, if set, is called with the number of ids just added to
	// those Google will be asked about, before any of their results
	// (several times: as the cache is read, and when a redirect chain ends
	// on a Google News link).
	Asking func(ids int)
	// Provenance asks for the exchanges with Google behind each result
	// resolved with Google (Result.Provenance, see Exchange). Each Result
	// then carries references of its own, which the receiver must
	// Release. Off, nothing is kept (linkarc resolve).
	Provenance bool
}

// Stream resolves inputs as Resolve does and calls sink.Result for each
// input as soon as its result is known. It returns when every input has
// had its result.
//
// When ctx ends, no further signature is requested; the signatures
// already collected are still posted (they cost Google requests already,
// spec §6.1) within a short grace period, their answers are cached and
// handed on, and every input not resolved gets record.ReasonCanceled.
func (r *Resolver) Stream(ctx context.Context, inputs []string, sink Sink) {
	s := &stream{r: r, ctx: ctx, inputs: inputs, notes: make([]string, len(inputs)), sink: sink, byKey: map[string]*job{},
		producers: 1, classified: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)

	var google, generic []*job
	for i, in := range inputs {
		p := parseInput(in)
		s.notes[i] = p.note
		if p.note != "" {
			r.log.Info("input read as a link", "input", textnorm.Shorten(in, 80), "note", p.note)
		}
		switch p.kind {
		case inputInvalid:
			s.emit([]emission{{i: i, res: Result{Err: p.err}}})
			continue
		case inputUnwrapped:
			s.emit([]emission{{i: i, res: Result{URL: p.url, Method: MethodOffline}}})
			continue
		}
		k := p.key()
		j := s.byKey[k]
		if j == nil {
			j = &job{p: p}
			s.byKey[k] = j
			if p.kind == inputGeneric {
				generic = append(generic, j)
			} else {
				google = append(google, j)
			}
		}
		j.idx = append(j.idx, i)
	}

	// Short links already followed in an earlier run are answered by the
	// cache, with the other results that need no request.
	follow := generic[:0:0]
	for _, g := range generic {
		if res, ok := r.cachedShortLink(ctx, g.p); ok {
			s.finish(g, res)
			continue
		}
		follow = append(follow, g)
	}

	var wg sync.WaitGroup
	if len(google) > 0 || len(follow) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); s.askGoogle() }()
	}
	// Generic chains run beside the Google work; one that ends on a Google
	// News link hands it over (shared with a duplicate, if any).
	sem := make(chan struct{}, r.opts.Concurrency)
	s.mu.Lock()
	s.producers += len(follow)
	s.mu.Unlock()
	for _, g := range follow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.produced()
			select {
			case sem <- struct{}{}:
				g.res = r.follow(ctx, g.p.url, s.sink.Provenance)
				<-sem
			case <-ctx.Done():
				g.res = Result{Err: canceledError(ctx)}
			}
			s.chainEnded(g)
		}()
	}
	for _, j := range google {
		s.classify(j)
	}
	close(s.classified)
	s.produced()
	wg.Wait()
}

// stream is the state of one Stream call.
type stream struct {
	r          *Resolver
	ctx        context.Context
	inputs     []string
	notes      []string // per input: what was made of it (Result.Note)
	sink       Sink
	classified chan struct{} // closed once every no-request result is out

	emitMu sync.Mutex // Sink calls, one at a time

	mu        sync.Mutex
	cond      *sync.Cond
	byKey     map[string]*job
	queue     []*job // ids to ask Google about, in input order
	producers int    // the classifier and the chains still running: they may add to queue
}

// emission is one Sink.Result call.
type emission struct {
	i   int
	res Result
}

func (s *stream) emit(es []emission) {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	for _, e := range es {
		e.res.Input, e.res.Note = s.inputs[e.i], s.notes[e.i]
		e.res.Chain = slices.Clone(e.res.Chain) // no aliasing between duplicates
		e.res.Provenance = e.res.Provenance.clone()
		s.sink.Result(e.i, e.res)
	}
}

// finish files a job's result and emits it for every input that needs it,
// the inputs whose redirect chains led to it included (each with its
// chain, and its chain's exchanges before the job's; a short link's answer
// is cached). Each emission gets references of its own on the result's
// Provenance, whose own are then released: the job keeps none (a chain
// ending on it later gets the result without its exchanges; its article
// is that of the first link anyway).
func (s *stream) finish(j *job, res Result) {
	defer res.Provenance.Release()
	s.mu.Lock()
	j.res, j.done = res, true
	j.res.Provenance = nil
	waiting := j.waiting
	j.waiting = nil
	s.mu.Unlock()
	var es []emission
	for _, i := range j.idx {
		es = append(es, emission{i, res})
	}
	var joined []*Provenance
	for _, g := range waiting {
		gr := s.chainResult(g, res)
		joined = append(joined, gr.Provenance)
		for _, i := range g.idx {
			es = append(es, emission{i, gr})
		}
	}
	s.emit(es)
	for _, p := range joined {
		p.Release()
	}
}

// chainResult is the result of generic chain g, which ended on a link
// that resolved to res: res with g's chain and, when res is a success,
// g's exchanges followed by res's, in a Provenance with references of its
// own (g's are released). A short link's answer is cached.
func (s *stream) chainResult(g *job, res Result) Result {
	chainExs := g.prov
	g.prov = nil
	defer chainExs.Release()
	out := res
	out.Chain, out.Provenance = g.chain, nil
	if res.Err != nil {
		return out
	}
	var exs []*Exchange
	for _, p := range []*Provenance{chainExs, res.Provenance} {
		if p != nil {
			exs = append(exs, p.Exchanges...)
		}
	}
	if len(exs) > 0 {
		out.Provenance = newProvenance(exs...)
	}
	if s.r.onShortener(g.p.url) {
		if err := s.r.opts.Cache.Put(s.ctx, g.p.url, res.URL); err != nil {
			s.r.log.Warn("resolver cache not written; this short link will cost requests again", "link", textnorm.Shorten(g.p.url, 80), "err", err)
		}
	}
	return out
}

// classify answers a Google job offline or from the cache, or queues it
// for Google.
func (s *stream) classify(j *job) {
	if res, ok := s.r.answerWithout(s.ctx, j.p); ok {
		s.finish(j, res)
		return
	}
	if s.r.opts.NoGoogle {
		s.r.log.Info("not resolving a Google News id: Google may not be contacted", "id", textnorm.Shorten(j.p.id, 24))
		s.finish(j, Result{Err: googleDisabledError()})
		return
	}
	if s.sink.Asking != nil {
		s.emitMu.Lock()
		s.sink.Asking(1)
		s.emitMu.Unlock()
	}
	s.mu.Lock()
	s.queue = append(s.queue, j)
	s.cond.Broadcast()
	s.mu.Unlock()
}

// answerWithout answers a Google News id without a request, if it can.
func (r *Resolver) answerWithout(ctx context.Context, p parsedInput) (Result, bool) {
	if p.env.Format == formatOld {
		return Result{URL: p.env.URL, Method: MethodOffline}, true
	}
	if u, at, ok := r.cached(ctx, p.id); ok {
		return Result{URL: u, Method: MethodCache, ResolvedAt: at}, true
	}
	return Result{}, false
}

// cachedShortLink answers a short link from the cache, if it can.
func (r *Resolver) cachedShortLink(ctx context.Context, p parsedInput) (Result, bool) {
	if !r.onShortener(p.url) {
		return Result{}, false
	}
	if u, at, ok := r.cached(ctx, p.url); ok {
		return Result{URL: u, Method: MethodCache, ResolvedAt: at}, true
	}
	return Result{}, false
}

// cached reads the cache entry of key (an id, or a short link), with when
// it was put when the cache says; an unreadable entry is logged and a
// miss.
func (r *Resolver) cached(ctx context.Context, key string) (string, time.Time, bool) {
	var (
		u   string
		at  time.Time
		ok  bool
		err error
	)
	if dc, dated := r.opts.Cache.(CacheDates); dated {
		u, at, ok, err = dc.GetDated(ctx, key)
	} else {
		u, ok, err = r.opts.Cache.Get(ctx, key)
	}
	if err != nil {
		r.log.Warn("resolver cache unreadable; resolving with requests instead", "key", textnorm.Shorten(key, 40), "err", err)
	}
	if !ok {
		return "", time.Time{}, false
	}
	clean, good := cleanURL(u)
	return clean, at, good
}

// chainEnded files a generic chain's result, or hands it to the Google
// job of the Google News link it ended on (with its exchanges, which go
// before Google's).
func (s *stream) chainEnded(g *job) {
	if g.res.Err != nil || g.res.URL == "" || !IsGoogleNews(g.res.URL) {
		s.finish(g, g.res)
		return
	}
	p := parseInput(g.res.URL)
	g.chain, g.prov = g.res.Chain, g.res.Provenance
	g.res.Provenance = nil
	switch p.kind {
	case inputInvalid:
		s.finish(g, s.chainResult(g, Result{Err: p.err}))
		return
	case inputUnwrapped:
		s.finish(g, s.chainResult(g, Result{URL: p.url, Method: MethodOffline}))
		return
	}
	s.mu.Lock()
	j := s.byKey[p.key()]
	switch {
	case j == nil:
		j = &job{p: p, waiting: []*job{g}}
		s.byKey[p.key()] = j
		s.mu.Unlock()
		s.classify(j)
	case !j.done:
		j.waiting = append(j.waiting, g)
		s.mu.Unlock()
	default:
		res := j.res
		s.mu.Unlock()
		res = s.chainResult(g, res)
		var es []emission
		for _, i := range g.idx {
			es = append(es, emission{i, res})
		}
		s.emit(es)
		res.Provenance.Release()
	}
}

// produced records that a producer of Google work (the classifier or a
// redirect chain) is done.
func (s *stream) produced() {
	s.mu.Lock()
	s.producers--
	s.cond.Broadcast()
	s.mu.Unlock()
}

// next returns the next id to ask Google about. With wait, it blocks until
// there is one or none can come any more; without, it returns nil at once
// when none is queued and only redirect chains (which take their time)
// could add one. While the cache is still being read it always waits: ids
// arrive from it far faster than Google may be asked.
func (s *stream) next(wait bool) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.queue) > 0 {
			j := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			return j
		}
		if s.producers == 0 {
			return nil
		}
		select {
		case <-s.classified:
			if !wait {
				return nil
			}
		default:
		}
		s.cond.Wait()
	}
}

// askGoogle is the one Google conversation of a Stream: a signature GET
// per queued id at the Interval spacing, and a batchexecute POST whenever
// batchDue says so.
func (s *stream) askGoogle() {
	r := s.r
	r.googleMu.Lock()
	defer r.googleMu.Unlock()
	b := &batch{s: s}
	var lastGet time.Duration // how long the last signature took, its turn included
	for {
		j := s.next(len(b.jobs) == 0)
		if j == nil {
			if len(b.jobs) > 0 {
				b.post()
				continue
			}
			return
		}
		if len(b.jobs) > 0 && r.batchDue(b.oldest, lastGet) {
			b.post()
		}
		if err := r.askErr(s.ctx); err != nil {
			s.finishGoogle(j, Result{Err: err})
			continue
		}
		start := r.now()
		sig, exs, err := r.fetchSignature(s.ctx, j.p, s.sink.Provenance)
		lastGet = r.now().Sub(start)
		if err != nil {
			r.googleFailed(err)
			r.log.Info("no signature", "id", textnorm.Shorten(j.p.id, 24), "kind", err.Kind, "err", err)
			s.finishGoogle(j, Result{Err: err})
			continue
		}
		r.googleAnswered()
		r.log.Debug("signature fetched", "id", textnorm.Shorten(j.p.id, 24), "ts", sig.TS)
		b.add(j, sig, exs)
		if len(b.jobs) == r.opts.BatchSize {
			b.post()
		}
	}
}

// finishGoogle files the result of a job that needed Google, after every
// result that needed no request has gone out (Sink's promise).
func (s *stream) finishGoogle(j *job, res Result) {
	<-s.classified
	s.finish(j, res)
}

// batchDue reports whether the batch whose oldest signature was collected
// at oldest must be posted before the next signature is asked for: when
// that signature, expected to take as long as the last one did, would make
// the oldest wait longer than BatchWait.
func (r *Resolver) batchDue(oldest time.Time, lastGet time.Duration) bool {
	if r.opts.BatchWait <= 0 {
		return false
	}
	return r.now().Add(lastGet).Sub(oldest) > r.opts.BatchWait
}

// batch is the signatures collected and not yet posted.
type batch struct {
	s      *stream
	jobs   []*job
	sigs   []signature
	gets   [][]*Exchange // per job, its signature GET's exchanges (with Sink.Provenance)
	oldest time.Time
}

func (b *batch) add(j *job, sig signature, exs []*Exchange) {
	if len(b.jobs) == 0 {
		b.oldest = b.s.r.now()
	}
	b.jobs, b.sigs, b.gets = append(b.jobs, j), append(b.sigs, sig), append(b.gets, exs)
}

// post sends the batch and files each id's answer, caching the successes.
// The POST outlives an interrupt by a grace period (its turn and
// interruptGrace), whether ctx ends before it or while it is in flight:
// those signatures cost Google requests already (spec §6.1).
func (b *batch) post() {
	s, r := b.s, b.s.r
	jobs, sigs, gets := b.jobs, b.sigs, b.gets
	b.jobs, b.sigs, b.gets = nil, nil, nil
	// The GETs' references go to the results resolved; the rest are
	// released here, as is the POST's own reference.
	defer func() {
		for _, exs := range gets {
			releaseAll(exs)
		}
	}()
	ctx, cancel := context.WithCancel(context.WithoutCancel(s.ctx))
	defer cancel()
	stopGrace := context.AfterFunc(s.ctx, func() {
		r.log.Info("interrupted: posting the signatures already collected", "ids", len(jobs))
		time.AfterFunc(r.opts.Interval+interruptGrace, cancel)
	})
	defer stopGrace()
	results := make([]Result, len(jobs))
	if err := r.postStopErr(ctx); err != nil {
		for i := range jobs {
			results[i] = Result{Err: err}
		}
	} else {
		reqs := make([]rpcRequest, len(jobs))
		for i, j := range jobs {
			reqs[i] = rpcRequest{ID: j.p.id, Sig: sigs[i]}
		}
		sentAt := r.now()
		answers, post, err := r.postBatch(ctx, reqs, s.sink.Provenance)
		if post != nil && !post.Sent.IsZero() {
			sentAt = post.Sent
		}
		if post != nil {
			defer releaseAll([]*Exchange{post})
		}
		if err != nil {
			r.googleFailed(err)
		} else {
			r.googleAnswered()
		}
		ok := 0
		for i, j := range jobs {
			switch {
			case err != nil:
				results[i] = Result{Err: err}
			case answers[i].Err != nil:
				results[i] = Result{Err: answers[i].Err}
			default:
				ok++
				results[i] = Result{URL: answers[i].URL, Method: MethodBatchexecute, ResolvedAt: sentAt}
				if post != nil {
					results[i].Provenance = newProvenance(append(slices.Clip(gets[i]), post)...)
				}
				if perr := r.opts.Cache.Put(ctx, j.p.id, answers[i].URL); perr != nil {
					r.log.Warn("resolver cache not written; this link will cost Google requests again", "id", textnorm.Shorten(j.p.id, 24), "err", perr)
				}
			}
		}
		r.log.Info("batchexecute batch done", "ids", len(jobs), "resolved", ok)
	}
	for i, j := range jobs {
		s.finishGoogle(j, results[i])
	}
}

// askErr says why no more signatures may be asked for, if that is so.
func (r *Resolver) askErr(ctx context.Context) *Error {
	if err := r.stopErr(ctx); err != nil {
		return err
	}
	if r.unreachable.Load() {
		return r.unreachableError()
	}
	return nil
}

// googleFailed counts a Google request that failed; UnreachableAfter of
// them in a row, each on the network or at the consent wall, stop the
// Resolver asking Google for the rest of its life.
func (r *Resolver) googleFailed(err *Error) {
	switch err.Kind {
	case record.ReasonNetwork, record.ReasonTimeout, record.ReasonConsent:
	default:
		r.failures.Store(0)
		return
	}
	if r.failures.Add(1) >= UnreachableAfter && !r.unreachable.Swap(true) {
		// Said to the user once by the caller (Unreachable, and the
		// UnreachableError of each link not asked about).
		r.log.Info("no more Google requests in this run", "err", r.unreachableError().Err, "failures_in_a_row", UnreachableAfter)
	}
}

// googleAnswered resets the count of failures in a row.
func (r *Resolver) googleAnswered() { r.failures.Store(0) }

// UnreachableError is the cause of the errors of ids the Resolver did not
// ask Google about because Google could not be reached (UnreachableAfter
// failures in a row). Its message says what to check, once for the run.
type UnreachableError struct {
	Host string // the Google News host asked (news.google.com, or --gnews-base's)
}

func (e *UnreachableError) Error() string {
	return "cannot reach " + e.Host + ": check the network, a proxy (HTTPS_PROXY) or --gnews-base"
}

func (r *Resolver) unreachableError() *Error {
	return &Error{Kind: record.ReasonNetwork,
		Message: "not asked: Google News failed " + strconv.Itoa(UnreachableAfter) + " times in a row",
		Err:     &UnreachableError{Host: r.news.Host}}
}

// Unreachable returns why the Resolver stopped asking Google because it
// could not be reached, or nil while it has not.
func (r *Resolver) Unreachable() *UnreachableError {
	if !r.unreachable.Load() {
		return nil
	}
	return &UnreachableError{Host: r.news.Host}
}

func canceledError(ctx context.Context) *Error {
	return newError(record.ReasonCanceled, "canceled before this link was resolved", ctx.Err())
}

// Short is the error in one line, for people: the message and the
// innermost cause, without the URL a net/http error repeats (the full text
// stays in Error, for reports and records). It is never cut: a display
// of fixed width cuts it between words itself.
func (e *Error) Short() string {
	s := e.Message
	if e.Err != nil {
		cause := e.Err
		var ue *url.Error
		if errors.As(cause, &ue) {
			cause = ue.Err
		}
		s += ": " + cause.Error()
	}
	return s
}

// Route says how an input would be resolved, as Classify finds it without
// a request.
type Route string

// Routes of Classify.
const (
	RouteInvalid  Route = "invalid"  // refused without a request (or only Google could resolve it, and NoGoogle is set)
	RouteOffline  Route = "offline"  // decoded from the id
	RouteCache    Route = "cache"    // in the resolution cache
	RouteGoogle   Route = "google"   // a signature GET, and a share of a POST
	RouteRedirect Route = "redirect" // a generic link: its redirects would be followed
)

// Classified is how one input would be resolved; URL is set for the
// routes that need no request (offline, cache).
type Classified struct {
	Route Route
	URL   string
}

// Classify says how each input would be resolved, without a request to
// Google or anyone else (the cache is read). For `linkarc archive
// --dry-run`.
func (r *Resolver) Classify(ctx context.Context, inputs []string) []Classified {
	out := make([]Classified, len(inputs))
	for i, in := range inputs {
		p := parseInput(in)
		switch {
		case p.kind == inputInvalid:
			out[i] = Classified{Route: RouteInvalid}
		case p.kind == inputUnwrapped:
			out[i] = Classified{Route: RouteOffline, URL: p.url}
		case p.kind == inputGeneric:
			if res, ok := r.cachedShortLink(ctx, p); ok {
				out[i] = Classified{Route: RouteCache, URL: res.URL}
			} else {
				out[i] = Classified{Route: RouteRedirect}
			}
		default:
			switch res, ok := r.answerWithout(ctx, p); {
			case ok:
				out[i] = Classified{Route: Route(res.Method), URL: res.URL}
			case r.opts.NoGoogle:
				out[i] = Classified{Route: RouteInvalid} // only Google could resolve it
			default:
				out[i] = Classified{Route: RouteGoogle}
			}
		}
	}
	return out
}

// ExpectedTime is how long resolving ids new ids with Google takes at the
// Interval spacing: a GET each and a POST per batch, batches as large as
// BatchWait lets them grow, one Interval per request (the answers' own
// latency comes on top). It is 0 when Google may not be asked (NoGoogle).
func (r *Resolver) ExpectedTime(ids int) time.Duration {
	if ids <= 0 || r.opts.Interval <= 0 || r.opts.NoGoogle {
		return 0
	}
	per := r.opts.BatchSize
	if r.opts.BatchWait > 0 {
		per = max(min(per, int(r.opts.BatchWait/r.opts.Interval)+1), 1)
	}
	posts := (ids + per - 1) / per
	return time.Duration(ids+posts) * r.opts.Interval
}
