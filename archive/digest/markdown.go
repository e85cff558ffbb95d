package digest

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/linkarc/linkarc/internal/textnorm"
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
	if len(src) > maxMarkdown {
		return nil, nil, ""
	}
	var buf bytes.Buffer
	if err := md.Convert(tameMarkdown(src), &buf); err != nil {
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
				heading = textnorm.CollapseSpace(textOf(n))
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
		title := textnorm.CollapseSpace(textOf(n))
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
	after := textnorm.CollapseSpace(b.String())
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
	if len(data) > maxMarkdown {
		return nil, &Error{Path: name, Reason: fmt.Sprintf("Markdown of %d bytes, over the %d MiB limit for Markdown: split it, or write one URL per line", len(data), maxMarkdown>>20)}
	}
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

// Bounds on what goldmark is given. Its block parser does work
// proportional to the lines of a paragraph for each of them, and to the
// depth of the containers (block quotes, list items) a line opens for each
// marker: a hostile 40 KB line of 20,000 "- " took seconds. Real reading
// lists nest a few levels and break paragraphs every few lines.
const (
	// maxMarkdown is the most Markdown parsed; larger inputs are refused.
	maxMarkdown = 1 << 20
	// mdParagraphLines is the most lines given as one paragraph: a blank
	// line goes in after that many. Links, list items and headings read
	// the same; only a paragraph's line breaks change.
	mdParagraphLines = 64
	// mdMaxNesting is the most container markers kept at the start of a
	// line; deeper ones are dropped (the line's text stays).
	mdMaxNesting = 32
	// mdMaxIndent is the most leading white space kept on a line: lists
	// nest by indentation too.
	mdMaxIndent = 4 * mdMaxNesting
)

// tameMarkdown applies mdParagraphLines, mdMaxNesting and mdMaxIndent to src.
func tameMarkdown(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(src)/64)
	run := 0
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i+1], src[i+1:]
		} else {
			src = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			run = 0
		} else if run++; run > mdParagraphLines {
			out = append(out, '\n')
			run = 1
		}
		if ws := len(line) - len(bytes.TrimLeft(line, " \t")); ws > mdMaxIndent {
			line = line[ws-mdMaxIndent:] // nesting by indentation: as deep, no deeper
		}
		if keep, all := nestingPrefix(line, mdMaxNesting); all > keep {
			out = append(append(out, line[:keep]...), line[all:]...)
			continue
		}
		out = append(out, line...)
	}
	return out
}

// nestingPrefix scans the block-quote and list markers that open a line:
// keep is where the limit-th marker ends, all where the last one does.
func nestingPrefix(line []byte, limit int) (keep, all int) {
	i, n := 0, 0
	for {
		j := i
		for j < len(line) && j-i < 4 && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		switch {
		case j < len(line) && line[j] == '>':
			j++
		case j+1 < len(line) && (line[j] == '-' || line[j] == '+' || line[j] == '*') && (line[j+1] == ' ' || line[j+1] == '\t'):
			j += 2
		default:
			k := j
			for k < len(line) && k-j < 9 && line[k] >= '0' && line[k] <= '9' {
				k++
			}
			if k == j || k+1 >= len(line) || (line[k] != '.' && line[k] != ')') || (line[k+1] != ' ' && line[k+1] != '\t') {
				return keep, i
			}
			j = k + 2
		}
		n++
		i = j
		if n <= limit {
			keep = i
		}
	}
}
