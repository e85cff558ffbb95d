package resolver

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/redirect"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

// fetchSignature is Step 1 (spec §3): GET /rss/articles/<id> with the
// locale up front, follow redirects by hand among the Google News and
// consent hosts (at most MaxGoogleRedirects), and read the signature pair.
// Cookies are never stored or sent: a cookieless client is what gets past
// the EU consent redirect. A 429, a redirect to /sorry or a 200 CAPTCHA
// page ("unusual traffic", which redirect-following proxies hand over)
// stops the Resolver; the /sorry page itself is never requested.
//
// With keep, it also returns the exchanges of every hop, in order, each
// holding one reference (see Exchange); on an error they are released.
func (r *Resolver) fetchSignature(ctx context.Context, p parsedInput, keep bool) (sig signature, exs []*Exchange, rerr *Error) {
	defer func() {
		if rerr != nil {
			releaseAll(exs)
			exs = nil
		}
	}()
	q := url.Values{}
	q.Set("hl", cmp.Or(p.hl, r.opts.HL))
	q.Set("gl", cmp.Or(p.gl, r.opts.GL))
	q.Set("ceid", cmp.Or(p.ceid, r.opts.CEID))
	cur := r.news.JoinPath("rss", "articles", p.id)
	cur.RawQuery = q.Encode()
	// Cookies are never kept, so coming back to a URL cannot change
	// Google's answer: the policy counts a second visit as a loop.
	policy := redirect.Policy{MaxHops: MaxGoogleRedirects, Cookieless: true}
	chain := []string{cur.String()}
	for {
		if err := r.stopErr(ctx); err != nil {
			return signature{}, exs, err
		}
		resp, body, ex, err := r.googleDo(ctx, http.MethodGet, cur, "", "Google News article page", keep)
		if ex != nil {
			exs = append(exs, ex)
		}
		if err != nil {
			return signature{}, exs, err
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			r.stop("HTTP 429 on " + cur.Path)
			return signature{}, exs, rateLimitedError(nil)
		case redirect.IsRedirect(resp.StatusCode):
			next, err := r.nextGoogleHop(cur, resp.Header.Get("Location"))
			if err != nil {
				return signature{}, exs, err
			}
			switch err := policy.Next(chain, next); {
			case errors.Is(err, redirect.ErrLoop):
				return signature{}, exs, errorf(record.ReasonRedirectLoop, "Google News redirected in a loop (back to %s); try again later", textnorm.Shorten(next.String(), 100))
			case errors.Is(err, redirect.ErrTooManyHops):
				return signature{}, exs, errorf(record.ReasonTooManyRedirects, "Google News redirected more than %d times; try again later", MaxGoogleRedirects)
			case err != nil:
				return signature{}, exs, newError(record.ReasonBadRedirect, "Google News sent a redirect that cannot be followed", err)
			}
			chain = append(chain, next.String())
			r.log.Debug("Google redirect", "from", cur.Redacted(), "to", next.Redacted(), "status", resp.StatusCode)
			cur = next
		case resp.StatusCode == http.StatusOK:
			info := scanPage(body, p.id)
			switch {
			case info.found:
				if info.fallback {
					r.log.Debug("signature element names another id; it is the page's only one, so it is used", "id", textnorm.Shorten(p.id, 24))
				}
				return info.sig, exs, nil
			case info.captcha:
				r.stop("CAPTCHA page (unusual traffic) answered on " + cur.Path)
				return signature{}, exs, rateLimitedError(nil)
			case info.consent || sameOrigin(cur, r.consent):
				return signature{}, exs, errorf(record.ReasonConsent,
					"Google News answered with its cookie-consent page (%q) instead of the article; linkarc never accepts consent on your behalf. Running from a non-EU address, or through a proxy via --gnews-base, avoids it", "Before you continue")
			default:
				return signature{}, exs, info.noSignatureError()
			}
		case isCaptchaPage(body):
			// The CAPTCHA page with an error status (403, 503) is the
			// same refusal as with 200.
			r.stop(fmt.Sprintf("CAPTCHA page (unusual traffic) answered with HTTP %d on %s", resp.StatusCode, cur.Path))
			return signature{}, exs, rateLimitedError(nil)
		default:
			return signature{}, exs, httpStatusError("Google News article page", resp.StatusCode, "")
		}
	}
}

// nextGoogleHop vets a redirect of a Google request: /sorry means rate
// limited (and is not followed), and only the configured Google News and
// consent hosts may be visited.
func (r *Resolver) nextGoogleHop(cur *url.URL, loc string) (*url.URL, *Error) {
	if loc == "" {
		return nil, errorf(record.ReasonBadRedirect, "Google News sent a redirect without a target")
	}
	next, err := cur.Parse(loc)
	if err != nil {
		return nil, newError(record.ReasonBadRedirect, "Google News sent a malformed redirect", err)
	}
	if strings.HasPrefix(next.Path, "/sorry") {
		r.stop("redirect to " + next.Host + "/sorry")
		return nil, rateLimitedError(nil)
	}
	if !sameOrigin(next, r.news) && !sameOrigin(next, r.consent) {
		return nil, errorf(record.ReasonBadRedirect, "Google News redirected to %s, which is not a Google News host; not followed", textnorm.Shorten(next.Scheme+"://"+next.Host, 80))
	}
	return next, nil
}

// postBatch is Step 2 (spec §4, §5): one batchexecute POST for up to
// BatchSize ids. It returns one answer per request, in request order,
// or an error that applies to them all. With keep, the exchange is
// returned too, holding one reference (nil on an error: an id whose POST
// failed was not resolved).
func (r *Resolver) postBatch(ctx context.Context, reqs []rpcRequest, keep bool) (_ []rpcResult, ex *Exchange, rerr *Error) {
	defer func() {
		if rerr != nil && ex != nil {
			releaseAll([]*Exchange{ex})
			ex = nil
		}
	}()
	tags := batchTags(len(reqs))
	form, err := buildBatchBody(reqs, tags)
	if err != nil {
		return nil, ex, newError(record.ReasonParse, "could not encode the batchexecute request", err)
	}
	u := r.news.JoinPath(batchexecutePath)
	resp, body, ex, rerr := r.googleDo(ctx, http.MethodPost, u, form, "Google News batchexecute", keep)
	if rerr != nil {
		return nil, nil, rerr
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		r.stopPosts("HTTP 429 on batchexecute")
		return nil, ex, rateLimitedError(nil)
	case redirect.IsRedirect(resp.StatusCode):
		if next, err := u.Parse(resp.Header.Get("Location")); err == nil && strings.HasPrefix(next.Path, "/sorry") {
			r.stopPosts("batchexecute redirected to /sorry")
			return nil, ex, rateLimitedError(nil)
		}
		return nil, ex, httpStatusError("Google News batchexecute", resp.StatusCode, "unexpected redirect")
	case resp.StatusCode != http.StatusOK && isCaptchaPage(body):
		r.stopPosts(fmt.Sprintf("CAPTCHA page (unusual traffic) answered with HTTP %d on batchexecute", resp.StatusCode))
		return nil, ex, rateLimitedError(nil)
	case resp.StatusCode == http.StatusBadRequest:
		detail := "Google rejected the request as malformed; Google may have changed the protocol, please report it"
		if st, ok := transportErrorRow(body); ok {
			detail = fmt.Sprintf("error row with status %d; %s", st, detail)
		}
		return nil, ex, httpStatusError("Google News batchexecute", resp.StatusCode, detail)
	case resp.StatusCode != http.StatusOK:
		return nil, ex, httpStatusError("Google News batchexecute", resp.StatusCode, "")
	case !bytes.HasPrefix(bytes.TrimSpace(body), []byte(")]}'")) && isCaptchaPage(body):
		r.stopPosts("CAPTCHA page (unusual traffic) answered on batchexecute")
		return nil, ex, rateLimitedError(nil)
	}
	byTag, perr := parseBatchResponse(body, tags)
	out := make([]rpcResult, len(reqs))
	for i, t := range tags {
		res, ok := byTag[t]
		switch {
		case ok:
			out[i] = res
		case perr != nil:
			out[i] = rpcResult{Err: newError(record.ReasonParse, "Google's batchexecute answer could not be read; Google may have changed the protocol", perr)}
		default:
			out[i] = rpcResult{Err: errorf(record.ReasonMissingInBatch, "Google's batch answer had no result for this link; re-running retries it")}
		}
	}
	if perr != nil {
		r.log.Warn("batchexecute answer damaged", "err", perr, "ids", len(reqs), "answered", len(byTag))
	}
	return out, ex, nil
}

// googleDo makes one request to Google in its turn at the gate, and reads
// the whole (decompressed, capped) body under the per-request timeout. The
// turn ends when the request is over, answered or failed (it may have
// reached Google either way), and the next Google request is sent no
// sooner than Interval after that; the debug log records when each turn
// began, when its request was written and when it ended.
//
// With keep, the exchange is returned too (see Exchange; nil when it
// could not be kept, which is logged and costs nothing else): its body as
// it crossed the wire, spooled as it is read. It holds one reference,
// which the caller hands on or releases.
func (r *Resolver) googleDo(ctx context.Context, method string, u *url.URL, form, what string, keep bool) (*http.Response, []byte, *Exchange, *Error) {
	turn, err := r.gate.Acquire(ctx)
	if err != nil {
		return nil, nil, nil, newError(record.ReasonCanceled, what+": canceled while waiting for its turn (--gnews-interval)", err)
	}
	tp := &tap{now: r.now}
	defer func() {
		end := r.now()
		turn.End(end)
		if r.gate.Interval() > 0 {
			r.log.Debug("Google request", "method", method, "path", u.Path,
				"ready", turn.Ready().Format(time.RFC3339Nano), "sent", tp.sentAt().Format(time.RFC3339Nano), "ended", end.Format(time.RFC3339Nano))
		}
	}()
	ctx = tp.traced(ctx)
	rctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	var rd io.Reader
	var reqBody []byte
	if method == http.MethodPost {
		rd, reqBody = strings.NewReader(form), []byte(form)
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), rd)
	if err != nil {
		return nil, nil, nil, newError(record.ReasonInvalidURL, what+": bad request URL", err)
	}
	req.Header.Set("User-Agent", r.opts.UserAgent)
	req.Header.Set("Accept-Encoding", "gzip")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
		req.Header.Set("Referer", r.news.String()+"/")
		req.Header.Set("Accept", "*/*")
	} else {
		req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	}
	reqHeader := req.Header.Clone() // before the transport may add to it
	resp, err := r.google.Do(req)
	if err != nil {
		return nil, nil, nil, transportError(ctx, what, err)
	}
	defer resp.Body.Close()
	if keep {
		tp.keep(resp, r.opts.TempDir, r.opts.MaxBody)
		defer tp.abandon() // a no-op once the exchange is kept
	}
	// exchange hands over what was recorded, when asked to keep it.
	exchange := func() *Exchange {
		ex, err := tp.exchange(req, reqHeader, reqBody, resp)
		if err != nil {
			r.log.Warn("a Google exchange was not kept for the captures' provenance", "url", u.Redacted(), "err", err)
		}
		return ex
	}
	if redirect.IsRedirect(resp.StatusCode) || resp.StatusCode == http.StatusTooManyRequests {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return resp, nil, exchange(), nil
	}
	body, rerr := readBody(resp, r.opts.MaxBody)
	if rerr != nil {
		if rerr.Kind == record.ReasonTooLarge {
			return nil, nil, nil, errorf(record.ReasonTooLarge, "%s: %s", what, rerr.Message)
		}
		return nil, nil, nil, transportError(ctx, what+": reading the answer", rerr.Err)
	}
	return resp, body, exchange(), nil
}

// readBody reads a response body, gunzipping it if needed, and refuses one
// larger than limit bytes once decompressed (a decompression bomb costs at
// most limit bytes of memory).
func readBody(resp *http.Response, limit int64) ([]byte, *Error) {
	var rd io.Reader = resp.Body
	if strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, newError(record.ReasonNetwork, "bad gzip body", err)
		}
		defer zr.Close()
		rd = zr
	}
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, newError(record.ReasonNetwork, "reading the body", err)
	}
	if int64(len(b)) > limit {
		return nil, errorf(record.ReasonTooLarge, "the answer is larger than the %d-byte cap; refusing it", limit)
	}
	return b, nil
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}
