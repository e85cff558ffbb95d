package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// DefaultAssetInterval is the spacing between two requests to a host that
// has served only page requisites (stylesheets, images, fonts) in this run:
// asset hosts (CDNs, image servers) are built for browsers that fetch a
// page's dozens of requisites at once, so a quarter of a second is still
// far gentler than any reader. A host that serves pages keeps its page
// interval for everything.
const DefaultAssetInterval = 250 * time.Millisecond

// AssetRequest says how to fetch one page requisite.
type AssetRequest struct {
	// Referer is the page (or stylesheet) that named the requisite, sent as
	// browsers send it; "" sends none.
	Referer string
	// Accept is the Accept header; "" means "*/*".
	Accept string
	// Keep is how many bytes of the body (content coding undone) are
	// returned in Asset.Body, e.g. a stylesheet to parse; the rest is read
	// and only recorded. 0 keeps nothing.
	Keep int64
}

// Asset is one fetched page requisite.
type Asset struct {
	URL         string      // as given
	FinalURL    string      // after redirects
	Chain       []string    // every URL requested, URL first, FinalURL last
	StatusCode  int         // of the final response
	Header      http.Header // of the final response
	ContentType string      // media type, lower case
	Body        []byte      // the first AssetRequest.Keep bytes, content coding undone
	Size        int64       // bytes received after decoding
	Truncated   bool        // Body holds less than Size
	FetchedAt   time.Time
	Attempts    int
}

type assetKey struct{}

// isAsset reports whether ctx belongs to a FetchAsset, for the robots.txt
// fetched on its behalf.
func isAsset(ctx context.Context) bool {
	v, _ := ctx.Value(assetKey{}).(bool)
	return v
}

// FetchAsset fetches a page requisite as politely as a page: the SSRF
// guard, robots.txt, the host's turn (AssetInterval for a host that served
// no page, see DefaultAssetInterval), redirects vetted like a page's,
// retries, timeouts and the size cap (MaxBody). Any content type is taken;
// the body is streamed, so only AssetRequest.Keep bytes of it are ever
// held (a Recording in ctx records all of it). A non-2xx answer is an
// *Error, as for Fetch.
func (f *Fetcher) FetchAsset(ctx context.Context, rawURL string, ar AssetRequest) (*Asset, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, &Error{URL: rawURL, Reason: record.ReasonBadURL, Err: fmt.Errorf("not a URL: %w", err)}
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return nil, &Error{URL: rawURL, Reason: record.ReasonBadURL, Err: errors.New("not an http or https URL with a host")}
	}
	u.Fragment, u.RawFragment = "", ""
	if err := f.opts.policy().CheckURL(u); err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	ctx = context.WithValue(ctx, assetKey{}, true)
	jar := newBoundedJar()
	attempts := 1 + max(f.opts.MaxRetries, 0)
	for n := 1; ; n++ {
		a, fe := f.assetAttempt(ctx, rawURL, u, ar, jar)
		if a != nil {
			a.Attempts = n
		}
		if fe == nil {
			return a, nil
		}
		fe.Attempts = n
		if fe.Reason == record.ReasonCanceled || !fe.retryable || fe.final {
			return a, f.settle(fe)
		}
		wait := f.backoff(n)
		if fe.retryAfterSet {
			if fe.RetryAfter > f.opts.MaxRetryAfter {
				return a, fe
			}
			wait = fe.RetryAfter
		}
		if n >= attempts {
			return a, f.settle(fe)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return a, f.classify(ctx, rawURL, ctx.Err(), nil)
		case <-t.C:
		}
	}
}

func (f *Fetcher) assetAttempt(ctx context.Context, rawURL string, u *url.URL, ar AssetRequest, jar *boundedJar) (*Asset, *Error) {
	if err := f.checkRobots(ctx, u); err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	turn, err := f.acquire(ctx, weburl.Host(u))
	if err != nil {
		return nil, f.classify(ctx, rawURL, err, nil)
	}
	defer turn.release(false)
	actx, cancelTimeout := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancelTimeout()
	actx, cancel := context.WithCancelCause(actx)
	defer cancel(nil)
	st := &request{kind: kindAsset, cancel: cancel, turn: turn, jar: jar}
	st.chain = []string{u.String()}
	actx = withRequest(actx, st)

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{URL: rawURL, Reason: record.ReasonBadURL, Err: err}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", cmpOr(ar.Accept, "*/*"))
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	if ar.Referer != "" {
		req.Header.Set("Referer", ar.Referer)
	}
	st.requested = true
	resp, err := f.assetClient.Do(req)
	a := &Asset{URL: rawURL}
	st.mu.Lock()
	a.Chain = append([]string(nil), st.chain...)
	st.mu.Unlock()
	if len(a.Chain) > 0 {
		a.FinalURL = a.Chain[len(a.Chain)-1]
	}
	if err != nil {
		st.deadlineHit = errors.Is(context.Cause(actx), context.DeadlineExceeded)
		return a, f.classify(ctx, rawURL, err, st)
	}
	defer resp.Body.Close()
	a.FinalURL = resp.Request.URL.String()
	a.StatusCode, a.Header = resp.StatusCode, resp.Header.Clone()
	a.ContentType = mediaType(resp.Header.Get("Content-Type"))
	a.FetchedAt = time.Now()
	if resp.StatusCode/100 != 2 {
		drain(resp.Body)
		return a, statusError(rawURL, resp.StatusCode, resp.Header, time.Now())
	}
	var kept bytes.Buffer
	n, err := io.Copy(&keepWriter{buf: &kept, keep: ar.Keep}, resp.Body)
	a.Size, a.Body = n, kept.Bytes()
	a.Truncated = int64(len(a.Body)) < n
	if err != nil {
		st.deadlineHit = errors.Is(context.Cause(actx), context.DeadlineExceeded)
		fe := f.classify(ctx, rawURL, err, st)
		fe.StatusCode = resp.StatusCode
		return a, fe
	}
	return a, nil
}

// keepWriter keeps the first keep bytes written and counts the rest.
type keepWriter struct {
	buf  *bytes.Buffer
	keep int64
}

func (w *keepWriter) Write(p []byte) (int, error) {
	if room := w.keep - int64(w.buf.Len()); room > 0 {
		w.buf.Write(p[:min(int64(len(p)), room)])
	}
	return len(p), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// markPageHost notes that host serves pages: it keeps the page interval
// even for requisites.
func (f *Fetcher) markPageHost(host string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageHosts[host] = true
}

func (f *Fetcher) isPageHost(host string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pageHosts[host]
}
