package resolver

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/sendgate"
	"github.com/linkarc/linkarc/internal/weburl"
)

// Short links: links on a URL shortener's host (t.co, bit.ly, …), which
// exist only to send readers to another site's page.
//
// A short link resolves to the first URL of its redirect chain that is not
// on a shortener's host: the publisher URL the shortener names. That URL
// is not requested (the archiver fetches it next, under its own rules);
// only the shortener hops are, each spaced from the previous request to its
// host by Options.HostInterval, and their exchanges are the link's
// provenance (Sink.Provenance). The answer is cached (Cache), so a link
// costs its hops once. Other generic links (a publisher's own page, a feed
// proxy nobody listed) are followed to their last page, as before.

// shortenerHosts are the hosts of well-known URL shorteners: general ones,
// the link wrappers of social networks and newsletter tools, and the short
// domains publishers use for their own articles. A host also matches with
// "www." before it. Options.ShortenerHosts adds more.
var shortenerHosts = []string{
	// General shorteners.
	"bit.ly", "bitly.com", "j.mp", "tinyurl.com", "is.gd", "v.gd", "ow.ly", "buff.ly", "t.ly", "rb.gy",
	"cutt.ly", "shorturl.at", "tiny.cc", "rebrand.ly", "bl.ink", "s.id", "goo.gl", "soo.gd", "clck.ru",
	// Social networks, newsletters and automation.
	"t.co", "lnkd.in", "fb.me", "dlvr.it", "ift.tt", "trib.al", "flip.it", "hubs.ly", "hubs.la",
	"mailchi.mp", "wp.me", "po.st", "spr.ly", "feedproxy.google.com",
	// Publishers' own short domains.
	"nyti.ms", "wapo.st", "reut.rs", "bbc.in", "cnn.it", "econ.st", "on.ft.com", "bloom.bg", "on.wsj.com",
	"politi.co", "hill.cm", "nbcnews.to", "abcn.ws", "cbsn.ws", "n.pr", "apne.ws", "ti.me", "wrd.cm",
	"theatln.tc", "nyer.cm", "usat.ly", "lat.ms", "fxn.ws", "cnb.cx", "bzfd.it", "huffp.st", "ind.pn",
	"dailym.ai", "gu.com", "aje.io", "zd.net", "engt.co", "tcrn.ch",
}

// ShortenerHosts returns the hosts whose links are short links by default,
// sorted (for documentation and help).
func ShortenerHosts() []string {
	out := slices.Clone(shortenerHosts)
	slices.Sort(out)
	return out
}

// shortenerSet is the built-in hosts and extra, normalised.
func shortenerSet(extra []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, h := range shortenerHosts {
		set[h] = true
	}
	for _, h := range extra {
		n := weburl.NormalizeHost(strings.TrimSpace(h))
		if n == "" || strings.ContainsAny(n, "/:?#@ ") {
			return nil, fmt.Errorf("resolver: ShortenerHosts: %q is not a host name (give it without scheme, port or path, e.g. lnk.example.com)", h)
		}
		set[n] = true
	}
	return set, nil
}

// IsShortLink reports whether link, read as Resolve reads an input, is a
// link on a shortener's host (see ShortenerHosts and
// Options.ShortenerHosts): it then resolves to the publisher URL its
// redirects name, without a request to that URL, and its answer is cached.
func (r *Resolver) IsShortLink(link string) bool {
	p := parseInput(link)
	return p.kind == inputGeneric && r.onShortener(p.url)
}

// onShortener reports whether rawURL's host is a shortener's.
func (r *Resolver) onShortener(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	h := weburl.Host(u)
	return r.shorteners[h] || r.shorteners[strings.TrimPrefix(h, "www.")]
}

// shortenerGate returns the gate that spaces requests to u's host when it
// is a shortener's; nil otherwise.
func (r *Resolver) shortenerGate(u *url.URL) *sendgate.Gate {
	if !r.onShortener(u.String()) {
		return nil
	}
	h := weburl.Host(u)
	r.gatesMu.Lock()
	defer r.gatesMu.Unlock()
	g := r.hostGates[h]
	if g == nil {
		g = sendgate.New(r.opts.HostInterval, sendgate.Clock{
			Now:   func() time.Time { return r.now() },
			Sleep: func(ctx context.Context, d time.Duration) error { return r.sleep(ctx, d) },
		})
		r.hostGates[h] = g
	}
	return g
}
