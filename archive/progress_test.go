package archive

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage/record"
)

func TestProgressModes(t *testing.T) {
	events := []Event{
		{Slug: "a-story", URL: "https://example.com/a", Status: record.StatusOK},
		{Slug: "b-story", URL: "https://example.com/b", Status: record.StatusFailed, Reason: "http_404", Error: "the server answered 404"},
		{Slug: "c-story", Status: record.StatusOK, Unchanged: true},
	}
	for _, tc := range []struct {
		mode string
		want []string // substrings of the output, in order
		none bool     // the output must be empty
	}{
		{mode: "plain", want: []string{
			"linkarc: resolving 0/2 (~10s left at the Google spacing), fetching 0, stored 0/3\n",
			"linkarc: cannot reach news.google.com: check the network\n",
			"[1/3] ok      a-story https://example.com/a\n",
			"[2/3] failed  b-story https://example.com/b (http_404: the server answered 404)\n",
			"[3/3] cached  c-story\n",
		}},
		// The bar draws itself and prints failures above it as they happen;
		// it is cleared at the end, where the summary follows.
		{mode: "bar", want: []string{"resolving 0/2 (~10s left at the Google spacing), fetching 0, stored 0/3", "cannot reach news.google.com", "failed  b-story https://example.com/b (http_404: the server answered 404)"}},
		{mode: "none", none: true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var out bytes.Buffer
			p, err := NewProgress(tc.mode, &out)
			if err != nil {
				t.Fatal(err)
			}
			p.Start(len(events))
			p.Stage(Stages{Total: 3, Google: 2, GoogleLeft: 10*time.Second + 400*time.Millisecond, At: time.Now()})
			p.Notice("cannot reach news.google.com: check the network")
			for _, ev := range events {
				p.Done(ev)
			}
			p.Finish()
			got := out.String()
			if tc.none && got != "" {
				t.Errorf("output %q, want none", got)
			}
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	if _, err := NewProgress("loud", &bytes.Buffer{}); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

// TestShortError: progress lines cut the URLs net/http quotes in its
// errors to their host, and stay short; the report keeps the whole text.
func TestShortError(t *testing.T) {
	long := `Google News article page: could not connect: Get "https://news.google.com/rss/articles/CBMi` + strings.Repeat("x", 300) + `?hl=en-US&gl=US&ceid=US%3Aen": dial tcp: lookup news.google.com: no such host`
	got := shortError(long)
	want := `Google News article page: could not connect: Get "https://news.google.com/…": dial tcp: lookup news.google.com: no such host`
	if got != want {
		t.Errorf("shortError:\n got %s\nwant %s", got, want)
	}
	if got := shortError(strings.Repeat("y", 500)); len(got) > 204 {
		t.Errorf("a 500-byte message became %d bytes", len(got))
	}
}

// TestProgressReasonWording: a blocked line says what the reason means
// (record.Reason.Meaning, as the viewer does) instead of naming it twice,
// and plain lines, which go to logs and pipes, never cut a message; the
// bar cuts a long one between words.
func TestProgressReasonWording(t *testing.T) {
	long := "robots.txt: could not connect: connection refused: robots.txt http://127.0.0.1:8701/robots.txt " + strings.Repeat("and more words ", 20)
	events := []Event{
		{Slug: "a-story", URL: "https://example.com/a", Status: record.StatusBlocked, Reason: record.ReasonPaywallStub, Error: "the page is not the article: paywall_stub"},
		{Slug: "b-story", URL: "https://example.com/b", Status: record.StatusFailed, Reason: record.ReasonRobots, Error: long},
	}
	run := func(mode string) string {
		var out bytes.Buffer
		p, err := NewProgress(mode, &out)
		if err != nil {
			t.Fatal(err)
		}
		p.Start(len(events))
		for _, ev := range events {
			p.Done(ev)
		}
		p.Finish()
		return out.String()
	}
	plain := run("plain")
	for _, want := range []string{
		"[1/2] blocked a-story https://example.com/a (paywall_stub: a teaser and a subscription offer instead of the article)\n",
		"[2/2] failed  b-story https://example.com/b (robots: " + long + ")\n",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("plain output lacks %q:\n%s", want, plain)
		}
	}
	bar := run("bar")
	if !strings.Contains(bar, "(paywall_stub: a teaser and a subscription offer instead of the article)") {
		t.Errorf("bar output lacks the reason's meaning:\n%s", bar)
	}
	if !strings.Contains(bar, "robots.txt http://127.0.0.1:8701/robots.txt and more words and more words") || !strings.Contains(bar, " …)") || strings.Contains(bar, long) {
		t.Errorf("bar output does not cut the long message between words:\n%s", bar)
	}
}

// TestStagesWaiting: the stages line tells the pages being fetched from
// those queued behind another page of their host.
func TestStagesWaiting(t *testing.T) {
	for _, tt := range []struct {
		s    Stages
		want string
	}{
		{Stages{Total: 14, Fetching: 5, Waiting: 3, Stored: 2}, "fetching 2 (3 more waiting for their host's turn), stored 2/14"},
		{Stages{Total: 14, Fetching: 2, Stored: 9}, "fetching 2, stored 9/14"},
	} {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestProgressDuplicateOrder: a duplicate line printed before its
// article's own line says that line follows; one printed after says it is
// above.
func TestProgressDuplicateOrder(t *testing.T) {
	var out bytes.Buffer
	p, err := NewProgress("plain", &out)
	if err != nil {
		t.Fatal(err)
	}
	p.Start(3)
	p.Done(Event{Slug: "a-story", URL: "https://example.com/a", Status: "duplicate", Pending: true})
	p.Done(Event{Slug: "a-story", URL: "https://example.com/a", Status: record.StatusOK})
	p.Done(Event{Slug: "a-story", URL: "https://example.com/a", Status: "duplicate"})
	want := "[1/3] duplicate a-story https://example.com/a (another link to this article; archived once, its own line follows)\n" +
		"[2/3] ok      a-story https://example.com/a\n" +
		"[3/3] duplicate a-story https://example.com/a (another link to this article, archived once above)\n"
	if got := out.String(); got != want {
		t.Errorf("output\n%s\nwant\n%s", got, want)
	}
}
