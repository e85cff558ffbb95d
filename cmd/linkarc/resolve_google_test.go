package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// Issue 12: links pasted without a scheme, in upper case or inside share
// text resolve like the link they hold, and stderr says what was ignored.
func TestResolveGooglePastedInputs(t *testing.T) {
	f, links, urls := fakeGoogle(t, gnewstest.Options{}, 3)
	u0, _ := url.Parse(links[0])
	u1, _ := url.Parse(links[1])
	read := "news.google.com" + strings.Replace(u0.RequestURI(), "/rss/articles/", "/read/", 1) + "?hl=en-US&gl=US&ceid=US%3Aen"
	inputs := []string{
		read,
		"NEWS.GOOGLE.COM" + u1.RequestURI(),
		"Talks resume - Reuters (" + links[2] + ")",
		"<" + links[0] + ">",
	}
	code, stdout, stderr := resolveRun(t, nil, strings.Join(inputs, "\n")+"\n",
		"--no-cache", "--gnews-base", f.NewsURL(), "--gnews-interval", "0")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := []string{urls[0], urls[1], urls[2], urls[0]}
	if got := lines(stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, strings.Join(want, "\n"))
	}
	contains(t, stderr, "stderr", "assumed https://", `ignored the text around the link ("Talks resume - Reuters")`)
	if strings.Count(stderr, "note:") != 3 {
		t.Errorf("want 3 notes (not for <link>), stderr:\n%s", stderr)
	}
	if n := f.Count(gnewstest.KindArticle); n != 3 {
		t.Errorf("%d article GETs, want 3", n)
	}

	// --json carries the note.
	code, stdout, stderr = resolveRun(t, nil, "", "--json", "--no-cache", "--gnews-base", f.NewsURL(), "--gnews-interval", "0", inputs[2])
	var j struct{ URL, Note string }
	if err := json.Unmarshal([]byte(stdout), &j); code != exitOK || err != nil || j.URL != urls[2] || !strings.Contains(j.Note, "Talks resume") {
		t.Errorf("--json: exit %d %q err %v; stderr %s", code, stdout, err, stderr)
	}
}
