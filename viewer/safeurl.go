package viewer

import (
	"net/url"
	"strings"

	"github.com/linkarc/linkarc/internal/weburl"
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
