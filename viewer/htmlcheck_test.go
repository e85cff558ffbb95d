package viewer

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// checkSafeHTML parses one of the viewer's own pages the way a browser does
// and reports everything that could run code, fetch from elsewhere or
// navigate: script, style and embedding elements, event-handler and style
// attributes, and URLs that are neither the viewer's own paths nor plain
// http(s) links. It checks the result, not the templates, so it catches
// an escaping mistake wherever it is made.
func checkSafeHTML(body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "img":
				// The one image the viewer's pages show: a thumbnail the
				// viewer serves itself, never a publisher's image.
				src := ""
				for _, a := range n.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if !strings.HasPrefix(src, "/articles/") || !strings.HasSuffix(src, "/thumb.jpg") || strings.Count(src, "/") != 3 {
					bad("<img src=%q> that is not a viewer thumbnail", src)
				}
			case "script", "style", "object", "embed", "base", "applet", "frame", "frameset", "svg", "math", "video", "audio", "source", "picture":
				bad("<%s> element", n.Data)
			case "meta":
				for _, a := range n.Attr {
					if strings.EqualFold(a.Key, "http-equiv") {
						bad("<meta http-equiv=%q>", a.Val)
					}
				}
			case "iframe":
				sandboxed := false
				for _, a := range n.Attr {
					if a.Key == "sandbox" {
						sandboxed = a.Val == ""
					}
				}
				if !sandboxed {
					bad("<iframe> without an empty sandbox attribute")
				}
			case "link":
				for _, a := range n.Attr {
					if a.Key == "href" && !strings.HasPrefix(a.Val, "/static/") {
						bad("<link href=%q>", a.Val)
					}
				}
			case "form":
				for _, a := range n.Attr {
					// The search box and the digest filters: GET forms to
					// the viewer's own pages.
					if a.Key == "action" && a.Val != "/search" && a.Val != "/" && !strings.HasPrefix(a.Val, "/tags/") {
						bad("<form action=%q>", a.Val)
					}
				}
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					bad("<%s %s=%q> event handler", n.Data, a.Key, a.Val)
				case key == "style" || key == "srcdoc" || key == "formaction" || key == "ping" || key == "xlink:href":
					bad("<%s %s=%q>", n.Data, a.Key, a.Val)
				case key == "href" || key == "src" || key == "action" || key == "poster" || key == "data" || key == "background":
					if !safeLinkValue(a.Val) {
						bad("<%s %s=%q> unsafe URL", n.Data, a.Key, a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return problems
}

// safeLinkValue accepts the viewer's own absolute paths and plain http(s)
// URLs, nothing else (javascript:, data:, protocol-relative, credentials).
func safeLinkValue(v string) bool {
	switch {
	case strings.HasPrefix(v, "//"):
		return false
	case strings.HasPrefix(v, "/"):
		return true
	case strings.HasPrefix(v, "https://"), strings.HasPrefix(v, "http://"):
		return !strings.Contains(strings.SplitN(strings.SplitN(v, "://", 2)[1], "/", 2)[0], "@") && !strings.ContainsAny(v, " \"'<>")
	}
	return false
}

// textOf returns the text content of the parsed page, the way a reader sees
// it, to check that hostile strings are shown rather than interpreted.
func textOf(body string) string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return ""
	}
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return sb.String()
}
