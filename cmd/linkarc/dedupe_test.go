package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// olderStoreWithDuplicates archives a small world with `linkarc archive`
// into spec, then, as versions before the URL index did, archives two of
// its pages a second time from a digest that gives them other titles. It
// returns the world and the slugs of the second copies.
func olderStoreWithDuplicates(t *testing.T, env []string, spec string) (*archivetest.World, []string) {
	t.Helper()
	ctx := context.Background()
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 4, Digests: 1, Pages: loadPages(t, 4)})
	if res := runLinkarc(t, env, "", archiveArgs(w, spec, time.Millisecond)...); res.code != exitOK {
		t.Fatalf("archive: exit %d\n%s", res.code, res.stderr)
	}
	st, err := storage.Open(ctx, spec, s3ConfigOf(env))
	if err != nil {
		t.Fatal(err)
	}
	var index []string
	if err := st.List(ctx, record.URLIndexPrefix, func(info storage.Info) error { index = append(index, info.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range index {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	var items []archivetest.DigestItem
	var dups []string
	for _, a := range w.Articles[:2] {
		title := fmt.Sprintf("Again: %s", a.Title)
		items = append(items, archivetest.DigestItem{Title: title, Publisher: a.Publisher, Link: a.Link})
		dups = append(dups, record.ArticleSlug(title, a.Publisher))
	}
	dir := t.TempDir()
	if _, err := archivetest.WriteDigest(dir, "later.md", "Later", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
	args := archiveArgs(w, spec, time.Millisecond)
	args[len(args)-1] = dir
	if res := runLinkarc(t, env, "", args...); res.code != exitOK {
		t.Fatalf("archive of the later digest: exit %d\n%s", res.code, res.stderr)
	}
	for _, d := range dups {
		if _, err := record.ReadMeta(ctx, st, d); err != nil {
			t.Fatalf("the older store should hold %s: %v", d, err)
		}
	}
	return w, dups
}

func s3ConfigOf(env []string) storage.S3Config { return storage.S3ConfigFromEnv(envLookup(env)) }

// TestDedupeCommand: `linkarc dedupe --dry-run` prints what it would
// merge and writes nothing; `linkarc dedupe` merges, says what and how to
// inspect it, and a second run finds nothing; the old addresses redirect
// in the viewer; on a directory and on MinIO.
func TestDedupeCommand(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  func(t *testing.T) ([]string, string)
	}{
		{"local", func(t *testing.T) ([]string, string) { return nil, filepath.Join(t.TempDir(), "archive") }},
		{"minio", func(t *testing.T) ([]string, string) {
			return minioServer.Env(), "s3://" + minioServer.NewBucket(t) + "/archive"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			env, spec := tt.env(t)
			w, dups := olderStoreWithDuplicates(t, env, spec)
			st, err := storage.Open(ctx, spec, s3ConfigOf(env))
			if err != nil {
				t.Fatal(err)
			}
			before := storeKeys(t, st)

			dry := runLinkarc(t, env, "", "dedupe", "--dry-run", "--store", spec)
			if dry.code != exitOK {
				t.Fatalf("dry run: exit %d\n%s", dry.code, dry.stderr)
			}
			for _, want := range []string{"6 articles scanned; 2 URLs held by more than one article; 2 articles would be merged into 2 kept articles, 2 captures would be copied",
				"1 digest record (2 items) would be pointed at the kept articles", "dry run: nothing was written"} {
				if !strings.Contains(dry.stderr, want) {
					t.Errorf("dry run's summary lacks %q:\n%s", want, dry.stderr)
				}
			}
			for _, d := range dups {
				if !strings.Contains(dry.stdout, "  merge  "+d+" ") {
					t.Errorf("dry run's plan does not name %s:\n%s", d, dry.stdout)
				}
			}
			if after := storeKeys(t, st); after != before {
				t.Error("the dry run wrote to the store")
			}

			res := runLinkarc(t, env, "", "dedupe", "--store", spec)
			if res.code != exitOK {
				t.Fatalf("dedupe: exit %d\n%s", res.code, res.stderr)
			}
			for i, a := range w.Articles[:2] {
				kept := record.ArticleSlug(a.Title, a.Publisher)
				for _, want := range []string{"  keep   " + kept + " (first archived ", "  merged " + dups[i] + " (first archived ", "now in " + kept + "'s history: "} {
					if !strings.Contains(res.stdout, want) {
						t.Errorf("output lacks %q:\n%s", want, res.stdout)
					}
				}
			}
			for _, want := range []string{"2 articles merged into 2 kept articles", "nothing was deleted", "Inspect: linkarc serve --store " + spec, "Undo by hand"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("summary lacks %q:\n%s", want, res.stderr)
				}
			}
			again := runLinkarc(t, env, "", "dedupe", "--store", spec)
			if again.code != exitOK || !strings.Contains(again.stderr, "no URL is held by more than one article") {
				t.Errorf("second run: exit %d\n%s", again.code, again.stderr)
			}

			srv := viewerOver(t, st)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for i, a := range w.Articles[:2] {
				resp, err := client.Get(srv.URL + "/articles/" + dups[i])
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if want := "/articles/" + record.ArticleSlug(a.Title, a.Publisher); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
					t.Errorf("/articles/%s: %d to %q, want 301 to %s", dups[i], resp.StatusCode, resp.Header.Get("Location"), want)
				}
			}
		})
	}
}

// TestDedupeUsage: arguments and stores dedupe refuses, each with exit
// status 2 and a line saying why.
func TestDedupeUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"dedupe", "--store", missing, "extra"}, `linkarc dedupe: unexpected arguments ["extra"]`},
		{[]string{"dedupe", "--store", missing}, "linkarc dedupe: no archive"},
		{[]string{"dedupe", "--dry-run", "--store", missing}, "linkarc dedupe: no archive"},
		{[]string{"dedupe", "--dry-run=maybe"}, "linkarc dedupe: -dry-run"},
	} {
		res := runLinkarc(t, nil, "", tt.args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%q: exit %d, want 2 with %q\n%s", tt.args, res.code, tt.want, res.stderr)
		}
	}
}

// storeKeys is every key of st and its size, one a line.
func storeKeys(t *testing.T, st storage.Store) string {
	t.Helper()
	var b strings.Builder
	if err := st.List(context.Background(), "", func(info storage.Info) error {
		fmt.Fprintf(&b, "%s %d\n", info.Key, info.Size)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
