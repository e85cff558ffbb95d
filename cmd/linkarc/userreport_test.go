package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveSamePageOtherTitle is the user's report: a digest lists a
// page, and a later digest lists the same page (with a tracking parameter)
// under the title "Birds". The second run fetches nothing, stores no
// second article, and its digest record lists the slug the page already
// has.
func TestArchiveSamePageOtherTitle(t *testing.T) {
	pub := archivetest.StartPublisher(t, 211)
	page := pub.Add("/birds.html", fetchFaultArticle("Rare birds return to the marsh"))
	store := filepath.Join(t.TempDir(), "store")
	dir := t.TempDir()
	digest := func(name, title, link string) string {
		path := filepath.Join(dir, name, "digest.md")
		body := fmt.Sprintf("---\ntitle: %s\n---\n<ol><li><a href=%q>%s</a>&nbsp;&nbsp;<font>Marsh News</font></li></ol>\n", name, link, title)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	run := func(path string) {
		t.Helper()
		res := runLinkarc(t, nil, "", "archive", "--store", store, "--allow-private", "--host-interval", "5ms", "--progress", "none", path)
		if res.code != exitOK {
			t.Fatalf("archive %s: exit %d\n%s", path, res.code, res.stderr)
		}
	}
	run(digest("day1", "Rare birds return to the marsh", page))
	before := pub.Requests()
	run(digest("day2", "Birds", page+"?utm_source=newsletter"))
	if n := pub.Requests() - before; n != 0 {
		t.Errorf("the second run made %d requests to the publisher", n)
	}
	s, err := storage.NewLocal(store)
	if err != nil {
		t.Fatal(err)
	}
	metas := metasByURL(t, s)
	if len(metas) != 1 {
		t.Fatalf("stored %d articles, want 1: %v", len(metas), metas)
	}
	m := metas[page]
	if len(m.Digests) != 2 {
		t.Errorf("%s lists digests %v, want both", m.Slug, m.Digests)
	}
	for _, d := range m.Digests {
		rec, err := record.ReadDigest(t.Context(), s, d)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Articles[0].Slug; got != m.Slug {
			t.Errorf("digest %s lists %s, want %s", d, got, m.Slug)
		}
	}
}

// TestDryRunCreatesNothing: a dry run reads the store and writes nothing.
// A directory that does not exist is read as an empty archive and is not
// created; an existing one is left as it was.
func TestDryRunCreatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exists bool
	}{
		{"missing directory", false},
		{"empty directory", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "new", "archive")
			if tc.exists {
				if err := os.MkdirAll(store, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			res := runLinkarc(t, nil, "", "archive", "--store", store, "--dry-run", "--allow-private", "http://127.0.0.1:9/story")
			if res.code != exitOK || !strings.Contains(res.stdout, "fetch:    1 article on") {
				t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			if !tc.exists {
				if _, err := os.Stat(filepath.Dir(store)); !os.IsNotExist(err) {
					t.Errorf("the dry run created %s: %v", filepath.Dir(store), err)
				}
				if !strings.Contains(res.stderr, "does not exist yet") {
					t.Errorf("stderr does not say the store does not exist yet: %q", res.stderr)
				}
				return
			}
			entries, err := os.ReadDir(store)
			if err != nil || len(entries) != 0 {
				t.Errorf("the dry run wrote into %s: %v %v", store, entries, err)
			}
		})
	}
	// A bucket that does not exist is not created.
	bucket := "dry-run-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	res := runLinkarc(t, minioServer.Env(), "", "archive", "--store", "s3://"+bucket, "--dry-run", "--allow-private", "http://127.0.0.1:9/story")
	if res.code != exitOK {
		t.Fatalf("s3: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := storage.OpenExisting(t.Context(), "s3://"+bucket, minioServer.S3Config()); err == nil {
		t.Errorf("the dry run created the bucket %s", bucket)
	}
}

// TestRefreshRequisitesAlone: --refresh-requisites without --refresh
// recaptures nothing that is already archived ok, and says so, with the
// flag that would; with --refresh too, the page is captured again and
// nothing is said.
func TestRefreshRequisitesAlone(t *testing.T) {
	pub := archivetest.StartPublisher(t, 212)
	page := pub.Add("/heron.html", fetchFaultArticle("Herons nest early"))
	store := filepath.Join(t.TempDir(), "store")
	archive := func(flags ...string) result {
		t.Helper()
		args := append([]string{"archive", "--store", store, "--allow-private", "--host-interval", "5ms", "--progress", "none"}, flags...)
		res := runLinkarc(t, nil, "", append(args, page)...)
		if res.code != exitOK {
			t.Fatalf("%q: exit %d\n%s", flags, res.code, res.stderr)
		}
		return res
	}
	archive()
	const note = "--refresh-requisites: 1 article already archived ok was not captured again, so its requisites were not fetched again; add --refresh"
	for _, tc := range []struct {
		flags    []string
		note     bool
		requests bool
	}{
		{[]string{"--refresh-requisites"}, true, false},
		{[]string{"--refresh-requisites", "--dry-run"}, true, false},
		{[]string{"--refresh-requisites", "--refresh"}, false, true},
	} {
		before := pub.Requests()
		res := archive(tc.flags...)
		if got := strings.Contains(res.stderr, note); got != tc.note {
			t.Errorf("%q: note said %v, want %v\n%s", tc.flags, got, tc.note, res.stderr)
		}
		if got := pub.Requests() > before; got != tc.requests {
			t.Errorf("%q: requests made %v, want %v", tc.flags, got, tc.requests)
		}
	}
}

// TestCountsInTheSingular is the user's report: `linkarc archive
// --dry-run` on a digest of one link said "1 digests". A count of one
// reads in the singular, in the dry run and in the run's summary.
func TestCountsInTheSingular(t *testing.T) {
	pub := archivetest.StartPublisher(t, 213)
	page := pub.Add("/owl.html", fetchFaultArticle("An owl moves into the church tower"))
	path := filepath.Join(t.TempDir(), "digest.md")
	body := fmt.Sprintf("---\ntitle: Owls\n---\n<ol><li><a href=%q>An owl moves into the church tower</a>&nbsp;&nbsp;<font>Tower News</font></li></ol>\n", page)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	args := []string{"archive", "--store", store, "--allow-private", "--host-interval", "5ms", "--progress", "none"}
	res := runLinkarc(t, nil, "", append(args, "--dry-run", path)...)
	if res.code != exitOK {
		t.Fatalf("dry run: exit %d\n%s", res.code, res.stderr)
	}
	contains(t, res.stdout, "dry-run output", "nothing was requested: 1 digest, 1 link\n",
		"1 publisher link needs none;", "fetch:    1 article on 1 known host;")
	res = runLinkarc(t, nil, "", append(args, path)...)
	if res.code != exitOK {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	contains(t, summaryOf(res.stderr), "summary", "linkarc: 1 digest, 1 article in ")
}
