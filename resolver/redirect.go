package resolver

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
	"golang.org/x/net/html"
)

// maxRefreshScan bounds how much of a page is read looking for a
// <meta http-equiv=refresh>: redirect pages are tiny, and the tag belongs in
// the head.
const maxRefreshScan = 512 << 10

// followAll resolves generic links, at most Concurrency at a time.
func (r *Resolver) followAll(ctx context.Context, jobs []*job) {
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			j.res = r.follow(ctx, j.p.url)
		}()
	}
	wg.Wait()
}

// follow resolves a generic link by following 3xx redirects and
// <meta http-equiv="refresh"> pages, up to MaxRedirects hops, through the
// SSRF guard. It stops without a request when a hop is a Google News link
// (Resolve hands those to the Google path) and reports loops, dead links and
// redirects without a target as errors. The chain lists every URL visited.
func (r *Resolver) follow(ctx context.Context, start string) Result {
	cur, err := url.Parse(start)
	if err != nil {
		return Result{Err: newError(record.ReasonInvalidURL, "not a valid URL", err)}
	}
	chain := []string{cur.String()}
	seen := map[string]bool{cur.String(): true}
	fail := func(e *Error) Result { return Result{Chain: chain, Err: e} }
	for hops := 0; ; hops++ {
		if IsGoogleNews(cur.String()) {
			return Result{URL: cur.String(), Method: MethodRedirect, Chain: chain}
		}
		if err := r.opts.guard().CheckURL(cur); err != nil {
			return fail(transportError(ctx, "link "+textnorm.Shorten(cur.Redacted(), 100), err))
		}
		next, status, e := r.hop(ctx, cur)
		if e != nil {
			return fail(e)
		}
		if next == nil {
			switch {
			case status >= 200 && status < 300,
				// The page exists but turns robots away; the link did lead here.
				status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusUnavailableForLegalReasons:
				return Result{URL: cur.String(), Method: MethodRedirect, Chain: chain}
			default:
				return fail(httpStatusError("the link ends at "+textnorm.Shorten(cur.Redacted(), 100), status, ""))
			}
		}
		if seen[next.String()] {
			chain = append(chain, next.String())
			return fail(errorf(record.ReasonRedirectLoop, "the link redirects in a loop (back to %s)", textnorm.Shorten(next.Redacted(), 100)))
		}
		if hops+1 > MaxRedirects {
			return fail(errorf(record.ReasonTooManyRedirects, "the link redirects more than %d times; giving up", MaxRedirects))
		}
		seen[next.String()] = true
		chain = append(chain, next.String())
		cur = next
	}
}

// hop makes one request and returns where it points next: a 3xx Location,
// a Refresh header, or a meta refresh in an HTML body. next is nil when the
// chain ends here with the returned status.
func (r *Resolver) hop(ctx context.Context, cur *url.URL) (next *url.URL, status int, e *Error) {
	what := "link " + textnorm.Shorten(cur.Redacted(), 100)
	rctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, cur.String(), nil)
	if err != nil {
		return nil, 0, newError(record.ReasonInvalidURL, what+": bad URL", err)
	}
	req.Header.Set("User-Agent", r.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := r.web.Do(req)
	if err != nil {
		return nil, 0, transportError(ctx, what, err)
	}
	defer drain(resp.Body)
	target := ""
	switch {
	case isRedirect(resp.StatusCode):
		target = resp.Header.Get("Location")
		if target == "" {
			return nil, 0, errorf(record.ReasonBadRedirect, "%s: a dead end, HTTP %d redirect without a Location", what, resp.StatusCode)
		}
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		target = refreshTarget(resp.Header.Get("Refresh"))
		if target == "" && isHTML(resp.Header.Get("Content-Type")) {
			body, rerr := readBody(&http.Response{Header: resp.Header, Body: resp.Body}, maxRefreshScan)
			if rerr != nil && rerr.Kind != record.ReasonTooLarge {
				return nil, 0, transportError(ctx, what+": reading the page", rerr.Err)
			}
			target = metaRefresh(body)
		}
	}
	if target == "" {
		return nil, resp.StatusCode, nil
	}
	next, err = cur.Parse(strings.TrimSpace(target))
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
		return nil, 0, errorf(record.ReasonBadRedirect, "%s: a dead end, it redirects to %q, which is not an http(s) URL", what, textnorm.Shorten(target, 100))
	}
	next.Fragment, next.RawFragment = "", ""
	return next, resp.StatusCode, nil
}

func isHTML(contentType string) bool {
	if contentType == "" {
		return true // sniffing is what browsers do; the scan is cheap
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

// metaRefresh finds the target of the first <meta http-equiv="refresh">.
// Comments and scripts are not markup to the tokenizer, so a refresh quoted
// inside them does not count.
func metaRefresh(page []byte) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var equiv, content string
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "http-equiv":
					equiv = string(v)
				case "content":
					content = string(v)
				}
			}
			if strings.EqualFold(strings.TrimSpace(equiv), "refresh") {
				if t := refreshTarget(content); t != "" {
					return t
				}
			}
		}
	}
}

// refreshTarget parses a refresh value: "5; url=https://…", "0;URL='…'",
// "0, url=…". A bare delay (reload this page) has no target.
func refreshTarget(v string) string {
	v = strings.TrimSpace(v)
	i := strings.IndexAny(v, ";,")
	if i < 0 {
		return ""
	}
	if _, err := strconv.ParseFloat(strings.TrimSpace(v[:i]), 64); err != nil && strings.TrimSpace(v[:i]) != "" {
		return ""
	}
	rest := strings.TrimSpace(v[i+1:])
	if len(rest) >= 4 && strings.EqualFold(rest[:3], "url") {
		if after := strings.TrimSpace(rest[3:]); strings.HasPrefix(after, "=") {
			rest = strings.TrimSpace(after[1:])
		}
	}
	rest = strings.Trim(rest, `'"`)
	return strings.TrimSpace(rest)
}

// drain lets a connection be reused after a body we did not need.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}
