package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// slugItem is a digest item of the slug tests: a title, a publisher name and
// the publisher path it links to.
type slugItem struct{ title, publisher, path string }

// writeSlugDigest writes a digest file listing items at pub, with the
// front-matter slug and date given (either may be empty).
func writeSlugDigest(t *testing.T, dir, name, slug, date string, pub *archivetest.Publisher, items []slugItem) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %q\n", "Digest "+name)
	if date != "" {
		fmt.Fprintf(&b, "date: %s\n", date)
	}
	if slug != "" {
		fmt.Fprintf(&b, "slug: %q\n", slug)
	}
	b.WriteString("---\n<ol>")
	for _, it := range items {
		fmt.Fprintf(&b, `<li><a href="%s">%s</a>&nbsp;&nbsp;<font color="#6f6f6f">%s</font></li>`,
			"http://"+pub.Host+it.path, it.title, it.publisher)
	}
	b.WriteString("</ol>\n")
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// slugWorld is one publisher serving pages at /a/A, /a/B, /a/C... and an
// archiver factory over a store.
type slugWorld struct {
	w   *archivetest.World
	pub *archivetest.Publisher
}

func newSlugWorld(t *testing.T, paths ...string) *slugWorld {
	t.Helper()
	pages := worldPages(t, 3)
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: pages})
	pub := w.Publishers[0]
	for i, p := range paths {
		pub.Add(p, pages[i%len(pages)].HTML)
	}
	return &slugWorld{w: w, pub: pub}
}

func (sw *slugWorld) run(t *testing.T, store storage.Store, roots ...string) *Report {
	t.Helper()
	a := newWorldArchiver(t, sw.w, store, Options{}, nil, nil)
	rep, err := a.Run(context.Background(), roots)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// key is the identity the planner gives the article at path.
func (sw *slugWorld) key(path string) string {
	return "url:" + weburl.Canonical("http://"+sw.pub.Host+path)
}

func hex16(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func hex8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// storedURLs maps each current article's slug to the URL its meta.json
// names, and fails t if any article has history (nothing was overwritten).
func storedURLs(t *testing.T, store storage.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := store.List(context.Background(), record.ArticlesPrefix, func(info storage.Info) error {
		rest := strings.TrimPrefix(info.Key, record.ArticlesPrefix)
		slug, name, _ := strings.Cut(rest, "/")
		if strings.HasPrefix(name, record.HistoryDir+"/") {
			t.Errorf("%s: an article has history; a collision moved it aside", info.Key)
		}
		if name != record.MetaFile {
			return nil
		}
		m, err := record.ReadMeta(context.Background(), store, slug)
		if err != nil {
			return err
		}
		out[slug] = strings.TrimPrefix(m.URL, "http://")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSlugCollisionsNeverOverwrite is issue 10 item 5: items A ("Story",
// "Paper", /a/A) and B ("Story", "Paper", /a/B) collide, and C's publisher
// is made so that C's own slug is the slug B's collision gives (the 16
// hex digits of today's suffix, or the 8 of earlier versions'). Whatever
// the order, within one run or across runs, every article keeps its own
// meta.json: none is overwritten or moved to history.
func TestSlugCollisionsNeverOverwrite(t *testing.T) {
	sw := newSlugWorld(t, "/a/A", "/a/B", "/a/C", "/a/D")
	a := slugItem{"Story", "Paper", "/a/A"}
	b := slugItem{"Story", "Paper", "/a/B"}
	c := slugItem{"Story", "Paper " + hex16(sw.key("/a/B")), "/a/C"}
	d := slugItem{"Story", "Paper " + hex8(sw.key("/a/B")), "/a/D"} // the 8-digit form of earlier versions
	tests := []struct {
		name string
		runs [][]slugItem // one run per entry, in order
	}{
		{"A B C in one run", [][]slugItem{{a, b, c}}},
		{"A C B in one run", [][]slugItem{{a, c, b}}},
		{"C B A in one run", [][]slugItem{{c, b, a}}},
		{"C then A B", [][]slugItem{{c}, {a, b}}},
		{"A B then C", [][]slugItem{{a, b}, {c}}},
		{"C D then A B then A B C D", [][]slugItem{{c, d}, {a, b}, {a, b, c, d}}},
		{"A B D C", [][]slugItem{{a, b, d, c}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := localStore(t)
			dir := t.TempDir()
			want := map[string]bool{}
			var slugs map[string]string
			for i, items := range tt.runs {
				path := writeSlugDigest(t, dir, fmt.Sprintf("run%d/digest.md", i), "", "2026-01-04", sw.pub, items)
				rep := sw.run(t, store, path)
				for _, it := range items {
					want[sw.pub.Host+it.path] = true
				}
				if rep.Counts[record.StatusOK] != len(items) {
					t.Fatalf("run %d: %d ok of %d: %+v", i, rep.Counts[record.StatusOK], len(items), rep.Counts)
				}
				slugs = storedURLs(t, store)
				got := map[string]bool{}
				for slug, u := range slugs {
					if got[u] {
						t.Fatalf("run %d: %s stored twice: %v", i, u, slugs)
					}
					got[u] = true
					if !record.ValidSlug(slug) {
						t.Errorf("slug %q is not valid", slug)
					}
				}
				for u := range want {
					if !got[u] {
						t.Fatalf("run %d: %s has no meta.json of its own (overwritten): %v", i, u, slugs)
					}
				}
			}
			// A re-run of everything changes no slug and stores nothing anew.
			var all []slugItem
			for _, items := range tt.runs {
				all = append(all, items...)
			}
			path := writeSlugDigest(t, dir, "again/digest.md", "", "2026-01-05", sw.pub, all)
			rep := sw.run(t, store, path)
			if rep.Unchanged != len(want) {
				t.Errorf("re-run: %d unchanged of %d", rep.Unchanged, len(want))
			}
			if again := storedURLs(t, store); fmt.Sprint(again) != fmt.Sprint(slugs) {
				t.Errorf("re-run changed the slugs:\n%v\n%v", slugs, again)
			}
			checkConsistent(t, store)
		})
	}
}
