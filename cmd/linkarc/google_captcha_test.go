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

// Issue 12: a 200 "unusual traffic" CAPTCHA page from Google (as a
// redirect-following proxy delivers it) is rate limiting: linkarc resolve
// stops asking Google and exits 3, in any language of the page.
func TestResolveGoogleCaptchaExitThree(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			f, links, urls := fakeGoogle(t, gnewstest.Options{CaptchaAfter: 1, CaptchaLang: lang}, 3)
			code, stdout, stderr := resolveRun(t, nil, "", append([]string{"--no-cache", "--gnews-base", f.NewsURL(), "--gnews-interval", "0"}, links...)...)
			if code != exitRateLimited {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRateLimited, stderr)
			}
			if got := lines(stdout); strings.Join(got, "|") != urls[0]+"||" {
				t.Errorf("stdout %q", got)
			}
			contains(t, stderr, "stderr", "rate-limited", "2 of 3 inputs are left unresolved")
			if n := f.Count(gnewstest.KindArticle); n != 2 {
				t.Errorf("%d article GETs, want 2 (stop at the CAPTCHA page)", n)
			}
		})
	}
}

// The same through linkarc archive: exit 3, the articles behind the
// CAPTCHA stored failed/rate_limited, no Google request after it.
func TestArchiveGoogleCaptchaExitThree(t *testing.T) {
	const articles, served = 8, 3
	w := archivetest.NewWorld(t, archivetest.WorldOptions{Hosts: 2, Articles: articles, Digests: 1, Pages: smallPages(t, 4),
		Google: gnewstest.Options{CaptchaAfter: served, CaptchaLang: "de"}})
	dir := filepath.Join(t.TempDir(), "store")
	res := runLinkarc(t, nil, "", archiveArgs(w, dir, 5*time.Millisecond, "--progress", "none")...)
	if res.code != exitRateLimited {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitRateLimited, res.stderr)
	}
	if n := w.Google.Count(gnewstest.KindArticle); n != served+1 {
		t.Errorf("%d signature GETs, want %d", n, served+1)
	}
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	limited := 0
	for _, a := range w.Articles {
		if m := readMeta(t, store, record.ArticleSlug(a.Title, a.Publisher)); m.Reason == record.ReasonRateLimited {
			limited++
		}
	}
	if limited != articles-served {
		t.Errorf("%d articles stored rate_limited, want %d", limited, articles-served)
	}
}
