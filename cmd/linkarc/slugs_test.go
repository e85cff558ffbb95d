package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveLongSlugsAndDays runs `linkarc archive` over issue 12's long
// slugs and issue 10 item 7's reused slug: four digests whose front-matter
// slugs (lead headline and publisher) are over 100 bytes, one Cyrillic,
// each stored under its own slug with its lead article under the same
// slug, and day1/ and day2/ both with "slug: morning-news", both kept. A
// re-run changes no key and keeps each digest's archived_at.
func TestArchiveLongSlugsAndDays(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 6, Digests: 1, Pages: loadPages(t, 6)})
	leads := []struct{ title, publisher string }{
		{"Why security guarantees are so crucial and so thorny for Ukraine as talks on a ceasefire resume in Geneva", "The New York Times"},
		{"Гарантии безопасности для Украины: почему переговоры о прекращении огня снова зашли в тупик", "РБК"},
		{"Central banks across Europe hold rates steady as inflation cools faster than expected in the euro area", "Financial Times"},
		{"Scientists map the deep ocean floor in unprecedented detail using a fleet of autonomous underwater drones", "Reuters"},
	}
	dir := t.TempDir()
	write := func(name, slug, date string, items ...archivetest.WorldArticle) {
		t.Helper()
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: %q\ndate: %s\nslug: %q\n---\n<ol>", "Digest "+name, date, slug)
		for i, a := range items {
			title, publisher := a.Title, a.Publisher
			if i == 0 && len(leads) > 0 && strings.HasPrefix(name, "long") {
				l := leads[0]
				leads = leads[1:]
				title, publisher = l.title, l.publisher
			}
			fmt.Fprintf(&b, `<li><a href="%s">%s</a>&nbsp;&nbsp;<font color="#6f6f6f">%s</font></li>`, a.Link, title, publisher)
		}
		b.WriteString("</ol>\n")
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var long []string
	for i := range 4 {
		slug := record.ArticleSlug(leads[i].title, leads[i].publisher)
		if len(slug) <= 100 {
			t.Fatalf("lead %d: slug of %d bytes", i, len(slug))
		}
		long = append(long, slug)
	}
	for i := range 4 {
		write(fmt.Sprintf("long/%d.md", i), long[i], "2026-01-0"+fmt.Sprint(4+i), w.Articles[i])
	}
	write("day1/digest.md", "morning-news", "2026-01-04", w.Articles[4])
	write("day2/digest.md", "morning-news", "2026-01-05", w.Articles[5])

	storeDir := filepath.Join(t.TempDir(), "store")
	args := []string{"archive", "--store", storeDir, "--gnews-base", w.Google.NewsURL(), "--gnews-interval", "1ms",
		"--host-interval", "10ms", "--allow-private", "--progress", "plain", "--timeout", "20s", dir}
	if res := runLinkarc(t, nil, "", args...); res.code != exitOK {
		t.Fatalf("archive exit %d\n%s", res.code, res.stderr)
	}
	st, err := storage.NewLocal(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	srv := viewerOver(t, st)
	for _, slug := range long {
		var d record.DigestRecord
		readJSON(t, st, record.DigestKey(slug), &d)
		if d.Articles[0].Slug != slug {
			t.Errorf("digest %s: lead article slug %q, want the digest's", slug, d.Articles[0].Slug)
		}
		for _, p := range []string{"/digests/", "/articles/"} {
			if got := statusOf(t, srv.URL+p+url.PathEscape(slug)); got != 200 {
				t.Errorf("viewer %s%s: %d", p, slug, got)
			}
		}
	}
	var day1, day2 record.DigestRecord
	readJSON(t, st, record.DigestKey("morning-news"), &day1)
	readJSON(t, st, record.DigestKey("morning-news-2026-01-05"), &day2)
	if day1.Articles[0].URL != w.Articles[4].URL || day2.Articles[0].URL != w.Articles[5].URL {
		t.Errorf("day 1 lists %s, day 2 %s", day1.Articles[0].URL, day2.Articles[0].URL)
	}

	time.Sleep(5 * time.Millisecond)
	if res := runLinkarc(t, nil, "", args...); res.code != exitOK {
		t.Fatalf("re-run exit %d\n%s", res.code, res.stderr)
	}
	var keys []string
	st.List(context.Background(), record.DigestsPrefix, func(i storage.Info) error { keys = append(keys, i.Key); return nil })
	if len(keys) != 6 {
		t.Errorf("after a re-run: %d digest records %v, want 6", len(keys), keys)
	}
	var again record.DigestRecord
	readJSON(t, st, record.DigestKey("morning-news"), &again)
	if !again.ArchivedAt.Equal(day1.ArchivedAt) || again.UpdatedAt.IsZero() {
		t.Errorf("re-run: archived_at %s (was %s), updated_at %s", again.ArchivedAt, day1.ArchivedAt, again.UpdatedAt)
	}
}
