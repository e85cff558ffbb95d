package archive

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage/record"
)

// DryRun is what a run over a batch would do, found without a request to
// Google or a publisher: only the store (meta.json records and the
// resolution cache) is read.
type DryRun struct {
	Digests      int `json:"digests"`
	DigestErrors int `json:"digest_errors"` // inputs that would be skipped
	Feeds        int `json:"feeds"`         // feed URLs that would be fetched first
	Links        int `json:"links"`         // distinct links
	// SkippedLinks are the digests' links that would not be archived,
	// with why (as in Report).
	SkippedLinks []SkippedLink `json:"skipped_links"`

	Direct  int `json:"direct"`  // publisher links, fetched as they are
	Offline int `json:"offline"` // Google News ids that embed their URL
	Cache   int `json:"cache"`   // Google News ids in the resolution cache
	Google  int `json:"google"`  // Google News ids Google must resolve
	Invalid int `json:"invalid"` // Google News links that cannot be resolved (invalid, or only Google could and it may not be asked)
	// Short links (t.co, bit.ly…): in the resolution cache, or to be
	// followed up to the publisher URL they name (on hosts not known yet).
	ShortCached int `json:"short_cached"`
	ShortFollow int `json:"short_follow"`

	Skip  int `json:"skip"`  // already archived ok: nothing requested
	Fetch int `json:"fetch"` // articles that would be fetched (Google's included, once resolved)
	Hosts int `json:"hosts"` // publisher hosts of the URLs known now

	// GoogleTime is the expected time of Google's part at its spacing;
	// PublisherTime that of the pages: the longer of the busiest known
	// host's pages one after the other (each at least its spacing, and at
	// least ExpectedFetchTime) and every page's ExpectedFetchTime shared
	// among the workers (Concurrency, but no more than there are hosts,
	// since a host is worked one article at a time). The two parts run
	// side by side: a run takes about the longer of the two (plus a last
	// batch's pages after its answer). The busiest host is the one whose
	// pages take longest, the first by name among equals.
	GoogleTime    time.Duration `json:"google_time"`
	PublisherTime time.Duration `json:"publisher_time"`
	BusiestHost   string        `json:"busiest_host,omitempty"`
	BusiestPages  int           `json:"busiest_pages"`
	BusiestTime   time.Duration `json:"busiest_time"`
	Concurrency   int           `json:"concurrency"` // articles in flight at once (Options.HostConcurrency)

	// Requisites says each page's requisites would be fetched too: they
	// are not counted above (what a page names is known only once it is
	// fetched), and they make the run longer than the times above.
	Requisites bool `json:"requisites"`
}

// ExpectedFetchTime is what a dry run counts for one page beyond its
// host's spacing: connecting, the answer, extraction and storing, without
// requisites. It is a rule of thumb for publishers on the open web.
const ExpectedFetchTime = time.Second

// DryRun says what RunBatch would do with b, without a request to Google
// or any publisher (it reads the store). hostInterval gives a host's
// politeness spacing, as the fetcher applies it.
func (a *Archiver) DryRun(ctx context.Context, b *digest.Batch, hostInterval func(host string) time.Duration) (*DryRun, error) {
	rep := newReport(a.opts.Now())
	digests := a.loadDigests(b, rep)
	r := &run{Archiver: a, rep: rep}
	if err := r.prepareURLIndex(ctx, false); err != nil {
		return nil, err
	}
	if err := r.loadAliases(ctx); err != nil {
		return nil, err
	}
	p := newPlanner(r, digests)
	d := &DryRun{Digests: len(digests), DigestErrors: len(rep.DigestErrors) - len(b.Feeds), Feeds: len(b.Feeds), Links: p.total(),
		Requisites: !a.opts.Capture.NoRequisites, SkippedLinks: rep.SkippedLinks}

	perHost := map[string]int{}
	seen := map[string]bool{} // canonical URL -> counted
	known := func(link, u string) error {
		c := weburl.Canonical(u)
		if seen[c] {
			return nil // merged with another link
		}
		seen[c] = true
		// Where the store holds the URL, else where its title would go.
		slug, err := r.indexedSlug(ctx, c)
		if err != nil {
			return err
		}
		if slug == "" {
			slug = p.baseSlug(link)
		}
		e, err := a.writer.LoadMeta(ctx, slug)
		if err != nil {
			return err
		}
		if e.Exists && e.Meta.Status == record.StatusOK && !a.opts.Refresh && weburl.Canonical(e.Meta.URL) == c {
			d.Skip++
			return nil
		}
		d.Fetch++
		perHost[weburl.HostOf(u)]++
		return nil
	}

	var google, short []string
	for _, link := range p.links {
		switch {
		case resolver.IsGoogleNews(link):
			google = append(google, link)
		case a.opts.Resolver.IsShortLink(link):
			short = append(short, link)
		default:
			d.Direct++
			if err := known(link, link); err != nil {
				return nil, err
			}
		}
	}
	stored, ask, err := p.storeKnown(ctx, google)
	if err != nil {
		return nil, err
	}
	ask = append(ask, short...)
	for _, k := range stored {
		d.Cache++ // the store answers it, as the cache would
		if err := known(k.link, k.res.url); err != nil {
			return nil, err
		}
	}
	for i, c := range a.opts.Resolver.Classify(ctx, ask) {
		switch c.Route {
		case resolver.RouteOffline, resolver.RouteCache:
			switch {
			case c.Route == resolver.RouteOffline:
				d.Offline++
			case resolver.IsGoogleNews(ask[i]):
				d.Cache++
			default:
				d.ShortCached++
			}
			if err := known(ask[i], c.URL); err != nil {
				return nil, err
			}
		case resolver.RouteGoogle:
			d.Google++
			d.Fetch++ // unless it turns out to be stored or merged
		case resolver.RouteRedirect:
			d.ShortFollow++
			d.Fetch++ // unless it turns out to be stored or merged
		default:
			d.Invalid++
		}
	}
	d.Hosts = len(perHost)
	d.Concurrency = a.opts.HostConcurrency
	for h, n := range perHost {
		t := time.Duration(n) * max(hostInterval(h), ExpectedFetchTime) // robots.txt, then n pages
		if t > d.BusiestTime || (t == d.BusiestTime && n > d.BusiestPages) ||
			(t == d.BusiestTime && n == d.BusiestPages && h < d.BusiestHost) {
			d.BusiestTime, d.BusiestHost, d.BusiestPages = t, h, n
		}
	}
	// Google's articles land on hosts not known yet: counted as hosts of
	// their own for the workers.
	workers := min(d.Concurrency, max(d.Hosts+d.Google, 1))
	shared := time.Duration(d.Fetch) * ExpectedFetchTime / time.Duration(workers)
	d.PublisherTime = max(d.BusiestTime, shared)
	d.GoogleTime = a.opts.Resolver.ExpectedTime(d.Google)
	return d, nil
}

// WriteSummary writes the dry run for people.
func (d *DryRun) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "linkarc: dry run, nothing was requested: %s, %s", textnorm.Count(d.Digests, "digest", "digests"), textnorm.Count(d.Links, "link", "links"))
	if d.DigestErrors > 0 {
		fmt.Fprintf(w, " (%s would be skipped)", textnorm.Count(d.DigestErrors, "input", "inputs"))
	}
	fmt.Fprintln(w)
	if d.Feeds > 0 {
		fmt.Fprintf(w, "  feeds:    %s would be fetched first (their items are not counted here)\n", textnorm.Count(d.Feeds, "feed URL", "feed URLs"))
	}
	fmt.Fprintf(w, "  resolve:  %s none; Google News links: %d offline (from the id), %d from the cache or the store, %d with Google",
		textnorm.Count(d.Direct, "publisher link needs", "publisher links need"), d.Offline, d.Cache, d.Google)
	if d.Invalid > 0 {
		fmt.Fprintf(w, ", %d cannot be resolved (invalid, or only Google could and --no-google is set)", d.Invalid)
	}
	if d.ShortCached+d.ShortFollow > 0 {
		fmt.Fprintf(w, "; short links: %d from the cache, %d to follow", d.ShortCached, d.ShortFollow)
	}
	fmt.Fprintln(w)
	if d.Google > 0 {
		fmt.Fprintf(w, "            Google: ~%s at its spacing (a GET per id, a POST per batch)\n", d.GoogleTime.Round(time.Second))
	}
	fmt.Fprintf(w, "  fetch:    %s", textnorm.Count(d.Fetch, "article", "articles"))
	switch {
	case d.ShortFollow > 0:
		fmt.Fprintf(w, " (%d of them once Google has resolved them, %d once their short links are followed)", d.Google, d.ShortFollow)
	case d.Google > 0:
		fmt.Fprintf(w, " (%d of them once Google has resolved them)", d.Google)
	}
	fmt.Fprintf(w, " on %s", textnorm.Count(d.Hosts, "known host", "known hosts"))
	if d.BusiestHost != "" {
		fmt.Fprintf(w, "; the busiest, %s, has %d (~%s at its spacing)", d.BusiestHost, d.BusiestPages, d.BusiestTime.Round(time.Second))
	}
	fmt.Fprintln(w)
	if d.Fetch > 0 {
		fmt.Fprintf(w, "            pages: ~%s at ~%s a page, %d at once (--concurrency)\n",
			d.PublisherTime.Round(time.Second), ExpectedFetchTime, d.Concurrency)
	}
	fmt.Fprintf(w, "  skip:     %d already archived ok\n", d.Skip)
	fmt.Fprintf(w, "  expected: ~%s (Google and the publishers are asked side by side; the longer part sets the pace)\n",
		max(d.GoogleTime, d.PublisherTime).Round(time.Second))
	if d.Requisites && d.Fetch > 0 {
		fmt.Fprintln(w, "  requisites: not counted: each page's stylesheets, images and fonts are fetched after it, spaced by")
		fmt.Fprintln(w, "            --host-interval on the page's own host and --asset-interval on others, so the run takes longer")
		fmt.Fprintln(w, "            (--requisites=false: the pages alone)")
	}
	writeSkipped(w, d.SkippedLinks)
}
