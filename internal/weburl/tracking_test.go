package weburl

import (
	"os"
	"strings"
	"testing"
)

func TestStripTracking(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://example.com/a", "https://example.com/a"},
		{"https://example.com/a?id=9", "https://example.com/a?id=9"},
		{"https://example.com/a?utm_source=google&id=9", "https://example.com/a?id=9"},
		{"https://example.com/a?id=9&utm_source=google&utm_medium=rss&utm_campaign=x", "https://example.com/a?id=9"},
		{"https://example.com/a?utm_source=google", "https://example.com/a"},
		{"https://example.com/a?UTM_Source=x&Page=2", "https://example.com/a?Page=2"},   // names without case, others kept as written
		{"https://example.com/a?b=2&a=1&fbclid=IwAR0", "https://example.com/a?b=2&a=1"}, // order kept
		{"https://example.com/a?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6&_ga=7&yclid=8&ocid=9&cmpid=10&ns_mchannel=11&ns_source=12", "https://example.com/a"},
		{"https://example.com/a?x=1&utm_term=k#top", "https://example.com/a?x=1#top"},
		{"https://example.com/a#frag?utm_source=x", "https://example.com/a#frag?utm_source=x"}, // in the fragment, not a parameter
		{"https://example.com/a?utm%5Fsource=x&q=1", "https://example.com/a?q=1"},              // escaped name
		{"https://example.com/a?utm=1&source=2&gclidx=3", "https://example.com/a?utm=1&source=2&gclidx=3"},
		{"https://example.com/a?&utm_source=x&&id=1", "https://example.com/a?&&id=1"},
		{"https://example.com/a?q=utm_source", "https://example.com/a?q=utm_source"}, // a value, not a name
		{"https://example.com/a?smid=nytcore-ios-share&xtor=RSS-1&_hsenc=p2&_hsmi=1&s=3", "https://example.com/a?s=3"},
		{"not a url\x7f?utm_source=x", "not a url\x7f?utm_source=x"},
	} {
		if got := StripTracking(tc.in); got != tc.want {
			t.Errorf("StripTracking(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Two links to one article that differ in tracking parameters, case of the
// host or fragment are one article; other parameters make other pages.
func TestCanonicalMergesTracking(t *testing.T) {
	same := []string{
		"https://www.example.com/world/story-123?id=9",
		"https://www.example.com/world/story-123?utm_source=google&id=9",
		"https://WWW.example.com/world/story-123?id=9&utm_medium=email&utm_campaign=daily#comments",
		"https://www.example.com/world/story-123?fbclid=abc&id=9&gclid=def",
	}
	for _, s := range same {
		if got := Canonical(s); got != same[0] {
			t.Errorf("Canonical(%q) = %q, want %q", s, got, same[0])
		}
	}
	if Canonical("https://www.example.com/world/story-123?id=10") == same[0] {
		t.Error("a different id= merged into the same article")
	}
	if got := Canonical("https://example.com/a?utm_source=x"); got != "https://example.com/a" {
		t.Errorf("Canonical left %q", got)
	}
}

func TestTrackingParamsDocumented(t *testing.T) {
	prefixes, names := TrackingParams()
	if len(prefixes) != len(trackingPrefixes) || len(names) != len(trackingNames) {
		t.Fatalf("TrackingParams lists %d+%d, want %d+%d", len(prefixes), len(names), len(trackingPrefixes), len(trackingNames))
	}
	for _, n := range names {
		if !IsTracking(n) {
			t.Errorf("%s listed but not tracking", n)
		}
	}
}

// docs/resolving.md lists the tracking parameters for users; it must list
// every one.
func TestTrackingParamsInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/resolving.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, names := TrackingParams()
	for _, n := range append(names, trackingPrefixes...) {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/resolving.md does not list `%s`", n)
		}
	}
}
