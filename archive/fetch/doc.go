// Package fetch is linkarc's polite fetcher: it fetches one publisher page
// at a time per host, as a considerate crawler would, and says precisely why
// when it cannot.
//
// A Fetch, in the order it happens: the URL is checked (http or https, not
// an internal address: package netguard); robots.txt is fetched once per
// origin and obeyed (robots.go, RFC 9309); the request waits for its host's
// turn (one request per HostInterval, page, redirect hop, retry and
// robots.txt alike); the page is fetched through colly with every redirect
// vetted (loops, hop limit, internal addresses, robots.txt); the body is
// decoded, capped and sniffed for HTML on the way in (transport.go); a
// failure that may pass (5xx, 429 with its Retry-After, a reset, a
// timeout) is retried with backoff; and the page is transcoded to UTF-8
// (package charset). The result is a Capture, or an *Error whose Reason is a
// record.Reason (fetcherror.go).
//
// colly is an implementation detail: no colly type leaves this package.
package fetch
