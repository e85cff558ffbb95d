package hostile

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// shape is what a parsed page is made of.
type shape struct {
	nodes, elements, texts, links, depth int
	attrBytes                            int
}

func measure(t *testing.T, page []byte) shape {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return shape{depth: -1} // refused by the parser
	}
	var s shape
	var walk func(n *html.Node, d int)
	walk = func(n *html.Node, d int) {
		s.nodes++
		s.depth = max(s.depth, d)
		switch n.Type {
		case html.ElementNode:
			s.elements++
			if n.Data == "a" {
				s.links++
			}
			for _, a := range n.Attr {
				s.attrBytes += len(a.Val)
			}
		case html.TextNode:
			s.texts++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, d+1)
		}
	}
	walk(doc, 0)
	return s
}

// TestPagesSizeAndDeterminism: every size-scaled page is at most its size
// and close to it, and the same call gives the same bytes.
func TestPagesSizeAndDeterminism(t *testing.T) {
	for _, p := range Pages() {
		if p.Unit != Bytes {
			continue
		}
		for _, size := range []int{256 << 10, 1 << 20} {
			a, b := p.Gen(size), p.Gen(size)
			if !bytes.Equal(a, b) {
				t.Errorf("%s(%d): two calls differ", p.Name, size)
			}
			if len(a) > size+1024 || len(a) < size-(70<<10) {
				t.Errorf("%s(%d): %d bytes", p.Name, size, len(a))
			}
		}
	}
}

// TestPagesShape checks that each generator makes the tree its doc
// comment promises, at 1 MiB.
func TestPagesShape(t *testing.T) {
	const mb = 1 << 20
	got := map[string]shape{}
	for _, p := range Pages() {
		n := mb
		if p.Unit == Depth {
			n = 1000
		}
		switch p.Name {
		case "formatting-bomb":
			n = mb / 4 // 5 elements per byte
		case "formatting-bomb-attrs":
			n = 16 << 10 // ~90 elements per byte: 1 MiB would take ~12 GB
		}
		got[p.Name] = measure(t, p.Gen(n))
		t.Logf("%-16s %+v", p.Name, got[p.Name])
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"br-words: 131k <br>", got["br-words"].elements > 130_000},
		{"links: >15k links", got["links"].links > 15_000},
		{"text-nodes: >130k text nodes", got["text-nodes"].texts > 130_000},
		{"table: >60k cells", got["table"].elements > 60_000},
		{"huge-attributes: most bytes in attributes", got["huge-attributes"].attrBytes > mb*3/4},
		{"formatting-bomb: >3 elements per byte", got["formatting-bomb"].elements > mb/4*3},
		{"formatting-bomb-attrs: >50 elements per byte", got["formatting-bomb-attrs"].elements > 50*16<<10},
		{"flat-divs: >10k divs", got["flat-divs"].elements > 10_000},
		{"nested-500: depth >= 500", got["nested-500"].depth >= 500},
		// x/net/html refuses trees deeper than 512.
		{"nested-100: depth >= 100", got["nested-100"].depth >= 100},
		{"deep-divs: refused by the parser", got["deep-divs"].depth == -1},
		{"deep-inline: refused by the parser", got["deep-inline"].depth == -1},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not so", c.name)
		}
	}
}

func TestGiantMetadata(t *testing.T) {
	page := string(GiantMetadata(1 << 20))
	for _, want := range []string{"<title>", `property="og:title"`, `property="og:description"`, `name="description"`} {
		if !strings.Contains(page, want) {
			t.Errorf("no %s", want)
		}
	}
	if len(page) > 1<<20+1024 || len(page) < 1<<20-8<<10 {
		t.Errorf("%d bytes", len(page))
	}
}

// TestHeaderHandlers serves each flood on loopback and reads it back with
// a client whose header limit is raised to let it through.
func TestHeaderHandlers(t *testing.T) {
	get := func(h http.Handler) (*http.Response, []byte) {
		t.Helper()
		srv := httptest.NewServer(h)
		defer srv.Close()
		c := &http.Client{Transport: &http.Transport{MaxResponseHeaderBytes: 64 << 20, DisableCompression: true}}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		c.CloseIdleConnections()
		return resp, body
	}
	headerBytes := func(h http.Header) int {
		n := 0
		for k, vs := range h {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		return n
	}

	resp, body := get(StackedCodings(1000, "br", "gzip"))
	if ce := resp.Header.Get("Content-Encoding"); strings.Count(ce, ",") != 999 || !strings.HasPrefix(ce, "br,gzip,br") || string(body) != "x" {
		t.Errorf("stacked codings: %d commas, body %q", strings.Count(ce, ","), body)
	}
	resp, _ = get(CookieFlood(100, 4096))
	if n := len(resp.Cookies()); n != 100 {
		t.Errorf("cookie flood: %d cookies", n)
	}
	resp, _ = get(HeaderFlood(8 << 20))
	if n := headerBytes(resp.Header); n < 7<<20 || n > 9<<20 {
		t.Errorf("header flood: %d header bytes", n)
	}
	resp, _ = get(LongHeader("X-Long", 1<<20))
	if n := len(resp.Header.Get("X-Long")); n != 1<<20 {
		t.Errorf("long header: %d bytes", n)
	}
	page := Paragraphs(64 << 10)
	resp, body = get(ServePage(page))
	if !bytes.Equal(body, page) || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("serve page: %d bytes, %s", len(body), resp.Header.Get("Content-Type"))
	}
}

func ExamplePages() {
	for _, p := range Pages()[:3] {
		fmt.Println(p.Name, p.Unit)
	}
	// Output:
	// br-words bytes
	// paragraphs bytes
	// links bytes
}
