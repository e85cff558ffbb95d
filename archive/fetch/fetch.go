package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"golang.org/x/net/http/httpguts"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/archive/fetch/robotstxt"
	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/internal/redirect"
	"github.com/linkarc/linkarc/internal/sendgate"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// Defaults of Options, used for zero fields.
const (
	DefaultHostInterval   = time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultReadTimeout    = 20 * time.Second
	DefaultTimeout        = 30 * time.Second
	DefaultMaxBody        = 16 << 20
	DefaultMaxRetries     = 3
	DefaultMaxRetryAfter  = 2 * time.Minute
	DefaultMaxRedirects   = 10
	DefaultBackoff        = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	// DefaultMaxHeaderBytes caps a response's header section. Real pages
	// send a few KiB (cookies included); 256 KiB is far above that and far
	// below what a hostile server can make a client hold (issue 10 item
	// 10: 9.5 MB from each of 32 hosts at once peaked at 754 MB).
	DefaultMaxHeaderBytes = 256 << 10
)

// Options configures a Fetcher. A zero field takes its Default value.
type Options struct {
	// UserAgent is sent with every request and matched against robots.txt
	// groups by its first word ("linkarc"). It should say who is asking.
	// Default buildinfo.UserAgent().
	UserAgent string
	// HostInterval is the minimum spacing between two requests to one host
	// (page, redirect hop, refresh, retry, feed and robots.txt alike),
	// across all goroutines, counted from when the previous request was
	// really written to its connection. Negative: no spacing.
	HostInterval time.Duration
	// HostIntervals overrides HostInterval for some hosts (keys in
	// weburl.Host's form: lower case, no trailing dot, no port), e.g.
	// news.google.com at the Google News spacing.
	// Zero or negative: no spacing for that host.
	HostIntervals map[string]time.Duration
	// AssetInterval is the spacing for a host that has served only page
	// requisites in this run (FetchAsset); a host that served a page (or a
	// feed, or a redirect hop of one) uses its page interval for
	// everything, and HostIntervals' entries always win. Default
	// DefaultAssetInterval; negative: no spacing.
	AssetInterval time.Duration
	// IgnoreRobots skips robots.txt. By default it is fetched once per
	// origin and obeyed.
	IgnoreRobots bool
	// AllowPrivate permits loopback, private and link-local destinations.
	// Off, they are refused at dial time and in every redirect.
	AllowPrivate bool
	// AllowAddrs are exact destinations (address and port) permitted even
	// without AllowPrivate: one intranet publisher, or a test server on
	// loopback standing in for a public one. See netguard.Policy.
	AllowAddrs []netip.AddrPort
	// ConnectTimeout bounds the TCP connect and the TLS handshake.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for the response headers and every gap
	// between body bytes, so a stalled server is given up on quickly.
	ReadTimeout time.Duration
	// Timeout bounds one attempt from its first byte sent to its last byte
	// received, redirects included, so a server trickling bytes ends too.
	// The wait for the host's turn is not counted.
	Timeout time.Duration
	// MaxBody caps a body, both as received and after decompression.
	MaxBody int64
	// MaxHeaderBytes caps a response's header section (status line and
	// fields); more fails the page as too_large. Default
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int64
	// MaxRetries is how many times a retryable failure (5xx, 429, timeout,
	// reset) is retried, with exponential backoff and jitter. Negative: none.
	MaxRetries int
	// MaxRetryAfter caps an honoured Retry-After: a server asking for a
	// longer wait fails the fetch with its status instead. Negative: none
	// is honoured (any wait asked for fails the fetch).
	MaxRetryAfter time.Duration
	// MaxRedirects is how many redirects are followed. Negative: none.
	MaxRedirects int
	// Backoff is the wait before the first retry (without Retry-After); it
	// doubles with each further retry up to MaxBackoff, and each wait is
	// drawn from its upper half at random.
	Backoff time.Duration
	// MaxBackoff caps the doubling of Backoff.
	MaxBackoff time.Duration
	// Logger receives retries and robots.txt decisions. Default: discard.
	Logger *slog.Logger

	// DialContext, if set, replaces the dialer netguard guards: tests set
	// it to stand a "public" host up on loopback. What it dials is not
	// checked at dial time (URLs, redirects included, still are), so
	// linkarc itself never sets it.
	DialContext DialFunc
}

func (o Options) withDefaults() (Options, error) {
	if o.UserAgent == "" {
		o.UserAgent = buildinfo.UserAgent()
	}
	if !httpguts.ValidHeaderFieldValue(o.UserAgent) {
		return o, fmt.Errorf("user agent %q is not a valid header value", o.UserAgent)
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&o.HostInterval, DefaultHostInterval)
	setDur(&o.AssetInterval, DefaultAssetInterval)
	setDur(&o.ConnectTimeout, DefaultConnectTimeout)
	setDur(&o.ReadTimeout, DefaultReadTimeout)
	setDur(&o.Timeout, DefaultTimeout)
	setDur(&o.MaxRetryAfter, DefaultMaxRetryAfter)
	setDur(&o.Backoff, DefaultBackoff)
	setDur(&o.MaxBackoff, DefaultMaxBackoff)
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxRetryAfter < 0 {
		o.MaxRetryAfter = 0
	}
	if o.ConnectTimeout < 0 || o.ReadTimeout < 0 || o.Timeout < 0 || o.MaxBody < 0 || o.MaxHeaderBytes < 0 || o.Backoff < 0 || o.MaxBackoff < 0 {
		return o, errors.New("fetch timeouts, sizes and backoffs must not be negative")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// policy is the SSRF guard's policy for these options.
func (o Options) policy() netguard.Policy {
	return netguard.Policy{AllowPrivate: o.AllowPrivate, AllowAddrs: o.AllowAddrs}
}

// Capture is one fetched page.
type Capture struct {
	URL         string      // as given to Fetch
	FinalURL    string      // after redirects
	Chain       []string    // every URL requested, in order: URL's request first, FinalURL last (3xx and refresh hops alike)
	StatusCode  int         // of the final response
	Header      http.Header // of the final response, as sent (Content-Encoding included)
	ContentType string      // media type of the final response, lower case, e.g. "text/html"
	Charset     string      // encoding Raw was in, WHATWG name, e.g. "windows-1251"
	Raw         []byte      // body exactly as received, after undoing gzip/deflate/br
	Body        []byte      // Raw transcoded to UTF-8 (a feed's: Raw as is, its parser decodes it)
	FetchedAt   time.Time   // when the final response arrived
	Attempts    int         // requests made for the page, retries included
}

// Fetcher fetches publisher pages politely: robots.txt, a per-host
// interval, bounded retries, timeouts and size caps. It is safe for
// concurrent use; requests to different hosts do not wait for each other.
type Fetcher struct {
	opts         Options
	log          *slog.Logger
	collector    *colly.Collector // configured once; each attempt runs on a Clone
	base         *http.Transport
	robotsClient *http.Client // follows no redirect: robots.go does, by RFC 9309's rules
	assetClient  *http.Client // requisites: redirects vetted by checkRedirect
	robotsAgent  string       // robots.txt product token of the User-Agent

	mu        sync.Mutex
	gates     map[string]*sendgate.Gate // host -> its turn
	pageHosts map[string]bool           // hosts that served a page: never spaced at AssetInterval

	robotsMu sync.Mutex
	robots   map[string]*robotsEntry // origin -> its robots.txt
	down     map[string]downHost     // origin -> why it could not be reached, for the rest of the run
}

// New returns a Fetcher configured by opts.
func New(opts Options) (*Fetcher, error) {
	return newFetcher(opts, opts.DialContext)
}

// DialFunc is the signature of net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// pageAccept is the Accept header of page requests.
const pageAccept = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"

// newFetcher builds the Fetcher around dial; nil means netguard's guarded
// dialer for the options' policy.
func newFetcher(opts Options, dial DialFunc) (*Fetcher, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &Fetcher{
		opts:        opts,
		log:         opts.Logger,
		robotsAgent: robotstxt.ProductToken(opts.UserAgent),
		gates:       make(map[string]*sendgate.Gate),
		pageHosts:   make(map[string]bool),
		robots:      make(map[string]*robotsEntry),
		down:        make(map[string]downHost),
	}
	f.base = netguard.NewTransport(netguard.TransportOptions{
		Policy:                opts.policy(),
		DialContext:           dial, // nil: the policy's guarded dialer
		ConnectTimeout:        opts.ConnectTimeout,
		ResponseHeaderTimeout: opts.ReadTimeout,
	})
	f.base.MaxResponseHeaderBytes = opts.MaxHeaderBytes
	// No cookie jar on the client: cookies belong to one Fetch (its
	// retries, redirects and refreshes) and the transport sends and keeps
	// them (cookies.go), so nothing grows with the batch.
	tr := &transport{base: f.base, f: f}
	client := &http.Client{Transport: tr}
	f.robotsClient = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.assetClient = &http.Client{Transport: tr, CheckRedirect: f.checkRedirect}

	c := colly.NewCollector(
		colly.UserAgent(opts.UserAgent),
		colly.AllowURLRevisit(),        // retries and re-runs fetch the same URL again
		colly.IgnoreRobotsTxt(),        // robots.go does it: cached per origin, spaced, cancellable
		colly.ParseHTTPErrorResponse(), // statuses are judged in OnResponseHeaders
		colly.MaxBodySize(0),           // the transport caps bodies, and reports going over
		colly.Headers(map[string]string{
			"Accept":          pageAccept,
			"Accept-Encoding": "gzip, deflate, br",
		}),
	)
	// NewCollector also reads COLLY_* environment variables; linkarc's own
	// flags are its only configuration, so restore what they decide.
	c.UserAgent = opts.UserAgent
	c.AllowURLRevisit, c.IgnoreRobotsTxt, c.ParseHTTPErrorResponse = true, true, true
	c.MaxBodySize, c.CacheDir, c.DetectCharset, c.Async, c.CheckHead = 0, "", false, false, false
	c.MaxDepth, c.MaxRequests, c.TraceHTTP = 0, 0, false
	c.AllowedDomains, c.DisallowedDomains, c.URLFilters, c.DisallowedURLFilters = nil, nil, nil, nil
	c.SetClient(client)
	c.SetRedirectHandler(f.checkRedirect)
	f.collector = c
	return f, nil
}

// Close releases idle connections.
func (f *Fetcher) Close() { f.base.CloseIdleConnections() }

// Fetch fetches the page at rawURL. On failure the error is a *Error;
// the Capture is then non-nil when a response (or a redirect) was seen,
// carrying its status, headers and chain but no body.
//
// Besides 3xx redirects it follows the refreshes that redirect
// (redirect.FindRefresh: a Refresh header or <meta http-equiv="refresh">
// with a short delay, or the <noscript> one of a hop page without content
// of its own), under the same hop limit, loop rule, SSRF guard and
// robots.txt, each recorded in Chain.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*Capture, error) {
	return f.fetch(ctx, rawURL, kindPage)
}

// FetchFeed fetches the feed (RSS, Atom, JSON Feed) at rawURL, as politely
// as a page: robots.txt, the host's turn, the SSRF guard, redirects,
// retries and the size caps. It asks for feed media types (FeedAccept) and
// refuses only what is plainly not text (images, PDFs, video: reason
// not_html); whether the body is a feed is its parser's to say. The
// Capture's Body is the body as received, not transcoded: a feed declares
// its own encoding (XML 1.0 §4.3.3).
func (f *Fetcher) FetchFeed(ctx context.Context, rawURL string) (*Capture, error) {
	return f.fetch(ctx, rawURL, kindFeed)
}

func (f *Fetcher) fetch(ctx context.Context, rawURL string, kind requestKind) (*Capture, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, &Error{URL: rawURL, Reason: record.ReasonBadURL, Err: fmt.Errorf("not a URL: %w", err)}
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return nil, &Error{URL: rawURL, Reason: record.ReasonBadURL, Err: errors.New("not an http or https URL with a host")}
	}
	if err := f.opts.policy().CheckURL(u); err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	f.markPageHost(weburl.Host(u))
	// One jar for the whole Fetch, dropped when it returns.
	jar := newBoundedJar()
	attempts := 1 + max(f.opts.MaxRetries, 0)
	for n := 1; ; n++ {
		c, fe := f.attempt(ctx, rawURL, u, kind, jar)
		if c != nil {
			c.Attempts = n
		}
		if fe == nil {
			return c, nil
		}
		fe.Attempts = n
		if fe.Reason == record.ReasonCanceled || !fe.retryable || fe.final {
			return c, f.settle(fe)
		}
		wait := f.backoff(n)
		if fe.retryAfterSet {
			if fe.RetryAfter > f.opts.MaxRetryAfter {
				fe.Err = fmt.Errorf("%w; it asked to wait %s, more than --max-retry-after %s", fe.Err, fe.RetryAfter.Round(time.Second), f.opts.MaxRetryAfter)
				return c, fe
			}
			wait = fe.RetryAfter
		}
		if n >= attempts {
			return c, f.settle(fe)
		}
		f.log.Info("fetch: retrying", "url", rawURL, "reason", fe.Reason, "attempt", n, "wait", wait, "err", fe.Err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return c, f.classify(ctx, rawURL, ctx.Err(), nil)
		case <-t.C:
		}
	}
}

// backoff is the wait before retry n (1-based): exponential, with jitter
// so that many fetchers failing together do not retry together.
func (f *Fetcher) backoff(n int) time.Duration {
	d := f.opts.MaxBackoff
	if n-1 < 30 {
		if b := f.opts.Backoff << (n - 1); b > 0 && b < d {
			d = b
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// attempt makes one request for the document (after robots.txt allows
// it), following refreshes that redirect.
func (f *Fetcher) attempt(ctx context.Context, rawURL string, u *url.URL, kind requestKind, jar *boundedJar) (*Capture, *Error) {
	if err := f.checkRobots(ctx, u); err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	host := weburl.Host(u)
	// Take the host's turn before the attempt's clock starts: queueing
	// behind other articles of the same host is not the server's fault.
	turn, err := f.acquire(ctx, host)
	if err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	defer turn.release(false) // if the request never got as far as the transport
	actx, cancelTimeout := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancelTimeout()
	actx, cancel := context.WithCancelCause(actx)
	defer cancel(nil)
	st := &request{kind: kind, cancel: cancel, turn: turn, jar: jar}
	actx = withRequest(actx, st)

	c := f.collector.Clone()
	c.Context = actx
	c.OnRequest(func(r *colly.Request) {
		if kind == kindFeed {
			r.Headers.Set("Accept", FeedAccept)
		}
		st.mu.Lock()
		st.requested = true
		st.chain = append(st.prior[:len(st.prior):len(st.prior)], r.URL.String())
		st.mu.Unlock()
	})
	c.OnResponseHeaders(func(r *colly.Response) {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.status = r.StatusCode
		st.header = r.Headers.Clone()
		st.finalURL = r.Request.URL.String()
		st.responseTime = time.Now()
		st.contentType = mediaType(r.Headers.Get("Content-Type"))
		switch {
		case r.StatusCode/100 != 2:
			r.Request.Abort() // the status decides; the body is not wanted
		case !st.accepts(st.contentType):
			st.notWanted = st.contentType
			r.Request.Abort() // a PDF or video is not downloaded just to be dropped
		}
	})
	c.OnResponse(func(r *colly.Response) {
		st.mu.Lock()
		st.body = r.Body
		st.mu.Unlock()
	})

	next := u
	for {
		capt, fe, raw := f.visit(ctx, actx, c, st, rawURL, next)
		if fe != nil {
			return capt, fe
		}
		if kind == kindFeed {
			capt.Raw, capt.Body = raw, raw
			return capt, nil
		}
		capt.Raw = raw
		capt.Body, capt.Charset = charset.ToUTF8(raw, st.header.Get("Content-Type"))
		target, fe := f.refreshTarget(actx, rawURL, capt)
		if fe != nil || target == nil {
			return capt, fe
		}
		f.log.Info("fetch: following a refresh", "from", capt.FinalURL, "to", target.String())
		st.mu.Lock()
		st.prior = capt.Chain
		st.status, st.header, st.body, st.raw, st.tee, st.finalURL, st.contentType = 0, nil, nil, nil, false, "", ""
		st.mu.Unlock()
		next = target
	}
}

// visit requests one URL of an attempt (its 3xx redirects included) and
// returns what arrived: the capture without its body, and the body's bytes
// as received.
func (f *Fetcher) visit(ctx, actx context.Context, c *colly.Collector, st *request, rawURL string, u *url.URL) (*Capture, *Error, []byte) {
	err := c.Visit(u.String())

	st.mu.Lock()
	defer st.mu.Unlock()
	st.deadlineHit = errors.Is(context.Cause(actx), context.DeadlineExceeded)
	var capt *Capture
	if len(st.chain) > 0 || st.status != 0 {
		capt = &Capture{
			URL: rawURL, Chain: st.chain, StatusCode: st.status, Header: st.header,
			ContentType: st.contentType, FetchedAt: st.responseTime,
		}
		capt.FinalURL = st.finalURL
		if capt.FinalURL == "" && len(st.chain) > 0 {
			capt.FinalURL = st.chain[len(st.chain)-1]
		}
	}
	switch {
	case ctx.Err() != nil:
		return capt, f.classify(ctx, rawURL, ctx.Err(), st), nil
	case st.status != 0 && st.status/100 != 2:
		return capt, statusError(rawURL, st.status, st.header, time.Now()), nil
	case st.notWanted != "" && st.kind == kindFeed:
		return capt, &Error{URL: rawURL, Reason: record.ReasonNotHTML, StatusCode: st.status, Err: &notFeedError{contentType: st.notWanted}}, nil
	case st.notWanted != "":
		return capt, &Error{URL: rawURL, Reason: record.ReasonNotHTML, StatusCode: st.status, Err: &notHTMLError{contentType: st.notWanted}}, nil
	case err != nil:
		fe := f.classify(ctx, rawURL, err, st)
		fe.StatusCode = st.status
		return capt, fe, nil
	}
	raw := st.body
	if st.tee {
		raw = st.raw
	}
	return capt, nil, raw
}

// refreshTarget returns where a fetched page's refresh redirects, vetted
// like a 3xx redirect: the policy of package redirect over the whole chain
// (--max-redirects counts both kinds), the SSRF guard, and robots.txt. nil
// when the page is the page.
func (f *Fetcher) refreshTarget(ctx context.Context, rawURL string, capt *Capture) (*url.URL, *Error) {
	rf, ok := redirect.FindRefresh(capt.Header.Get("Refresh"), capt.Body)
	if !ok {
		return nil, nil
	}
	fail := func(reason record.Reason, err error) *Error {
		return &Error{URL: rawURL, Reason: reason, StatusCode: capt.StatusCode, Err: err}
	}
	base, err := url.Parse(capt.FinalURL)
	if err != nil {
		return nil, fail(record.ReasonBadRedirect, fmt.Errorf("the page's URL %q: %w", capt.FinalURL, err))
	}
	target, err := base.Parse(rf.URL)
	if err != nil {
		return nil, fail(record.ReasonBadRedirect, fmt.Errorf("the page refreshes (%s) to %q, which is not a URL", rf.From, textnorm.Shorten(rf.URL, 100)))
	}
	target.Fragment, target.RawFragment = "", ""
	if s := strings.ToLower(target.Scheme); (s != "http" && s != "https") || target.Host == "" {
		return nil, fail(record.ReasonBadRedirect, fmt.Errorf("the page refreshes (%s) to %s, which is not an http or https URL", rf.From, textnorm.Shorten(target.Redacted(), 100)))
	}
	policy := redirect.Policy{MaxHops: f.opts.MaxRedirects, Check: f.opts.policy().CheckURL}
	switch err := policy.Next(capt.Chain, target); {
	case err == nil:
	case errors.Is(err, redirect.ErrTooManyHops):
		return nil, fail(record.ReasonTooManyRedirects, fmt.Errorf("%w (--max-redirects; a refresh counts as a redirect)", err))
	case errors.Is(err, redirect.ErrLoop):
		return nil, fail(record.ReasonRedirectLoop, fmt.Errorf("%w (by a refresh)", err))
	default:
		fe := f.classify(ctx, rawURL, fmt.Errorf("refresh to %s: %w", target.Redacted(), err), nil)
		fe.StatusCode = capt.StatusCode
		return nil, fe
	}
	if err := f.checkRobots(ctx, target); err != nil {
		fe := f.classify(ctx, rawURL, err, nil)
		fe.StatusCode = capt.StatusCode
		return nil, fe
	}
	return target, nil
}

// checkRedirect vets every redirect (colly calls it from the client's
// CheckRedirect): it records the chain and applies linkarc's one redirect
// policy (package redirect: loops, the hop limit, http(s) only) over the
// attempt's whole chain, refresh hops included, then the SSRF guard and,
// for pages and feeds, robots.txt.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	st := requestFrom(req.Context())
	var chain []string
	if st != nil {
		st.mu.Lock()
		chain = append(chain, st.prior...)
		st.mu.Unlock()
	}
	for _, v := range via {
		chain = append(chain, v.URL.String())
	}
	if st != nil {
		st.setChain(append(chain[:len(chain):len(chain)], req.URL.String()))
	}
	policy := redirect.Policy{MaxHops: f.opts.MaxRedirects, Check: f.opts.policy().CheckURL}
	switch err := policy.Next(chain, req.URL); {
	case errors.Is(err, redirect.ErrTooManyHops):
		return &redirectError{reason: record.ReasonTooManyRedirects, err: fmt.Errorf("%w (--max-redirects)", err)}
	case errors.Is(err, redirect.ErrLoop):
		return &redirectError{reason: record.ReasonRedirectLoop, err: err}
	case err != nil:
		return fmt.Errorf("redirect to %s: %w", req.URL, err)
	}
	if st.document() {
		return f.checkRobots(req.Context(), req.URL)
	}
	return nil
}
