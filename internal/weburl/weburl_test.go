package weburl

import (
	"net/url"
	"testing"
)

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://Example.com./a":                   "example.com",
		"https://example.com/a":                    "example.com",
		"https://EXAMPLE.COM:8443/a":               "example.com",
		"https://www.Example.com../":               "www.example.com",
		"https://Bücher.Example/buch":              "xn--bcher-kva.example",
		"https://xn--bcher-kva.example/buch":       "xn--bcher-kva.example",
		"http://my_host.Example/":                  "my_host.example", // refused by IDNA, kept
		"http://127.0.0.1:8080/":                   "127.0.0.1",
		"http://[::1]:8080/":                       "::1",
		"http://[2001:DB8::1]/":                    "2001:db8::1",
		"mailto:someone@example.com":               "",
		"https://новости.рф/статья":                "xn--b1amnebsh.xn--p1ai",
		"https://NEWS.example.COM./a?b=c#fragment": "news.example.com",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Host(u); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
		if got := HostOf(in); got != want {
			t.Errorf("HostOf(%q) = %q, want %q", in, got, want)
		}
	}
	if HostOf("http://[::1") != "" {
		t.Error("an unparsable URL has a host")
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://Example.com./a?x":     "https://example.com",
		"http://Example.com:8080/a":    "http://example.com:8080",
		"http://[::1]:8080/robots.txt": "http://[::1]:8080",
		"http://[::1]/":                "http://[::1]",
		"https://Bücher.Example/":      "https://xn--bcher-kva.example",
	} {
		u, _ := url.Parse(in)
		if got := Origin(u); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonical(t *testing.T) {
	same := []string{
		"https://example.com/a?x=1",
		"https://Example.com./a?x=1",
		"HTTPS://EXAMPLE.COM/a?x=1#top",
		"  https://example.com/a?x=1  ",
	}
	for _, s := range same {
		if got := Canonical(s); got != same[0] {
			t.Errorf("Canonical(%q) = %q, want %q", s, got, same[0])
		}
	}
	for in, want := range map[string]string{
		"https://example.com:8443/A?B=C": "https://example.com:8443/A?B=C", // path and query are the server's
		"http://[::1]:8080/a#b":          "http://[::1]:8080/a",
		"https://Bücher.Example/buch":    "https://xn--bcher-kva.example/buch",
		"not a url\x7f":                  "not a url\x7f",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}
