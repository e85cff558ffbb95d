package redirect

import (
	"strings"
	"testing"
	"time"
)

func TestRefreshTarget(t *testing.T) {
	for in, want := range map[string]string{
		"0; url=https://a.example/":    "https://a.example/",
		"0;URL='https://a.example/x'":  "https://a.example/x",
		`5 ; Url = "/rel"`:             "/rel",
		"0, url=https://a.example/":    "https://a.example/",
		"0;https://a.example/no-label": "https://a.example/no-label",
		"5":                            "",
		"":                             "",
		"abc; url=https://a.example/":  "",
	} {
		if got := RefreshTarget(in); got != want {
			t.Errorf("RefreshTarget(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRefresh(t *testing.T) {
	tests := []struct {
		in     string
		delay  time.Duration
		target string
		ok     bool
	}{
		{"0; url=https://a.example/", 0, "https://a.example/", true},
		{"  3;url=/next", 3 * time.Second, "/next", true},
		{"0.5; url=/half", 0, "/half", true},             // the fraction is dropped (HTML §7.11.1)
		{".5; url=/dot", 0, "/dot", true},                // a leading dot is a time
		{"1.2.3; url=/dots", time.Second, "/dots", true}, // digits and dots are skipped
		{"0 url=/space", 0, "/space", true},              // white space separates too
		{"0;url='/quoted' trailing", 0, "/quoted", true}, // a quote ends the URL
		{`0;url="/unterminated`, 0, "/unterminated", true},
		{"0; URL = /spaced", 0, "/spaced", true},
		{"0;/no-label", 0, "/no-label", true},
		{"0; urlx=/odd", 0, "urlx=/odd", true}, // "url" without "=" is part of the URL
		{"300", 300 * time.Second, "", true},   // a reload
		{"300;", 300 * time.Second, "", true},
		{"99999999999999999999; url=/never", -1, "/never", true}, // -1: longer than any hop
		{"", 0, "", false},
		{"soon; url=/x", 0, "", false},
		{"5x; url=/x", 0, "", false},
		{"-1; url=/x", 0, "", false},
	}
	for _, tt := range tests {
		d, target, ok := ParseRefresh(tt.in)
		delayOK := d == tt.delay || (tt.delay < 0 && d > 24*time.Hour)
		if ok != tt.ok || target != tt.target || (tt.ok && !delayOK) {
			t.Errorf("ParseRefresh(%q) = %v, %q, %v; want %v, %q, %v", tt.in, d, target, ok, tt.delay, tt.target, tt.ok)
		}
	}
}

// article is enough visible text to be a page's own content.
var article = "<article><h1>Harbour plan approved</h1><p>" +
	strings.Repeat("The council approved the harbour plan after a long debate. ", 8) + "</p></article>"

func TestFindRefresh(t *testing.T) {
	tests := []struct {
		name   string
		header string
		page   string
		want   string // target; "" for none
		from   string
	}{
		{"header", "0; url=https://a.example/next", "", "https://a.example/next", FromHeader},
		{"header wins over the page", "0; url=/h", `<meta http-equiv="refresh" content="0; url=/m">`, "/h", FromHeader},
		{"header reload is not a redirect", "30", `<meta http-equiv="refresh" content="0; url=/m">`, "/m", FromMeta},
		{"header with a long delay", "600; url=/later", "", "", ""},
		{"tracking hop", "", `<html><head><meta http-equiv="refresh" content="0; url=https://pub.example/story"></head><body></body></html>`, "https://pub.example/story", FromMeta},
		{"http-equiv in any case", "", `<META HTTP-EQUIV="Refresh" CONTENT="0;URL=/x">`, "/x", FromMeta},
		{"moved notice, 5 s", "", `<meta http-equiv="refresh" content="5; url=/moved">` + article, "/moved", FromMeta},
		{"6 s is too long to be a hop", "", `<meta http-equiv="refresh" content="6; url=/moved">`, "", ""},
		{"live blog reloads itself", "", `<meta http-equiv="refresh" content="300">` + article, "", ""},
		{"live blog reloads its own URL", "", `<meta http-equiv="refresh" content="300; url=/live">` + article, "", ""},
		{"in a comment", "", `<!-- <meta http-equiv="refresh" content="0; url=/c"> -->`, "", ""},
		{"in a script", "", `<script>document.write('<meta http-equiv="refresh" content="0; url=/s">')</script>`, "", ""},
		{"in a template", "", `<template><meta http-equiv="refresh" content="0; url=/t"></template>`, "", ""},
		{"in a textarea", "", `<textarea><meta http-equiv="refresh" content="0; url=/t"></textarea>`, "", ""},
		{"not a refresh", "", `<meta http-equiv="content-type" content="0; url=/x">`, "", ""},
		{"no content attribute", "", `<meta http-equiv="refresh">`, "", ""},
		{"second meta when the first reloads", "", `<meta http-equiv="refresh" content="900"><meta http-equiv="refresh" content="0;url=/b">`, "/b", FromMeta},
		{
			"noscript after a script redirect (Google Alerts form)", "",
			`<html><head><script>window.location.replace("https://pub.example/story")</script>` +
				`<noscript><meta http-equiv="refresh" content="0;url='https://pub.example/story'"></noscript></head><body></body></html>`,
			"https://pub.example/story", FromNoscript,
		},
		{
			"noscript hop with a line of text", "",
			`<script>location="/x"</script><noscript><meta http-equiv="refresh" content="0;url=/x"></noscript><body><p>Redirecting… <a href="/x">click here</a> if nothing happens.</p></body>`,
			"/x", FromNoscript,
		},
		{
			"noscript notice on an article page stays", "",
			`<head><noscript><meta http-equiv="refresh" content="0; url=/nojs.html"></noscript></head><body>` + article + `</body>`,
			"", "",
		},
		{
			"text inside noscript is not the page's own", "",
			`<noscript><meta http-equiv="refresh" content="0; url=/nojs"><p>` + strings.Repeat("Please enable JavaScript to read this site. ", 10) + `</p></noscript>`,
			"/nojs", FromNoscript,
		},
		{
			"script text is not content", "",
			`<script>` + strings.Repeat("var a = 1; ", 100) + `</script><noscript><meta http-equiv="refresh" content="0; url=/n"></noscript>`,
			"/n", FromNoscript,
		},
		{
			"a plain refresh wins over a noscript one", "",
			`<noscript><meta http-equiv="refresh" content="0; url=/n"></noscript><meta http-equiv="refresh" content="0; url=/m">`,
			"/m", FromMeta,
		},
		{"nothing", "", article, "", ""},
		{"empty", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := FindRefresh(tt.header, []byte(tt.page))
			if ok != (tt.want != "") || r.URL != tt.want || r.From != tt.from {
				t.Errorf("FindRefresh = %+v, %v; want %q from %q", r, ok, tt.want, tt.from)
			}
			if MetaRefresh([]byte(tt.page)) != "" && tt.header == "" && tt.want == "" {
				t.Errorf("MetaRefresh found %q where FindRefresh finds none", MetaRefresh([]byte(tt.page)))
			}
		})
	}
}

func TestOwnContent(t *testing.T) {
	for page, want := range map[string]bool{
		article: true,
		`<html><head><title>` + strings.Repeat("word ", 100) + `</title></head><body></body></html>`: false,
		`<body><p>Redirecting…</p></body>`:                                   false,
		`<body><p>` + strings.Repeat("word ", MinOwnWords) + `</p></body>`:   true,
		`<body><p>` + strings.Repeat("word ", MinOwnWords-1) + `</p></body>`: false,
		`<style>` + strings.Repeat("p { color: red } ", 50) + `</style>`:     false,
	} {
		if got := OwnContent([]byte(page)); got != want {
			t.Errorf("OwnContent(%.60q…) = %v, want %v", page, got, want)
		}
	}
}
