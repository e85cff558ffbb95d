package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/storage/record"
)

// cyrillicPage is a short page in windows-1251, as a Russian publisher
// still serves it: its UTF-8 body is a transcoded copy, not its raw bytes.
func cyrillicPage(t testing.TB) []byte {
	t.Helper()
	html := "<html><head><title>Новости</title></head><body><article><p>" +
		strings.Repeat("Правительство объявило о новых мерах поддержки. ", 40) + "</p></article></body></html>"
	b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(html))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpillPage: a page's body goes to a file and comes back byte for
// byte, Body sharing Raw's memory when it did (a valid UTF-8 page, with
// or without a byte order mark) and its own when it was transcoded; the
// capture holds no body in between, and Close removes the file. A
// directory that cannot take the file leaves the page in memory.
func TestSpillPage(t *testing.T) {
	utf := []byte("<html><body><p>Grüße aus Köln</p></body></html>")
	bom := append([]byte("\xef\xbb\xbf"), utf...)
	cyr := cyrillicPage(t)
	bad := []byte("<p>caf\xe9 au lait</p>") // labelled UTF-8, is not
	tests := []struct {
		name        string
		raw         []byte
		contentType string
		feed        bool // Body is Raw as is (fetch.FetchFeed)
		nilBody     bool // a failed fetch's capture: Raw only
		shared      bool // Body is Raw's memory
	}{
		{name: "utf-8", raw: utf, contentType: "text/html; charset=utf-8", shared: true},
		{name: "byte order mark", raw: bom, contentType: "text/html", shared: true},
		{name: "windows-1251", raw: cyr, contentType: "text/html; charset=windows-1251"},
		{name: "invalid utf-8", raw: bad, contentType: "text/html; charset=utf-8"},
		{name: "feed", raw: []byte(`<?xml version="1.0"?><rss/>`), contentType: "application/rss+xml", feed: true, shared: true},
		{name: "raw only", raw: utf, contentType: "text/html", nilBody: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &fetch.Capture{Raw: bytes.Clone(tc.raw)}
			switch {
			case tc.feed:
				c.Body = c.Raw
			case !tc.nilBody:
				c.Body, _ = charset.ToUTF8(c.Raw, tc.contentType)
			}
			wantRaw, wantBody := bytes.Clone(c.Raw), bytes.Clone(c.Body)
			if (within(c.Raw, c.Body) >= 0 && c.Body != nil) != tc.shared {
				t.Fatalf("the case is wrong: Body shares Raw's memory: %v, want %v", !tc.shared, tc.shared)
			}
			s, err := spillPage(dir, c)
			if err != nil || s == nil {
				t.Fatalf("spillPage: %v, %v", s, err)
			}
			if c.Raw != nil || c.Body != nil {
				t.Fatalf("the capture still holds %d + %d bytes", len(c.Raw), len(c.Body))
			}
			files, _ := filepath.Glob(filepath.Join(dir, "linkarc-page-*"))
			if len(files) != 1 {
				t.Fatalf("files in the spill directory: %v", files)
			}
			fi, err := os.Stat(files[0])
			if err != nil {
				t.Fatal(err)
			}
			want := int64(len(wantRaw))
			if !tc.shared {
				want += int64(len(wantBody))
			}
			if fi.Size() != want {
				t.Errorf("spill file is %d bytes, want %d", fi.Size(), want)
			}
			for range 2 { // the requisites step reads it, then the store worker
				got := &fetch.Capture{}
				if err := s.load(got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Raw, wantRaw) || !bytes.Equal(got.Body, wantBody) || (got.Body == nil) != tc.nilBody {
					t.Fatalf("read back Raw %q Body %q; want %q %q", got.Raw, got.Body, wantRaw, wantBody)
				}
				if shared := got.Body != nil && within(got.Raw, got.Body) >= 0; shared != tc.shared {
					t.Errorf("read back: Body shares Raw's memory: %v, want %v", shared, tc.shared)
				}
			}
			s.Close()
			if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
				t.Errorf("spill file left after Close: %v", err)
			}
			if err := s.load(&fetch.Capture{}); err == nil || !strings.Contains(err.Error(), "read back the fetched page") {
				t.Errorf("load after Close: %v; want an error that says what was lost", err)
			}
		})
	}

	t.Run("nothing to spill", func(t *testing.T) {
		dir := t.TempDir()
		for _, c := range []*fetch.Capture{nil, {StatusCode: 404}} {
			if s, err := spillPage(dir, c); s != nil || err != nil {
				t.Errorf("spillPage(%+v) = %v, %v; want nil, nil", c, s, err)
			}
		}
		var none *spilledPage
		c := &fetch.Capture{Raw: utf, Body: utf}
		if err := none.load(c); err != nil || !bytes.Equal(c.Body, utf) {
			t.Errorf("a nil spill changed the capture: %v", err)
		}
		none.Close()
	})

	t.Run("directory missing", func(t *testing.T) {
		c := &fetch.Capture{Raw: utf, Body: utf}
		s, err := spillPage(filepath.Join(t.TempDir(), "gone"), c)
		if s != nil || err == nil {
			t.Fatalf("spillPage into a missing directory: %v, %v; want an error", s, err)
		}
		if !bytes.Equal(c.Raw, utf) || !bytes.Equal(c.Body, utf) {
			t.Errorf("the failed spill dropped the page")
		}
	})
}

// gatedExtractor extracts in process, recording the body each page came
// with; its first call waits until open is closed.
type gatedExtractor struct {
	open   chan struct{}
	once   sync.Once
	called chan struct{}
	mu     sync.Mutex
	bodies map[string][]byte // FinalURL -> Page.Body
}

func (g *gatedExtractor) Extract(ctx context.Context, p extract.Page) (*extract.Result, error) {
	g.once.Do(func() {
		close(g.called)
		<-g.open
	})
	g.mu.Lock()
	g.bodies[p.FinalURL] = bytes.Clone(p.Body)
	g.mu.Unlock()
	return extract.InProcess{}.Extract(ctx, p)
}

// TestRunSpillsWaitingPages: while extraction holds up the store workers,
// the pages fetched meanwhile wait in TempDir, not in memory; each is
// stored and extracted as it arrived (raw.html byte for byte, the
// extraction given its UTF-8 body, a windows-1251 page's transcoded) and
// no spill file outlives the run.
func TestRunSpillsWaitingPages(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 3, Articles: 9, Digests: 1, Pages: worldPages(t, 9)})
	type page struct {
		body  []byte
		ctype string
	}
	served := map[string]page{}
	for i, art := range w.Articles {
		p := page{art.Page.HTML, "text/html; charset=utf-8"}
		if i == 4 {
			p = page{cyrillicPage(t), "text/html; charset=windows-1251"}
		}
		art.Host.Put(art.URL[strings.Index(art.URL, "/news/"):], p.ctype, p.body)
		served[art.URL] = p
	}
	tmp := t.TempDir()
	ex := &gatedExtractor{open: make(chan struct{}), called: make(chan struct{}), bodies: map[string][]byte{}}
	store := localStore(t)
	a := newWorldArchiver(t, w, store, Options{Extractor: ex, StoreWorkers: 1, ExtractWorkers: 1, Capture: CaptureOptions{TempDir: tmp}}, nil, nil)
	done := make(chan error, 1)
	go func() {
		_, err := a.Run(context.Background(), []string{w.Dir})
		done <- err
	}()

	// Every page but the one being extracted is fetched and waits; each
	// waiting page's body is in a file of its own.
	<-ex.called
	var spilled []string
	deadline := time.Now().Add(time.Minute)
	for len(spilled) < len(w.Articles) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		spilled, _ = filepath.Glob(filepath.Join(tmp, "linkarc-page-*"))
	}
	if len(spilled) < len(w.Articles) {
		t.Errorf("%d page spill files while %d pages waited for extraction", len(spilled), len(w.Articles))
	}
	close(ex.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "linkarc-page-*")); len(left) != 0 {
		t.Errorf("%d page spill files left after the run", len(left))
	}
	for _, art := range w.Articles {
		m := metaForURL(t, store, art.URL)
		p := served[art.URL]
		if raw := readObject(t, store, record.ArticleKey(m.Slug, record.RawFile)); !bytes.Equal(raw, p.body) {
			t.Errorf("%s: raw.html is %d bytes, not the %d served", art.URL, len(raw), len(p.body))
		}
		want, _ := charset.ToUTF8(p.body, p.ctype)
		if got := ex.bodies[m.FinalURL]; !bytes.Equal(got, want) {
			t.Errorf("%s (%s): extraction got %d bytes, want the %d of its UTF-8 body", art.URL, m.Charset, len(got), len(want))
		}
	}
}
