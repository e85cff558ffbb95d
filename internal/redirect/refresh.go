package redirect

import (
	"bytes"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// MetaRefresh finds the target of the first <meta http-equiv="refresh">.
// Comments and scripts are not markup to the tokenizer, so a refresh quoted
// inside them does not count.
func MetaRefresh(page []byte) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" || !hasAttr {
				continue
			}
			var equiv, content string
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "http-equiv":
					equiv = string(v)
				case "content":
					content = string(v)
				}
			}
			if strings.EqualFold(strings.TrimSpace(equiv), "refresh") {
				if t := RefreshTarget(content); t != "" {
					return t
				}
			}
		}
	}
}

// RefreshTarget parses a refresh value: "5; url=https://…", "0;URL='…'",
// "0, url=…". A bare delay (reload this page) has no target.
func RefreshTarget(v string) string {
	v = strings.TrimSpace(v)
	i := strings.IndexAny(v, ";,")
	if i < 0 {
		return ""
	}
	if _, err := strconv.ParseFloat(strings.TrimSpace(v[:i]), 64); err != nil && strings.TrimSpace(v[:i]) != "" {
		return ""
	}
	rest := strings.TrimSpace(v[i+1:])
	if len(rest) >= 4 && strings.EqualFold(rest[:3], "url") {
		if after := strings.TrimSpace(rest[3:]); strings.HasPrefix(after, "=") {
			rest = strings.TrimSpace(after[1:])
		}
	}
	rest = strings.Trim(rest, `'"`)
	return strings.TrimSpace(rest)
}
