package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// TestServeEndToEnd archives a digest folder with `linkarc archive`, then
// runs `linkarc serve` on that store as its own process, reads pages, the
// API and a snapshot the way a browser would, and stops it with SIGINT.
func TestServeEndToEnd(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 6, Digests: 2, Pages: loadPages(t, 6)})
	store := filepath.Join(t.TempDir(), "archive")
	if res := runLinkarc(t, nil, "", archiveArgs(w, store, 20*time.Millisecond)...); res.code != exitOK {
		t.Fatalf("archive exit %d\n%s", res.code, res.stderr)
	}

	cmd := linkarcProcess([]string{"XDG_CACHE_HOME=" + t.TempDir()},
		"serve", "--store", store, "--addr", "127.0.0.1:0", "--refresh-interval", "200ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		cmd.Process.Kill()
		t.Fatalf("serve printed nothing; stderr:\n%s", stderr.String())
	}
	banner := lines.Text()
	rest := make(chan string, 1)
	go func() {
		var sb strings.Builder
		for lines.Scan() {
			sb.WriteString(lines.Text() + "\n")
		}
		rest <- sb.String()
		exited <- cmd.Wait()
	}()
	defer cmd.Process.Kill()
	m := regexp.MustCompile(`^linkarc serve: serving .* at (http://127\.0\.0\.1:\d+/)$`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner %q does not give the URL", banner)
	}
	base := strings.TrimSuffix(m[1], "/")

	// The background refresh indexes the archive.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h struct {
			Status string
			Index  struct{ Documents int }
		}
		if code, body := httpGet(t, base+"/healthz", ""); code == 200 {
			if err := json.Unmarshal([]byte(body), &h); err != nil {
				t.Fatal(err)
			}
			if h.Index.Documents == len(w.Articles) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index never held the %d articles; stderr:\n%s", len(w.Articles), stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	a := w.Articles[0]
	slug := record.ArticleSlug(a.Title, a.Publisher)
	firstWords := strings.Join(strings.Fields(a.Page.Text)[:6], " ")
	checks := []struct {
		path, host string
		status     int
		want       string
	}{
		{"/", "", 200, "Digest 0 - Test News"},
		{"/", "", 200, "Digest 1 - Test News"},
		{"/digests/" + url.PathEscape(record.Slugify("Digest 0 - Test News")), "", 200, a.Title},
		{"/articles/" + slug, "", 200, a.Title},
		{"/articles/" + slug, "", 200, firstWords[:20]},
		{"/search?q=" + url.QueryEscape(a.Page.ID[:8]), "", 200, "/articles/" + slug},
		{"/api/articles/" + slug, "", 200, `"status": "ok"`},
		{"/articles/" + slug + "/raw.html", "", 200, string(a.Page.HTML[:200])},
		{"/articles/nope", "", 404, "No article by that name"},
		{"/", "rebinding.example", 421, "host name"},
	}
	for _, c := range checks {
		code, body := httpGet(t, base+c.path, c.host)
		if code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("GET %s (Host %q): %d, want %d with %.80q", c.path, c.host, code, c.status, c.want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-rest:
		if err := <-exited; err != nil {
			t.Errorf("serve exit after SIGINT: %v; stderr:\n%s", err, stderr.String())
		}
		if !strings.Contains(out, "linkarc serve: stopped") {
			t.Errorf("serve did not say it stopped: %q", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of SIGINT")
	}
}

func httpGet(t *testing.T, u, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeUsageErrors checks that bad flags and environment give exit
// status 2 with a message, before anything listens.
func TestServeUsageErrors(t *testing.T) {
	store := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bad address", nil, []string{"serve", "--store", store, "--index-dir", "memory", "--addr", "127.0.0.1:notaport"}, "linkarc serve:"},
		{"zero refresh", nil, []string{"serve", "--store", store, "--refresh-interval", "0s"}, "-refresh-interval"},
		{"bad refresh env", []string{"LINKARC_REFRESH_INTERVAL=soon"}, []string{"serve", "--store", store}, "LINKARC_REFRESH_INTERVAL"},
		{"extra argument", nil, []string{"serve", "--store", store, "somewhere"}, "unexpected arguments"},
		{"unknown flag", nil, []string{"serve", "--port", "8080"}, "unknown flag -port"},
		// serve registers only the flags it reads: the resolver's and the
		// fetcher's are unknown to it, not silently ignored.
		{"resolver flag -gnews-base", nil, []string{"serve", "--store", store, "-gnews-base", "http://x.invalid"}, "unknown flag -gnews-base"},
		{"resolver flag -hl", nil, []string{"serve", "--store", store, "-hl", "zz"}, "unknown flag -hl"},
		{"resolver flag -gnews-interval", nil, []string{"serve", "--store", store, "-gnews-interval", "1s"}, "-gnews-interval"},
		{"network flag -timeout", nil, []string{"serve", "--store", store, "-timeout", "1s"}, "unknown flag -timeout"},
		{"network flag -user-agent", nil, []string{"serve", "--store", store, "-user-agent", "x"}, "unknown flag -user-agent"},
		{"network flag -allow-private", nil, []string{"serve", "--store", store, "-allow-private"}, "unknown flag -allow-private"},
		{"fetch flag -host-interval", nil, []string{"serve", "--store", store, "-host-interval", "1s"}, "unknown flag -host-interval"},
		{"bad log level", nil, []string{"serve", "--store", store, "--log-level", "loud"}, "-log-level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runLinkarc(t, c.env, "", c.args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, c.want) {
				t.Errorf("exit %d, want %d; stderr %q lacks %q", res.code, exitUsage, res.stderr, c.want)
			}
		})
	}
	if res := runLinkarc(t, nil, "", "serve", "-help"); res.code != exitOK || !strings.Contains(res.stdout, "-allowed-hosts") {
		t.Errorf("serve -help: exit %d, stdout %q", res.code, res.stdout)
	}
}

func TestResolveIndexDir(t *testing.T) {
	env := envLookup([]string{"XDG_CACHE_HOME=/cache", "AWS_ENDPOINT_URL=http://minio:9000"})
	cases := []struct{ flag, store, want string }{
		{"memory", "./archive", ""},
		{"/srv/index", "./archive", "/srv/index"},
	}
	for _, c := range cases {
		got, err := resolveIndexDir(c.flag, c.store, env)
		if err != nil || got != c.want {
			t.Errorf("resolveIndexDir(%q, %q) = %q, %v; want %q", c.flag, c.store, got, err, c.want)
		}
	}
	a, _ := resolveIndexDir("", "/data/archive", env)
	b, _ := resolveIndexDir("", "/other/archive", env)
	s, _ := resolveIndexDir("", "s3://news/archive", env)
	if !strings.HasPrefix(a, "/cache/linkarc/index/archive-") || a == b || !strings.HasPrefix(s, "/cache/linkarc/index/archive-") || s == a {
		t.Errorf("index dirs not distinct per store under the cache: %q %q %q", a, b, s)
	}
}

// TestServeUnwritableIndexDir: the archive is only read, but the search
// index is written; an index directory that cannot be written says how
// to go on (--index-dir memory), with exit 2.
func TestServeUnwritableIndexDir(t *testing.T) {
	index := filepath.Join(storagetest.ReadOnlyDir(t), "index")
	res := runLinkarc(t, nil, "", "serve", "--store", t.TempDir(), "--index-dir", index, "--addr", "127.0.0.1:0")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--index-dir memory") {
		t.Errorf("exit %d, want %d and a pointer to --index-dir memory; stderr:\n%s", res.code, exitUsage, res.stderr)
	}
}

// TestServeWarningNamesBoundPort: listening on every interface with port
// 0, the warning names the port actually bound, the same as the banner.
func TestServeWarningNamesBoundPort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb syncBuffer
	go func() { // stop the server once it has said where it is
		for ctx.Err() == nil && !strings.Contains(out.String(), "serving") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	code := run(ctx, []string{"serve", "--store", t.TempDir(), "--index-dir", "memory", "--addr", "0.0.0.0:0"},
		stdio{in: strings.NewReader(""), out: &out, err: &errb, getenv: envLookup(nil)})
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	m := regexp.MustCompile(`serving .* at http://localhost:(\d+)/`).FindStringSubmatch(out.String())
	if m == nil || m[1] == "0" {
		t.Fatalf("banner gives no port: %q", out.String())
	}
	if want := "anyone who can reach 0.0.0.0:" + m[1] + " can read"; !strings.Contains(errb.String(), want) {
		t.Errorf("warning %q lacks %q", errb.String(), want)
	}
}
