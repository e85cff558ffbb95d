package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveShortLinks: `linkarc archive --shortener HOST` resolves a
// link on that host before fetching: the article is stored under its
// publisher URL, resolved by redirect, with the shortener's two hops in
// its WARC, and the hops to the shortener are spaced by --host-interval.
// The dry run then finds the link in the cache; `linkarc resolve` answers
// it without a request to the publisher; a --shortener that is not a host
// name is a usage error.
func TestArchiveShortLinks(t *testing.T) {
	const interval = 40 * time.Millisecond
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 1, Articles: 1, Digests: 1, Pages: smallPages(t, 2)})
	story := w.Publishers[0].Add("/news/short.html", smallPages(t, 2)[1].HTML)
	short := archivetest.StartShortener(t, 202, map[string]archivetest.Hop{
		"/s": {Status: http.StatusMovedPermanently, To: "/s2"}, "/s2": {Status: http.StatusFound, To: story},
	})
	link := "http://" + short.Host + "/s"
	if _, err := archivetest.WriteDigest(w.Dir, "900_short.md", "Short", time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC),
		[]archivetest.DigestItem{{Title: "Short story", Publisher: "Publisher 0", Link: link}}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	res := runLinkarc(t, nil, "", archiveArgs(w, dir, interval, "--progress", "none", "--shortener", "127.0.0.202")...)
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := readMeta(t, store, record.ArticleSlug("Short story", "Publisher 0"))
	if m.Status != record.StatusOK || m.URL != story || m.ResolveMethod != "redirect" {
		t.Errorf("article: %s url %q method %q, want ok at %s by redirect", m.Status, m.URL, m.ResolveMethod, story)
	}
	rc, err := store.Get(context.Background(), record.ArticleKey(m.Slug, record.WARCFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var hops []string
	for rd := warc.NewReader(rc, warc.ReaderOptions{HeadersOnly: true}); ; {
		rec, err := rd.Next()
		if err != nil {
			break
		}
		if rec.Type == "response" && strings.HasPrefix(rec.TargetURI(), "http://"+short.Host) {
			hops = append(hops, rec.TargetURI())
		}
	}
	if want := []string{link, link + "2"}; strings.Join(hops, " ") != strings.Join(want, " ") {
		t.Errorf("shortener responses in the WARC: %q, want %q", hops, want)
	}
	arr := short.Arrivals(true)
	for i := 1; i < len(arr); i++ {
		if gap := arr[i].At.Sub(arr[i-1].At); gap < interval {
			t.Errorf("requests to the shortener %v apart, want at least --host-interval %v", gap, interval)
		}
	}

	dry := runLinkarc(t, nil, "", archiveArgs(w, dir, interval, "--dry-run", "--shortener", "127.0.0.202")...)
	if dry.code != exitOK || !strings.Contains(dry.stdout, "short links: 1 from the cache, 0 to follow") {
		t.Errorf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}

	before := w.Publishers[0].Requests()
	out := runLinkarc(t, nil, "", "resolve", "--no-cache", "--allow-private", "--shortener", "127.0.0.202", link)
	if out.code != exitOK || strings.TrimSpace(out.stdout) != story {
		t.Errorf("resolve: exit %d, %q, want %s\n%s", out.code, out.stdout, story, out.stderr)
	}
	if n := w.Publishers[0].Requests() - before; n != 0 {
		t.Errorf("resolve asked the publisher %d times", n)
	}

	bad := runLinkarc(t, nil, "", archiveArgs(w, dir, interval, "--shortener", "https://lnk.example.com/")...)
	if bad.code != exitUsage || !bytes.Contains([]byte(bad.stderr), []byte("not a host name")) {
		t.Errorf("--shortener with a URL: exit %d\n%s", bad.code, bad.stderr)
	}
}
