package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// revisitWorld is one publisher whose stories share a stylesheet (on a
// CDN) and an image (on an image host), each story archived by its own
// digest so that the test says which capture fetches them first.
type revisitWorld struct {
	*capWorld
	store  storage.Store
	digest map[string]string // story -> its digest file
	url    map[string]string // story -> its URL
}

const (
	revisitPhrase  = "A story whose stylesheet another capture fetched"
	revisitColor   = "rgb(40, 50, 60)"
	revisitPhotoW  = 160
	revisitPhotoH  = 90
	revisitStories = "abcd"
)

func newRevisitWorld(t *testing.T) *revisitWorld {
	t.Helper()
	w := &revisitWorld{
		capWorld: &capWorld{pubs: []*site{startSite(t, 2)}, cdn: startSite(t, 4), img: startSite(t, 5), dir: t.TempDir(),
			pageInterval: -1, assetInterval: -1},
		store:  localStore(t),
		digest: map[string]string{},
		url:    map[string]string{},
	}
	w.cdn.put("/style.css", "text/css", []byte("h1 { color: "+revisitColor+"; }\n"))
	w.img.put("/shared.png", "image/png", testPNG(t, revisitPhotoW, revisitPhotoH, 7))
	for i, id := range strings.Split(revisitStories, "") {
		page := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Story %[1]s</title>
<link rel="stylesheet" href="http://%[2]s/style.css"></head>
<body><article><h1>Story %[1]s</h1><p>%[4]s.</p><img id="photo" alt="" src="http://%[3]s/shared.png">
%[5]s</article></body></html>`, id, w.cdn.host, w.img.host, revisitPhrase, revisitText(id))
		u := w.pubs[0].put("/story/"+id+".html", "text/html; charset=utf-8", []byte(page))
		w.url[id] = u
		dir := t.TempDir()
		path, err := archivetest.WriteDigest(dir, "story-"+id+".md", "Story "+id, time.Date(2026, 1, 4+i, 0, 0, 0, 0, time.UTC),
			[]archivetest.DigestItem{{Title: "Story " + id, Publisher: "Publisher", Link: u}})
		if err != nil {
			t.Fatal(err)
		}
		w.digest[id] = path
	}
	return w
}

// revisitText is a story's body: enough paragraphs of plain prose for
// extraction to take it for an article.
func revisitText(id string) string {
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "<p>Paragraph %d of story %s tells how the council met on a wet Tuesday, argued about the bridge repairs, "+
			"heard the engineers explain why the old stone piers needed new footings, and agreed to publish the survey before "+
			"the spring floods, so that every household along the river could read what the work would cost and when it would end.</p>\n", i+1, id)
	}
	return b.String()
}

// run archives story id's digest.
func (w *revisitWorld) run(t *testing.T, id string, refresh bool, capture CaptureOptions) {
	t.Helper()
	rep, err := w.archiver(t, w.store, &sendTimes{}, capture, refresh).Run(context.Background(), []string{w.digest[id]})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[record.StatusOK] != 1 {
		t.Fatalf("story %s: counts %v, failures %+v", id, rep.Counts, rep.Failures)
	}
}

func (w *revisitWorld) meta(t *testing.T, id string) record.ArticleMeta {
	t.Helper()
	return metaForURL(t, w.store, w.url[id])
}

// checkPage checks that story id's page.html has the shared stylesheet
// and image embedded.
func (w *revisitWorld) checkPage(t *testing.T, id string) {
	t.Helper()
	m := w.meta(t, id)
	page := string(readObject(t, w.store, record.ArticleKey(m.Slug, record.PageFile)))
	if !strings.Contains(page, revisitColor) {
		t.Errorf("story %s: page.html lacks the shared stylesheet", id)
	}
	if !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Errorf("story %s: page.html lacks the shared image", id)
	}
}

// revisitsOf lists the revisit records of a WARC in the store.
func revisitsOf(t *testing.T, st storage.Store, key string) []stored.Revisit {
	t.Helper()
	revs, err := stored.ReadRevisits(bytes.NewReader(readObject(t, st, key)), warc.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return revs
}

// TestRevisitsAcrossHistory: story a fetches the shared stylesheet and
// image; story b records them as revisits of a's capture; a is then
// captured again with --refresh, which moves the capture holding the
// originals under a's history/. Every reader of revisits still finds them,
// through the index entry naming a's capture (slug and capture id):
// a's new page.html and that of a story c captured after; the resolver
// (stored.FindOriginal, LocateOriginal) names a's history WARC; and a WACZ
// of story b alone packages that WARC, so that ReplayWeb.page shows b with
// its stylesheet and image once every server is gone. Then
// --refresh-requisites fetches them again for story d, once, and the
// replaced index entry keeps the records b and c refer to.
func TestRevisitsAcrossHistory(t *testing.T) {
	w := newRevisitWorld(t)
	ctx := context.Background()

	w.run(t, "a", false, CaptureOptions{})
	w.run(t, "b", false, CaptureOptions{})
	a1 := w.meta(t, "a")
	b := w.meta(t, "b")
	if b.Requisites == nil || b.Requisites.Deduplicated != 2 || b.Requisites.Fetched != 0 {
		t.Fatalf("story b requisites %+v, want both deduplicated", b.Requisites)
	}
	ent, err := record.ReadRequisite(ctx, w.store, w.cdn.url("/style.css"))
	if err != nil {
		t.Fatal(err)
	}
	if ent.Slug != a1.Slug || ent.CaptureID != record.CaptureID(a1.FetchedAt) {
		t.Errorf("index entry names %s/%s, want a's capture %s/%s", ent.Slug, ent.CaptureID, a1.Slug, record.CaptureID(a1.FetchedAt))
	}

	// a again: its capture with the originals moves to history.
	w.run(t, "a", true, CaptureOptions{})
	a2 := w.meta(t, "a")
	if len(a2.History) != 1 || a2.History[0].CaptureID != record.CaptureID(a1.FetchedAt) {
		t.Fatalf("story a history %+v, want its first capture", a2.History)
	}
	w.checkPage(t, "a") // its own earlier capture holds them, now in history
	w.run(t, "c", false, CaptureOptions{})
	w.checkPage(t, "c")
	w.checkPage(t, "b")
	for _, s := range []*site{w.cdn, w.img} {
		for path, n := range s.allHits() {
			if path != "/robots.txt" && n != 1 {
				t.Errorf("%s%s fetched %d times, want once", s.host, path, n)
			}
		}
	}

	// The resolver, from b's revisits.
	history := stored.WARCKey(a1.Slug, record.CaptureID(a1.FetchedAt))
	revs := revisitsOf(t, w.store, stored.WARCKey(b.Slug, ""))
	var resolved int
	for _, rv := range revs {
		if rv.URL != w.cdn.url("/style.css") && rv.URL != w.img.url("/shared.png") {
			continue
		}
		ref, err := stored.FindOriginal(ctx, w.store, rv)
		if err != nil {
			t.Errorf("%s: %v", rv.URL, err)
			continue
		}
		key, err := stored.LocateOriginal(ctx, w.store, ref)
		if err != nil || key != history {
			t.Errorf("%s: located at %q (%v), want %s", rv.URL, key, err, history)
		}
		// An entry of an earlier version names the WARC key alone: found
		// by its record id among a's captures.
		key, err = stored.LocateOriginal(ctx, w.store, stored.OriginalRef{RecordID: ref.RecordID, TargetURI: ref.TargetURI, WARC: stored.WARCKey(a1.Slug, "")})
		if err != nil || key != history {
			t.Errorf("%s by its WARC key alone: located at %q (%v), want %s", rv.URL, key, err, history)
		}
		resolved++
	}
	if resolved != 2 {
		t.Errorf("story b: %d revisits of the shared requisites, want 2: %+v", resolved, revs)
	}

	// The WACZ of story b alone.
	pkg := exportStory(t, w.store, b.Slug, 1)

	// --refresh-requisites: d fetches them again, once; the entry keeps
	// the records b and c refer to.
	w.run(t, "d", false, CaptureOptions{RefreshRequisites: true})
	if n := w.cdn.hitsOf("/style.css"); n != 2 {
		t.Errorf("--refresh-requisites: the stylesheet fetched %d times in all, want 2", n)
	}
	d := w.meta(t, "d")
	if d.Requisites == nil || d.Requisites.Fetched != 2 {
		t.Errorf("story d requisites %+v, want both fetched again", d.Requisites)
	}
	ent2, err := record.ReadRequisite(ctx, w.store, w.cdn.url("/style.css"))
	if err != nil {
		t.Fatal(err)
	}
	if ent2.Slug != d.Slug || len(ent2.Previous) != 1 || ent2.Previous[0].RecordID != ent.RecordID {
		t.Errorf("replaced entry %+v, want d's record with a's first as previous (%s)", ent2, ent.RecordID)
	}
	w.checkPage(t, "d")
	exportStory(t, w.store, w.meta(t, "c").Slug, 1)

	// Replay b from its package, every server gone.
	for _, s := range w.sites() {
		s.srv.Close()
	}
	got := wacztest.Replay(t, pkg, w.url["b"], func(r wacztest.Replayed) bool {
		return strings.Contains(r.Text, revisitPhrase) && r.ImageWidth == revisitPhotoW && r.ImageHeight == revisitPhotoH && r.HeadingColor != ""
	})
	if got.HeadingColor != revisitColor {
		t.Errorf("replayed heading colour %q: the stylesheet (a revisit of another capture) was not applied", got.HeadingColor)
	}

	// With the capture holding the originals gone, b still exports,
	// its two revisits counted as without an original.
	if err := w.store.Delete(ctx, history); err != nil {
		t.Fatal(err)
	}
	sel, err := stored.Select(ctx, w.store, stored.Filter{Digests: []string{digestOf(t, w.store, b.Slug)}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := export.WriteWACZ(ctx, sel, io.Discard, export.WACZOptions{})
	if err != nil || rep.Articles != 1 || rep.Originals != 0 || rep.MissingOriginals != 2 {
		t.Errorf("export with the originals gone: %+v, %v; want 2 missing originals", rep, err)
	}
}

// digestOf is the slug of the digest listing an article.
func digestOf(t *testing.T, st storage.Store, slug string) string {
	t.Helper()
	ctx := context.Background()
	var digest string
	err := st.List(ctx, record.DigestsPrefix, func(info storage.Info) error {
		s, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, record.DigestsPrefix), ".json")
		if !ok {
			return nil
		}
		d, err := record.ReadDigestAll(ctx, st, s)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(d.Articles, func(a record.DigestArticle) bool { return a.Slug == slug }) {
			digest = s
		}
		return nil
	})
	if err != nil || digest == "" {
		t.Fatalf("no digest lists %s (%v)", slug, err)
	}
	return digest
}

// exportStory writes the WACZ of the digest listing one article and
// checks that it holds the WARCs of the originals its revisits refer to.
func exportStory(t *testing.T, st storage.Store, slug string, originals int) []byte {
	t.Helper()
	ctx := context.Background()
	sel, err := stored.Select(ctx, st, stored.Filter{Digests: []string{digestOf(t, st, slug)}})
	if err != nil {
		t.Fatal(err)
	}
	var pkg bytes.Buffer
	rep, err := export.WriteWACZ(ctx, sel, &pkg, export.WACZOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Articles != 1 || rep.Originals != originals || rep.MissingOriginals != 0 {
		t.Errorf("export of %s: report %+v, want 1 article and %d originals", slug, rep, originals)
	}
	checkWACZ(t, pkg.Bytes())
	return pkg.Bytes()
}

// checkWACZ checks a package: datapackage.json's hashes match its files,
// and its CDXJ index finds a full response (not only a revisit) for the
// shared stylesheet and image, in a WARC the package holds.
func checkWACZ(t *testing.T, pkg []byte) {
	t.Helper()
	files := wacztest.Files(t, pkg)
	var manifest struct {
		Resources []struct {
			Path, Hash string
			Bytes      int
		}
	}
	if err := json.Unmarshal(files["datapackage.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest.Resources) != len(files)-2 { // all but datapackage.json and datapackage-digest.json
		t.Errorf("datapackage.json lists %d files of %d", len(manifest.Resources), len(files))
	}
	for _, r := range manifest.Resources {
		sum := sha256.Sum256(files[r.Path])
		if r.Hash != "sha256:"+hex.EncodeToString(sum[:]) || r.Bytes != len(files[r.Path]) {
			t.Errorf("datapackage.json: %s %s (%d bytes) does not match the file", r.Path, r.Hash, r.Bytes)
		}
	}
	full := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(files["indexes/index.cdxj"])), "\n") {
		_, js, _ := strings.Cut(line, " {")
		var e struct{ URL, Mime, Filename string }
		if err := json.Unmarshal([]byte("{"+js), &e); err != nil {
			t.Fatalf("index line %q: %v", line, err)
		}
		if files["archive/"+e.Filename] == nil {
			t.Errorf("index line %q: no such WARC in the package", line)
		}
		if e.Mime != "warc/revisit" {
			full[path.Base(e.URL)] = true
		}
	}
	for _, name := range []string{"style.css", "shared.png"} {
		if !full[name] {
			t.Errorf("the package's index has no full response for %s:\n%s", name, files["indexes/index.cdxj"])
		}
	}
}
