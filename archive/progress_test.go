package archive

import (
	"bytes"
	"strings"
	"testing"

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
			"[1/3] ok      a-story https://example.com/a\n",
			"[2/3] failed  b-story https://example.com/b (http_404: the server answered 404)\n",
			"[3/3] cached  c-story\n",
		}},
		// The bar draws itself and prints failures above it as they happen;
		// it is cleared at the end, where the summary follows.
		{mode: "bar", want: []string{"archiving", "failed  b-story https://example.com/b (http_404: the server answered 404)"}},
		{mode: "none", none: true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var out bytes.Buffer
			p, err := NewProgress(tc.mode, &out)
			if err != nil {
				t.Fatal(err)
			}
			p.Start(len(events))
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
