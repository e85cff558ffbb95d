package archivetest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// WorldOptions sizes a World.
type WorldOptions struct {
	Hosts    int // publisher hosts, each on its own 127.0.0.x address (default 3)
	Articles int // distinct articles, spread round-robin over the hosts (default 12)
	Digests  int // digest files the articles are listed in (default 3)
	// Pages are the pages served, reused round-robin; LoadPages gives them.
	Pages []Page
	// Shared lists every Shared-th article in a second digest too, to prove
	// an article linked from several digests is archived once (0: none).
	Shared int
	// Google configures the fake Google News.
	Google gnewstest.Options
}

// WorldArticle is one article of a World and where it is served.
type WorldArticle struct {
	Title, Publisher string
	Link             string // Google News link in the digests
	URL              string // publisher URL the link resolves to
	Host             *Publisher
	Page             Page
}

// World is a fake Google News, fake publishers and a folder of digests that
// link to them.
type World struct {
	Google     *gnewstest.Server
	Publishers []*Publisher
	Dir        string // the digest folder to archive
	Articles   []WorldArticle
}

// NewWorld builds a world; everything is closed when the test ends.
func NewWorld(tb testing.TB, o WorldOptions) *World {
	tb.Helper()
	if o.Hosts <= 0 {
		o.Hosts = 3
	}
	if o.Articles <= 0 {
		o.Articles = 12
	}
	if o.Digests <= 0 {
		o.Digests = 3
	}
	if len(o.Pages) == 0 {
		tb.Fatal("archivetest: WorldOptions.Pages is empty; use LoadPages")
	}
	if o.Hosts > 250 {
		tb.Fatal("archivetest: at most 250 hosts (127.0.0.2 to 127.0.0.251)")
	}
	w := &World{Google: gnewstest.NewServer(o.Google), Dir: filepath.Join(tb.TempDir(), "digests")}
	tb.Cleanup(w.Google.Close)
	for h := 0; h < o.Hosts; h++ {
		w.Publishers = append(w.Publishers, StartPublisher(tb, 2+h))
	}
	for i := 0; i < o.Articles; i++ {
		h := i % o.Hosts
		pub := w.Publishers[h]
		page := o.Pages[i%len(o.Pages)]
		u := pub.Add(fmt.Sprintf("/news/%d/story-%d.html", 2026, i), page.HTML)
		w.Articles = append(w.Articles, WorldArticle{
			Title:     fmt.Sprintf("Story %d: %s", i, page.ID[:8]),
			Publisher: fmt.Sprintf("Publisher %d", h),
			Link:      w.Google.NewArticle(u),
			URL:       u,
			Host:      pub,
			Page:      page,
		})
	}
	per := (o.Articles + o.Digests - 1) / o.Digests
	date := time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)
	for d := 0; d < o.Digests; d++ {
		var items []DigestItem
		for i := d * per; i < min((d+1)*per, o.Articles); i++ {
			a := w.Articles[i]
			items = append(items, DigestItem{Title: a.Title, Publisher: a.Publisher, Link: a.Link})
		}
		if o.Shared > 0 && d > 0 {
			// Repeat some articles of the previous digest here.
			for i := (d - 1) * per; i < d*per; i += o.Shared {
				a := w.Articles[i]
				items = append(items, DigestItem{Title: a.Title, Publisher: a.Publisher, Link: a.Link})
			}
		}
		if len(items) == 0 {
			continue
		}
		name := fmt.Sprintf("%03d_digest.md", d)
		if _, err := WriteDigest(w.Dir, name, fmt.Sprintf("Digest %d - Test News", d), date.AddDate(0, 0, d), items); err != nil {
			tb.Fatalf("write digest: %v", err)
		}
	}
	return w
}

// PublisherRequests is the number of requests all publishers served.
func (w *World) PublisherRequests() int {
	n := 0
	for _, p := range w.Publishers {
		n += p.Requests()
	}
	return n
}

// PolitenessFloor is the least time a run must take with the given
// per-host interval: the busiest host's requests (pages plus robots.txt),
// spaced by the interval.
func (w *World) PolitenessFloor(interval time.Duration) time.Duration {
	per := map[*Publisher]int{}
	for _, a := range w.Articles {
		per[a.Host]++
	}
	busiest := 0
	for _, n := range per {
		busiest = max(busiest, n)
	}
	// robots.txt + busiest pages = busiest+1 requests, busiest gaps.
	return time.Duration(busiest) * interval
}
