package resolver

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/redirect"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
	"golang.org/x/net/publicsuffix"
)

// maxRefreshScan bounds how much of a page is read looking for a
// <meta http-equiv=refresh>: redirect pages are tiny, and the tag belongs in
// the head.
const maxRefreshScan = 512 << 10

// follow resolves a generic link by following 3xx redirects and
// <meta http-equiv="refresh"> pages through the SSRF guard, by linkarc's one
// redirect policy (package redirect: MaxRedirects hops, a page may send us
// back to itself once), with the chain's cookies kept as a browser would. It
// stops without a request when a hop is a Google News link (Resolve hands
// those to the Google path) and, for a short link (IsShortLink), at the
// first URL off the shorteners' hosts, which is the answer (vetted by the
// SSRF guard, not requested) and is cached. It reports loops, dead links
// and redirects without a target as errors. The chain lists every URL
// visited, and that answer. With keep, the result carries the exchange of
// every request made (Provenance; none on an error).
func (r *Resolver) follow(ctx context.Context, start string, keep bool) (res Result) {
	var exs []*Exchange
	defer func() {
		if res.Err != nil || len(exs) == 0 {
			releaseAll(exs)
			return
		}
		res.Provenance = &Provenance{Exchanges: exs} // the references collected
	}()
	cur, err := url.Parse(start)
	if err != nil {
		return Result{Err: newError(record.ReasonInvalidURL, "not a valid URL", err)}
	}
	short := r.onShortener(cur.String())
	// Cookies live as long as the chain: a page that sets one and sends us
	// back to itself gets it, and nothing is kept between links.
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return Result{Err: newError(record.ReasonInvalidURL, "cookie jar", err)}
	}
	client := &http.Client{Transport: r.web.Transport, CheckRedirect: r.web.CheckRedirect, Jar: jar}
	policy := redirect.Policy{MaxHops: MaxRedirects}
	chain := []string{cur.String()}
	fail := func(e *Error) Result { return Result{Chain: chain, Err: e} }
	var sent time.Time // when the request whose answer named cur was sent
	for {
		if IsGoogleNews(cur.String()) {
			return Result{URL: cur.String(), Method: MethodRedirect, Chain: chain, ResolvedAt: sent}
		}
		if err := r.opts.guard().CheckURL(cur); err != nil {
			return fail(transportError(ctx, "link "+textnorm.Shorten(cur.Redacted(), 100), err))
		}
		if short && len(chain) > 1 && !r.onShortener(cur.String()) {
			// The shortener named the publisher's URL: the fetcher
			// requests it, under its own politeness and robots.txt.
			if perr := r.opts.Cache.Put(ctx, start, cur.String()); perr != nil {
				r.log.Warn("resolver cache not written; this short link will cost requests again", "link", textnorm.Shorten(start, 80), "err", perr)
			}
			return Result{URL: cur.String(), Method: MethodRedirect, Chain: chain, ResolvedAt: sent}
		}
		h, e := r.hop(ctx, client, cur, keep)
		if h.ex != nil {
			exs = append(exs, h.ex)
		}
		if e != nil {
			return fail(e)
		}
		sent = h.sent
		if h.next == nil {
			switch status := h.status; {
			case status >= 200 && status < 300,
				// The page exists but turns robots away; the link did lead here.
				status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusUnavailableForLegalReasons:
				return Result{URL: cur.String(), Method: MethodRedirect, Chain: chain, ResolvedAt: sent}
			default:
				return fail(httpStatusError("the link ends at "+textnorm.Shorten(cur.Redacted(), 100), status, ""))
			}
		}
		next := h.next
		switch err := policy.Next(chain, next); {
		case errors.Is(err, redirect.ErrLoop):
			chain = append(chain, next.String())
			return fail(errorf(record.ReasonRedirectLoop, "the link redirects in a loop (back to %s)", textnorm.Shorten(next.Redacted(), 100)))
		case errors.Is(err, redirect.ErrTooManyHops):
			return fail(errorf(record.ReasonTooManyRedirects, "the link redirects more than %d times; giving up", MaxRedirects))
		case err != nil:
			return fail(newError(record.ReasonBadRedirect, "the link redirects to a URL that cannot be followed", err))
		}
		chain = append(chain, next.String())
		cur = next
	}
}

// hopResult is one request of a redirect chain: where it points next (nil
// when the chain ends here with status), when it was sent, and its
// exchange when kept.
type hopResult struct {
	next   *url.URL
	status int
	sent   time.Time
	ex     *Exchange
}

// hop makes one request, in its host's turn when the host is a
// shortener's, and returns where it points next: a 3xx Location, a
// Refresh header, or a meta refresh in an HTML body. With keep, the
// exchange is returned too once the answer was read (also along with a
// dead end's error), holding one reference.
func (r *Resolver) hop(ctx context.Context, client *http.Client, cur *url.URL, keep bool) (h hopResult, e *Error) {
	what := "link " + textnorm.Shorten(cur.Redacted(), 100)
	if gate := r.shortenerGate(cur); gate != nil {
		turn, err := gate.Acquire(ctx)
		if err != nil {
			return hopResult{}, newError(record.ReasonCanceled, what+": canceled while waiting for its host's turn", err)
		}
		defer func() { turn.End(r.now()) }()
	}
	tp := &tap{now: r.now}
	rctx, cancel := context.WithTimeout(tp.traced(ctx), r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, cur.String(), nil)
	if err != nil {
		return hopResult{}, newError(record.ReasonInvalidURL, what+": bad URL", err)
	}
	req.Header.Set("User-Agent", r.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Encoding", "gzip")
	reqHeader := req.Header.Clone()
	if client.Jar != nil {
		// The Cookie the client adds to what is sent, as it adds it.
		sentReq := &http.Request{Header: reqHeader}
		for _, c := range client.Jar.Cookies(req.URL) {
			sentReq.AddCookie(c)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return hopResult{}, transportError(ctx, what, err)
	}
	defer resp.Body.Close()
	if keep {
		tp.keep(resp, r.opts.TempDir, r.opts.MaxBody)
		defer tp.abandon() // a no-op once the exchange is kept
	}
	h.status = resp.StatusCode
	target := ""
	switch {
	case redirect.IsRedirect(resp.StatusCode):
		target = resp.Header.Get("Location")
		if target == "" {
			e = errorf(record.ReasonBadRedirect, "%s: a dead end, HTTP %d redirect without a Location", what, resp.StatusCode)
		}
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// The fetcher's rule too (redirect.FindRefresh): a short-delay
		// Refresh header or meta refresh, or the <noscript> one of a hop
		// page without content of its own.
		rf, ok := redirect.FindRefresh(resp.Header.Get("Refresh"), nil)
		if !ok && isHTML(resp.Header.Get("Content-Type")) {
			body, rerr := readBody(&http.Response{Header: resp.Header, Body: resp.Body}, maxRefreshScan)
			if rerr != nil && rerr.Kind != record.ReasonTooLarge {
				return hopResult{}, transportError(ctx, what+": reading the page", rerr.Err)
			}
			rf, ok = redirect.FindRefresh("", body)
		}
		if ok {
			target = rf.URL
		}
	}
	drain(resp.Body)
	h.sent = tp.sentAt()
	if ex, err := tp.exchange(req, reqHeader, nil, resp); err != nil {
		r.log.Warn("a redirect hop's exchange was not kept for the captures' provenance", "url", cur.Redacted(), "err", err)
	} else {
		h.ex = ex
	}
	if e != nil || target == "" {
		return h, e
	}
	next, err := cur.Parse(strings.TrimSpace(target))
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
		return h, errorf(record.ReasonBadRedirect, "%s: a dead end, it redirects to %q, which is not an http(s) URL", what, textnorm.Shorten(target, 100))
	}
	next.Fragment, next.RawFragment = "", ""
	h.next = next
	return h, nil
}

func isHTML(contentType string) bool {
	if contentType == "" {
		return true // sniffing is what browsers do; the scan is cheap
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

// drain lets a connection be reused after a body we did not need.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}
