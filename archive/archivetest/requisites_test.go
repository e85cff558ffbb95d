package archivetest

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/requisite"
)

const extractionPages = "../../testdata/extraction"

// TestStripRequisites: no benchmark page names a requisite once stripped
// (the pipeline's own reader, requisite.FromHTML, finds none), and the
// article text is still there.
func TestStripRequisites(t *testing.T) {
	pages, err := LoadPages(extractionPages, 0)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, p := range pages {
		lim := requisite.Limits{MaxCount: 1 << 20}
		before, _ := requisite.FromHTML(p.HTML, "https://publisher.example/a/1", lim)
		named += len(before)
		sp := stripRequisites(p.HTML)
		stripped := sp.with("", "")
		if rs, _ := requisite.FromHTML(stripped, "https://publisher.example/a/1", lim); len(rs) > 0 {
			t.Errorf("%s: still names %d requisites, the first %v", p.ID, len(rs), rs[0])
		}
		if words := strings.Fields(p.Text); !bytes.Contains(stripped, []byte(words[len(words)/2])) {
			t.Errorf("%s: the word %q of the article is gone", p.ID, words[len(words)/2])
		}
	}
	if named == 0 {
		t.Fatal("the benchmark pages name no requisites: the test proves nothing")
	}
}

// TestWorldRequisites: in a world with requisites every page names the 13
// requisites of the package comment, all served by the world's loopback
// hosts with their type, each article's own images distinct from every
// other article's.
func TestWorldRequisites(t *testing.T) {
	pages, err := LoadPages(extractionPages, 3)
	if err != nil {
		t.Fatal(err)
	}
	font, err := os.ReadFile("../../testdata/capture/work-sans-300.woff2")
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorld(t, WorldOptions{Hosts: 2, Articles: 4, Digests: 1, Pages: pages, Requisites: true, Font: font})
	if len(w.AssetHosts) != 3 {
		t.Fatalf("%d asset hosts, want a CDN and 2 image hosts", len(w.AssetHosts))
	}
	hosts := map[string]bool{}
	for _, p := range append(slices.Clone(w.Publishers), w.AssetHosts...) {
		hosts[p.Host] = true
	}
	seen := map[string]string{} // own image body -> URL
	for _, a := range w.Articles {
		page := get(t, a.URL, "text/html")
		rs, _ := requisite.FromHTML(page, a.URL, requisite.Limits{})
		var all []requisite.Requisite
		for len(rs) > 0 {
			r := rs[0]
			rs = rs[1:]
			all = append(all, r)
			u, err := url.Parse(r.URL)
			if err != nil || !hosts[u.Host] {
				t.Fatalf("%s names %s, not on a host of the world", a.URL, r.URL)
			}
			body := get(t, r.URL, "")
			switch r.Kind {
			case requisite.Stylesheet:
				more, _ := requisite.FromCSS(body, r.URL, requisite.Limits{})
				rs = append(rs, more...)
			case requisite.Image, requisite.LeadImage, requisite.Icon:
				if _, _, err := image.DecodeConfig(bytes.NewReader(body)); err != nil {
					t.Errorf("%s: %v", r.URL, err)
				}
				if strings.HasSuffix(r.URL, ".jpg") {
					if other, dup := seen[string(body)]; dup {
						t.Errorf("%s serves the same bytes as %s", r.URL, other)
					}
					seen[string(body)] = r.URL
				}
			}
		}
		kinds := map[requisite.Kind]int{}
		for _, r := range all {
			kinds[r.Kind]++
		}
		want := map[requisite.Kind]int{requisite.Stylesheet: 3, requisite.Font: 1, requisite.Image: 7, requisite.LeadImage: 1, requisite.Icon: 1}
		if len(all) != 13 || !mapsEqual(kinds, want) {
			t.Errorf("%s: %d requisites by kind %v, want 13: %v", a.URL, len(all), kinds, want)
		}
		if !slices.ContainsFunc(all, func(r requisite.Requisite) bool { return strings.Contains(r.URL, "/1280/") }) {
			t.Errorf("%s: the srcset's 1280 px candidate is not chosen", a.URL)
		}
	}
	if n := len(seen); n != 4*len(w.Articles) {
		t.Errorf("%d distinct article images, want 4 per article", n)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// get fetches u (on loopback) and checks its status and, if given, the
// start of its Content-Type.
func get(t *testing.T, u, ctype string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
		t.Errorf("GET %s: Content-Type %q, want %s", u, resp.Header.Get("Content-Type"), ctype)
	}
	return body
}
