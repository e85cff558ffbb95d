package resolver

import (
	"net/url"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
	"github.com/linkarc/linkarc/internal/redirect"
)

// FuzzDecodeID feeds arbitrary ids and links through the offline layer.
// Invariants: no panic; an old-format id yields a clean http(s) URL; an
// accepted Google input has a base64url id; errors carry a kind and a message.
//
//	go test ./resolver -run '^$' -fuzz FuzzDecodeID -fuzztime 60s
//
// Seeds: testdata/fuzz/FuzzDecodeID (every id of ids.tsv and edge cases).
func FuzzDecodeID(f *testing.F) {
	f.Add("CBMiSGh0dHBzOi8vdGVjaGNydW5jaC5jb20vMjAyMi8xMC8yNy9uZXcteW9yay1wb3N0LWhhY2tlZC1vZmZlbnNpdmUtdHdlZXRzL9IBAA")
	f.Add("https://news.google.com/rss/articles/CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhkdjE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA?oc=5")
	f.Add("Title - Source (news.google.com/read/CBMiSGh0dHBzOi8vdGVjaGNydW5jaC5jb20vMjAyMi8xMC8yNy9uZXcteW9yay1wb3N0LWhhY2tlZC1vZmZlbnNpdmUtdHdlZXRzL9IBAA?hl=en-US)")
	f.Add("https://www.google.com/url?q=https://news.google.com/read/CBMiAA&sa=D")
	f.Fuzz(func(t *testing.T, in string) {
		var env envelope
		var err error
		var p parsedInput
		// A length field is never believed beyond the bytes present.
		fuzzcheck.MaxAlloc(t, uint64(64*len(in)), "decodeID+parseInput", func() {
			env, err = decodeID(in)
			p = parseInput(in)
		})
		if err == nil && env.Format == formatOld {
			mustBeCleanURL(t, env.URL)
		}
		switch p.kind {
		case inputGoogle:
			if p.id == "" || !validIDChars(p.id) || len(p.id) > maxIDLen {
				t.Fatalf("accepted id %q", p.id)
			}
			if p.env.Format == formatOld {
				mustBeCleanURL(t, p.env.URL)
			}
			if p.env.Format == formatUnknown {
				t.Fatalf("unknown-format id accepted as resolvable: %q", p.id)
			}
		case inputGeneric:
			u, err := url.Parse(p.url)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("generic input %q is not an http(s) URL", p.url)
			}
		case inputInvalid:
			if p.err == nil || p.err.Kind == "" || p.err.Message == "" {
				t.Fatalf("invalid input without a proper error: %+v", p.err)
			}
		}
	})
}

// FuzzParseBatchResponse feeds arbitrary bodies to the batchexecute parser.
// Invariants: no panic; every URL returned is a clean http(s) URL that is not
// a Google News link; only tags that were sent come back; each answer is a
// URL or an error, never both.
//
//	go test ./resolver -run '^$' -fuzz FuzzParseBatchResponse -fuzztime 60s
//
// Seeds: testdata/fuzz/FuzzParseBatchResponse (the recorded bodies, both
// framings, error rows, damaged bodies).
func FuzzParseBatchResponse(f *testing.F) {
	f.Add([]byte(sampleA), uint8(2))
	f.Add([]byte(sampleB), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, n uint8) {
		tags := batchTags(1 + int(n)%60)
		var got map[string]rpcResult
		// Frame lengths are never believed beyond the bytes present.
		fuzzcheck.MaxAlloc(t, uint64(64*len(body)), "parseBatchResponse", func() { got, _ = parseBatchResponse(body, tags) })
		sent := map[string]bool{}
		for _, tg := range tags {
			sent[tg] = true
		}
		for tag, res := range got {
			if !sent[tag] {
				t.Fatalf("answer for tag %q that was never sent", tag)
			}
			if (res.URL == "") == (res.Err == nil) {
				t.Fatalf("tag %q: URL %q and error %v", tag, res.URL, res.Err)
			}
			if res.URL != "" {
				mustBeCleanURL(t, res.URL)
				if IsGoogleNews(res.URL) {
					t.Fatalf("tag %q: a Google News URL came back: %q", tag, res.URL)
				}
			}
		}
		_, _ = transportErrorRow(body)
	})
}

// FuzzScanPage: no panic, and a found pair has a numeric ts and a printable sg.
//
//	go test ./resolver -run '^$' -fuzz FuzzScanPage -fuzztime 60s
func FuzzScanPage(f *testing.F) {
	f.Add([]byte(`<c-wiz><div data-n-a-ts="1790181872" data-n-a-sg="Ae5Wzi-zTr7BmTsy16W2E8ubaTXt"></div></c-wiz>`), "")
	f.Fuzz(func(t *testing.T, page []byte, id string) {
		var info pageInfo
		fuzzcheck.MaxAlloc(t, uint64(64*(len(page)+len(id))), "scanPage+metaRefresh", func() {
			info = scanPage(page, id)
			_ = redirect.MetaRefresh(page)
		})
		if info.found && (info.sig.TS < 0 || info.sig.SG == "" || hasControl(info.sig.SG)) {
			t.Fatalf("bad pair %+v", info.sig)
		}
	})
}

func mustBeCleanURL(t *testing.T, s string) {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || hasControl(s) || !strings.HasPrefix(strings.ToLower(s), u.Scheme+"://") {
		t.Fatalf("returned URL %q is not a clean http(s) URL", s)
	}
}
