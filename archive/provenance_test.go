package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/export"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/wacz/wacztest"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// wholeRecord is a WARC record read with its payload, its digests verified
// by our reader on the way.
type wholeRecord struct {
	Type, ID, URI string
	Date          time.Time
	Header        warc.Fields
	HTTPHead      []byte
	Status        int
	Payload       []byte
}

func readWholeRecords(t *testing.T, data []byte) []wholeRecord {
	t.Helper()
	rd := warc.NewReader(bytes.NewReader(data), warc.ReaderOptions{})
	var out []wholeRecord
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err) // a *warc.DigestError too
		}
		r := wholeRecord{Type: rec.Type, ID: rec.ID, URI: rec.TargetURI(), Date: rec.Date, Header: rec.Header, HTTPHead: rec.HTTPHead, Status: rec.Status}
		if p, err := rec.Payload(); err == nil {
			r.Payload, _ = io.ReadAll(p)
		}
		out = append(out, r)
	}
}

// gunzipped undoes a record payload's gzip coding, if it has one.
func gunzipped(p []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(p))
	if err != nil {
		return p
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return p
	}
	return b
}

// metadataFields parses an application/warc-fields block.
func metadataFields(block []byte) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(string(block), "\r\n") {
		if name, value, ok := strings.Cut(line, ": "); ok {
			out[name] = append(out[name], value)
		}
	}
	return out
}

// googleID is the id of a Google News link.
func googleID(t *testing.T, link string) string {
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return path.Base(u.Path)
}

// TestGoogleProvenanceEndToEnd archives digests of new-format Google News
// links (the fake Google on loopback, batches of 3) and one old-format
// link. Each article resolved by Google holds, in its capture.warc.gz, a
// response/request pair for its signature GET and one for the POST whose
// answer names its URL, linked both ways by WARC-Concurrent-To, with
// WARC-IP-Address 127.x and the WARC-Date Google's server logged, before
// the page; the metadata record names those records. The old link's
// metadata says it was decoded offline. warcio.js reads every record and
// verifies its payload digest; the WACZ export's pages are the articles
// only, and its index finds each. Nothing the resolver spilled is left.
// A --refresh re-run resolves from the cache: no exchange with Google,
// and the metadata says so and when the link was resolved.
func TestGoogleProvenanceEndToEnd(t *testing.T) {
	ctx := context.Background()
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 7, Digests: 2, Pages: worldPages(t, 3),
		Google: gnewstest.Options{PagePadding: 32 << 10}})
	oldURL := w.Publishers[0].Add("/news/2025/old-story.html", w.Articles[0].Page.HTML)
	oldLink := gnewstest.ArticleURL(gnewstest.EncodeOldID(oldURL, ""))
	if _, err := archivetest.WriteDigest(w.Dir, "900_old.md", "Old links", time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC),
		[]archivetest.DigestItem{{Title: "An old-format link", Publisher: "Publisher 0", Link: oldLink}}); err != nil {
		t.Fatal(err)
	}
	store := localStore(t)
	spool := t.TempDir()
	resOpts := func(o *resolver.Options) { o.TempDir, o.BatchSize = spool, 3 }

	rep, err := newWorldArchiverWith(t, w, store, Options{}, resOpts, nil, nil).Run(ctx, []string{w.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[record.StatusOK] != len(w.Articles)+1 {
		t.Fatalf("counts %v, failures %+v", rep.Counts, rep.Failures)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("%d bodies the resolver spilled are left after the run", len(ents))
	}
	google := w.Google.NewsURL()
	served := w.Google.Requests()

	for _, art := range w.Articles {
		id := googleID(t, art.Link)
		_, meta, pairs := captureProvenance(t, store, art.URL, google)
		var get, post *wholeRecord
		var googleResponses []string
		for i, pr := range pairs {
			r, req := pr.resp, pr.req
			googleResponses = append(googleResponses, "<"+r.ID+">")
			switch {
			case strings.Contains(r.URI, "/rss/articles/"+id) && r.Status == 200:
				get = &pairs[i].resp
				if !bytes.Contains(gunzipped(r.Payload), []byte(`data-n-a-id="`+id+`"`)) {
					t.Errorf("%s: the signature page recorded is not the one for its id", art.URL)
				}
				checkLogged(t, served, r.Date, func(q gnewstest.Request) bool {
					return q.Kind == gnewstest.KindArticle && strings.HasSuffix(q.Path, "/"+id)
				})
			case strings.HasSuffix(r.URI, "/batchexecute") && r.Status == 200 && bytes.Contains(gunzipped(r.Payload), []byte(art.URL)):
				post = &pairs[i].resp
				if !bytes.Contains(req.Payload, []byte(id)) {
					t.Errorf("%s: the POST request recorded does not carry its id", art.URL)
				}
				checkLogged(t, served, r.Date, func(q gnewstest.Request) bool {
					return q.Kind == gnewstest.KindBatchexecute && slices.Contains(q.IDs, id)
				})
			}
		}
		if get == nil || post == nil {
			t.Errorf("%s: signature GET recorded %v, POST naming its URL recorded %v; want both", art.URL, get != nil, post != nil)
			continue
		}
		if got := meta["resolve-method"]; !slices.Equal(got, []string{resolver.MethodBatchexecute}) {
			t.Errorf("%s: resolve-method %v", art.URL, got)
		}
		if got := meta["resolve-record"]; !slices.Equal(got, googleResponses) {
			t.Errorf("%s: resolve-record %v, want the Google responses %v", art.URL, got, googleResponses)
		}
		if got := meta["resolved-at"]; len(got) != 1 || got[0] != post.Date.UTC().Format(time.RFC3339) {
			t.Errorf("%s: resolved-at %v, want the POST's %v", art.URL, got, post.Date)
		}
	}

	// The old link: decoded offline, no exchange.
	m := metaForURL(t, store, oldURL)
	for _, r := range readWholeRecords(t, readObject(t, store, record.ArticleKey(m.Slug, record.WARCFile))) {
		if strings.HasPrefix(r.URI, google) {
			t.Errorf("old link: a Google record %s %s", r.Type, r.URI)
		}
		if r.Type == "metadata" {
			f := metadataFields(r.Payload)
			if !slices.Equal(f["resolve-method"], []string{resolver.MethodOffline}) || len(f["resolve-note"]) != 1 || !strings.Contains(f["resolve-note"][0], "decoded offline") {
				t.Errorf("old link: metadata %v", f)
			}
		}
	}

	all, per := storedWARCs(t, store)
	checkWarcio(t, all, per)
	checkWACZPages(t, store, append([]string{oldURL}, worldURLs(w)...))

	// --refresh: every link from the cache, no exchange with Google.
	rep, err = newWorldArchiverWith(t, w, store, Options{Refresh: true}, resOpts, nil, nil).Run(ctx, []string{w.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[record.StatusOK] != len(w.Articles)+1 {
		t.Fatalf("refresh: counts %v, failures %+v", rep.Counts, rep.Failures)
	}
	if n := len(w.Google.Requests()); n != len(served) {
		t.Errorf("refresh: Google was asked %d more requests", n-len(served))
	}
	for _, art := range w.Articles {
		var entry record.GNewsCacheEntry
		if err := record.ReadJSON(ctx, store, record.GNewsCacheKey(googleID(t, art.Link)), &entry); err != nil {
			t.Fatal(err)
		}
		checkFromCache(t, store, art.URL, google, entry.ResolvedAt, "cache/gnews/")
	}
	all, per = storedWARCs(t, store)
	checkWarcio(t, all, per)
}

// pair is a response record and the request record linked to it.
type pair struct{ resp, req wholeRecord }

// captureProvenance reads the capture of the article at url and returns
// its page's response, its metadata record's fields, and the responses
// whose target URI starts with prefix (the exchanges that resolved its
// link), in order, with their requests. Each pair is checked: linked both
// ways by WARC-Concurrent-To, one target URI and date, one loopback
// WARC-IP-Address, digests (which our reader verified), dated before the
// page.
func captureProvenance(t *testing.T, store storage.Store, url, prefix string) (page wholeRecord, meta map[string][]string, pairs []pair) {
	t.Helper()
	m := metaForURL(t, store, url)
	recs := readWholeRecords(t, readObject(t, store, record.ArticleKey(m.Slug, record.WARCFile)))
	byID := map[string]wholeRecord{}
	found := false
	for _, r := range recs {
		byID[r.ID] = r
		switch {
		case r.Type == "response" && r.URI == url:
			page, found = r, true
		case r.Type == "metadata" && r.URI == url:
			meta = metadataFields(r.Payload)
		}
	}
	if !found || meta == nil {
		t.Fatalf("%s: no page response or no metadata record", url)
	}
	for _, r := range recs {
		if r.Type != "response" || !strings.HasPrefix(r.URI, prefix) {
			continue
		}
		req, ok := byID[strings.Trim(r.Header.Get("WARC-Concurrent-To"), "<>")]
		if !ok || req.Type != "request" || req.URI != r.URI || !req.Date.Equal(r.Date) || strings.Trim(req.Header.Get("WARC-Concurrent-To"), "<>") != r.ID {
			t.Errorf("%s: response %s has no request record linked back to it", url, r.URI)
			continue
		}
		if ip := r.Header.Get("WARC-IP-Address"); !strings.HasPrefix(ip, "127.") || req.Header.Get("WARC-IP-Address") != ip {
			t.Errorf("%s: records of %s have WARC-IP-Address %q and %q", url, r.URI, ip, req.Header.Get("WARC-IP-Address"))
		}
		if r.Header.Get("WARC-Payload-Digest") == "" || r.Header.Get("WARC-Block-Digest") == "" || req.Header.Get("WARC-Block-Digest") == "" {
			t.Errorf("%s: records of %s without digests", url, r.URI)
		}
		if !r.Date.Before(page.Date) {
			t.Errorf("%s: exchange %s dated %v, not before the page's %v", url, r.URI, r.Date, page.Date)
		}
		pairs = append(pairs, pair{r, req})
	}
	return page, meta, pairs
}

// checkFromCache asserts that the article at url, captured again with its
// link resolved from the cache, has a history of one capture, no record
// of the exchanges that resolved it (those under provenance), and a
// metadata record saying so: method cache, resolved-at the cache entry's
// time, no resolve-record, a note naming the cache. It returns the
// metadata fields.
func checkFromCache(t *testing.T, store storage.Store, url, provenance string, resolvedAt time.Time, cache string) map[string][]string {
	t.Helper()
	m := metaForURL(t, store, url)
	if m.ResolveMethod != resolver.MethodCache || len(m.History) != 1 {
		t.Errorf("refresh: %s: resolve_method %q, history %+v; want cache, after the first capture", url, m.ResolveMethod, m.History)
	}
	var meta map[string][]string
	for _, r := range readWholeRecords(t, readObject(t, store, record.ArticleKey(m.Slug, record.WARCFile))) {
		if strings.HasPrefix(r.URI, provenance) {
			t.Errorf("refresh: %s: a record %s %s of the resolution in a capture resolved from the cache", url, r.Type, r.URI)
		}
		if r.Type == "metadata" && r.URI == url {
			meta = metadataFields(r.Payload)
		}
	}
	switch {
	case !slices.Equal(meta["resolve-method"], []string{resolver.MethodCache}):
		t.Errorf("refresh: %s: resolve-method %v", url, meta["resolve-method"])
	case !slices.Equal(meta["resolved-at"], []string{resolvedAt.UTC().Format(time.RFC3339)}):
		t.Errorf("refresh: %s: resolved-at %v, want the cache entry's %v", url, meta["resolved-at"], resolvedAt)
	case len(meta["resolve-record"]) != 0 || len(meta["resolve-note"]) != 1 || !strings.Contains(meta["resolve-note"][0], cache):
		t.Errorf("refresh: %s: metadata %v", url, meta)
	}
	return meta
}

// checkLogged asserts that a record's WARC-Date is when the fake Google
// logged the request it records (within a loopback round trip).
func checkLogged(t *testing.T, served []gnewstest.Request, date time.Time, match func(gnewstest.Request) bool) {
	t.Helper()
	for _, q := range served {
		if match(q) {
			if d := q.Time.Sub(date); d < -time.Millisecond || d > 250*time.Millisecond {
				t.Errorf("%s %s: WARC-Date %v, Google logged it at %v", q.Method, q.Path, date, q.Time)
			}
			return
		}
	}
	t.Errorf("a recorded exchange (dated %v) that Google never logged", date)
}

func worldURLs(w *archivetest.World) []string {
	var out []string
	for _, a := range w.Articles {
		out = append(out, a.URL)
	}
	return out
}

// checkWACZPages exports the whole store as a WACZ: its pages are the
// articles' pages, no Google record among them, and its CDXJ index finds
// a full response for each. It returns every URL the index names.
func checkWACZPages(t *testing.T, st storage.Store, want []string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	sel, err := stored.Select(ctx, st, stored.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var pkg bytes.Buffer
	if _, err := export.WriteWACZ(ctx, sel, &pkg, export.WACZOptions{}); err != nil {
		t.Fatal(err)
	}
	files := wacztest.Files(t, pkg.Bytes())
	var pages []string
	for _, line := range strings.Split(strings.TrimSpace(string(files["pages/pages.jsonl"])), "\n") {
		var p struct {
			Format string `json:"format"`
			URL    string `json:"url"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("pages.jsonl line %q: %v", line, err)
		}
		if p.Format == "" {
			pages = append(pages, p.URL)
		}
	}
	slices.Sort(pages)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(pages, want) {
		t.Errorf("pages.jsonl lists %v, want the articles %v", pages, want)
	}
	indexed, all := map[string]bool{}, map[string]bool{}
	google := 0
	for _, line := range strings.Split(strings.TrimSpace(string(files["indexes/index.cdxj"])), "\n") {
		_, js, _ := strings.Cut(line, " {")
		var e struct {
			URL, Mime, Status string
		}
		if err := json.Unmarshal([]byte("{"+js), &e); err != nil {
			t.Fatalf("index line %q: %v", line, err)
		}
		all[e.URL] = true
		if e.Mime != "warc/revisit" && e.Status == "200" {
			indexed[e.URL] = true
		}
		if strings.Contains(e.URL, "/batchexecute") || strings.Contains(e.URL, "/rss/articles/") {
			google++
		}
	}
	for _, u := range want {
		if !indexed[u] {
			t.Errorf("the WACZ index has no response for the page %s", u)
		}
	}
	t.Logf("WACZ: %d pages; the index holds %d entries for Google's exchanges", len(pages), google)
	return all
}

// TestProvenanceMetadata: the metadata record says how each kind of
// resolution was made, and where its evidence is (or why there is none).
func TestProvenanceMetadata(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
	link := "https://news.google.com/rss/articles/CBMiXYZ?oc=5"
	for _, tc := range []struct {
		name    string
		art     *article
		records []string
		want    map[string][]string // fields that must be exactly these; nil: absent
		note    string              // in resolve-note
	}{
		{"batchexecute", &article{link: link, method: resolver.MethodBatchexecute, resolvedAt: at}, []string{"urn:uuid:a", "urn:uuid:b"},
			map[string][]string{"resolve-method": {"batchexecute"}, "resolved-at": {"2026-11-30T08:15:00Z"}, "resolve-record": {"<urn:uuid:a>", "<urn:uuid:b>"}, "google-news-url": {link}},
			"are the Google records of this WARC"},
		{"batchexecute, exchanges not kept", &article{link: link, method: resolver.MethodBatchexecute, resolvedAt: at}, nil,
			map[string][]string{"resolve-method": {"batchexecute"}, "resolve-record": nil}, "could not be kept"},
		{"cache", &article{link: link, method: resolver.MethodCache, resolvedAt: at}, nil,
			map[string][]string{"resolve-method": {"cache"}, "resolved-at": {"2026-11-30T08:15:00Z"}, "resolve-record": nil}, "earlier run"},
		{"cache entry without its time", &article{link: link, method: resolver.MethodCache}, nil,
			map[string][]string{"resolve-method": {"cache"}, "resolved-at": nil}, "when the cache knows"},
		{"offline", &article{link: link, method: resolver.MethodOffline}, nil,
			map[string][]string{"resolve-method": {"offline"}, "resolved-at": nil, "resolve-record": nil}, "no request was made"},
		{"short link", &article{link: "https://t.co/x", method: resolver.MethodRedirect, resolvedAt: at}, []string{"urn:uuid:a", "urn:uuid:b"},
			map[string][]string{"resolve-method": {"redirect"}, "via": {"https://t.co/x"}, "google-news-url": nil, "resolved-at": {"2026-11-30T08:15:00Z"}, "resolve-record": {"<urn:uuid:a>", "<urn:uuid:b>"}},
			"each hop is a request/response pair of this WARC"},
		{"short link, exchanges not kept", &article{link: "https://t.co/x", method: resolver.MethodRedirect, resolvedAt: at}, nil,
			map[string][]string{"resolve-method": {"redirect"}, "resolve-record": nil}, "could not be kept"},
		{"short link from the cache", &article{link: "https://t.co/x", method: resolver.MethodCache, resolvedAt: at}, nil,
			map[string][]string{"resolve-method": {"cache"}, "via": {"https://t.co/x"}, "resolved-at": {"2026-11-30T08:15:00Z"}, "resolve-record": nil}, "no exchange with the shortener"},
		{"direct", &article{link: "https://pub.example/a", method: "direct"}, nil,
			map[string][]string{"resolve-method": {"direct"}, "via": nil, "google-news-url": nil}, "publisher itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.art.url = "https://pub.example/a"
			var buf bytes.Buffer
			w, err := warc.NewWriter(&buf, warc.Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := &capturer{a: &Archiver{log: slog.New(slog.DiscardHandler)}}
			c.provenance(w, tc.art, nil, tc.records)
			w.Close()
			recs := readWholeRecords(t, buf.Bytes())
			if len(recs) != 2 || recs[1].Type != "metadata" || recs[1].URI != tc.art.url {
				t.Fatalf("records %+v, want warcinfo and one metadata record", recs)
			}
			f := metadataFields(recs[1].Payload)
			for name, want := range tc.want {
				if !slices.Equal(f[name], want) {
					t.Errorf("%s: %q, want %q", name, f[name], want)
				}
			}
			if len(f["resolve-note"]) != 1 || !strings.Contains(f["resolve-note"][0], tc.note) {
				t.Errorf("resolve-note %q, want one saying %q", f["resolve-note"], tc.note)
			}
		})
	}
}
