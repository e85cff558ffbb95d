package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Issue 12: --no-google never contacts Google. linkarc resolve still
// answers old ids and links cached in the store; the others fail with
// google_disabled and a hint.
func TestResolveNoGoogle(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{}, 2)
	store := t.TempDir()
	base := []string{"--gnews-base", f.NewsURL(), "--gnews-interval", "0", "--store", store}
	if code, _, stderr := resolveRun(t, nil, "", append(base, links[0])...); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	f.ResetLog()
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/x", ""))
	for _, how := range []struct {
		name string
		env  map[string]string
		args []string
	}{{"flag", nil, []string{"--no-google"}}, {"env", map[string]string{"LINKARC_NO_GOOGLE": "1"}, nil}} {
		t.Run(how.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), how.args...), links[0], links[1], old)
			code, stdout, stderr := resolveRun(t, how.env, "", args...)
			if code != exitSomeFailed {
				t.Fatalf("exit %d, want %d\n%s", code, exitSomeFailed, stderr)
			}
			if got := strings.Join(lines(stdout), "|"); got != urls[0]+"||https://old.example/x" {
				t.Errorf("stdout %q", got)
			}
			contains(t, stderr, "stderr", "[google_disabled]", "run without --no-google")
			if n := f.Total(); n != 0 {
				t.Errorf("%d requests reached Google", n)
			}
		})
	}
}

// linkarc archive --no-google sends Google nothing: the links only Google
// can resolve are stored failed/google_disabled, a Google News feed is not
// fetched, and the publishers of other links are still archived.
func TestArchiveNoGoogle(t *testing.T) {
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: 4, Digests: 1, Pages: smallPages(t, 4)})
	dir := filepath.Join(t.TempDir(), "store")
	direct := w.Articles[0].URL
	args := archiveArgs(w, dir, 5*time.Millisecond, "--progress", "none", "--no-google")
	args = append(args[:len(args)-1], "https://news.google.com/rss/search?q=linkarc", direct, w.Dir)
	res := runLinkarc(t, nil, "", args...)
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitSomeFailed, res.stderr)
	}
	if n := w.Google.Total(); n != 0 {
		t.Errorf("%d requests reached Google", n)
	}
	contains(t, res.stderr, "stderr", "not fetched: a Google News feed, and --no-google forbids contacting Google",
		"google_disabled        4", "4 links need Google, which --no-google forbade asking; run once without --no-google")
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range w.Articles {
		if m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher)); m.Status != record.StatusFailed || m.Reason != record.ReasonGoogleDisabled {
			t.Errorf("%s: %s %s, want failed google_disabled", a.Title, m.Status, m.Reason)
		}
	}
	if pageRequests(w) != 1 {
		t.Errorf("%d publisher page requests, want 1 (the direct link)", pageRequests(w))
	}
}
