package archive

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage/record"
)

// TestShortLinkProvenanceEndToEnd archives digests of short links on a
// loopback shortener (configured as one): link A redirects twice (301,
// 302) to a publisher page, link B once and then through a page that
// refreshes to another, link C to a page a second digest links directly.
// Each article's identity is its publisher URL (C's merges with the direct
// link), and its capture.warc.gz holds, before the page, one
// response/request pair per hop: target URI, status, Location, the body
// received, WARC-Concurrent-To both ways, WARC-IP-Address, digests our
// reader and warcio.js verify, and a WARC-Date between the server's log of
// the request before it and its own; the metadata record names them.
// Requests to the shortener are spaced by its host interval, none asks
// for its robots.txt, and nothing spilled is left. The WACZ export indexes
// the hops but lists only the articles as pages. A re-run makes no
// request to the shortener (nor to the publisher), and a --refresh re-run
// takes the short links from the cache: no exchange with the shortener,
// and the metadata says so, with when the link was followed.
func TestShortLinkProvenanceEndToEnd(t *testing.T) {
	const interval = 30 * time.Millisecond
	ctx := context.Background()
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: worldPages(t, 3)})
	pub := w.Publishers[0]
	pages := worldPages(t, 3)
	storyA := pub.Add("/news/short-a.html", pages[0].HTML)
	storyB := pub.Add("/news/short-b.html", pages[1].HTML)
	storyC := pub.Add("/news/short-c.html", pages[2].HTML)
	padding := strings.Repeat("<!-- a hop page padded past what stays in memory -->", 200)
	short := archivetest.StartShortener(t, 200, map[string]archivetest.Hop{
		"/a": {Status: http.StatusMovedPermanently, To: "/a2"}, "/a2": {Status: http.StatusFound, To: storyA},
		"/b": {Status: http.StatusFound, To: "/b2"}, "/b2": {Status: http.StatusOK, To: storyB, Body: padding},
		"/c": {Status: http.StatusMovedPermanently, To: storyC},
	})
	base := "http://" + short.Host
	linkA, linkB, linkC := base+"/a", base+"/b", base+"/c"
	day := time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC)
	if _, err := archivetest.WriteDigest(w.Dir, "900_short.md", "Short links", day, []archivetest.DigestItem{
		{Title: "Short A", Publisher: "Publisher 0", Link: linkA},
		{Title: "Short B", Publisher: "Publisher 0", Link: linkB},
		{Title: "Short C", Publisher: "Publisher 0", Link: linkC},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := archivetest.WriteDigest(w.Dir, "901_direct.md", "Direct", day, []archivetest.DigestItem{
		{Title: "C under another title", Publisher: "Publisher 0", Link: storyC},
	}); err != nil {
		t.Fatal(err)
	}
	store := localStore(t)
	spool := t.TempDir()
	resOpts := func(o *resolver.Options) {
		o.ShortenerHosts, o.TempDir, o.HostInterval = []string{"127.0.0.200"}, spool, interval
	}
	begin := time.Now()
	stages := &lastStages{}
	rep, err := newWorldArchiverWith(t, w, store, Options{Progress: stages}, resOpts, nil, nil).Run(ctx, []string{w.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if s := stages.last; s.Google != 1 || s.Resolved != 1 || s.Total != 5 {
		t.Errorf("stages at the end: %+v, want the one Google link resolved of 5 links", s)
	}
	if rep.Counts[record.StatusOK] != 4 {
		t.Fatalf("counts %v, failures %+v; want the world's article and A, B, C", rep.Counts, rep.Failures)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("%d bodies the resolver spilled are left after the run", len(ents))
	}
	served := short.Arrivals(true)
	if len(served) != 5 {
		t.Errorf("the shortener served %d requests, want its 5 hops: %+v", len(served), served)
	}
	for i, a := range served {
		if a.Path == "/robots.txt" {
			t.Errorf("the shortener was asked for its robots.txt")
		}
		if i > 0 && a.At.Sub(served[i-1].At) < interval {
			t.Errorf("requests to the shortener %v apart, want at least %v", a.At.Sub(served[i-1].At), interval)
		}
	}

	type hop struct {
		path     string
		status   int
		location string
		body     string // in the payload recorded
	}
	for _, tc := range []struct {
		link, url string
		hops      []hop
	}{
		{linkA, storyA, []hop{{"/a", 301, "/a2", ""}, {"/a2", 302, storyA, ""}}},
		{linkB, storyB, []hop{{"/b", 302, "/b2", ""}, {"/b2", 200, "", padding}}},
	} {
		m := metaForURL(t, store, tc.url)
		if m.ResolveMethod != resolver.MethodRedirect || m.GoogleNewsURL != "" {
			t.Errorf("%s: meta.json resolve_method %q google_news_url %q", tc.link, m.ResolveMethod, m.GoogleNewsURL)
		}
		_, meta, hops := captureProvenance(t, store, tc.url, base)
		if len(hops) != len(tc.hops) {
			t.Fatalf("%s: %d shortener responses recorded, want %d", tc.link, len(hops), len(tc.hops))
		}
		after := begin
		var ids []string
		for k, want := range tc.hops {
			r, req := hops[k].resp, hops[k].req
			ids = append(ids, "<"+r.ID+">")
			if r.URI != base+want.path || r.Status != want.status || headField(r.HTTPHead, "Location") != want.location {
				t.Errorf("%s hop %d: %s %d Location %q; want %+v", tc.link, k, r.URI, r.Status, headField(r.HTTPHead, "Location"), want)
			}
			if want.body != "" && !bytes.Contains(r.Payload, []byte(want.body)) {
				t.Errorf("%s hop %d: the body received is not recorded (%d bytes)", tc.link, k, len(r.Payload))
			}
			if !bytes.HasPrefix(req.HTTPHead, []byte("GET "+want.path+" HTTP/1.1\r\n")) || headField(req.HTTPHead, "User-Agent") == "" {
				t.Errorf("%s hop %d: request recorded %q", tc.link, k, req.HTTPHead)
			}
			if ip := r.Header.Get("WARC-IP-Address"); ip != "127.0.0.200" {
				t.Errorf("%s hop %d: WARC-IP-Address %q, want the shortener's", tc.link, k, ip)
			}
			after = checkArrival(t, served, want.path, r.Date, after)
		}
		if got := meta["resolve-method"]; !slices.Equal(got, []string{resolver.MethodRedirect}) {
			t.Errorf("%s: resolve-method %v", tc.link, got)
		}
		if got := meta["via"]; !slices.Equal(got, []string{tc.link}) {
			t.Errorf("%s: via %v", tc.link, got)
		}
		if got := meta["resolve-record"]; !slices.Equal(got, ids) {
			t.Errorf("%s: resolve-record %v, want the hops' responses %v", tc.link, got, ids)
		}
		if last := hops[len(hops)-1].resp; !slices.Equal(meta["resolved-at"], []string{last.Date.UTC().Format(time.RFC3339)}) {
			t.Errorf("%s: resolved-at %v, want the last hop's %v", tc.link, meta["resolved-at"], last.Date)
		}
		if n := meta["resolve-note"]; len(n) != 1 || !strings.Contains(n[0], "short link's redirects in this run") {
			t.Errorf("%s: resolve-note %q", tc.link, n)
		}
	}
	// C and its direct link are one article, listed by both digests.
	if m := metaForURL(t, store, storyC); len(m.Digests) != 2 || len(m.History) != 0 {
		t.Errorf("C: digests %v, history %v; want one capture listed by both digests", m.Digests, m.History)
	}

	all, per := storedWARCs(t, store)
	checkWarcio(t, all, per)
	indexed := checkWACZPages(t, store, append([]string{storyA, storyB, storyC}, worldURLs(w)...))
	for _, p := range []string{"/a", "/a2", "/b", "/b2"} {
		if !indexed[base+p] {
			t.Errorf("the WACZ index does not name the hop %s", p)
		}
	}

	// Nothing new: nothing asked of the shortener or the publisher.
	pubServed := pub.Requests()
	if _, err := newWorldArchiverWith(t, w, store, Options{}, resOpts, nil, nil).Run(ctx, []string{w.Dir}); err != nil {
		t.Fatal(err)
	}
	if n := short.Requests() - len(served); n != 0 {
		t.Errorf("re-run: %d requests to the shortener, want none", n)
	}
	if n := pub.Requests() - pubServed; n != 0 {
		t.Errorf("re-run: %d requests to the publisher, want none", n)
	}

	// --refresh: the publisher again, the short links from the cache.
	rep, err = newWorldArchiverWith(t, w, store, Options{Refresh: true}, resOpts, nil, nil).Run(ctx, []string{w.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[record.StatusOK] != 4 {
		t.Fatalf("refresh: counts %v, failures %+v", rep.Counts, rep.Failures)
	}
	if n := short.Requests() - len(served); n != 0 {
		t.Errorf("refresh: %d requests to the shortener, want none", n)
	}
	for _, tc := range []struct{ link, url string }{{linkA, storyA}, {linkB, storyB}} {
		var entry record.LinkCacheEntry
		if err := record.ReadJSON(ctx, store, record.LinkCacheKey(tc.link), &entry); err != nil || entry.URL != tc.url {
			t.Fatalf("refresh: cache entry of %s: %+v, %v", tc.link, entry, err)
		}
		if meta := checkFromCache(t, store, tc.url, base, entry.ResolvedAt, "cache/links/"); !slices.Equal(meta["via"], []string{tc.link}) {
			t.Errorf("refresh: %s: via %v", tc.link, meta["via"])
		}
	}
	all, per = storedWARCs(t, store)
	checkWarcio(t, all, per)
}

// lastStages is a Progress that keeps the last stages reported.
type lastStages struct {
	mu   sync.Mutex
	last Stages
}

func (p *lastStages) Start(int) {}
func (p *lastStages) Stage(s Stages) {
	p.mu.Lock()
	p.last = s
	p.mu.Unlock()
}
func (p *lastStages) Notice(string) {}
func (p *lastStages) Done(Event)    {}
func (p *lastStages) Finish()       {}

// checkArrival asserts that a record's WARC-Date is when the server logged
// the request it records: not before the request before it in the chain
// arrived (the client waited for its answer), and within a loopback round
// trip of its own arrival. It returns that arrival.
func checkArrival(t *testing.T, served []archivetest.Arrival, path string, date, after time.Time) time.Time {
	t.Helper()
	for _, a := range served {
		if a.Path != path || a.At.Before(after) {
			continue
		}
		if date.Before(after) || date.After(a.At.Add(time.Second)) {
			t.Errorf("%s: WARC-Date %v; the server logged it at %v, the request before at %v", path, date, a.At, after)
		}
		return a.At
	}
	t.Errorf("%s: a recorded exchange (dated %v) the server never logged", path, date)
	return after
}

// headField is a field of a recorded HTTP head, "" when absent.
func headField(head []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestShortLinkThatFails: a short link whose redirects lead nowhere is a
// failed capture that names the link as its URL, with the shortener's
// reason; the next run tries it again, and once it resolves, the article
// keeps that slug (a failure with nothing fetched is not kept in history).
// The dry run counts it among the short links to follow, then, once
// cached, among those from the cache.
func TestShortLinkThatFails(t *testing.T) {
	ctx := context.Background()
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: worldPages(t, 1)})
	story := w.Publishers[0].Add("/news/late.html", w.Articles[0].Page.HTML)
	short := archivetest.StartPublisher(t, 201)
	var live atomic.Bool
	short.SetHandler(func(rw http.ResponseWriter, r *http.Request) {
		if !live.Load() {
			http.NotFound(rw, r)
			return
		}
		http.Redirect(rw, r, story, http.StatusMovedPermanently)
	})
	link := "http://" + short.Host + "/late"
	if _, err := archivetest.WriteDigest(w.Dir, "900_short.md", "Short", time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC),
		[]archivetest.DigestItem{{Title: "Late", Publisher: "Publisher 0", Link: link}}); err != nil {
		t.Fatal(err)
	}
	store := localStore(t)
	resOpts := func(o *resolver.Options) { o.ShortenerHosts, o.HostInterval = []string{"127.0.0.201"}, -1 }
	dry := func() *DryRun {
		t.Helper()
		b, err := digest.Open([]string{w.Dir}, digest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := newWorldArchiverWith(t, w, store, Options{}, resOpts, nil, nil).DryRun(ctx, b, func(string) time.Duration { return 0 })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := dry(); d.ShortFollow != 1 || d.ShortCached != 0 || d.Direct != 0 {
		t.Errorf("dry run before: %+v, want one short link to follow", d)
	}

	rep, err := newWorldArchiverWith(t, w, store, Options{}, resOpts, nil, nil).Run(ctx, []string{w.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[record.StatusFailed] != 1 {
		t.Fatalf("counts %v, want the short link failed", rep.Counts)
	}
	m := metaForURL(t, store, link)
	if m.Status != record.StatusFailed || m.Reason != "http_404" || m.ResolveMethod != "" {
		t.Errorf("failed short link: %+v", m)
	}

	live.Store(true)
	if _, err := newWorldArchiverWith(t, w, store, Options{}, resOpts, nil, nil).Run(ctx, []string{w.Dir}); err != nil {
		t.Fatal(err)
	}
	ok := metaForURL(t, store, story)
	if ok.Status != record.StatusOK || ok.Slug != m.Slug || ok.ResolveMethod != resolver.MethodRedirect {
		t.Errorf("second run: slug %q (first %q), status %s, method %s; want the same article, resolved", ok.Slug, m.Slug, ok.Status, ok.ResolveMethod)
	}
	if d := dry(); d.ShortFollow != 0 || d.ShortCached != 1 || d.Skip != 2 {
		t.Errorf("dry run after: %+v, want the short link from the cache, already archived", d)
	}
}
