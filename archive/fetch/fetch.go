package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/time/rate"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/netguard"
	"github.com/linkarc/linkarc/internal/redirect"
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
)

// Options configures a Fetcher. A zero field takes its Default value.
type Options struct {
	// UserAgent is sent with every request and matched against robots.txt
	// groups by its first word ("linkarc"). It should say who is asking.
	// Default buildinfo.UserAgent().
	UserAgent string
	// HostInterval is the minimum spacing between two requests to one host
	// (page, redirect hop, retry and robots.txt alike), across all
	// goroutines. Negative: no spacing.
	HostInterval time.Duration
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
	setDur(&o.ConnectTimeout, DefaultConnectTimeout)
	setDur(&o.ReadTimeout, DefaultReadTimeout)
	setDur(&o.Timeout, DefaultTimeout)
	setDur(&o.MaxRetryAfter, DefaultMaxRetryAfter)
	setDur(&o.Backoff, DefaultBackoff)
	setDur(&o.MaxBackoff, DefaultMaxBackoff)
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
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
	if o.ConnectTimeout < 0 || o.ReadTimeout < 0 || o.Timeout < 0 || o.MaxBody < 0 || o.Backoff < 0 || o.MaxBackoff < 0 {
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
	Chain       []string    // every URL requested, in order: URL's request first, FinalURL last
	StatusCode  int         // of the final response
	Header      http.Header // of the final response, as sent (Content-Encoding included)
	ContentType string      // media type of the final response, lower case, e.g. "text/html"
	Charset     string      // encoding Raw was in, WHATWG name, e.g. "windows-1251"
	Raw         []byte      // body exactly as received, after undoing gzip/deflate/br
	Body        []byte      // Raw transcoded to UTF-8
	FetchedAt   time.Time   // when the final response arrived
	Attempts    int         // requests made for the page, retries included
}

// Fetcher fetches publisher pages politely: robots.txt, a per-host
// interval, bounded retries, timeouts and size caps. It is safe for
// concurrent use; requests to different hosts do not wait for each other.
type Fetcher struct {
	opts        Options
	log         *slog.Logger
	collector   *colly.Collector // configured once; each attempt runs on a Clone
	client      *http.Client     // colly's client, also used for robots.txt
	base        *http.Transport
	robotsAgent string

	mu    sync.Mutex
	gates map[string]*hostGate // host -> its spacing

	robotsMu sync.Mutex
	robots   map[string]*robotsEntry // origin -> its robots.txt
}

// New returns a Fetcher configured by opts.
func New(opts Options) (*Fetcher, error) {
	return newFetcher(opts, opts.DialContext)
}

// DialFunc is the signature of net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

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
		robotsAgent: robotsAgent(opts.UserAgent),
		gates:       make(map[string]*hostGate),
		robots:      make(map[string]*robotsEntry),
	}
	f.base = netguard.NewTransport(netguard.TransportOptions{
		Policy:                opts.policy(),
		DialContext:           dial, // nil: the policy's guarded dialer
		ConnectTimeout:        opts.ConnectTimeout,
		ResponseHeaderTimeout: opts.ReadTimeout,
	})
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, err
	}
	// Cookies are kept for the Fetcher's life: sites that set a cookie and
	// redirect back to the article need it, as a browser would.
	f.client = &http.Client{Transport: &transport{base: f.base, f: f}, Jar: jar}

	c := colly.NewCollector(
		colly.UserAgent(opts.UserAgent),
		colly.AllowURLRevisit(),        // retries and re-runs fetch the same URL again
		colly.IgnoreRobotsTxt(),        // robots.go does it: cached per origin, rate-limited, cancellable
		colly.ParseHTTPErrorResponse(), // statuses are judged in OnResponseHeaders
		colly.MaxBodySize(0),           // the transport caps bodies, and reports going over
		colly.Headers(map[string]string{
			"Accept":          "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
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
	c.SetClient(f.client)
	c.SetRedirectHandler(f.checkRedirect)
	f.collector = c
	return f, nil
}

// Close releases idle connections.
func (f *Fetcher) Close() { f.base.CloseIdleConnections() }

// Fetch fetches the page at rawURL. On failure the error is a *Error;
// the Capture is then non-nil when a response (or a redirect) was seen,
// carrying its status, headers and chain but no body.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*Capture, error) {
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
	attempts := 1 + max(f.opts.MaxRetries, 0)
	for n := 1; ; n++ {
		c, fe := f.attempt(ctx, rawURL, u)
		if c != nil {
			c.Attempts = n
		}
		if fe == nil {
			return c, nil
		}
		fe.Attempts = n
		if fe.Reason == record.ReasonCanceled || !fe.retryable {
			return c, fe
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
			return c, fe
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

// attempt makes one request for the page (after robots.txt allows it).
func (f *Fetcher) attempt(ctx context.Context, rawURL string, u *url.URL) (*Capture, *Error) {
	if !f.opts.IgnoreRobots {
		ok, robotsURL, err := f.robotsAllowed(ctx, u)
		if err != nil {
			return nil, f.classify(ctx, rawURL, err, nil)
		}
		if !ok {
			return nil, &Error{URL: rawURL, Reason: record.ReasonRobots, Err: &robotsError{url: robotsURL, agent: f.robotsAgent}}
		}
	}
	host := weburl.Host(u)
	// Take the host's turn before the attempt's clock starts: queueing
	// behind other articles of the same host is not the server's fault.
	if err := f.waitTurn(ctx, host); err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	actx, cancelTimeout := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancelTimeout()
	actx, cancel := context.WithCancelCause(actx)
	defer cancel(nil)
	st := &request{page: true, cancel: cancel, reservedHost: host}
	actx = withRequest(actx, st)

	c := f.collector.Clone()
	c.Context = actx
	c.OnRequest(func(r *colly.Request) {
		st.mu.Lock()
		st.requested = true
		st.chain = []string{r.URL.String()}
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
		case classifyType(st.contentType) == typeNotHTML:
			st.notHTML = st.contentType
			r.Request.Abort() // a PDF or video is not downloaded just to be dropped
		}
	})
	c.OnResponse(func(r *colly.Response) {
		st.mu.Lock()
		st.body = r.Body
		st.mu.Unlock()
	})
	err := c.Visit(u.String())

	st.mu.Lock()
	st.deadlineHit = errors.Is(context.Cause(actx), context.DeadlineExceeded)
	defer st.mu.Unlock()
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
		return capt, f.classify(ctx, rawURL, ctx.Err(), st)
	case st.status != 0 && st.status/100 != 2:
		fe := statusError(rawURL, st.status, st.header, time.Now())
		return capt, fe
	case st.notHTML != "":
		return capt, &Error{URL: rawURL, Reason: record.ReasonNotHTML, StatusCode: st.status, Err: &notHTMLError{contentType: st.notHTML}}
	case err != nil:
		fe := f.classify(ctx, rawURL, err, st)
		fe.StatusCode = st.status
		return capt, fe
	}
	raw := st.body
	if st.tee {
		raw = st.raw
	}
	capt.Raw = raw
	capt.Body, capt.Charset = charset.ToUTF8(raw, st.header.Get("Content-Type"))
	return capt, nil
}

// checkRedirect vets every redirect (colly calls it from the client's
// CheckRedirect): it records the chain and applies linkarc's one redirect
// policy (package redirect: loops, the hop limit, http(s) only), then the
// SSRF guard and, for pages, robots.txt.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	st := requestFrom(req.Context())
	chain := make([]string, 0, len(via)+1)
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
	if st != nil && st.page && !f.opts.IgnoreRobots {
		ok, robotsURL, err := f.robotsAllowed(req.Context(), req.URL)
		if err != nil {
			return err
		}
		if !ok {
			return &robotsError{url: robotsURL, agent: f.robotsAgent}
		}
	}
	return nil
}

// hostGate spaces the requests to one host. The limiter hands out turns
// (queueing callers fairly and cancellably, before their timeouts start);
// the last-send time then keeps the spacing true on the wire even if the
// process was paused between a turn and its send, which would otherwise
// let two delayed requests leave together.
type hostGate struct {
	limiter *rate.Limiter
	mu      sync.Mutex
	last    time.Time // when the last request to the host was sent
}

func (f *Fetcher) gate(host string) *hostGate {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.gates[host]
	if !ok {
		g = &hostGate{limiter: rate.NewLimiter(rate.Every(f.opts.HostInterval), 1)}
		f.gates[host] = g
	}
	return g
}

// waitTurn blocks until host may be sent another request.
func (f *Fetcher) waitTurn(ctx context.Context, host string) error {
	if f.opts.HostInterval <= 0 {
		return nil
	}
	if err := f.gate(host).limiter.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			// The limiter refuses up front when the turn would come after
			// the context's deadline.
			return fmt.Errorf("waiting for %s's turn (--host-interval %s): %w", host, f.opts.HostInterval, context.DeadlineExceeded)
		}
		return err
	}
	return nil
}

// markSend is called just before a request to host goes out; it waits
// out whatever is left of the interval since the previous send.
func (f *Fetcher) markSend(ctx context.Context, host string) error {
	if f.opts.HostInterval <= 0 {
		return nil
	}
	g := f.gate(host)
	g.mu.Lock()
	defer g.mu.Unlock()
	if d := f.opts.HostInterval - time.Since(g.last); !g.last.IsZero() && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	g.last = time.Now()
	return nil
}
