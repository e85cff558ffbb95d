package singlepage

import (
	"strings"
	"testing"
)

// TestBuildLeavesOutWhatBrowsersRefuse: a stylesheet served as anything
// but text/css is refused by browsers in standards mode, and cross-origin
// in quirks mode (HTML §4.6.7.21, quirks §2.2.1), so the page built leaves
// it out, as the live page did, and counts it as not usable; a sheet with
// no Content-Type, or same-origin in quirks mode, applies. An <img> whose
// bytes are text, and an HTML page where a url() wants an image or font,
// are left out the same way.
func TestBuildLeavesOutWhatBrowsersRefuse(t *testing.T) {
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	const standards, quirks = "<!doctype html>", ""
	for _, tc := range []struct {
		name      string
		doctype   string
		page      string
		assets    []exchange
		want      []string
		absent    []string
		notUsable int
	}{
		{
			name: "a GIF as a stylesheet", doctype: standards,
			page:      `<link rel=stylesheet href="/s.css">`,
			assets:    []exchange{res("/s.css", "image/gif", gif)},
			absent:    []string{"<style", "GIF89a", "<link"},
			notUsable: 1,
		},
		{
			name: "CSS served as text/plain, standards mode", doctype: standards,
			page:      `<link rel=stylesheet href="/s.css">`,
			assets:    []exchange{res("/s.css", "text/plain", []byte(`.p{color:red}`))},
			absent:    []string{".p{color:red}"},
			notUsable: 1,
		},
		{
			name: "an @import served as text/html", doctype: standards,
			page: `<link rel=stylesheet href="/a.css">`,
			assets: []exchange{
				res("/a.css", "text/css", []byte(`@import "/b.css"; .a{color:red}`)),
				res("/b.css", "text/html", []byte(`.b{color:blue}`)),
			},
			want:      []string{".a{color:red}"},
			absent:    []string{".b{color:blue}"},
			notUsable: 1,
		},
		{
			name: "text/css with parameters and in capitals", doctype: standards,
			page:   `<link rel=stylesheet href="/s.css">`,
			assets: []exchange{res("/s.css", "TEXT/CSS; charset=utf-8", []byte(`.ok{color:red}`))},
			want:   []string{"<style>.ok{color:red}</style>"},
		},
		{
			name: "no Content-Type", doctype: standards,
			page:   `<link rel=stylesheet href="/s.css">`,
			assets: []exchange{{url: "https://news.example/s.css", body: []byte(`.none{color:red}`)}},
			want:   []string{"<style>.none{color:red}</style>"},
		},
		{
			name: "quirks mode, same origin: applied", doctype: quirks,
			page:   `<link rel=stylesheet href="/s.css">`,
			assets: []exchange{res("/s.css", "text/plain", []byte(`.q{color:red}`))},
			want:   []string{"<style>.q{color:red}</style>"},
		},
		{
			name: "quirks mode, cross-origin: refused", doctype: quirks,
			page:      `<link rel=stylesheet href="https://cdn.example/s.css">`,
			assets:    []exchange{res("https://cdn.example/s.css", "text/plain", []byte(`.x{color:red}`))},
			absent:    []string{".x{color:red}"},
			notUsable: 1,
		},
		{
			name: "legacy doctype is quirks mode", doctype: `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.0 Transitional//EN">`,
			page:   `<link rel=stylesheet href="/s.css">`,
			assets: []exchange{res("/s.css", "text/plain", []byte(`.l{color:red}`))},
			want:   []string{"<style>.l{color:red}</style>"},
		},
		{
			name: "HTML 4.01 strict is standards mode", doctype: `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">`,
			page:      `<link rel=stylesheet href="/s.css">`,
			assets:    []exchange{res("/s.css", "text/plain", []byte(`.s{color:red}`))},
			absent:    []string{".s{color:red}"},
			notUsable: 1,
		},
		{
			name: "an image whose bytes are an HTML page", doctype: standards,
			page:      `<img src="/i.png" alt="">`,
			assets:    []exchange{res("/i.png", "image/png", []byte("<!doctype html><title>404</title><p>Not found</p>"))},
			absent:    []string{"data:image/png"},
			notUsable: 1,
		},
		{
			name: "a font that is an HTML error page", doctype: standards,
			page:      `<style>@font-face{font-family:F;src:url(/f.woff2)}</style>`,
			assets:    []exchange{res("/f.woff2", "font/woff2", []byte("<html><body>Forbidden</body></html>"))},
			absent:    []string{"data:font/woff2"},
			notUsable: 1,
		},
		{
			name: "a real image and font still go in", doctype: standards,
			page:   `<img src="/i.png" alt=""><style>@font-face{font-family:F;src:url(/f.woff2)}</style>`,
			assets: []exchange{res("/i.png", "image/png", pngReal), res("/f.woff2", "font/woff2", woff2)},
			want:   []string{dataURI("image/png", pngReal), dataURI("font/woff2", woff2)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, st := build(t, append([]exchange{htmlPage(tc.doctype + "<html><head>" + tc.page)}, tc.assets...), Options{})
			checkPage(t, out, tc.want, tc.absent)
			if st.NotUsable != tc.notUsable {
				t.Errorf("%d not usable, want %d (%+v)", st.NotUsable, tc.notUsable, st)
			}
		})
	}
}

// checkPage fails a test whose page built lacks one of want or has one of
// absent.
func checkPage(t *testing.T, out string, want, absent []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("page lacks %s\npage: %s", w, out)
		}
	}
	for _, a := range absent {
		if strings.Contains(out, a) {
			t.Errorf("page has %s\npage: %s", a, out)
		}
	}
}
