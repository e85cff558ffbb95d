package resolver

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// exchangeBody reads an exchange's body and undoes its gzip coding.
func exchangeBody(t testing.TB, ex *Exchange) []byte {
	t.Helper()
	rc, err := ex.Body()
	if err != nil {
		t.Fatalf("%s %s: %v", ex.Method, ex.URL, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(raw)) != ex.BodySize() {
		t.Errorf("%s %s: read %d bytes, BodySize says %d", ex.Method, ex.URL, len(raw), ex.BodySize())
	}
	if ex.ResponseHeader.Get("Content-Encoding") != "gzip" {
		return raw
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s %s: the body kept is not the gzip received: %v", ex.Method, ex.URL, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spoolFiles lists the bodies spilled to dir.
func spoolFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestStreamProvenance: with Sink.Provenance, each link Google resolved
// comes with the exchanges that resolved it, as they crossed the wire: its
// signature GET (after a locale hop for one of them) and the POST whose
// answer names its URL, shared by the batch; duplicates get references of
// their own; links resolved without Google, and links Google failed, get
// none; once every result is released no spilled body is left. Without
// it, nothing is kept or spilled.
func TestStreamProvenance(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("provenance=%v", keep), func(t *testing.T) {
			// Pages not gzipped, so that they spill (padding compresses to nothing).
			f := newFake(t, gnewstest.Options{PagePadding: 64 << 10, NoGzip: true})
			var links, urls []string
			for i := range 5 {
				u := fmt.Sprintf("https://publisher.example/p/%03d", i)
				links, urls = append(links, f.NewArticle(u)), append(urls, u)
			}
			// One id is answered after a same-host redirect hop.
			hopID := parseInput(links[1]).id
			f.Register(hopID, gnewstest.Article{PublisherURL: urls[1], Hops: 1})
			// One id Google refuses in the batch.
			badID := f.NewID("https://publisher.example/refused")
			f.Register(badID, gnewstest.Article{PublisherURL: "https://publisher.example/refused", RPCError: 3})
			cache := NewMemoryCache()
			cachedID := f.NewID("https://publisher.example/cached")
			before := time.Now().UTC()
			cache.Put(bg(), cachedID, "https://publisher.example/cached")
			old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/x", ""))
			inputs := append(slices.Clone(links), gnewstest.ArticleURL(badID), gnewstest.ArticleURL(cachedID), old, links[2])
			dup := len(inputs) - 1

			dir := t.TempDir()
			r := newTestResolver(t, f, func(o *Options) { o.Cache, o.TempDir, o.BatchSize = cache, dir, 3 })
			c := newCollect(f)
			sink := c.sink()
			sink.Provenance = keep
			r.Stream(bg(), inputs, sink)

			for i := range links {
				wantURL(t, c.res[i], urls[i], MethodBatchexecute)
			}
			wantURL(t, c.res[len(links)+1], "https://publisher.example/cached", MethodCache)
			if at := c.res[len(links)+1].ResolvedAt; at.Before(before) || at.After(time.Now()) {
				t.Errorf("cache hit ResolvedAt %v, want when it was put (after %v)", at, before)
			}
			if c.res[len(links)].Err == nil {
				t.Fatalf("the refused id resolved")
			}
			for _, i := range []int{len(links), len(links) + 1, len(links) + 2} {
				if c.res[i].Provenance != nil {
					t.Errorf("input %d (%s): provenance %v, want none", i, c.res[i].Method, c.res[i].Provenance)
				}
			}
			if !keep {
				for i, res := range c.res {
					if res.Provenance != nil {
						t.Errorf("input %d: provenance without Sink.Provenance", i)
					}
				}
				if files := spoolFiles(t, dir); len(files) != 0 {
					t.Errorf("bodies spilled without Sink.Provenance: %v", files)
				}
				return
			}

			for i, in := range links {
				p := c.res[i].Provenance
				if p == nil {
					t.Fatalf("input %d: no provenance", i)
				}
				id := parseInput(in).id
				wantGets := 1
				if i == 1 {
					wantGets = 2
				}
				if len(p.Exchanges) != wantGets+1 {
					t.Fatalf("input %d: %d exchanges, want %d GETs and the POST", i, len(p.Exchanges), wantGets)
				}
				for k, ex := range p.Exchanges {
					if ex.RemoteIP != "127.0.0.1" || ex.Sent.IsZero() || ex.Truncated != "" {
						t.Errorf("input %d exchange %d: ip %q, sent %v, truncated %q", i, k, ex.RemoteIP, ex.Sent, ex.Truncated)
					}
					if ex.RequestHeader.Get("User-Agent") == "" || ex.RequestHeader.Get("Accept-Encoding") != "gzip" {
						t.Errorf("input %d exchange %d: request header %v", i, k, ex.RequestHeader)
					}
				}
				for _, ex := range p.Exchanges[:wantGets] {
					if ex.Method != http.MethodGet || !strings.Contains(ex.URL, "/rss/articles/"+id) {
						t.Errorf("input %d: GET exchange %s %s", i, ex.Method, ex.URL)
					}
				}
				if i == 1 && (p.Exchanges[0].StatusCode != http.StatusFound || p.Exchanges[0].ResponseHeader.Get("Location") == "") {
					t.Errorf("input 1: first hop %d, want the 302", p.Exchanges[0].StatusCode)
				}
				page := p.Exchanges[wantGets-1]
				if page.StatusCode != http.StatusOK || !bytes.Contains(exchangeBody(t, page), []byte(`data-n-a-sg="`)) {
					t.Errorf("input %d: signature page %d without its signature", i, page.StatusCode)
				}
				if page.BodySize() <= MemoryBodyBytes {
					t.Errorf("input %d: signature page of %d bytes on the wire; the test wants it spilled", i, page.BodySize())
				}
				post := p.Exchanges[wantGets]
				if post.Method != http.MethodPost || post.StatusCode != http.StatusOK || !bytes.Contains(post.RequestBody, []byte(id)) {
					t.Errorf("input %d: POST exchange %s %d does not carry its id", i, post.Method, post.StatusCode)
				}
				if !bytes.Contains(exchangeBody(t, post), []byte(urls[i])) {
					t.Errorf("input %d: the POST's answer does not name %s", i, urls[i])
				}
				if c.res[i].ResolvedAt != post.Sent {
					t.Errorf("input %d: ResolvedAt %v, want the POST's %v", i, c.res[i].ResolvedAt, post.Sent)
				}
			}
			// One POST per batch of 3, shared by its results.
			if a, b := c.res[0].Provenance.Exchanges[1], c.res[2].Provenance.Exchanges[1]; a != b {
				t.Errorf("inputs 0 and 2 were posted together but hold different POST exchanges")
			}
			// The duplicate holds the same exchanges under its own references.
			d, orig := c.res[dup].Provenance, c.res[2].Provenance
			if d == nil || d == orig || d.Exchanges[0] != orig.Exchanges[0] {
				t.Fatalf("duplicate provenance %p, original %p", d, orig)
			}
			if len(spoolFiles(t, dir)) == 0 {
				t.Fatal("no body spilled")
			}
			orig.Release()
			orig.Release() // twice is once
			exchangeBody(t, d.Exchanges[0])
			for i := range c.res {
				c.res[i].Provenance.Release()
			}
			if files := spoolFiles(t, dir); len(files) != 0 {
				t.Errorf("%d spilled bodies left once every result was released: %v", len(files), files)
			}
			if _, err := d.Exchanges[0].Body(); err == nil {
				t.Error("a released body still opens")
			}
		})
	}
}

// TestProvenanceOfFailures: exchanges of links that did not resolve (the
// signature GET refused with 429, the POST refused) are released at once:
// only links resolved are handed exchanges, and once they are released
// nothing stays on disk.
func TestProvenanceOfFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     gnewstest.Options
		post     *gnewstest.PostOverride
		resolved int
	}{
		// The two signatures collected before the 429 are still posted.
		{"get 429", gnewstest.Options{RateLimitAfter: 2, PagePadding: 64 << 10, NoGzip: true}, nil, 2},
		{"post 500", gnewstest.Options{PagePadding: 64 << 10, NoGzip: true}, &gnewstest.PostOverride{Status: 500, ContentType: "text/html", Body: strings.Repeat("x", 10<<10)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.opts)
			f.SetPostOverride(tc.post)
			links, _ := mint(f, nil, 4, "f")
			dir := t.TempDir()
			r := newTestResolver(t, f, func(o *Options) { o.TempDir = dir })
			c := newCollect(f)
			sink := c.sink()
			sink.Provenance = true
			r.Stream(bg(), links, sink)
			resolved := 0
			for i, res := range c.res {
				switch {
				case res.Err != nil && res.Provenance != nil:
					t.Errorf("input %d failed but has a provenance", i)
				case res.Err == nil && (res.Provenance == nil || len(res.Provenance.Exchanges) != 2):
					t.Errorf("input %d resolved with provenance %v, want its GET and the POST", i, res.Provenance)
				case res.Err == nil:
					resolved++
				}
				res.Provenance.Release()
			}
			if resolved != tc.resolved {
				t.Errorf("%d inputs resolved, want %d", resolved, tc.resolved)
			}
			if files := spoolFiles(t, dir); len(files) != 0 {
				t.Errorf("spilled bodies left: %v", files)
			}
		})
	}
}

// TestStoreCacheDates: a cache hit says when its entry was written; an
// entry written without resolved_at (by hand, or by an older tool) is
// still a hit, with no time.
func TestStoreCacheDates(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(t, gnewstest.Options{})
	dated := f.NewID("https://p.example/dated")
	undated := f.NewID("https://p.example/undated")
	cache := NewStoreCache(st)
	before := time.Now().UTC()
	if err := cache.Put(bg(), dated, "https://p.example/dated"); err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf(`{"id":%q,"url":"https://p.example/undated"}`, undated)
	if err := st.Put(bg(), record.GNewsCacheKey(undated), strings.NewReader(raw), int64(len(raw)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	r := newTestResolver(t, f, func(o *Options) { o.Cache = cache })
	res := r.Resolve(bg(), []string{gnewstest.ArticleURL(dated), gnewstest.ArticleURL(undated)})
	wantURL(t, res[0], "https://p.example/dated", MethodCache)
	wantURL(t, res[1], "https://p.example/undated", MethodCache)
	if at := res[0].ResolvedAt; at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
		t.Errorf("dated entry: ResolvedAt %v, want when it was put (%v)", at, before)
	}
	if at := res[1].ResolvedAt; !at.IsZero() {
		t.Errorf("entry without resolved_at: ResolvedAt %v, want none", at)
	}
	counts(t, f, 0, 0)
}
