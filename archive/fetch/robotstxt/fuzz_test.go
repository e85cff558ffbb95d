package robotstxt

import (
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
)

// FuzzParse feeds arbitrary robots.txt bodies, agents and paths.
// Invariants: no panic; Parse allocates at most 64 bytes per input byte
// and a decision at most 8 per path or agent byte (no agents × rules
// blow-up, no quadratic growth); the normal form of a path is a fixed
// point and gets the same answer as the raw path; /robots.txt is always
// allowed; the agent is reduced to its product token; an error status
// never reads the body.
//
//	go test ./archive/fetch/robotstxt -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	f.Add([]byte(rfcExample), "foobot", "/example/page.html")
	f.Add([]byte("User-agent: *\nDisallow: /новости/\n"), "linkarc", "/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/x")
	f.Add([]byte("User-agent: *\nDisallow: /test.html\nAllow: /test.html\n"), "linkarc/1.0", "/test.html")
	f.Add([]byte("\xEF\xBB\xBFuser-agent FooBot\r\ndisalow /a%2fb*$\rAllow: /a/%7E$\n"), "Mozilla/5.0 (compatible; FooBot/1.0)", "/a%2Fb/~?x=$*#frag")
	f.Add([]byte("User-agent: *\nDisallow: /"+strings.Repeat("*a", 50)+"*b$\n"), "x", "/"+strings.Repeat("a", 200))
	f.Add([]byte(strings.Repeat("User-agent: a\n", 100)+strings.Repeat("Disallow: /x\n", 100)), "a", "/x")
	f.Add([]byte("\x00\xff%%%:::\r\r\n\n*$$"), "", "")
	f.Fuzz(func(t *testing.T, body []byte, agent, path string) {
		var r *Rules
		fuzzcheck.MaxAlloc(t, uint64(64*len(body)), "Parse", func() { r = Parse(body) })
		var got bool
		fuzzcheck.MaxAlloc(t, uint64(8*(len(path)+len(agent))), "Allowed", func() { got = r.Allowed(agent, path) })

		c := canonicalPath(path)
		if cc := canonicalPath(c); cc != c {
			t.Fatalf("normal form not a fixed point: %q -> %q -> %q", path, c, cc)
		}
		if r.Allowed(agent, c) != got {
			t.Fatalf("Allowed(%q) = %v but its normal form %q gets the opposite", path, got, c)
		}
		if r.Allowed(ProductToken(agent), path) != got {
			t.Fatalf("agent %q and its product token %q disagree", agent, ProductToken(agent))
		}
		if !r.Allowed(agent, "/robots.txt") {
			t.Fatal("/robots.txt refused")
		}
		if From(503, body).Allowed(agent, path) != isRobotsTxt(c) {
			t.Fatal("a 503 answer's body was read")
		}
		if !From(404, body).Allowed(agent, path) {
			t.Fatal("a 404 answer's body was read")
		}
	})
}

// TestNoCrossProduct: many agents sharing a group with many rules cost
// memory for agents plus rules, not their product (a 500 KiB file of 15k
// agent lines and 19k rules would otherwise need ~285M rule copies).
func TestNoCrossProduct(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < MaxBytes/2; i++ {
		b.WriteString("User-agent: bot")
		for n := i; n > 0; n /= 26 {
			b.WriteByte(byte('a' + n%26))
		}
		b.WriteByte('\n')
	}
	for b.Len()+len("Disallow: /x\n") <= MaxBytes {
		b.WriteString("Disallow: /x\n")
	}
	body := []byte(b.String())
	var r *Rules
	fuzzcheck.MaxAlloc(t, uint64(64*len(body)), "Parse", func() { r = Parse(body) })
	if r.Allowed("botb", "/x") || !r.Allowed("botb", "/y") || !r.Allowed("other", "/x") {
		t.Error("wrong decisions on the shared group")
	}
}
