package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// resolveRun runs `linkarc resolve ARGS` in-process with only the given
// environment.
func resolveRun(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, append([]string{"resolve"}, args...), stdio{
		in: strings.NewReader(stdin), out: &out, err: &errb,
		getenv: func(k string) string { return env[k] },
	})
	return code, out.String(), errb.String()
}

// fakeGoogle starts the fake Google News and mints n articles.
func fakeGoogle(t *testing.T, opts gnewstest.Options, n int) (*gnewstest.Server, []string, []string) {
	t.Helper()
	f := gnewstest.NewServer(opts)
	t.Cleanup(f.Close)
	var links, urls []string
	for i := range n {
		u := fmt.Sprintf("https://publisher.example/story/%d?a=1&b=2", i)
		links = append(links, f.NewArticle(u))
		urls = append(urls, u)
	}
	return f, links, urls
}

func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// jsonLines is the --json output put back in input order by each line's
// "index" (lines come as results are known); it fails the test unless
// every index from 0 appears exactly once.
func jsonLines(t testing.TB, s string) []string {
	t.Helper()
	ls := lines(s)
	out := make([]string, len(ls))
	for _, l := range ls {
		var j struct {
			Index *int `json:"index"`
		}
		if err := json.Unmarshal([]byte(l), &j); err != nil || j.Index == nil || *j.Index < 0 || *j.Index >= len(ls) || out[*j.Index] != "" {
			t.Fatalf("line without a valid, unique index (%v): %s", err, l)
		}
		out[*j.Index] = l
	}
	return out
}

func TestResolveTextOutputAndStoreCache(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{}, 3)
	store := t.TempDir()
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/x", ""))
	args := append([]string{"--gnews-base", f.NewsURL(), "--gnews-interval", "0", "--store", store, old}, links...)

	code, stdout, stderr := resolveRun(t, nil, "", args...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := append([]string{"https://old.example/x"}, urls...)
	if got := lines(stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, strings.Join(want, "\n"))
	}
	if a, p := f.Count(gnewstest.KindArticle), f.Count(gnewstest.KindBatchexecute); a != 3 || p != 1 {
		t.Errorf("%d GETs and %d POSTs, want 3 and 1", a, p)
	}

	// Second run, same store (env instead of flag): zero Google requests.
	f.ResetLog()
	code, stdout2, stderr := resolveRun(t, map[string]string{"LINKARC_STORE": store, "LINKARC_GNEWS_BASE": f.NewsURL()}, "", append([]string{"--json"}, links...)...)
	if code != exitOK {
		t.Fatalf("re-run exit %d: %s", code, stderr)
	}
	if f.Total() != 0 {
		t.Errorf("re-run with the store made %d requests", f.Total())
	}
	for i, l := range jsonLines(t, stdout2) {
		var j map[string]any
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		if j["url"] != urls[i] || j["method"] != "cache" {
			t.Errorf("re-run line %d: %s", i, l)
		}
	}
}

func TestResolveJSONAndExitOne(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{}, 2)
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/s" {
			http.Redirect(w, r, "/article", http.StatusMovedPermanently)
			return
		}
		fmt.Fprint(w, "<title>article</title>")
	}))
	defer short.Close()
	inputs := []string{links[0], "https://news.google.com.evil.example/rss/articles/CBMiAA", short.URL + "/s", links[1],
		"https://news.google.com/rss/articles/CAIiEP3mC0iuRNhH9bQgc8yLWKsqFggEKg4IACoGCAowl6p7MN-zCTCOvRU"}
	code, stdout, stderr := resolveRun(t, map[string]string{"LINKARC_ALLOW_PRIVATE": "1"}, "",
		append([]string{"--json", "--no-cache", "--gnews-base", f.NewsURL(), "--gnews-interval", "0"}, inputs...)...)
	if code != exitSomeFailed {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	type line struct {
		Input, URL, Method, Error string
		ErrorKind                 string   `json:"error_kind"`
		Chain                     []string `json:"chain"`
	}
	var got []line
	for _, l := range jsonLines(t, stdout) {
		for _, key := range []string{`"index":`, `"input":`, `"url":`, `"method":`, `"error":`, `"error_kind":`} {
			if !strings.Contains(l, key) {
				t.Errorf("line %s lacks %s", l, key)
			}
		}
		var j line
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, j)
	}
	if len(got) != len(inputs) {
		t.Fatalf("%d lines for %d inputs", len(got), len(inputs))
	}
	for i, j := range got {
		if j.Input != inputs[i] {
			t.Errorf("line %d is for %q", i, j.Input)
		}
	}
	if got[0].URL != urls[0] || got[0].Method != "batchexecute" || got[3].URL != urls[1] {
		t.Errorf("Google lines: %+v %+v", got[0], got[3])
	}
	if got[1].ErrorKind != "invalid_url" || got[1].URL != "" || got[1].Error == "" {
		t.Errorf("look-alike line: %+v", got[1])
	}
	if got[2].URL != short.URL+"/article" || got[2].Method != "redirect" || strings.Join(got[2].Chain, " ") != short.URL+"/s "+short.URL+"/article" {
		t.Errorf("redirect line: %+v", got[2])
	}
	if got[4].ErrorKind != "unknown_format" {
		t.Errorf("CAIi line: %+v", got[4])
	}
	if !strings.Contains(stderr, "news.google.com.evil.example") || !strings.Contains(stderr, "[invalid_url]") || !strings.Contains(stderr, "2 of 5 inputs failed") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

func TestResolveStdin(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{}, 2)
	stdin := "\n" + links[0] + "\n   \nnot a link\n" + links[1] + "\r\n\n"
	base := []string{"--no-cache", "--gnews-base", f.NewsURL(), "--gnews-interval", "0"}
	for _, extra := range [][]string{nil, {"-"}} {
		code, stdout, stderr := resolveRun(t, nil, stdin, append(base, extra...)...)
		if code != exitSomeFailed {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		// One line out per line in: a blank line gives a blank line, and
		// the failure keeps its line, empty.
		want := []string{"", urls[0], "", "", urls[1], ""}
		if got := lines(stdout); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("stdout %q, want %q", got, want)
		}
		if !strings.Contains(stderr, "not a link") {
			t.Errorf("stderr does not name the failed input:\n%s", stderr)
		}
	}
	// Arguments and stdin mixed: "-" is replaced by stdin's lines in place.
	code, stdout, _ := resolveRun(t, nil, links[1]+"\n", append(base, links[0], "-", links[0])...)
	if code != exitOK || strings.Join(lines(stdout), "|") != urls[0]+"|"+urls[1]+"|"+urls[0] {
		t.Errorf("mixed: exit %d stdout %q", code, stdout)
	}
	// --json: one line per input line too, a blank one noted as such.
	code, stdout, stderr := resolveRun(t, nil, stdin, append(base, "--json")...)
	if code != exitSomeFailed {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	var got []string
	for _, l := range jsonLines(t, stdout) {
		var j jsonResult
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		got = append(got, j.Input+">"+j.URL+">"+j.Note)
	}
	want := []string{">>" + blankNote, links[0] + ">" + urls[0] + ">", ">>" + blankNote, "not a link>>", links[1] + ">" + urls[1] + ">", ">>" + blankNote}
	if strings.Join(got, "|") != strings.Join(want, "|") || !strings.Contains(stderr, "1 of 3 inputs failed") {
		t.Errorf("--json inputs %q\nwant %q\nstderr:\n%s", got, want, stderr)
	}
	// Blank stdin: blank lines back, and nothing resolved.
	if code, stdout, _ := resolveRun(t, nil, "\n\n", base...); code != exitOK || stdout != "\n\n" {
		t.Errorf("blank stdin: exit %d stdout %q", code, stdout)
	}
	// No stdin at all: nothing to do.
	if code, stdout, _ := resolveRun(t, nil, "", base...); code != exitOK || stdout != "" {
		t.Errorf("empty stdin: exit %d stdout %q", code, stdout)
	}
}

func TestResolveUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"unknown flag", nil, []string{"--bogus", "x"}, "unknown flag -bogus"},
		{"bad env duration", map[string]string{"LINKARC_GNEWS_INTERVAL": "soon"}, []string{"--no-cache", "x"}, "LINKARC_GNEWS_INTERVAL"},
		{"negative interval", nil, []string{"--gnews-interval", "-1s", "x"}, "gnews-interval"},
		{"bad base", nil, []string{"--no-cache", "--gnews-base", "ftp://news.example", "x"}, "GNewsBase"},
		{"bad log level", nil, []string{"--no-cache", "--log-level", "loud", "x"}, "log-level"},
		{"bad store", nil, []string{"--store", "s3://", "x"}, "--no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := resolveRun(t, tt.env, "", tt.args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d stdout %q stderr:\n%s\nwant exit 2 and %q", code, stdout, stderr, tt.msg)
			}
		})
	}
}

func TestResolveRateLimitedExitThree(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{RateLimitAfter: 2}, 4)
	store := t.TempDir()
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/x", ""))
	code, stdout, stderr := resolveRun(t, nil, "", append([]string{"--gnews-base", f.NewsURL(), "--gnews-interval", "0", "--store", store, old}, links...)...)
	if code != exitRateLimited {
		t.Fatalf("exit %d, want 3; stderr:\n%s", code, stderr)
	}
	// The two ids signed before the 429 are still posted (the budget counts
	// only signature GETs): their URLs are printed, the rest left blank.
	if got := lines(stdout); len(got) != 5 || got[0] != "https://old.example/x" || got[1] != urls[0] || got[2] != urls[1] || got[3] != "" || got[4] != "" {
		t.Errorf("stdout %q", got)
	}
	if !strings.Contains(stderr, "2 of 5 inputs are left unresolved") || !strings.Contains(stderr, "resumes") || !strings.Contains(stderr, store) {
		t.Errorf("stderr does not say how many are left and that a re-run resumes:\n%s", stderr)
	}
	if n := f.Count(gnewstest.KindArticle); n != 3 {
		t.Errorf("%d article GETs, want 3 (stop at the first 429)", n)
	}
	if n := f.Count(gnewstest.KindBatchexecute); n != 1 {
		t.Errorf("%d POSTs, want 1: the signatures collected before the 429, and nothing more", n)
	}

	// Google forgives; the re-run resumes and finishes.
	f.SetRateLimitAfter(0)
	code, stdout, stderr = resolveRun(t, nil, "", append([]string{"--gnews-base", f.NewsURL(), "--gnews-interval", "0", "--store", store, old}, links...)...)
	if code != exitOK || strings.Join(lines(stdout), "|") != "https://old.example/x|"+strings.Join(urls, "|") {
		t.Errorf("re-run: exit %d stdout %q stderr %s", code, stdout, stderr)
	}
}

func TestResolveHelp(t *testing.T) {
	// Help asked for goes to stdout.
	code, help, _ := resolveRun(t, nil, "", "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"-json", "-no-cache", "-store", "-gnews-base", "-gnews-interval", "-timeout", "-user-agent",
		"-hl", "-gl", "-ceid", "-allow-private", "-log-level", "LINKARC_GNEWS_INTERVAL", "stdin", "Exit status"} {
		if !strings.Contains(help, flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
}
