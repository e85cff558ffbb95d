package weburl

import (
	"reflect"
	"testing"
)

func TestFindLinks(t *testing.T) {
	const gn = "news.google.com/read/CBMiswFBVV95cUxPWjBhV01rbEcw?hl=en-US&gl=US&ceid=US%3Aen"
	for _, tc := range []struct {
		text  string
		want  []string // URLs
		text0 string   // the first link as written
	}{
		{gn, []string{"https://" + gn}, gn},
		{"https://" + gn, []string{"https://" + gn}, "https://" + gn},
		{"www.example.com/a", []string{"https://www.example.com/a"}, "www.example.com/a"},
		{"www.example.com", []string{"https://www.example.com"}, "www.example.com"},
		{"HTTPS://WWW.EXAMPLE.COM/Story?ID=1", []string{"https://www.example.com/Story?ID=1"}, "HTTPS://WWW.EXAMPLE.COM/Story?ID=1"},
		{"NEWS.GOOGLE.COM/rss/articles/CBMiAbc", []string{"https://news.google.com/rss/articles/CBMiAbc"}, "NEWS.GOOGLE.COM/rss/articles/CBMiAbc"},
		{"Big story - The Paper (https://example.com/a/b)", []string{"https://example.com/a/b"}, "https://example.com/a/b"},
		{"Big story https://example.com/a/b", []string{"https://example.com/a/b"}, "https://example.com/a/b"},
		{"<https://example.com/a>", []string{"https://example.com/a"}, "https://example.com/a"},
		{"see https://en.wikipedia.org/wiki/Foo_(bar).", []string{"https://en.wikipedia.org/wiki/Foo_(bar)"}, "https://en.wikipedia.org/wiki/Foo_(bar)"},
		{`"https://example.com/a",`, []string{"https://example.com/a"}, "https://example.com/a"},
		{"mail me@example.com/x", nil, ""},
		{"example.com", nil, ""},
		{"Node.js is nice", nil, ""},
		{"a https://a.example/1 and b.example/2", []string{"https://a.example/1", "https://b.example/2"}, "https://a.example/1"},
		{"ftp://example.com/a", nil, ""},
	} {
		got := FindLinks(tc.text)
		var urls []string
		for _, l := range got {
			urls = append(urls, l.URL)
		}
		if !reflect.DeepEqual(urls, tc.want) {
			t.Errorf("FindLinks(%q) = %q, want %q", tc.text, urls, tc.want)
			continue
		}
		if len(got) > 0 {
			if w := tc.text[got[0].Start:got[0].End]; w != tc.text0 {
				t.Errorf("FindLinks(%q): first link written %q, want %q", tc.text, w, tc.text0)
			}
			if got[0].NoScheme != (tc.text0[:4] != "http" && tc.text0[:4] != "HTTP") {
				t.Errorf("FindLinks(%q): NoScheme %v", tc.text, got[0].NoScheme)
			}
		}
	}
}

func TestLowerSchemeHost(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://News.Google.COM/rss/articles/CBMi?HL=en": "https://news.google.com/rss/articles/CBMi?HL=en",
		"Http://User:Pw@EXAMPLE.com:80/A":                 "http://User:Pw@example.com:80/A",
		"HTTP://EXAMPLE.COM":                              "http://example.com",
		"no scheme/Path":                                  "no scheme/Path",
	} {
		if got := LowerSchemeHost(in); got != want {
			t.Errorf("LowerSchemeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsHostName(t *testing.T) {
	for in, want := range map[string]bool{"example.com": true, "www.example.org.": true, "example.com/a": false, "example": false, "a b.com": false} {
		if IsHostName(in) != want {
			t.Errorf("IsHostName(%q) = %v", in, !want)
		}
	}
}
