package inert

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestIsScriptURL(t *testing.T) {
	for v, want := range map[string]bool{
		"javascript:alert(1)":          true,
		" JavaScript:alert(1)":         true,
		"\x01javascript:x":             true,
		"java\nscript:x":               true,
		"java\tscript:x":               true,
		"vbscript:msgbox":              true,
		"https://example.com/":         false,
		"/javascript:not-a-scheme":     false,
		"#javascript:":                 false,
		"data:text/html,<script>":      false, // not run by a click in a sandbox; links to data: are inert in browsers
		"javascript" + ":" + "void(0)": true,
	} {
		if got := IsScriptURL(v); got != want {
			t.Errorf("IsScriptURL(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestNeutraliseScriptURLs: a script URL goes from every URL attribute,
// in any namespace; other URLs stay.
func TestNeutraliseScriptURLs(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(`<a href=" javascript:x">a</a><a href="/ok">b</a><svg><a xlink:href="javascript:y"><text>c</text></a></svg><img src="JAVASCRIPT:z"><form><button formaction="javascript:w">d</button></form>`))
	if err != nil {
		t.Fatal(err)
	}
	Neutralise(doc)
	var out strings.Builder
	html.Render(&out, doc)
	got := strings.ToLower(out.String())
	if strings.Contains(got, "javascript:") || !strings.Contains(got, `href="/ok"`) || !strings.Contains(got, `x-dns-prefetch-control`) {
		t.Errorf("rewrite: %s", out.String())
	}
}

// TestNeutraliseKeepsImages: what archive/singlepage writes for an image
// (a data: src, or a one-candidate data: srcset with its descriptor and
// sizes, which sets the size it renders at) comes through as it is.
func TestNeutraliseKeepsImages(t *testing.T) {
	for _, img := range []string{
		`<img src="data:image/png;base64,iVBORw0KGgo=" alt="a"/>`,
		`<img srcset="data:image/png;base64,iVBORw0KGgo= 800w" sizes="(min-width: 900px) 50vw, 100vw" alt="b"/>`,
		`<img srcset="data:image/png;base64,iVBORw0KGgo= 2x" width="10" height="5"/>`,
	} {
		doc, err := html.Parse(strings.NewReader("<!doctype html><p>" + img))
		if err != nil {
			t.Fatal(err)
		}
		Neutralise(doc)
		var out strings.Builder
		html.Render(&out, doc)
		if !strings.Contains(out.String(), img) {
			t.Errorf("%s became %s", img, out.String())
		}
	}
}
