package resolver

import (
	"net/url"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// Issue 12, Google News inputs: links as people paste them. Scheme-less
// links to Google News and to publishers, upper case, every article path,
// share text and wrappers are read as the link they hold, and the note
// says what was ignored or assumed.
func TestParseInputPasted(t *testing.T) {
	id := briefIDs[0]
	const locale = "?hl=en-US&gl=US&ceid=US%3Aen"
	gn := "https://news.google.com/rss/articles/" + id + "?oc=5"
	tests := []struct {
		name string
		in   string
		id   string // a Google News id, or
		url  string // a generic URL to follow
		hl   string
		note string // substring of the note; "" = no note
	}{
		{"read without scheme", "news.google.com/read/" + id + locale, id, "", "en-US", "assumed https://"},
		{"rss without scheme", "news.google.com/rss/articles/" + id + "?oc=5", id, "", "", "assumed https://"},
		{"articles without scheme", "news.google.com/articles/" + id, id, "", "", "assumed https://"},
		{"__i without scheme", "news.google.com/__i/rss/rd/articles/" + id, id, "", "", "assumed https://"},
		{"upper-case host without scheme", "NEWS.GOOGLE.COM/rss/articles/" + id, id, "", "", "assumed https://"},
		{"upper-case scheme and host", "HTTPS://NEWS.GOOGLE.COM/rss/articles/" + id, id, "", "", ""},
		{"upper-case path", "https://news.google.com/RSS/ARTICLES/" + id, id, "", "", ""},
		{"http", "http://news.google.com/read/" + id, id, "", "", ""},
		{"publisher without scheme", "www.example.com/a", "", "https://www.example.com/a", "", "assumed https://"},
		{"publisher host.tld/path", "example.com/2026/story", "", "https://example.com/2026/story", "", "assumed https://"},
		{"publisher upper case", "HTTPS://WWW.EXAMPLE.COM/Story?ID=1", "", "https://www.example.com/Story?ID=1", "", ""},
		{"share text with source", "Talks resume - Reuters (" + gn + ")", id, "", "", `ignored the text around the link ("Talks resume - Reuters")`},
		{"share text, title then link", "Talks resume " + gn, id, "", "", `"Talks resume"`},
		{"angle brackets", "<" + gn + ">", id, "", "", ""},
		{"parentheses", "(" + gn + ")", id, "", "", ""},
		{"quoted", `"` + gn + `"`, id, "", "", ""},
		{"trailing period", gn + ".", id, "", "", ""},
		{"publisher share text", "A story - The Paper (https://www.example.com/a?b=1)", "", "https://www.example.com/a?b=1", "", `"A story - The Paper"`},
		{"scheme-less in share text", "Read this: news.google.com/read/" + id + locale, id, "", "en-US", "assumed https://"},
		{"consent wrapper", "https://consent.google.com/ml?continue=" + url.QueryEscape(gn) + "&gl=FR&hl=en-US&cm=2&pc=n&src=1", id, "", "", "consent page"},
		{"google click-through to Google News", "https://www.google.com/url?rct=j&sa=t&url=" + url.QueryEscape(gn) + "&ct=ga", id, "", "", "redirect link"},
		{"google click-through to publisher", "https://www.google.com/url?q=https://www.example.com/a&sa=D", "", "https://www.example.com/a", "", "redirect link"},
		{"AMP viewer, https", "https://www.google.com/amp/s/www.example.com/2026/09/story.amp?x=1", "", "https://www.example.com/2026/09/story.amp?x=1", "", "AMP viewer"},
		{"AMP viewer, http", "https://www.google.com/amp/www.example.com/a", "", "http://www.example.com/a", "", "AMP viewer"},
		{"AMP viewer of a Google News link", "https://www.google.com/amp/s/news.google.com/rss/articles/" + id, id, "", "", "AMP viewer"},
		{"old Google News redirect", "http://news.google.com/news/url?sa=t&fd=R&ct2=us&usg=AFQjCNE&clid=c3a7d30bb8a4878e06b80cf16b898331&url=https://www.example.com/old-story", "", "https://www.example.com/old-story", "", "old Google News redirect"},
		{"google click-through, nested thrice", nestedGoogleURL(3, "https://www.example.com/a"), "", "https://www.example.com/a", "", "redirect link"},
		{"bare id", id, id, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseInput(tt.in)
			switch {
			case p.err != nil:
				t.Fatalf("parseInput(%.80q): %v [%s]", tt.in, p.err, p.err.Kind)
			case tt.id != "" && (p.kind != inputGoogle || p.id != tt.id || p.hl != tt.hl):
				t.Errorf("parseInput(%.80q) = kind %v id %.20q hl %q; want id %.20q hl %q", tt.in, p.kind, p.id, p.hl, tt.id, tt.hl)
			case tt.url != "" && (p.kind != wantKindOf(tt.note) || p.url != tt.url):
				t.Errorf("parseInput(%.80q) = kind %v url %q; want %q", tt.in, p.kind, p.url, tt.url)
			}
			if (tt.note == "") != (p.note == "") || !strings.Contains(p.note, tt.note) {
				t.Errorf("parseInput(%.80q): note %q, want one containing %q", tt.in, p.note, tt.note)
			}
		})
	}
}

func TestParseInputPastedRejected(t *testing.T) {
	id := briefIDs[0]
	for _, tt := range []struct{ in, msg string }{
		{"example.com", "host name without a path"},
		{"news.google.com", "host name without a path"},
		{"two https://a.example/1 https://b.example/2", "holds 2 links"},
		{"ftp://news.google.com/rss/articles/" + id, "only http and https"},
		{"see ftp://example.com/x", "only http and https"},
		{"just some words", "neither a URL nor"},
		{"news.google.com.evil.example/rss/articles/" + id, "looks like a Google News link"},
		{nestedGoogleURL(5, "https://www.example.com/a"), "nested more than 3 deep"},
		{"https://www.google.com/url?q=javascript:alert(1)", ""}, // not unwrapped: followed as a link (and refused there)
		{"https://news.google.com/news/url?url=javascript:alert(1)", "not an article link"},
	} {
		p := parseInput(tt.in)
		if tt.msg == "" {
			if p.kind == inputGoogle {
				t.Errorf("parseInput(%.60q) = Google", tt.in)
			}
			continue
		}
		if p.kind != inputInvalid || p.err == nil || p.err.Kind != record.ReasonInvalidURL || !strings.Contains(p.err.Message, tt.msg) {
			t.Errorf("parseInput(%.60q) = kind %v err %v; want invalid_url saying %q", tt.in, p.kind, p.err, tt.msg)
		}
	}
}

// Resolve carries the note into the Result, for duplicates and failures
// alike.
func TestResolveReportsNotes(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	links, urls := mint(f, nil, 1, "story")
	u, _ := url.Parse(links[0])
	r := newTestResolver(t, f, nil)
	res := r.Resolve(bg(), []string{"Headline - Source (" + links[0] + ")", "NEWS.GOOGLE.COM" + u.RequestURI(), links[0], "example.com"})
	wantURL(t, res[0], urls[0], MethodBatchexecute)
	wantURL(t, res[1], urls[0], MethodBatchexecute)
	wantURL(t, res[2], urls[0], MethodBatchexecute)
	wantKind(t, res[3], record.ReasonInvalidURL)
	if !strings.Contains(res[0].Note, `"Headline - Source"`) || !strings.Contains(res[1].Note, "https://") || res[2].Note != "" {
		t.Errorf("notes %q / %q / %q", res[0].Note, res[1].Note, res[2].Note)
	}
	counts(t, f, 1, 1)
}

// nestedGoogleURL wraps target in n google.com/url links.
func nestedGoogleURL(n int, target string) string {
	for range n {
		target = "https://www.google.com/url?q=" + url.QueryEscape(target)
	}
	return target
}

// wantKindOf is the input kind a publisher link of TestParseInputPasted is
// read as, by the note the case expects: unwrapped from a Google redirect
// or AMP link (the answer, not followed), or else to be followed.
func wantKindOf(note string) inputKind {
	if strings.Contains(note, "redirect") || strings.Contains(note, "AMP") {
		return inputUnwrapped
	}
	return inputGeneric
}

// A publisher link unwrapped from a Google link is the answer: no request
// to Google or to the publisher.
func TestResolveUnwrappedNoRequest(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	pub := newPublisher(t)
	r := newTestResolver(t, f, func(o *Options) { o.AllowPrivate = true })
	res := r.Resolve(bg(), []string{
		"https://www.google.com/url?rct=j&sa=t&url=" + url.QueryEscape(pub.URL+"/story?id=1") + "&ct=ga",
		"https://www.google.com/amp/s/www.example.com/a.amp",
	})
	wantURL(t, res[0], pub.URL+"/story?id=1", MethodOffline)
	wantURL(t, res[1], "https://www.example.com/a.amp", MethodOffline)
	if pub.hits.Load() != 0 || f.Total() != 0 {
		t.Errorf("%d publisher and %d Google requests, want none", pub.hits.Load(), f.Total())
	}
}
