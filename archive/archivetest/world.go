package archivetest

import (
	"fmt"
	"path/filepath"
	"slices"
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
	// Requisites serves every page with stylesheets, a web font and images
	// on the world's own loopback hosts, after removing those the page
	// names itself (see requisites.go): a CDN and ImageHosts image hosts
	// (default 2), on the addresses after the publishers'.
	Requisites bool
	ImageHosts int
	// Font is the web font the stylesheets of a world with Requisites name
	// (the repository's testdata/capture/work-sans-300.woff2).
	Font []byte
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
	// AssetHosts serve only requisites (a world with Requisites): the CDN
	// first, then the image hosts.
	AssetHosts []*Publisher
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
	if o.Requisites && o.ImageHosts <= 0 {
		o.ImageHosts = 2
	}
	assetHosts := 0
	if o.Requisites {
		assetHosts = 1 + o.ImageHosts
	}
	if o.Hosts+assetHosts > 250 {
		tb.Fatal("archivetest: at most 250 hosts, asset hosts included (127.0.0.2 to 127.0.0.251)")
	}
	w := &World{Google: gnewstest.NewServer(o.Google), Dir: filepath.Join(tb.TempDir(), "digests")}
	tb.Cleanup(w.Google.Close)
	for h := 0; h < o.Hosts; h++ {
		w.Publishers = append(w.Publishers, StartPublisher(tb, 2+h))
	}
	var rw *requisiteWorld
	if o.Requisites {
		rw = startRequisites(tb, 2+o.Hosts, o.ImageHosts, w.Publishers, o.Font)
		w.AssetHosts = append([]*Publisher{rw.cdn}, rw.images...)
	}
	for i := 0; i < o.Articles; i++ {
		h := i % o.Hosts
		pub := w.Publishers[h]
		page := o.Pages[i%len(o.Pages)]
		path := fmt.Sprintf("/news/%d/story-%d.html", 2026, i)
		var u string
		if rw != nil {
			u = rw.addArticle(tb, pub, path, page, fmt.Sprint(i), i)
		} else {
			u = pub.Add(path, page.HTML)
		}
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

// Served is the number of requests all hosts served, asset hosts included,
// and the body bytes they sent (robots.txt aside).
func (w *World) Served() (requests int, bytes int64) {
	for _, p := range append(slices.Clone(w.Publishers), w.AssetHosts...) {
		requests += p.Requests()
		bytes += p.ServedBytes()
	}
	return requests, bytes
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
