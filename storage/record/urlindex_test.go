package record

import (
	"testing"
)

// TestURLIndex: an entry reads back as written; a missing entry, an
// unreadable one and one naming another URL (a hash collision, or a hand
// edit) give no slug; on a store that writes conditionally, a write under
// a stale ETag changes nothing and says so.
func TestURLIndex(t *testing.T) {
	ctx := t.Context()
	const u = "http://127.0.0.2:8080/birds.html"
	tests := []struct {
		name string
		raw  string // object at u's key; "" for none
		want string
	}{
		{"missing", "", ""},
		{"written", `{"url":"` + u + `","slug":"rare-birds-paper"}`, "rare-birds-paper"},
		{"another URL", `{"url":"http://127.0.0.2:8080/other.html","slug":"other-paper"}`, ""},
		{"not JSON", `{"url":`, ""},
		{"invalid slug", `{"url":"` + u + `","slug":"../x"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := localStore(t)
			if tt.raw != "" {
				putRaw(t, s, URLIndexKey(u), []byte(tt.raw))
			}
			got, err := ReadURLIndex(ctx, s, u)
			if err != nil || got != tt.want {
				t.Errorf("ReadURLIndex = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	s := localStore(t)
	w := Writer{Store: s}
	if ok, err := w.PutURLIndex(ctx, u, "first-paper", ""); !ok || err != nil {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	slug, etag, err := ReadURLIndexVersion(ctx, s, u)
	if slug != "first-paper" || etag == "" || err != nil {
		t.Fatalf("read back %q %q %v", slug, etag, err)
	}
	if ok, err := w.PutURLIndex(ctx, u, "second-paper", ""); ok || err != nil {
		t.Errorf("a second create-only claim: ok %v, err %v; want refused", ok, err)
	}
	if ok, err := w.PutURLIndex(ctx, u, "second-paper", etag); !ok || err != nil {
		t.Fatalf("claim under the ETag read: %v %v", ok, err)
	}
	if ok, _ := w.PutURLIndex(ctx, u, "third-paper", etag); ok {
		t.Errorf("a claim under a stale ETag succeeded")
	}
	if slug, _ := ReadURLIndex(ctx, s, u); slug != "second-paper" {
		t.Errorf("index names %q, want second-paper", slug)
	}
}
