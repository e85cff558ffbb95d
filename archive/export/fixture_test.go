package export

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// archiveFixture is a generated archive: digests of Google News links that
// resolved to publisher URLs, with ok, blocked and failed articles, tags
// and dates (viewertest.Generate).
type archiveFixture struct {
	st  storage.Store
	gen *viewertest.Generated
}

func newArchive(t testing.TB, articles int) *archiveFixture {
	t.Helper()
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := viewertest.Generate(testContext(t), st, viewertest.GenerateOptions{Articles: articles, PerDigest: 4, Words: 80, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return &archiveFixture{st: st, gen: gen}
}

func (f *archiveFixture) sel(t testing.TB, filter stored.Filter) *stored.Selection {
	t.Helper()
	s, err := stored.Select(testContext(t), f.st, filter)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The phrase the recorded pages show, and their image's size.
const (
	phrase = "Recorded by the export test, replayed from the package"
	photoW = 160
	photoH = 90
)

// recordWARCs gives the first n ok articles a WARC, as capture recording
// does: their page, stylesheet and image fetched from a loopback publisher
// into articles/<slug>/capture.warc.gz, and their meta.json pointing at
// the page's URL. The publisher is closed before it returns: from then on
// only the archive has the pages. It returns the slugs given a WARC.
func (f *archiveFixture) recordWARCs(t testing.TB, n int) []string {
	t.Helper()
	ctx := testContext(t)
	img := image.NewRGBA(image.Rect(0, 0, photoW, photoH))
	for y := range photoH {
		for x := range photoW {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var photo bytes.Buffer
	if err := png.Encode(&photo, img); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/news/{slug}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title><link rel="stylesheet" href="/site.css"></head>
<body><h1>%s</h1><p>%s.</p><img id="photo" src="/photo.png" alt=""></body></html>`, r.PathValue("slug"), r.PathValue("slug"), phrase)
	})
	mux.HandleFunc("/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "h1 { color: rgb(40, 50, 60); }\n")
	})
	mux.HandleFunc("/photo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(photo.Bytes())
	})
	pub := httptest.NewServer(mux)
	defer pub.Close()

	var slugs []string
	for _, slug := range f.gen.Articles {
		if len(slugs) == n {
			break
		}
		if f.gen.Status[slug] != record.StatusOK {
			continue
		}
		m, err := record.ReadMeta(ctx, f.st, slug)
		if err != nil {
			t.Fatal(err)
		}
		pageURL := pub.URL + "/news/" + slug
		var file bytes.Buffer
		w, err := warc.NewWriter(&file, warc.Options{Filename: stored.WARCKey(slug, "")})
		if err != nil {
			t.Fatal(err)
		}
		client := warctest.Client()
		warctest.Get(t, client, w, pageURL)
		warctest.Get(t, client, w, pub.URL+"/site.css")
		warctest.Get(t, client, w, pub.URL+"/photo.png")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.st.Put(ctx, stored.WARCKey(slug, ""), bytes.NewReader(file.Bytes()), int64(file.Len()), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		m.URL, m.FinalURL = pageURL, pageURL
		if err := (record.Writer{Store: f.st}).PutMeta(ctx, *m); err != nil {
			t.Fatal(err)
		}
		slugs = append(slugs, slug)
	}
	if len(slugs) != n {
		t.Fatalf("only %d ok articles for %d WARCs", len(slugs), n)
	}
	return slugs
}
