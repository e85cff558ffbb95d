package fetch

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"

	"golang.org/x/net/publicsuffix"

	"github.com/linkarc/linkarc/internal/weburl"
)

// Cookie bounds. Cookies live for one Fetch (its retries, redirects and
// refreshes): sites that set a cookie and redirect back to the article get
// it, as a browser would, and nothing is kept across articles, so memory
// follows the pages in flight, not the batch (issue 10 item 3). Within a
// Fetch they are capped as RFC 6265 §6.1 allows: it asks user agents to
// keep at least 4096 bytes per cookie and 50 cookies per domain, and lets
// them drop the rest.
const (
	// MaxCookieSize is the largest cookie kept, name and value together
	// (RFC 6265 §6.1).
	MaxCookieSize = 4096
	// MaxCookiesPerHost is how many cookies one host may have kept
	// (RFC 6265 §6.1's 50 per domain).
	MaxCookiesPerHost = 50
	// MaxCookieBytesPerHost caps the bytes of the cookies one host may
	// have kept; servers refuse larger Cookie headers anyway (8-16 KiB).
	MaxCookieBytesPerHost = 16 << 10
	// MaxCookieBytes caps the cookies of one Fetch, whatever the hosts of
	// its redirect chain.
	MaxCookieBytes = 64 << 10
)

// boundedJar is the cookie jar of one Fetch: net/http/cookiejar's rules
// (RFC 6265, the public suffix list), with what each host may store capped.
// Cookies over a cap are dropped, as a browser drops the oldest.
type boundedJar struct {
	jar *cookiejar.Jar

	mu    sync.Mutex
	sizes map[string]map[string]int // setting host -> cookie name -> bytes
	total int
}

func newBoundedJar() *boundedJar {
	j, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
	return &boundedJar{jar: j, sizes: map[string]map[string]int{}}
}

// SetCookies implements http.CookieJar.
func (b *boundedJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	host := weburl.Host(u)
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := cookies[:0:0]
	for _, c := range cookies {
		size := len(c.Name) + len(c.Value)
		names := b.sizes[host]
		old, replaces := names[c.Name]
		switch {
		case c.MaxAge < 0:
			// A deletion always passes; it frees its room.
			if replaces {
				delete(names, c.Name)
				b.total -= old
			}
		case size > MaxCookieSize:
			continue
		case !replaces && len(names) >= MaxCookiesPerHost:
			continue
		case hostBytes(names)-old+size > MaxCookieBytesPerHost, b.total-old+size > MaxCookieBytes:
			continue
		default:
			if names == nil {
				names = map[string]int{}
				b.sizes[host] = names
			}
			names[c.Name] = size
			b.total += size - old
		}
		kept = append(kept, c)
	}
	if len(kept) > 0 {
		b.jar.SetCookies(u, kept)
	}
}

// Cookies implements http.CookieJar.
func (b *boundedJar) Cookies(u *url.URL) []*http.Cookie { return b.jar.Cookies(u) }

func hostBytes(names map[string]int) int {
	n := 0
	for _, s := range names {
		n += s
	}
	return n
}
