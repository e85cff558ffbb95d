// Package fetch is linkarc's polite fetcher: it fetches one publisher page
// (or feed) at a time per host, as a considerate crawler would, and says
// precisely why when it cannot.
//
// A Fetch, in the order it happens: the URL is checked (http or https, not
// an internal address: package netguard); robots.txt is fetched once per
// origin and obeyed (robots.go, RFC 9309, read by package robotstxt); the
// request waits for its host's turn (gate.go: one request per host at a
// time, each HostInterval after the previous one was really written —
// page, redirect and refresh hop, retry, feed and robots.txt alike); the
// page is fetched through colly with every redirect vetted (loops, hop
// limit, internal addresses, robots.txt) and the Fetch's own cookies
// (cookies.go, capped, dropped when it returns); the headers are capped
// (MaxHeaderBytes) and the body decoded (at most MaxContentCodings
// codings, RFC 9110 §8.4), capped and sniffed for HTML on the way in
// (transport.go); a failure that may pass (5xx, 429 with its Retry-After,
// a reset, a timeout) is retried with backoff; the page is transcoded to
// UTF-8 (package charset); and a refresh that redirects
// (redirect.FindRefresh) is followed under the same rules as a 3xx. The
// result is a Capture, or an *Error whose Reason is a record.Reason
// (fetcherror.go).
//
// colly is an implementation detail: no colly type leaves this package.
package fetch
