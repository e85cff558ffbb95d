// Package resolver turns the links of news digests into publisher URLs.
//
// Google News links (https://news.google.com/rss/articles/CBMi…) are decoded
// offline when their id embeds the URL (ids issued before July 2024) and
// otherwise resolved with Google's own two-step protocol: the article page
// supplies a signature, and one batchexecute POST trades up to 50 signed ids
// for their URLs (see docs/google-news-protocol.md). Every request to Google
// waits its turn at one gate (internal/sendgate), the first refusal (429,
// /sorry or Google's CAPTCHA page) stops all further Google requests, and
// results are cached so that a link costs requests once; Options.NoGoogle
// forbids Google requests altogether. Links Google wraps around another
// (google.com/url, the AMP viewer) are unwrapped offline. Short links (t.co,
// bit.ly, see IsShortLink) are resolved by following their redirects
// through the SSRF guard up to the first URL off a shortener's host, and
// cached (shortlinks.go); other links (feed proxies, publishers' pages) are
// followed to their last page. Inputs may be links as people paste them
// (see Result.Note). On request (Sink.Provenance), each result resolved
// with requests carries the exchanges that resolved it, as they crossed
// the wire, for a capture's WARC (exchange.go).
package resolver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/internal/sendgate"
	"github.com/linkarc/linkarc/storage/record"
)

// Defaults for the zero values of Options.
const (
	DefaultGNewsBase   = "https://news.google.com"
	DefaultConsentBase = "https://consent.google.com"
	DefaultInterval    = 2 * time.Second
	DefaultTimeout     = 30 * time.Second
	DefaultBatchSize   = 50
	DefaultMaxBody     = 32 << 20
	DefaultHL          = "en-US"
	DefaultGL          = "US"
	DefaultCEID        = "US:en"
	DefaultConcurrency = 4
	// DefaultHostInterval spaces the requests to one shortener host, as
	// the fetcher spaces a publisher's (fetch.DefaultHostInterval).
	DefaultHostInterval = time.Second

	// MaxGoogleRedirects bounds the redirects followed for one Google
	// request: locale and consent hops need at most three.
	MaxGoogleRedirects = 5
	// MaxRedirects bounds the hops of a generic redirect chain.
	MaxRedirects = 10
)

// Options configure a Resolver. The zero value is valid and talks to the
// real Google News politely.
type Options struct {
	// GNewsBase is where Google News requests go (default
	// https://news.google.com). Input links are still recognised by their
	// real host; this only redirects traffic, to a proxy or a test server.
	GNewsBase string
	// ConsentBase is the one other host Google requests may be redirected
	// to: the EU consent host (default https://consent.google.com).
	ConsentBase string

	// Interval is the minimum spacing between two requests to Google,
	// measured from the end of one (its answer read, or its failure) to
	// the moment the next is sent; every Google request (signature GETs,
	// their redirect hops and POSTs) waits its turn at one gate
	// (internal/sendgate), so no two are ever sent closer than Interval,
	// however late this process is scheduled. Zero means DefaultInterval
	// (2s); a negative value disables spacing (for test servers).
	Interval time.Duration
	// Timeout bounds one HTTP request, body included (default 30s).
	Timeout time.Duration
	// UserAgent is sent with every request (default buildinfo.UserAgent()).
	UserAgent string
	// HL, GL and CEID are the Google News locale used when a link carries
	// none (defaults en-US, US, US:en).
	HL, GL, CEID string
	// BatchSize is the most ids one batchexecute POST carries (default
	// 50). A POST is sent whenever that many signatures are collected.
	BatchSize int
	// BatchWait is the longest the oldest signature of a batch waits for
	// the batch to fill: a batch is posted before a signature GET that
	// would make it wait longer (and whenever no id is left to ask about).
	// Zero means DefaultBatchWaitTurns × Interval (20 s at the default
	// spacing), which is no wait limit when Interval is none; negative
	// means posting full batches only. See docs/resolving.md, "When a
	// batch is posted".
	BatchWait time.Duration
	// MaxBody caps a response body after decompression (default 32 MiB).
	// It also caps the bytes of a body kept as provenance (Exchange).
	MaxBody int64
	// TempDir holds the bodies of exchanges kept as provenance (see
	// Exchange) until their results are released; "" means os.TempDir().
	TempDir string
	// Concurrency bounds how many generic redirect chains are followed at
	// once (default 4). Google requests are always one at a time.
	Concurrency int
	// ShortenerHosts are hosts whose links are short links too, beside the
	// well-known shorteners (ShortenerHosts()): host names without scheme
	// or port, such as lnk.example.com. A short link resolves to the
	// first URL off the shorteners' hosts, which is not requested.
	ShortenerHosts []string
	// HostInterval is the minimum spacing between two requests to one
	// shortener host (each hop of a short link's chain waits its host's
	// turn; internal/sendgate), from the end of one to the moment the next
	// is sent. Zero means DefaultHostInterval (1s); negative, none.
	// linkarc archive passes its --host-interval.
	HostInterval time.Duration

	// Cache keeps resolutions across runs; nil means an in-memory cache
	// that lives as long as the Resolver. See NewStoreCache.
	Cache Cache
	// Transport, if set, carries the requests to Google (for a proxy, say).
	// Generic redirects always use a transport of their own that dials
	// through the SSRF guard.
	Transport http.RoundTripper
	// AllowPrivate lets generic redirects reach loopback and private
	// addresses. Off by default: links come from untrusted feeds.
	AllowPrivate bool
	// AllowAddrs are exact destinations (address and port) generic
	// redirects may reach even without AllowPrivate: one intranet
	// shortener, or a test server standing in for a public one. See
	// netguard.Policy.
	AllowAddrs []netip.AddrPort

	// NoGoogle forbids every request to Google. Links that only Google can
	// resolve (new-format ids neither in Cache nor decodable offline) then
	// fail with record.ReasonGoogleDisabled; old-format ids, cached ids and
	// other links still resolve.
	NoGoogle bool

	// Logger receives progress and diagnostics; nil discards them.
	Logger *slog.Logger
}

// guard is the SSRF policy generic redirects follow.
func (o Options) guard() netguard.Policy {
	return netguard.Policy{AllowPrivate: o.AllowPrivate, AllowAddrs: o.AllowAddrs}
}

// Resolution methods reported in Result.Method.
const (
	MethodOffline      = "offline"      // decoded from the id, or unwrapped from a Google link; no request
	MethodBatchexecute = "batchexecute" // resolved by Google (Steps 1 and 2)
	MethodRedirect     = "redirect"     // generic redirects followed
	MethodCache        = "cache"        // found in the cache, no request
)

// Result is the outcome for one input. Exactly one of URL and Err is set.
type Result struct {
	Input  string   // the input, as given
	URL    string   // the publisher URL
	Method string   // one of the Method… constants
	Chain  []string // generic redirects: every URL visited, input first (a short link's last URL, the answer, is not requested)
	Err    *Error
	// Note says what was made of the input as given, when that was more
	// than reading a URL: text around the link ignored, https:// assumed,
	// a consent or click-through wrapper unwrapped. Empty otherwise.
	Note string
	// ResolvedAt is when the link was resolved: for MethodBatchexecute
	// when the POST that answered was sent, for MethodRedirect when the
	// request whose answer named the URL was sent, for MethodCache when
	// the cache entry was written (zero when the cache does not say, see
	// CacheDates). Zero for MethodOffline.
	ResolvedAt time.Time
	// Provenance is the exchanges that resolved the link, in the order
	// they were made: a redirect chain's hops, then Google's (see
	// Exchange). Set only when Sink.Provenance asked for them, and only
	// for results that took requests (MethodRedirect, MethodBatchexecute;
	// an offline answer reached through a redirect chain has the chain's);
	// nil otherwise. The receiver owns it and must Release it.
	Provenance *Provenance
}

// Resolver resolves links. It is safe for concurrent use; its Google
// requests are made one at a time whatever the number of callers.
type Resolver struct {
	opts    Options
	news    *url.URL
	consent *url.URL
	google  *http.Client // cookieless, no automatic redirects
	web     *http.Client // generic redirects: guarded dialer, no proxy
	gate    *sendgate.Gate
	log     *slog.Logger

	shorteners map[string]bool // hosts whose links are short links (shortlinks.go)
	gatesMu    sync.Mutex
	hostGates  map[string]*sendgate.Gate // per shortener host, spaced by HostInterval

	// now and sleep are the gate's clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	googleMu sync.Mutex  // one Google conversation at a time
	limited  atomic.Bool // Google refused us: no more signature pages
	// postsLimited is set when a batchexecute POST itself was refused.
	// Until then the signatures already collected are still posted after a
	// refused GET: Google's budget counts only the GETs (spec §6.1), so
	// those signatures are resolutions already paid for.
	postsLimited atomic.Bool
	// failures counts Google requests failed in a row on the network;
	// unreachable is set once there were UnreachableAfter (stream.go).
	failures    atomic.Int32
	unreachable atomic.Bool
}

// New checks the options and builds a Resolver.
func New(opts Options) (*Resolver, error) {
	if opts.GNewsBase == "" {
		opts.GNewsBase = DefaultGNewsBase
	}
	if opts.ConsentBase == "" {
		opts.ConsentBase = DefaultConsentBase
	}
	news, err := parseBase("GNewsBase", opts.GNewsBase)
	if err != nil {
		return nil, err
	}
	consent, err := parseBase("ConsentBase", opts.ConsentBase)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.Interval == 0:
		opts.Interval = DefaultInterval
	case opts.Interval < 0:
		opts.Interval = 0
	}
	switch {
	case opts.HostInterval == 0:
		opts.HostInterval = DefaultHostInterval
	case opts.HostInterval < 0:
		opts.HostInterval = 0
	}
	shorteners, err := shortenerSet(opts.ShortenerHosts)
	if err != nil {
		return nil, err
	}
	if opts.Timeout < 0 || opts.BatchSize < 0 || opts.MaxBody < 0 || opts.Concurrency < 0 {
		return nil, errors.New("resolver: Timeout, BatchSize, MaxBody and Concurrency must not be negative")
	}
	opts.Timeout = cmp.Or(opts.Timeout, DefaultTimeout)
	if opts.BatchWait == 0 {
		opts.BatchWait = DefaultBatchWaitTurns * opts.Interval
	}
	opts.BatchSize = cmp.Or(opts.BatchSize, DefaultBatchSize)
	opts.MaxBody = cmp.Or(opts.MaxBody, DefaultMaxBody)
	opts.Concurrency = cmp.Or(opts.Concurrency, DefaultConcurrency)
	opts.UserAgent = cmp.Or(opts.UserAgent, buildinfo.UserAgent())
	opts.HL = cmp.Or(opts.HL, DefaultHL)
	opts.GL = cmp.Or(opts.GL, DefaultGL)
	opts.CEID = cmp.Or(opts.CEID, DefaultCEID)
	if opts.Cache == nil {
		opts.Cache = NewMemoryCache()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	gt := opts.Transport
	if gt == nil {
		// Google's hosts are linkarc's own choice (or the user's
		// --gnews-base), so the environment's proxy applies.
		gt = netguard.NewTransport(netguard.TransportOptions{Unguarded: true, ConnectTimeout: opts.Timeout})
	}
	wt := netguard.NewTransport(netguard.TransportOptions{
		Policy: opts.guard(), ConnectTimeout: opts.Timeout, ResponseHeaderTimeout: opts.Timeout,
	})
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := &Resolver{
		opts:    opts,
		news:    news,
		consent: consent,
		google:  &http.Client{Transport: gt, CheckRedirect: noFollow}, // no Jar: cookies are never kept or sent
		web:     &http.Client{Transport: wt, CheckRedirect: noFollow},
		log:     log,
		now:     time.Now,
		sleep:   sleepCtx,

		shorteners: shorteners,
		hostGates:  map[string]*sendgate.Gate{},
	}
	r.gate = sendgate.New(opts.Interval, sendgate.Clock{
		Now:   func() time.Time { return r.now() },
		Sleep: func(ctx context.Context, d time.Duration) error { return r.sleep(ctx, d) },
	})
	return r, nil
}

func parseBase(name, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("resolver: %s %q: want an http(s) URL like https://news.google.com", name, s)
	}
	return u, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RateLimited reports whether Google has refused this Resolver (429 or
// /sorry). From then on it makes no Google requests: new ids fail with
// record.ReasonRateLimited, while offline and cached ones still resolve.
func (r *Resolver) RateLimited() bool { return r.limited.Load() }

// ResolveOne resolves a single input.
func (r *Resolver) ResolveOne(ctx context.Context, input string) Result {
	return r.Resolve(ctx, []string{input})[0]
}

// job is one distinct thing to resolve; every input index that needs it
// shares its result (stream.go).
type job struct {
	p       parsedInput
	idx     []int
	res     Result
	done    bool
	waiting []*job      // generic chains that ended on this Google News link
	chain   []string    // generic chain, kept when it hands over to a Google job
	prov    *Provenance // that chain's exchanges, until the Google job's result joins them
}

// Resolve resolves a batch of inputs and returns one Result per input, in
// input order. Duplicates cost one resolution; old ids are decoded offline;
// cached ids cost nothing; the rest are resolved with sequential signature
// GETs spaced by the limiter and batchexecute POSTs of up to BatchSize ids.
// Generic links are followed concurrently. Resolve does not return early on
// cancellation: inputs not done get record.ReasonCanceled. It is Stream,
// collected.
func (r *Resolver) Resolve(ctx context.Context, inputs []string) []Result {
	results := make([]Result, len(inputs))
	r.Stream(ctx, inputs, Sink{Result: func(i int, res Result) { results[i] = res }})
	return results
}

// stopErr says why no more Google requests may be made, if that is so.
func (r *Resolver) stopErr(ctx context.Context) *Error {
	if r.limited.Load() {
		return rateLimitedError(nil)
	}
	if ctx.Err() != nil {
		return newError(record.ReasonCanceled, "canceled before this link was resolved", ctx.Err())
	}
	return nil
}

// postStopErr says why no batchexecute POST may be made, if that is so.
func (r *Resolver) postStopErr(ctx context.Context) *Error {
	if r.postsLimited.Load() {
		return rateLimitedError(nil)
	}
	if ctx.Err() != nil {
		return newError(record.ReasonCanceled, "canceled before this link was resolved", ctx.Err())
	}
	return nil
}

// stopPosts records that Google refused a POST: nothing more is sent.
func (r *Resolver) stopPosts(why string) {
	r.postsLimited.Store(true)
	r.stop(why)
}

// stop records that Google refused us; every later Google request is skipped.
func (r *Resolver) stop(why string) {
	if !r.limited.Swap(true) {
		r.log.Warn("Google News rate-limited us; no more Google requests in this run", "signal", why)
	}
}
