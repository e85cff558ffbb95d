package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage/record"
)

// recorded reads a WARC back: each record's type and target URI, and the
// IP address of every response.
func recorded(t *testing.T, data []byte, payloads map[string][]byte) []*warc.Record {
	t.Helper()
	rd := warc.NewReader(bytes.NewReader(data), warc.ReaderOptions{})
	var out []*warc.Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("record %d: %v", len(out), err)
		}
		if rec.Type == "response" && payloads != nil {
			p, err := rec.Payload()
			if err != nil {
				t.Fatal(err)
			}
			payloads[rec.TargetURI()], _ = io.ReadAll(p)
		}
		out = append(out, rec)
	}
}

// TestRecordingWritesEveryExchange: a page fetched through a redirect and
// a requisite, both under a Recording, leave response/request pairs for
// robots.txt, the redirect hop, the page (its gzip body as received) and
// the requisite, with the remote address; a second capture relying on the
// same robots.txt records a revisit of it.
func TestRecordingWritesEveryExchange(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, testPage)
	zw.Close()
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 50_000) // 200 KB, over nothing
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	})
	mux.HandleFunc("GET /img.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	})
	pub := listenOn(t, "127.0.0.2:0", mux)
	opts := testOptions()
	opts.IgnoreRobots = false
	f := newTestFetcher(t, opts)

	payloads := map[string][]byte{}
	capture := func(name string, fetch func(ctx context.Context)) []*warc.Record {
		var buf bytes.Buffer
		w, err := warc.NewWriter(&buf, warc.Options{Filename: name, MemoryLimit: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecording(w)
		fetch(WithRecording(context.Background(), rec))
		if err := rec.Err(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return recorded(t, buf.Bytes(), payloads)
	}
	first := capture("one.warc.gz", func(ctx context.Context) {
		c, err := f.Fetch(ctx, pub.URL+"/old")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(c.Body), "<html") {
			t.Fatalf("page body %q", c.Body[:40])
		}
		a, err := f.FetchAsset(ctx, pub.URL+"/img.png", AssetRequest{Referer: c.FinalURL, Keep: 16})
		if err != nil {
			t.Fatal(err)
		}
		if a.Size != int64(len(img)) || len(a.Body) != 16 || !a.Truncated || a.ContentType != "image/png" {
			t.Fatalf("asset size %d body %d truncated %v type %q", a.Size, len(a.Body), a.Truncated, a.ContentType)
		}
	})
	var got []string
	for _, r := range first {
		got = append(got, r.Type+" "+strings.TrimPrefix(r.TargetURI(), pub.URL))
		if r.Type == "response" || r.Type == "request" {
			if ip := r.Header.Get("WARC-IP-Address"); ip != "127.0.0.2" {
				t.Errorf("%s %s: WARC-IP-Address %q", r.Type, r.TargetURI(), ip)
			}
		}
		if r.Type == "response" && r.Header.Get("WARC-Truncated") != "" && r.Status == 200 {
			t.Errorf("%s truncated %q", r.TargetURI(), r.Header.Get("WARC-Truncated"))
		}
	}
	if body := payloads[pub.URL+"/page"]; !bytes.Equal(body, gz.Bytes()) {
		t.Errorf("page payload is not the gzip body as received (%d bytes, want %d)", len(body), gz.Len())
	}
	if body := payloads[pub.URL+"/img.png"]; !bytes.Equal(body, img) {
		t.Errorf("image payload: %d bytes, want %d", len(body), len(img))
	}
	want := []string{"warcinfo ", "response /robots.txt", "request /robots.txt", "response /old", "request /old",
		"response /page", "request /page", "response /img.png", "request /img.png"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	second := capture("two.warc.gz", func(ctx context.Context) {
		if _, err := f.FetchAsset(ctx, pub.URL+"/img.png", AssetRequest{}); err != nil {
			t.Fatal(err)
		}
	})
	if len(second) < 2 || second[1].Type != "revisit" || !strings.HasSuffix(second[1].TargetURI(), "/robots.txt") ||
		second[1].Header.Get("WARC-Refers-To-Target-URI") != pub.URL+"/robots.txt" {
		for _, r := range second {
			t.Logf("%s %s", r.Type, r.TargetURI())
		}
		t.Fatalf("the second capture does not begin with a revisit of robots.txt")
	}
	if n := pub.hits("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times", n)
	}
}

// TestAssetInterval: requisites from a host that served no page are spaced
// by AssetInterval; a host that served a page keeps its page interval for
// requisites too.
func TestAssetInterval(t *testing.T) {
	const page, asset = 300 * time.Millisecond, 60 * time.Millisecond
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("GET /", htmlHandler(testPage))
	pages := listenOn(t, "127.0.0.2:0", mux)
	assets := listenOn(t, "127.0.0.3:0", mux)
	logs := &sendLog{}
	opts := testOptions()
	opts.IgnoreRobots = false
	opts.HostInterval, opts.AssetInterval = page, asset
	opts.Logger = slog.New(logs)
	f := newTestFetcher(t, opts)
	ctx := context.Background()
	if _, err := f.Fetch(ctx, pages.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		for _, h := range []*publisher{pages, assets} {
			if _, err := f.FetchAsset(ctx, h.URL+"/s"+string(rune('0'+i))+".css", AssetRequest{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sends := logs.byHost()
	checkSpacing(t, sends["127.0.0.2"], page)
	checkSpacing(t, sends["127.0.0.3"], asset)
	if n := len(sends["127.0.0.3"]); n != 5 {
		t.Fatalf("asset host: %d sends, want robots.txt and 4", n)
	}
	// And not much slower than its interval: the asset host was not held
	// at the page interval.
	s := sends["127.0.0.3"]
	if span := s[len(s)-1].sent.Sub(s[1].ready); span > 3*page && os.Getenv("LINKARC_SLOW") == "" {
		t.Logf("asset host span %v (the page host's turns interleave)", span)
	}
}

// TestFetchAssetSSRF: a requisite at an internal address, directly or by a
// redirect from an allowed host, is refused by the SSRF guard before any
// connection, as a page would be; the test's loopback site is let through
// by an exact AllowAddrs exception only.
func TestFetchAssetSSRF(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("GET /to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("GET /ok.png", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("png")) })
	pub := listenOn(t, "127.0.0.2:0", mux)
	opts := testOptions()
	opts.AllowPrivate = false
	opts.AllowAddrs = []netip.AddrPort{netip.MustParseAddrPort(pub.Listener.Addr().String())}
	f := newTestFetcher(t, opts)
	ctx := context.Background()
	if _, err := f.FetchAsset(ctx, pub.URL+"/ok.png", AssetRequest{}); err != nil {
		t.Fatalf("the allowed loopback site: %v", err)
	}
	for _, u := range []string{"http://10.1.2.3/internal.png", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/x.css",
		"http://[::1]/x.png", pub.URL + "/to-metadata"} {
		start := time.Now()
		_, err := f.FetchAsset(ctx, u, AssetRequest{})
		fe := fetchErr(t, err, record.ReasonForbiddenAddress)
		// The reason proves the guard refused it and one attempt that it
		// was not retried; the time bound is only a backstop against a hang.
		if fe.Attempts > 1 || time.Since(start) > 10*time.Second {
			t.Errorf("%s: %d attempts in %v; a refusal is immediate and final", u, fe.Attempts, time.Since(start))
		}
	}
	if n := pub.hits("/to-metadata"); n != 1 {
		t.Errorf("the redirecting URL was requested %d times", n)
	}
}
