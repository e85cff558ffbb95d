package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestArchiveRunsAtOnce is issue 10 item 6 through the binary: two and three
// `linkarc archive` processes at once on one store, a directory and MinIO,
// a first run and then --refresh, with publishers that serve a different
// page on every request. Each process exits 0; afterwards every meta.json,
// current and in history, matches its objects (record.Verify), each
// article has one current capture, and without --refresh each page was
// fetched once in all.
func TestArchiveRunsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs linkarc 20 times")
	}
	pages := loadPages(t, 6)
	for _, kind := range []string{"local", "minio"} {
		for _, n := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d processes", kind, n), func(t *testing.T) {
				w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 3, Articles: 12, Digests: 2, Shared: 3, Pages: pages})
				numberPages(w)
				var spec string
				var env []string
				var store storage.Store
				if kind == "local" {
					spec = filepath.Join(t.TempDir(), "store")
					var err error
					if store, err = storage.NewLocal(spec); err != nil {
						t.Fatal(err)
					}
				} else {
					spec = "s3://" + minioServer.NewBucket(t) + "/archive"
					env = minioServer.Env()
					store = openS3(t, spec)
				}
				for round, refresh := range []bool{false, true} {
					extra := []string{}
					if refresh {
						extra = append(extra, "--refresh")
					}
					before := pageRequests(w)
					cmds := make([]*exec.Cmd, n)
					outs := make([]*bytes.Buffer, n)
					for i := range cmds {
						cmds[i] = linkarcProcess(env, archiveArgs(w, spec, 20*time.Millisecond, extra...)...)
						outs[i] = &bytes.Buffer{}
						cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
					}
					for _, c := range cmds {
						if err := c.Start(); err != nil {
							t.Fatal(err)
						}
					}
					for i, c := range cmds {
						if err := c.Wait(); err != nil {
							t.Fatalf("round %d process %d: %v\n%s", round, i, err, outs[i])
						}
					}
					fetched := pageRequests(w) - before
					if !refresh && fetched != len(w.Articles) {
						t.Errorf("round %d: %d pages fetched by %d processes for %d articles, want each once", round, fetched, n, len(w.Articles))
					}
					c := checkArchive(t, store)
					if c.Articles != len(w.Articles) {
						t.Errorf("round %d: %d current captures, want %d", round, c.Articles, len(w.Articles))
					}
					for _, a := range w.Articles {
						slug := record.ArticleSlug(a.Title, a.Publisher)
						problems, err := record.Verify(context.Background(), store, slug)
						if err != nil {
							t.Fatal(err)
						}
						for _, p := range problems {
							t.Error(p)
						}
						if m := readMeta(t, store, slug); m.URL != a.URL || m.Status != record.StatusOK {
							t.Errorf("%s: %q %s", slug, m.URL, m.Status)
						}
					}
					t.Logf("round %d (refresh %v): %d processes at once, %d pages fetched, %d captures in history, every record matches its objects",
						round, refresh, n, fetched, c.History)
				}
			})
		}
	}
}

// numberPages makes every page served differ from the last (its first
// paragraph starts "Capture N."), so that objects of two captures under one
// meta.json cannot pass for one capture.
func numberPages(w *archivetest.World) {
	var n atomic.Int64
	for _, pub := range w.Publishers {
		pages := map[string]string{}
		for _, a := range w.Articles {
			if a.Host == pub {
				u, _ := url.Parse(a.URL)
				pages[u.Path] = string(a.Page.HTML)
			}
		}
		pub.SetHandler(func(rw http.ResponseWriter, r *http.Request) {
			page, ok := pages[r.URL.Path]
			if !ok {
				http.NotFound(rw, r)
				return
			}
			page = strings.Replace(page, "<p>", fmt.Sprintf("<p>Capture %d. ", n.Add(1)), 1)
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(rw, page)
		})
	}
}
