package archive

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

func readDigest(t *testing.T, store storage.Store, key string) *record.DigestRecord {
	t.Helper()
	d, err := record.ReadDigest(context.Background(), store, key)
	if err != nil {
		t.Fatalf("digest %s: %v", key, err)
	}
	return d
}

func digestKeysIn(t *testing.T, store storage.Store) []string {
	t.Helper()
	var keys []string
	err := store.List(context.Background(), record.DigestsPrefix, func(info storage.Info) error {
		keys = append(keys, strings.TrimSuffix(strings.TrimPrefix(info.Key, record.DigestsPrefix), ".json"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func articleURLs(d *record.DigestRecord) []string {
	var out []string
	for _, a := range d.Articles {
		out = append(out, a.URL[strings.LastIndexByte(a.URL, '/'):])
	}
	return out
}

// TestDigestListingsKept is issue 10 item 7 and issue 13's archived_at:
// day1/ and day2/ both have "slug: morning-news". Archived one after the
// other, or in one run, each keeps its own record: day 1's listing is
// never replaced. A re-run keeps each record's key and first archived_at
// and sets updated_at.
func TestDigestListingsKept(t *testing.T) {
	sw := newSlugWorld(t, "/a/1", "/a/2", "/a/3", "/a/4")
	day1 := []slugItem{{"First story", "Paper", "/a/1"}, {"Second story", "Paper", "/a/2"}}
	day2 := []slugItem{{"Third story", "Paper", "/a/3"}, {"Fourth story", "Paper", "/a/4"}}
	tests := []struct {
		name         string
		date1, date2 string
		together     bool
		key2         string // day 2's key
	}{
		{"dated, one run after the other", "2026-01-04", "2026-01-05", false, "morning-news-2026-01-05"},
		{"dated, in one run", "2026-01-04", "2026-01-05", true, "morning-news-2026-01-05"},
		{"undated, one run after the other", "", "", false, ""},
		{"undated, in one run", "", "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := localStore(t)
			dir := t.TempDir()
			p1 := writeSlugDigest(t, dir, "day1/digest.md", "morning-news", tt.date1, sw.pub, day1)
			p2 := writeSlugDigest(t, dir, "day2/digest.md", "morning-news", tt.date2, sw.pub, day2)
			if tt.together {
				sw.run(t, store, p1, p2)
			} else {
				sw.run(t, store, p1)
				sw.run(t, store, p2)
			}
			keys := digestKeysIn(t, store) // in key order: "morning-news-…" sorts before "morning-news.json"
			if len(keys) != 2 || keys[1] != "morning-news" {
				t.Fatalf("digest keys %v, want morning-news and day 2's", keys)
			}
			key2 := keys[0]
			if tt.key2 != "" && key2 != tt.key2 {
				t.Errorf("day 2's key %q, want %q", key2, tt.key2)
			}
			if !strings.HasPrefix(key2, "morning-news-") || !record.ValidSlug(key2) {
				t.Errorf("day 2's key %q", key2)
			}
			d1, d2 := readDigest(t, store, "morning-news"), readDigest(t, store, key2)
			if got := strings.Join(articleURLs(d1), " "); got != "/1 /2" {
				t.Errorf("day 1 lists %s, want /1 /2", got)
			}
			if got := strings.Join(articleURLs(d2), " "); got != "/3 /4" {
				t.Errorf("day 2 lists %s, want /3 /4", got)
			}
			if d1.Source != "day1/digest.md" || d2.Source != "day2/digest.md" {
				t.Errorf("sources %q %q", d1.Source, d2.Source)
			}
			m, err := record.ReadMeta(context.Background(), store, record.ArticleSlug("Third story", "Paper"))
			if err != nil || strings.Join(m.Digests, " ") != key2 {
				t.Errorf("day 2's article lists digests %v (%v), want [%s]", m.Digests, err, key2)
			}

			// A re-run, from another working directory, of both.
			time.Sleep(10 * time.Millisecond)
			rel1, _ := filepath.Rel(dir, p1)
			t.Chdir(dir)
			sw.run(t, store, p2, rel1)
			if again := digestKeysIn(t, store); strings.Join(again, " ") != strings.Join(keys, " ") {
				t.Fatalf("re-run: keys %v, were %v", again, keys)
			}
			for _, before := range []*record.DigestRecord{d1, d2} {
				after := readDigest(t, store, before.Slug)
				if !after.ArchivedAt.Equal(before.ArchivedAt) || !after.UpdatedAt.After(before.ArchivedAt) {
					t.Errorf("%s re-run: archived_at %s (was %s), updated_at %s: want archived_at kept and updated_at later",
						before.Slug, after.ArchivedAt, before.ArchivedAt, after.UpdatedAt)
				}
			}
		})
	}
}

// TestLongDigestSlugs is issue 12 "Slugs that are cut short": four digests
// whose front-matter slugs (their lead headline and publisher) are longer
// than 100 bytes, one Cyrillic, are stored under those slugs, and each
// lead article's slug is its digest's.
func TestLongDigestSlugs(t *testing.T) {
	sw := newSlugWorld(t, "/l/1", "/l/2", "/l/3", "/l/4")
	leads := []slugItem{
		{"Why security guarantees are so crucial and so thorny for Ukraine as talks on a ceasefire resume in Geneva this week", "The New York Times", "/l/1"},
		{"Гарантии безопасности для Украины: почему переговоры о прекращении огня снова зашли в тупик", "РБК", "/l/2"},
		{strings.Repeat("Long headline words ", 11), "Publisher of record", "/l/3"},
		{"Central banks across Europe hold rates steady as inflation cools faster than expected in the euro area", "Financial Times", "/l/4"},
	}
	store := localStore(t)
	dir := t.TempDir()
	var roots, slugs []string
	for i, lead := range leads {
		slug := record.ArticleSlug(lead.title, lead.publisher)
		if len(slug) <= 100 || !record.ValidSlug(slug) {
			t.Fatalf("lead %d: slug %q (%d bytes) is not a long valid slug", i, slug, len(slug))
		}
		slugs = append(slugs, slug)
		roots = append(roots, writeSlugDigest(t, dir, filepath.Join("d", string(rune('a'+i))+".md"), slug, "2026-01-0"+string(rune('4'+i)), sw.pub, []slugItem{lead}))
	}
	sw.run(t, store, roots...)
	for i, slug := range slugs {
		d := readDigest(t, store, slug)
		if d.Articles[0].Slug != slug {
			t.Errorf("digest %d: lead article slug %q, want the digest's %q", i, d.Articles[0].Slug, slug)
		}
		if _, err := record.ReadMeta(context.Background(), store, slug); err != nil {
			t.Errorf("digest %d: lead article: %v", i, err)
		}
	}
}

// TestLegacySlugKept: an article stored by an earlier version under its
// 100-byte slug keeps it; no second copy appears under the longer slug.
func TestLegacySlugKept(t *testing.T) {
	sw := newSlugWorld(t, "/old/1")
	item := slugItem{"Гарантии безопасности для Украины: почему переговоры о прекращении огня снова зашли в тупик", "РБК", "/old/1"}
	legacy, ok := record.LegacyArticleSlug(item.title, item.publisher)
	if !ok {
		t.Fatal("no legacy slug")
	}
	store := localStore(t)
	dir := t.TempDir()
	sw.run(t, store, writeSlugDigest(t, dir, "a.md", "", "2026-01-04", sw.pub, []slugItem{item}))
	// Move it where an earlier version would have put it.
	now := record.ArticleSlug(item.title, item.publisher)
	m, err := record.ReadMeta(context.Background(), store, now)
	if err != nil {
		t.Fatal(err)
	}
	m.Slug = legacy
	if err := (record.Writer{Store: store}).PutMeta(context.Background(), *m); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{record.RawFile, record.ReadableFile, record.TextFile, record.MetaFile} {
		rc, err := store.Get(context.Background(), record.ArticleKey(now, name))
		if err != nil {
			t.Fatal(err)
		}
		if name != record.MetaFile {
			if err := store.Put(context.Background(), record.ArticleKey(legacy, name), rc, -1, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
		store.Delete(context.Background(), record.ArticleKey(now, name))
	}
	rep := sw.run(t, store, writeSlugDigest(t, dir, "b.md", "", "2026-01-05", sw.pub, []slugItem{item}))
	if rep.Unchanged != 1 {
		t.Errorf("re-run: %d unchanged, want 1", rep.Unchanged)
	}
	urls := storedURLs(t, store)
	if len(urls) != 1 || urls[legacy] == "" {
		t.Fatalf("articles %v, want the one under its legacy slug %q", urls, legacy)
	}
}
