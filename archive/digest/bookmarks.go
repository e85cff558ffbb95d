package digest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

// folderSep joins folder names in digest titles.
const folderSep = " › "

// maxFolderDepth bounds folder nesting: the bookmarks of deeper folders are
// filed in their ancestor at this depth. Each level copies the path, so
// without a bound a hostile file of nested folders costs the square of its
// depth; browsers' own trees rarely pass ten levels.
const maxFolderDepth = 32

// bookmark is one link of a bookmark export, with where it was filed.
type bookmark struct {
	link
	folder []string
	added  time.Time
}

// parseBookmarks reads a bookmark export, HTML or CSV, into one digest per
// folder that holds links (see KindBookmarks).
func parseBookmarks(name string, data []byte, now time.Time) ([]*Digest, error) {
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	var (
		marks   []bookmark
		skipped []SkippedItem
		err     error
	)
	if len(t) > 0 && t[0] == '<' {
		marks = htmlBookmarks(t)
	} else if marks, skipped, err = csvBookmarks(t); err != nil {
		return nil, &Error{Path: name, Reason: err.Error(), Err: err}
	}
	return folderDigests(name, marks, skipped, now)
}

// htmlBookmarks reads Netscape bookmark HTML — what Chrome, Firefox,
// Safari, Edge, Pinboard and Raindrop export — and Pocket's HTML export.
//
// Netscape files nest folders as <DT><H3>Name</H3><DL>…</DL>; each
// bookmark is <DT><A HREF ADD_DATE TAGS>Title</A>, optionally followed by
// <DD>description. The <H1> is the file's title, not a folder. Pocket's
// file has no <DL>: its <h1> sections ("Unread", "Read Archive") are the
// folders and its links carry time_added and tags.
//
// It reads tokens rather than building a tree: exports run to tens of
// megabytes of inline favicons, and their tag soup (unclosed <DT> and <p>)
// needs no tree to follow.
func htmlBookmarks(data []byte) []bookmark {
	netscape := bytes.Contains(bytes.ToLower(data[:min(len(data), sniffWindow)]), []byte("<dl"))
	z := html.NewTokenizer(bytes.NewReader(data))
	var (
		out     []bookmark
		stack   [][]string // the folder path at each open <DL>
		path    []string   // the current folder path
		pending string     // the last <H3>: the folder the next <DL> opens
		text    strings.Builder
		inText  string // the element whose text is being collected: "a", "h1", "h3" …
		cur     bookmark
	)
	endText := func() {
		switch inText {
		case "a":
			cur.title = textnorm.CollapseSpace(text.String())
			cur.folder = path
			out = append(out, cur)
		case "h3":
			if netscape {
				pending = textnorm.CollapseSpace(text.String())
				break
			}
			fallthrough
		case "h1", "h2":
			if !netscape {
				if n := textnorm.CollapseSpace(text.String()); n != "" {
					path = []string{n}
				}
			}
		}
		inText = ""
		text.Reset()
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			endText()
			return out
		case html.TextToken:
			if inText != "" {
				text.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, hasAttr := z.TagName()
			switch string(tag) {
			case "a":
				endText()
				cur = bookmark{}
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "href":
						cur.href = string(v)
					case "tags":
						cur.tags = splitTags(string(v))
					case "add_date", "time_added":
						cur.added = unixTime(string(v))
					}
				}
				inText = "a"
			case "h1", "h2", "h3":
				endText()
				inText = string(tag)
			case "dl":
				endText()
				stack = append(stack, path)
				if pending != "" && len(path) < maxFolderDepth {
					path = append(append([]string(nil), path...), pending)
				}
				pending = ""
			case "dt", "dd", "li", "ul", "p":
				endText()
			}
		case html.EndTagToken:
			tag, _ := z.TagName()
			switch string(tag) {
			case "a", "h1", "h2", "h3":
				endText()
			case "dl":
				endText()
				if n := len(stack); n > 0 {
					path, stack = stack[n-1], stack[:n-1]
				}
			}
		}
	}
}

// csvBookmarks reads a CSV export whose header names a url column:
// Pocket (title,url,time_added,tags,status; tags split by "|"), Instapaper
// (URL,Title,Selection,Folder,Timestamp,Tags), Raindrop
// (id,title,…,url,folder,tags,created,…) and the like. The folder (or
// Pocket's status) column is the folder.
func csvBookmarks(data []byte) ([]bookmark, []SkippedItem, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return nil, nil, fmt.Errorf("CSV header: %w", err)
	}
	col := csvHeader(data)
	if col == nil {
		return nil, nil, errors.New("CSV without a url column")
	}
	cell := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var (
		out     []bookmark
		skipped []SkippedItem
	)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return out, skipped, fmt.Errorf("CSV: %w", err)
			}
			skipped = append(skipped, SkippedItem{Reason: fmt.Sprintf("line %d: %v", pe.Line, pe.Err)})
			if len(skipped) > 100 {
				break // not CSV after all; what was read stands
			}
			continue
		}
		line, _ := r.FieldPos(0)
		b := bookmark{link: link{href: cell(rec, "url"), title: cell(rec, "title"), tags: splitTags(cell(rec, "tags"))}}
		if f := cell(rec, "folder"); f != "" {
			b.folder = []string{f}
		}
		b.added = unixTime(cell(rec, "time"))
		if b.href == "" {
			skipped = append(skipped, SkippedItem{Title: b.title, Reason: fmt.Sprintf("line %d: empty url", line)})
			continue
		}
		out = append(out, b)
	}
	return out, skipped, nil
}

// csvHeader maps the columns linkarc reads ("url", "title", "tags",
// "folder", "time") to their index in data's first line, or returns nil
// when that line is not a CSV header with a url column.
func csvHeader(data []byte) map[string]int {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimPrefix(bytes.TrimRight(line, "\r"), []byte("\ufeff"))
	if !bytes.Contains(line, []byte(",")) || bytes.Contains(line, []byte("://")) {
		return nil
	}
	rec, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil || len(rec) < 2 {
		return nil
	}
	names := map[string][]string{
		"url":    {"url", "href", "link", "uri"},
		"title":  {"title", "name", "description"},
		"tags":   {"tags", "labels", "tag"},
		"folder": {"folder", "status", "collection", "list"},
		"time":   {"time_added", "created", "timestamp", "add_date", "date_added", "time"},
	}
	col := map[string]int{}
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		for key, alts := range names {
			if _, done := col[key]; !done && slices.Contains(alts, h) {
				col[key] = i
			}
		}
	}
	if _, ok := col["url"]; !ok {
		return nil
	}
	return col
}

// splitTags splits a tag attribute or cell: "a,b", Pocket's "a|b",
// Instapaper's `["a","b"]`.
func splitTags(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	sep := ","
	if strings.Contains(s, "|") {
		sep = "|"
	}
	var out []string
	for _, t := range strings.Split(s, sep) {
		out = append(out, strings.Trim(strings.TrimSpace(t), `"`))
	}
	return cleanTags(out)
}

// unixTime reads a bookmark date: Unix seconds (browsers, Pocket), or
// milliseconds or microseconds where the number is too large for seconds.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	switch {
	case n > 1e14:
		return time.UnixMicro(n).UTC()
	case n > 1e11:
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// folderDigests groups bookmarks by folder, in the order folders first
// appear, and makes one digest of each that holds a usable link.
func folderDigests(name string, marks []bookmark, skipped []SkippedItem, now time.Time) ([]*Digest, error) {
	type group struct {
		path    []string
		marks   []bookmark
		newest  time.Time
		digest  *Digest
		seenURL map[string]int
	}
	var order []*group
	byPath := map[string]*group{}
	for _, b := range marks {
		key := strings.Join(b.folder, "\x00")
		g := byPath[key]
		if g == nil {
			g = &group{path: b.folder}
			byPath[key] = g
			order = append(order, g)
		}
		g.marks = append(g.marks, b)
		if b.added.After(g.newest) {
			g.newest = b.added
		}
	}
	label := inputLabel(name)
	var out []*Digest
	slugs := map[string]bool{}
	var dropped []SkippedItem
	for _, g := range order {
		d := &Digest{Path: name, Kind: KindBookmarks}
		seen := map[string]int{}
		for _, b := range g.marks {
			d.add(b.link, seen)
		}
		if len(d.Items) == 0 {
			dropped = append(dropped, d.Skipped...)
			continue
		}
		title := strings.Join(append([]string{label}, g.path...), folderSep)
		if name == stdinName && !now.IsZero() && len(g.path) == 0 {
			title += " " + day(now)
		}
		d.FrontMatter = record.FrontMatter{
			Title:      title,
			Categories: append([]string(nil), g.path...),
			Tags:       itemTags(d.Items),
		}
		if !g.newest.IsZero() {
			d.FrontMatter.Date = day(g.newest)
		}
		switch {
		case name == stdinName && len(g.path) == 0:
			d.Slug = "stdin-" + itemsHash(d.Items)
		case name == stdinName:
			d.Slug = record.Slugify("stdin " + strings.Join(g.path, " "))
		default:
			d.Slug = record.Slugify(title)
		}
		if slugs[d.Slug] {
			// Two folders of one name at one place: told apart by position.
			d.Slug = record.CollisionSlug(d.Slug, fmt.Sprintf("%s#%d", name, len(out)))
		}
		slugs[d.Slug] = true
		out = append(out, d)
	}
	if len(out) == 0 {
		d := &Digest{Skipped: append(skipped, dropped...)}
		if len(marks) == 0 && len(skipped) == 0 {
			return nil, &Error{Path: name, Reason: "a bookmark export without bookmarks"}
		}
		return nil, noUsable(name, d)
	}
	out[0].Skipped = append(append(out[0].Skipped, skipped...), dropped...)
	return out, nil
}
