package digest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// gnewsIDRE is a bare Google News article id, as `linkarc resolve` takes
// it.
var gnewsIDRE = regexp.MustCompile(`^C(?:BM|AI)[A-Za-z0-9_-]{16,}$`)

// maxNoteLen bounds the text quoted in a note about an ignored line.
const maxNoteLen = 80

// parseURLList reads text with one link per line (see KindURLList):
//
//   - blank lines and lines starting with "#" are skipped, and so is a
//     "# comment" after the link;
//   - a link may lack its scheme where that is unambiguous: "www.…", or a
//     dotted host name followed by a path ("news.google.com/read/CBMi…");
//     https is assumed. A bare Google News id (CBMi…) stands for its
//     news.google.com/rss/articles/ link;
//   - scheme and host are lower-cased; trailing punctuation and unbalanced
//     closing brackets are not part of a link;
//   - the text around a line's one link is its title, and "Title -
//     Source (https://…)", the form share buttons write, gives the title
//     and the publisher;
//   - a line with several links gives each (untitled);
//   - every other line is noted in Skipped with its number and why.
//
// Text where fewer than half of the lines hold a link is not a URL list
// and gives an *Error saying so.
func parseURLList(name string, data []byte, now time.Time) (*Digest, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	d := &Digest{Path: name, Kind: KindURLList}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxSize+1)
	lines, linkLines := 0, 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines++
		links, note := lineLinks(line)
		if len(links) > 0 {
			linkLines++
		}
		for _, l := range links {
			d.add(l, seen)
		}
		if note != "" {
			d.Skipped = append(d.Skipped, SkippedItem{Title: quoteNote(line), Reason: fmt.Sprintf("line %d: %s", n, note)})
		}
	}
	if linkLines == 0 {
		if lines == 0 {
			return nil, &Error{Path: name, Reason: "no links: only blank lines and # comments"}
		}
		return nil, &Error{Path: name, Reason: fmt.Sprintf("no links: not a digest (no --- front matter), feed, bookmark export or Markdown, and none of its %s holds a link (%s: %q)",
			textnorm.Count(lines, "line", "lines"), d.Skipped[0].Reason, d.Skipped[0].Title)}
	}
	if 2*linkLines < lines {
		return nil, &Error{Path: name, Reason: fmt.Sprintf("not a list of links: only %d of its %d lines %s a link (a URL list has one link per line)", linkLines, lines, textnorm.Plural(linkLines, "holds", "hold"))}
	}
	if len(d.Items) == 0 {
		return nil, noUsable(name, d)
	}
	d.FrontMatter = record.FrontMatter{Title: inputLabel(name)}
	if name == stdinName && !now.IsZero() {
		d.FrontMatter.Title += " " + day(now)
	}
	d.Slug = labelSlug(name, d.Items)
	return d, nil
}

// lineLinks finds the links of one line and, when something on it was
// ignored, says what.
func lineLinks(line string) ([]link, string) {
	if gnewsIDRE.MatchString(line) {
		return []link{{href: "https://news.google.com/rss/articles/" + line}}, ""
	}
	found := weburl.FindLinks(line)
	var links []link
	var kept [][2]int
	for _, l := range found {
		links = append(links, link{href: l.URL})
		kept = append(kept, [2]int{l.Start, l.End})
	}
	switch len(links) {
	case 0:
		tok := strings.Trim(line, "()<>[],;!?\"'")
		if weburl.IsHostName(tok) && !strings.HasSuffix(tok, ".") {
			return nil, fmt.Sprintf("%q is a host name without a scheme or path; write https://%s/ to archive it", tok, tok)
		}
		if schemelessAddress(tok) {
			return nil, fmt.Sprintf("no scheme: https:// is assumed only before a host name, not an IP address, localhost or a port; write http://%s or https://%s", tok, tok)
		}
		return nil, "no link"
	case 1:
		before := line[:kept[0][0]]
		after := line[kept[0][1]:]
		// A comment after the link is the user's, not a title.
		if i := strings.Index(after, "#"); i >= 0 && (i == 0 || after[i-1] == ' ' || after[i-1] == '\t') {
			after = after[:i]
		}
		// "(https://…)" and "<https://…>": the brackets go with the link.
		before, after = strings.TrimRight(before, " \t"), strings.TrimLeft(after, " \t")
		if (strings.HasSuffix(before, "(") && strings.HasPrefix(after, ")")) ||
			(strings.HasSuffix(before, "<") && strings.HasPrefix(after, ">")) ||
			(strings.HasSuffix(before, "[") && strings.HasPrefix(after, "]")) {
			before, after = before[:len(before)-1], after[1:]
		}
		const seps = " -–—|:·•,;."
		text := strings.Trim(unbracket(strings.Trim(textnorm.CollapseSpace(before+" "+after), seps)), seps)
		if text != "" {
			links[0].title, links[0].publisher = splitTitle(text)
		}
		return links, ""
	}
	var rest strings.Builder
	prev := 0
	for _, k := range kept {
		rest.WriteString(line[prev:k[0]])
		rest.WriteByte(' ')
		prev = k[1]
	}
	rest.WriteString(line[prev:])
	if strings.Trim(textnorm.CollapseSpace(rest.String()), " -–—|:·•,;()<>[]") != "" {
		return links, fmt.Sprintf("%d links on one line: the text around them is not used as a title", len(links))
	}
	return links, ""
}

// schemelessAddress reports whether tok is a link without its scheme
// whose host FindLinks does not take for one: an IP address, localhost,
// or a host with a port ("127.0.0.1:8080/news/x.html").
func schemelessAddress(tok string) bool {
	if strings.ContainsAny(tok, " \t") || strings.Contains(tok, "://") {
		return false
	}
	u, err := url.Parse("http://" + tok)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	host := u.Hostname()
	_, ipErr := netip.ParseAddr(host)
	return ipErr == nil || strings.EqualFold(host, "localhost") || (u.Port() != "" && strings.Contains(host, "."))
}

// quoteNote shortens a line for a note.
func quoteNote(s string) string {
	if len(s) <= maxNoteLen {
		return s
	}
	cut := maxNoteLen
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
