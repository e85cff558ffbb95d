package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/archive/wacz/wacztest"
	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// TestWriteWACZ exports the captures of an archive where two articles have
// a WARC and the rest were captured before WARC recording: the package
// holds the two WARCs, one page each at its page's URL, and a manifest
// whose hashes match its files; every other article is reported with
// NoWARCReason. ReplayWeb.page then replays an exported article from the
// package alone (its publisher is gone) with its text, stylesheet and
// image.
func TestWriteWACZ(t *testing.T) {
	f := newArchive(t, 8)
	ctx := testContext(t)
	withWARC := f.recordWARCs(t, 2)

	var pkg bytes.Buffer
	rep, err := WriteWACZ(ctx, f.sel(t, stored.Filter{}), &pkg, WACZOptions{Title: "test export"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Articles != 2 || len(rep.Skipped) != len(f.gen.Articles)-2 || rep.Bytes != int64(pkg.Len()) {
		t.Errorf("report %+v", rep)
	}
	for _, s := range rep.Skipped {
		if s.Reason != NoWARCReason || slices.Contains(withWARC, s.Slug) {
			t.Errorf("skipped %+v", s)
		}
	}

	files := wacztest.Files(t, pkg.Bytes())
	for _, slug := range withWARC {
		if files["archive/"+slug+".warc.gz"] == nil {
			t.Errorf("the package lacks archive/%s.warc.gz", slug)
		}
	}
	var manifest struct {
		Resources []struct {
			Path, Hash string
			Bytes      int
		}
	}
	if err := json.Unmarshal(files["datapackage.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	for _, r := range manifest.Resources {
		sum := sha256.Sum256(files[r.Path])
		if r.Hash != "sha256:"+hex.EncodeToString(sum[:]) || r.Bytes != len(files[r.Path]) {
			t.Errorf("datapackage.json: %s %s (%d bytes) does not match the file", r.Path, r.Hash, r.Bytes)
		}
	}
	var pages []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(files["pages/pages.jsonl"]))
	for sc.Scan() {
		var p map[string]any
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p["url"] != nil {
			pages = append(pages, p)
		}
	}
	if len(pages) != 2 {
		t.Fatalf("pages.jsonl: %s", files["pages/pages.jsonl"])
	}
	m, err := record.ReadMeta(ctx, f.st, withWARC[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pages, func(p map[string]any) bool { return p["url"] == m.FinalURL }) {
		t.Errorf("no page at %s in %v", m.FinalURL, pages)
	}

	got := wacztest.Replay(t, pkg.Bytes(), m.FinalURL, func(r wacztest.Replayed) bool {
		return strings.Contains(r.Text, phrase) && r.ImageWidth == photoW && r.ImageHeight == photoH && r.HeadingColor != ""
	})
	if got.HeadingColor != "rgb(40, 50, 60)" {
		t.Errorf("heading colour %q: the archived stylesheet was not applied", got.HeadingColor)
	}

	// A selection without any WARC writes nothing.
	var empty bytes.Buffer
	_, err = WriteWACZ(ctx, f.sel(t, stored.Filter{Status: record.StatusBlocked}), &empty, WACZOptions{})
	if !errors.Is(err, ErrNothing) || empty.Len() != 0 {
		t.Errorf("no WARC: %v, %d bytes written", err, empty.Len())
	}
}

// TestWriteWACZFailedCaptures: a capture that failed is not "captured
// before WARC recording". One whose fetch got an answer (a 404) has a WARC
// recording it: the package holds that WARC, with no page entry, and the
// article is not reported as left out. One whose fetch got no answer (a
// refused connection) has none: it is left out with its own reason.
func TestWriteWACZFailedCaptures(t *testing.T) {
	f := newArchive(t, 8)
	ctx := testContext(t)
	withWARC := f.recordWARCs(t, 1)
	// Two articles without a WARC become failed captures: one answered
	// 404 (its WARC is recorded below), one refused the connection.
	var failed []string
	for _, slug := range f.gen.Articles {
		if len(failed) < 2 && !slices.Contains(withWARC, slug) {
			failed = append(failed, slug)
		}
	}
	answered, refused := failed[0], failed[1]
	for _, slug := range failed {
		m, err := record.ReadMeta(ctx, f.st, slug)
		if err != nil {
			t.Fatal(err)
		}
		m.Status, m.Reason, m.HTTPStatus = record.StatusFailed, "network", 0
		if slug == answered {
			m.Reason, m.HTTPStatus = "http_404", 404
		}
		if err := (record.Writer{Store: f.st}).PutMeta(ctx, *m); err != nil {
			t.Fatal(err)
		}
	}

	gone := httptest.NewServer(http.NotFoundHandler())
	var file bytes.Buffer
	w, err := warc.NewWriter(&file, warc.Options{Filename: stored.WARCKey(answered, "")})
	if err != nil {
		t.Fatal(err)
	}
	warctest.Get(t, warctest.Client(), w, gone.URL+"/news/gone")
	gone.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Put(ctx, stored.WARCKey(answered, ""), bytes.NewReader(file.Bytes()), int64(file.Len()), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	var pkg bytes.Buffer
	rep, err := WriteWACZ(ctx, f.sel(t, stored.Filter{}), &pkg, WACZOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Articles != 2 || !slices.Equal(rep.NoPage, []string{answered}) {
		t.Errorf("articles %d, without a page entry %q; want 2 and [%s]", rep.Articles, rep.NoPage, answered)
	}
	for _, s := range rep.Skipped {
		switch s.Slug {
		case answered:
			t.Errorf("%s is in the package yet reported left out: %q", s.Slug, s.Reason)
		case refused:
			if s.Reason == NoWARCReason || !strings.Contains(s.Reason, "failed") {
				t.Errorf("%s (failed, nothing recorded) left out as %q", s.Slug, s.Reason)
			}
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg.Bytes()), int64(pkg.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(zr.File, func(zf *zip.File) bool { return zf.Name == "archive/"+answered+".warc.gz" }) {
		t.Errorf("the package lacks the failed capture's WARC")
	}
}
