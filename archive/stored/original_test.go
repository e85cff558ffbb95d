package stored

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/archive/warc/warctest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// originalsStore is an article captured twice: its first capture's WARC
// holds the stylesheet (moved to history by the second), the second's
// does not.
type originalsStore struct {
	st         storage.Store
	slug       string
	first, now string // capture ids
	style      warc.Capture
	styleURL   string
}

func newOriginalsStore(t *testing.T) *originalsStore {
	t.Helper()
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		io.WriteString(w, "h1 { color: red }")
	}))
	defer srv.Close()
	o := &originalsStore{st: st, slug: "alpha-story", styleURL: srv.URL + "/style.css"}
	w := record.Writer{Store: st}
	for i, at := range []time.Time{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC)} {
		var file bytes.Buffer
		ww, err := warc.NewWriter(&file, warc.Options{Filename: WARCKey(o.slug, "")})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			o.style = warctest.Get(t, warctest.Client(), ww, o.styleURL)
		} else {
			warctest.Get(t, warctest.Client(), ww, srv.URL+"/other.css")
		}
		if err := ww.Close(); err != nil {
			t.Fatal(err)
		}
		data := file.Bytes()
		prior, err := w.LoadMeta(ctx, o.slug)
		if err != nil {
			t.Fatal(err)
		}
		snap := &record.Snapshot{
			Meta: record.ArticleMeta{Slug: o.slug, URL: srv.URL + "/story", Status: record.StatusOK, FetchedAt: at},
			Raw:  []byte("<p>story</p>"),
			Extra: []record.Object{{Name: WARCFile, ContentType: "application/warc", Size: int64(len(data)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}},
		}
		if _, err := w.Write(ctx, snap, prior); err != nil {
			t.Fatal(err)
		}
	}
	o.first = record.CaptureID(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	o.now = record.CaptureID(time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC))
	return o
}

func TestLocateOriginal(t *testing.T) {
	o := newOriginalsStore(t)
	ctx := testContext(t)
	hist, cur := WARCKey(o.slug, o.first), WARCKey(o.slug, "")
	for _, tc := range []struct {
		name string
		ref  OriginalRef
		want string // "" for ErrNoOriginal
	}{
		{"capture moved to history", OriginalRef{Slug: o.slug, CaptureID: o.first}, hist},
		{"current capture", OriginalRef{Slug: o.slug, CaptureID: o.now}, cur},
		{"no such capture", OriginalRef{Slug: o.slug, CaptureID: "20250101T000000.000Z"}, ""},
		{"no such article", OriginalRef{Slug: "beta-story", CaptureID: o.first}, ""},
		{"earlier entry: current key, found by record id in history", OriginalRef{RecordID: o.style.ResponseID, WARC: cur}, hist},
		{"earlier entry: found by URL and digest", OriginalRef{TargetURI: o.styleURL, PayloadDigest: o.style.PayloadDigest, WARC: cur}, hist},
		{"earlier entry: a history key", OriginalRef{RecordID: "x", WARC: hist}, hist},
		{"earlier entry: record in no capture", OriginalRef{RecordID: "urn:uuid:00000000-0000-0000-0000-000000000000", WARC: cur}, ""},
		{"not an article key", OriginalRef{RecordID: o.style.ResponseID, WARC: "elsewhere/capture.warc.gz"}, ""},
		{"bad capture id", OriginalRef{Slug: o.slug, CaptureID: "../x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := LocateOriginal(ctx, o.st, tc.ref)
			if tc.want == "" {
				if !errors.Is(err, ErrNoOriginal) {
					t.Errorf("got %q, %v; want ErrNoOriginal", key, err)
				}
				return
			}
			if err != nil || key != tc.want {
				t.Fatalf("got %q, %v; want %s", key, err, tc.want)
			}
			rc, opened, err := OpenOriginal(ctx, o.st, tc.ref)
			if err != nil || opened != tc.want {
				t.Fatalf("open: %q, %v", opened, err)
			}
			rc.Close()
		})
	}
}

func TestFindOriginal(t *testing.T) {
	o := newOriginalsStore(t)
	ctx := testContext(t)
	old := record.RequisiteOrigin{RecordID: o.style.ResponseID, TargetURI: o.styleURL, Date: o.style.Date, PayloadDigest: o.style.PayloadDigest,
		Slug: o.slug, CaptureID: o.first}
	ent := record.RequisiteEntry{URL: o.styleURL, RecordID: "urn:uuid:11111111-1111-1111-1111-111111111111", TargetURI: o.styleURL,
		Date: time.Now().UTC(), PayloadDigest: "sha256:other", Slug: "gamma-story", CaptureID: o.now, Previous: []record.RequisiteOrigin{old}}
	data, _ := json.Marshal(ent)
	if err := o.st.Put(ctx, record.RequisiteKey(o.styleURL), bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rv   Revisit
		want string // the record id found; "" for ErrNoOriginal
	}{
		{"the entry's record", Revisit{URL: o.styleURL, RefersTo: ent.RecordID, RefersToURI: o.styleURL}, ent.RecordID},
		{"a previous record", Revisit{URL: o.styleURL, RefersTo: old.RecordID, RefersToURI: o.styleURL}, old.RecordID},
		{"by its refers-to URI", Revisit{URL: o.styleURL + "?v=2", RefersTo: old.RecordID, RefersToURI: o.styleURL}, old.RecordID},
		{"no record id: by digest", Revisit{URL: o.styleURL, PayloadDigest: old.PayloadDigest}, old.RecordID},
		{"an unknown record", Revisit{URL: o.styleURL, RefersTo: "urn:uuid:22222222-2222-2222-2222-222222222222"}, ""},
		{"no entry", Revisit{URL: o.styleURL + "x", RefersTo: old.RecordID}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := FindOriginal(ctx, o.st, tc.rv)
			if tc.want == "" {
				if !errors.Is(err, ErrNoOriginal) {
					t.Errorf("got %+v, %v; want ErrNoOriginal", ref, err)
				}
				return
			}
			if err != nil || ref.RecordID != tc.want {
				t.Fatalf("got %+v, %v; want record %s", ref, err, tc.want)
			}
		})
	}
	// The previous record is in the article's history.
	ref, err := FindOriginal(ctx, o.st, Revisit{URL: o.styleURL, RefersTo: old.RecordID})
	if err != nil {
		t.Fatal(err)
	}
	if key, err := LocateOriginal(ctx, o.st, ref); err != nil || key != WARCKey(o.slug, o.first) {
		t.Errorf("located at %q, %v", key, err)
	}
}
