package digest

import (
	"bytes"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/linkarc/linkarc/storage/record"
)

// md renders CommonMark with GFM autolinks ("www.example.com/x",
// "https://…" in running text). Raw HTML is kept, so an HTML list pasted
// into Markdown still counts; nothing rendered is ever served, only read
// for links.
var md = goldmark.New(
	goldmark.WithExtensions(extension.Linkify),
	goldmark.WithRendererOptions(ghtml.WithUnsafe()),
)

// markdownLinks finds the links of a Markdown text: [title](url),
// [title][ref] with its [ref]: url definition, <url> and bare URLs, and
// HTML <a href> written inline. In a list item the first link is the
// article and the text after it its publisher ("- [Title](url) — Reuters");
// further links in the item (an archive copy, the publisher's home page)
// are recorded as skipped. Outside lists every link is an article, and the
// text after it is its publisher only when set off by a dash, a bar or
// parentheses ("[Title](url) - Reuters", "[Title](url) (Reuters)"), so
// running prose is never taken for a name. heading is the text of the
// first heading, if any.
func markdownLinks(src []byte) (links []link, extra []SkippedItem, heading string) {
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		return nil, nil, ""
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		return nil, nil, ""
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			if heading == "" {
				heading = collapseSpace(textOf(n))
			}
			continue
		}
		if !isAnchor(n) || insideAnchor(n) {
			continue
		}
		if li := enclosingLi(n); li != nil {
			if firstAnchor(li) == n {
				links = append(links, linkFrom(li, n))
			} else {
				l := linkFrom(li, n)
				extra = append(extra, SkippedItem{Title: l.title, URL: strings.TrimSpace(l.href), Reason: "not the first link of its list item"})
			}
			continue
		}
		href, _ := attr(n, "href")
		title := collapseSpace(textOf(n))
		if title == "" {
			title = anchorLabel(n)
		}
		links = append(links, link{href: href, title: title, publisher: setOffPublisher(n)})
	}
	return links, extra, heading
}

// enclosingLi is the nearest <li> around n, or nil.
func enclosingLi(n *html.Node) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == atom.Li {
			return p
		}
	}
	return nil
}

// setOffPublisher is the text after anchor a, up to the next link or line
// break, when it is set off as a name: " - Reuters", " | AP", " (BBC)".
func setOffPublisher(a *html.Node) string {
	var b strings.Builder
	for s := a.NextSibling; s != nil; s = s.NextSibling {
		if isAnchor(s) || s.Type == html.ElementNode && s.DataAtom == atom.Br {
			break
		}
		t := s.Data
		if s.Type == html.ElementNode {
			t = textOf(s)
		} else if s.Type != html.TextNode {
			continue
		}
		if i := strings.IndexByte(t, '\n'); i >= 0 {
			b.WriteString(t[:i])
			break
		}
		b.WriteString(t)
	}
	after := collapseSpace(b.String())
	var name string
	switch {
	case strings.HasPrefix(after, "(") && strings.HasSuffix(after, ")"):
		name = after[1 : len(after)-1]
	case strings.HasPrefix(after, "- "), strings.HasPrefix(after, "– "), strings.HasPrefix(after, "— "),
		strings.HasPrefix(after, "| "), strings.HasPrefix(after, "· "):
		_, name, _ = strings.Cut(after, " ")
	default:
		return ""
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 80 || strings.Contains(name, ". ") {
		return ""
	}
	return name
}

// parseMarkdown reads Markdown (or an HTML fragment) without front matter:
// see KindMarkdown. A file named name gets its file name as slug, so that
// editing its heading does not make it another digest.
func parseMarkdown(name string, data []byte, now time.Time) (*Digest, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	links, extra, heading := markdownLinks(data)
	d := &Digest{Path: name, Kind: KindMarkdown}
	seen := map[string]int{}
	for _, l := range links {
		d.add(l, seen)
	}
	d.Skipped = append(d.Skipped, extra...)
	if len(d.Items) == 0 {
		return nil, noUsable(name, d)
	}
	d.FrontMatter = record.FrontMatter{Title: heading}
	if heading == "" {
		d.FrontMatter.Title = inputLabel(name)
		if name == stdinName && !now.IsZero() {
			d.FrontMatter.Title += " " + day(now)
		}
	}
	d.FrontMatter.Tags = itemTags(d.Items)
	d.Slug = labelSlug(name, d.Items)
	return d, nil
}
