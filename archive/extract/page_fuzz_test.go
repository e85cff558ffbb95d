package extract

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/internal/fuzzcheck"
	"github.com/linkarc/linkarc/storage/record"
)

// Bounds of FuzzExtractPage. Inputs are kept small so that a fuzz run
// explores many of them; what is checked is that work stays proportional
// to the input, which a superlinear blow-up would break at these sizes.
const (
	fuzzMaxPage = 64 << 10
	fuzzMaxURL  = 512
	// fuzzAllocPerByte bounds the heap allocated per input byte by the whole
	// charset + extraction + junk pipeline. The 123 real pages of the
	// extraction benchmark need 9 to 126 bytes per byte (median 33).
	fuzzAllocPerByte = 512
	// fuzzAllocPerLink bounds the extra allocation per byte of page URL for
	// each link or image (at least 8 bytes of markup) made absolute.
	fuzzAllocPerLink = 64
)

// junkReasons are DetectJunk's possible verdicts.
var junkReasons = map[record.Reason]bool{"": true, record.ReasonCaptcha: true, record.ReasonConsentWall: true, record.ReasonSoft404: true,
	record.ReasonPaywallStub: true, record.ReasonEmpty: true, record.ReasonMojibake: true, record.ReasonGoneToFrontPage: true}

// FuzzExtractPage feeds arbitrary bytes, Content-Type headers and page URLs
// through what the pipeline does with a fetched page: ToUTF8, Extract and
// DetectJunk. Invariants: no panic, and none swallowed by Extract's
// recover either; the input is not modified; every string that comes out
// is valid UTF-8; the transcoded body is at most 3 bytes per input byte
// (every input byte becomes at most one character or one U+FFFD) and names
// a real WHATWG encoding; a body already in UTF-8 is left alone by a second
// pass; extracted text and HTML stay proportional to the page; junk
// verdicts are from the documented set; and the heap allocated stays
// within fuzzAllocPerByte per input byte.
//
//	go test ./archive/extract -run '^$' -fuzz '^FuzzExtractPage$' -fuzztime 60s
//
// Seeds: testdata/fuzz/FuzzExtractPage (pages in legacy encodings labelled
// truly, falsely and not at all, UTF-16, walls, hostile markup).
func FuzzExtractPage(f *testing.F) {
	f.Add([]byte("<html><head><title>T</title></head><body><article><p>Hello, world.</p></article></body></html>"), "text/html; charset=utf-8", "https://news.example/a")
	f.Add([]byte("<meta charset=windows-1251><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>"), "text/html", "")
	f.Fuzz(func(t *testing.T, raw []byte, contentType, pageURL string) {
		if len(raw) > fuzzMaxPage || len(contentType) > fuzzMaxURL || len(pageURL) > fuzzMaxURL {
			return
		}
		var u *url.URL
		if p, err := url.Parse(pageURL); err == nil {
			u = p
		}
		orig := bytes.Clone(raw)
		var (
			body, again   []byte
			name, again2  string
			ex            *Extraction
			exErr         error
			reason, nilRe record.Reason
			blocked, nilB bool
		)
		// Every link made absolute costs copies of the page URL too.
		limit := uint64(fuzzAllocPerByte*(len(raw)+len(contentType)+len(pageURL)) + fuzzAllocPerLink*(len(raw)/8+1)*len(pageURL))
		fuzzcheck.MaxAlloc(t, limit, "ToUTF8+Extract+DetectJunk", func() {
			body, name = charset.ToUTF8(raw, contentType)
			again, again2 = charset.ToUTF8(body, "text/html; charset=utf-8")
			ex, exErr = Extract(body, u)
			c := Page{Body: body, FinalURL: pageURL}
			reason, blocked = DetectJunk(c, ex)
			nilRe, nilB = DetectJunk(c, nil)
		})

		if !bytes.Equal(raw, orig) {
			t.Fatal("ToUTF8 modified its input")
		}
		if !utf8.Valid(body) {
			t.Fatalf("charset.ToUTF8(%q, %q) = %q is not valid UTF-8", raw, contentType, body)
		}
		if len(body) > 3*len(raw) {
			t.Fatalf("ToUTF8 turned %d bytes into %d (%s)", len(raw), len(body), name)
		}
		if _, err := htmlindex.Get(name); err != nil {
			t.Fatalf("ToUTF8 named the encoding %q, which is not a WHATWG encoding: %v", name, err)
		}
		if again2 != "utf-8" || !bytes.Equal(again, bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("a second pass over UTF-8 declared UTF-8 changed it: %q (%s) -> %q (%s)", body, name, again, again2)
		}

		switch {
		case exErr != nil:
			if strings.Contains(exErr.Error(), "readability failed") {
				t.Fatalf("Extract recovered from a panic: %v", exErr)
			}
			if ex != nil || !strings.HasPrefix(exErr.Error(), "extract: ") {
				t.Fatalf("Extract error %q (extraction %v): want a prefixed error and no extraction", exErr, ex != nil)
			}
		case ex == nil:
			t.Fatal("Extract returned neither an extraction nor an error")
		default:
			for field, s := range map[string]string{"Title": ex.Title, "Byline": ex.Byline, "SiteName": ex.SiteName,
				"PublishedTime": ex.PublishedTime, "Lang": ex.Lang, "Excerpt": ex.Excerpt, "Image": ex.Image, "HTML": ex.HTML, "Text": ex.Text} {
				if !utf8.ValidString(s) {
					t.Fatalf("Extraction.%s = %q is not valid UTF-8", field, s)
				}
			}
			if ex.WordCount < 0 || ex.WordCount > len(ex.Text) {
				t.Fatalf("WordCount %d for %d bytes of text", ex.WordCount, len(ex.Text))
			}
			if len(ex.Text) > 2*len(body)+1024 {
				t.Fatalf("%d bytes of text from a %d-byte page", len(ex.Text), len(body))
			}
			// Links and images are made absolute, so each can grow by the
			// page URL; a link takes at least 8 bytes of markup.
			if max := 8*len(body) + (len(body)/8+1)*(len(pageURL)+16) + 4096; len(ex.HTML) > max {
				t.Fatalf("%d bytes of article HTML from a %d-byte page (bound %d)", len(ex.HTML), len(body), max)
			}
		}
		for _, v := range []struct {
			reason  record.Reason
			blocked bool
		}{{reason, blocked}, {nilRe, nilB}} {
			if !junkReasons[v.reason] || v.blocked != (v.reason != "") {
				t.Fatalf("DetectJunk = %q, %v", v.reason, v.blocked)
			}
		}
		if !nilB {
			t.Fatal("DetectJunk without an extraction did not call the page empty or a wall")
		}
	})
}
