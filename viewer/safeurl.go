package viewer

import (
	"net/url"
	"strings"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// maxLinkBytes bounds URLs rendered as links; longer ones are shown as text.
const maxLinkBytes = 4096

// externalURL returns raw as a link target when it is an absolute http or
// https URL with a host, and "" otherwise.
//
// URLs in the archive come from untrusted feeds and pages. html/template
// already defuses "javascript:" in href attributes, but it would still
// render a dead link; this keeps anything that is not plainly a web page
// from being clickable at all (javascript:, data:, vbscript:, file:, schemeless
// and protocol-relative forms, URLs with credentials).
func externalURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxLinkBytes || strings.ContainsAny(raw, "\x00\r\n\t\\") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.String()
	default:
		return ""
	}
}

// hostOf returns the host name of an http(s) URL, for compact display.
func hostOf(raw string) string {
	if externalURL(raw) == "" {
		return ""
	}
	return strings.TrimPrefix(weburl.HostOf(raw), "www.")
}

// maxShortURL is the length, in characters, past which shortURL elides.
const maxShortURL = 64

// shortURL is how a URL is shown where space is narrow (the article
// panel): without the scheme and "www.", and with the middle of a long one
// elided, so that a 300-character Google News link takes a line or two
// rather than a screenful; tracking parameters (utm_source and the like,
// weburl.StripTracking) are not shown. Its link and title carry the whole
// URL as stored.
func shortURL(raw string) string {
	u, err := url.Parse(externalURL(weburl.StripTracking(raw)))
	if err != nil || u.Host == "" {
		return raw
	}
	s := strings.TrimPrefix(u.Host, "www.") + u.EscapedPath()
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	r := []rune(s)
	if len(r) <= maxShortURL {
		return s
	}
	return string(r[:maxShortURL-20]) + "…" + string(r[len(r)-19:])
}

// sourceLink is a digest's front-matter link, labelled for what it is.
type sourceLink struct {
	URL   string // "" when there is no usable link
	Label string // "Published at", "Source:"
	Text  string // the link's text
}

// linkOf labels a digest's front-matter link: a digest built from a Google
// News topic, search or story links to it, which is where its articles
// were found, not where the digest was published.
func linkOf(raw string) sourceLink {
	u := externalURL(raw)
	if u == "" {
		return sourceLink{}
	}
	pu, _ := url.Parse(u)
	host := strings.ToLower(pu.Hostname())
	if host != "news.google.com" {
		return sourceLink{URL: u, Label: "Published at", Text: hostOf(u)}
	}
	text := "Google News"
	path := strings.TrimPrefix(pu.Path, "/rss")
	switch {
	case strings.HasPrefix(path, "/topics/"):
		text = "a Google News topic"
	case strings.HasPrefix(path, "/search"):
		text = "a Google News search"
	case strings.HasPrefix(path, "/stories/"):
		text = "a Google News story"
	}
	return sourceLink{URL: u, Label: "Source:", Text: text}
}

// itemLink is a digest item's link as the digest listed it, labelled for
// what it is.
type itemLink struct {
	URL   string // "" when there is nothing to show
	Label string // "Google News link", "Original link"
}

// listedLink labels a digest item's own link: a Google News link, or the
// link as listed when it was something else (a shortener, another
// spelling of the publisher URL). A publisher link that is the item's url
// is already shown as the publisher's link and gets no second one.
// Records written before record.DigestArticle.Link held every link in
// google_news_url; Listed tells them apart by host.
func listedLink(a record.DigestArticle) itemLink {
	raw, google := a.Listed()
	u := externalURL(raw)
	switch {
	case u == "":
		return itemLink{}
	case google:
		return itemLink{URL: u, Label: "Google News link"}
	case u == externalURL(a.URL):
		return itemLink{}
	}
	return itemLink{URL: u, Label: "Original link"}
}
