// Package digest turns what the user names into Digests: the folders of
// Markdown, text or HTML digests (YAML front matter and a list of article
// links) that linkarc was built for, and every other input `linkarc
// archive` accepts (see Open): URLs given as arguments, standard input,
// lists of URLs, RSS and Atom feeds, bookmark exports and Markdown links.
// A parsed Digest names its articles (Items) in document order; an input
// that cannot be used at all is an *Error the batch records and goes past;
// a command line that names nothing usable is an *InputError.
package digest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"gopkg.in/yaml.v3"
)

// MaxSize is the largest input accepted, in bytes, whatever its kind:
// Read, ReadInput and Open read no more, and the parsers refuse more. Real
// digests are a few kilobytes and feeds a few hundred; the limit is set by
// browser bookmark exports, which carry every favicon inline as a data: URL
// (thousands of bookmarks run to tens of megabytes).
const MaxSize = 32 << 20

// Read reads and parses one digest file. Errors are *Error.
func Read(path string) (*Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Reason: err.Error(), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{Path: path, Reason: fmt.Sprintf("read: %v", err), Err: err}
	}
	return Parse(path, data)
}

// digestExts are the file extensions Find picks up in directories: digests,
// Markdown and URL lists, bookmark exports, and feeds saved to disk.
var digestExts = []string{".atom", ".html", ".markdown", ".md", ".rss", ".txt", ".xml"}

// Digest is one parsed digest file.
type Digest struct {
	Path        string             `json:"path"` // as given to Parse; "-" for standard input, "" for URL arguments, the URL of a fetched feed
	Kind        Kind               `json:"kind"` // what the input was
	Slug        string             `json:"slug"` // see Parse and the Kind constants
	FrontMatter record.FrontMatter `json:"front_matter"`
	Items       []Item             `json:"items"`             // in document order, at least one
	Skipped     []SkippedItem      `json:"skipped,omitempty"` // links that were not usable, with why
}

// Item is one article a digest links to.
type Item struct {
	Title     string   `json:"title"`          // link text, entities decoded, whitespace collapsed; the URL when there is none
	Publisher string   `json:"publisher"`      // publisher name as the input gives it, else the link's host without "www."
	URL       string   `json:"url"`            // the link, usually a Google News article URL; scheme and host lower-cased
	Tags      []string `json:"tags,omitempty"` // the item's own tags or categories (feeds, bookmarks), in input order
}

// Slug is the article slug of the item: record.ArticleSlug(Title, Publisher).
func (it Item) Slug() string { return record.ArticleSlug(it.Title, it.Publisher) }

// SkippedItem is a link in a digest that was not turned into an Item; the
// run reports it and the digest record keeps it.
type SkippedItem = record.SkippedLink

// Error reports a digest file that cannot be used at all, and why.
// The batch records it and goes on with the other digests.
type Error struct {
	Path   string
	Reason string
	Err    error // underlying error, if any
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("digest %s: %s", e.Path, e.Reason) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Parse parses a digest: YAML front matter between "---" lines, then
// a body whose HTML list items (<li><a href=…>Title</a> <font>Publisher</font></li>)
// become Items. Without list items, bare <a href> links are used; without
// those, Markdown links ([Title](url), [Title][ref], <url>); without any
// link, the front matter's link becomes the one item, its title and
// publisher taken from the front-matter title "Title - Publisher".
// Links that are empty, relative, not http(s) or repeated are recorded in
// Skipped.
//
// The digest's Slug is the front-matter slug when that is already a valid
// slug (record.ValidSlug), else record.Slugify of the title, else of the file name.
//
// Files that are too large, binary, not UTF-8, lack front matter, have
// invalid YAML or hold no usable link give a *Error.
func Parse(path string, data []byte) (*Digest, error) {
	fail := func(err error, format string, args ...any) (*Digest, error) {
		return nil, &Error{Path: path, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	if len(data) > MaxSize {
		return fail(nil, "file is %d bytes, over the %d MiB limit for a digest", len(data), MaxSize>>20)
	}
	if reason := textProblem(data); reason != "" {
		return fail(nil, "%s", reason)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))

	fmText, body, err := splitFrontMatter(data)
	if err != nil {
		return fail(nil, "%v", err)
	}
	fm, err := parseFrontMatter(fmText)
	if err != nil {
		return fail(err, "front matter: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return fail(err, "body: %v", err)
	}

	d := &Digest{Path: path, Kind: KindDigest, FrontMatter: fm}
	links := listLinks(doc)
	if len(links) == 0 {
		links = bareLinks(doc)
	}
	if len(links) == 0 {
		// A body written in Markdown: [title](url), [title][ref], <url>.
		links, _, _ = markdownLinks(body)
	}
	seen := map[string]int{}
	for _, l := range links {
		d.add(l, seen)
	}
	if len(d.Items) == 0 && strings.TrimSpace(fm.Link) != "" {
		title, publisher := splitTitle(fm.Title)
		d.add(link{href: fm.Link, title: title, publisher: publisher}, seen)
	}
	if len(d.Items) == 0 {
		if len(d.Skipped) > 0 {
			return fail(nil, "no usable links: %d skipped, the first because %s (%q)",
				len(d.Skipped), d.Skipped[0].Reason, d.Skipped[0].URL)
		}
		return fail(nil, "no links: the body has no <a href> and the front matter no link")
	}
	d.Slug = digestSlug(path, fm)
	return d, nil
}

// add turns a link into an Item, or records why it was skipped.
func (d *Digest) add(l link, seen map[string]int) {
	href := lowerSchemeHost(strings.TrimSpace(l.href))
	if reason := hrefProblem(href); reason != "" {
		d.Skipped = append(d.Skipped, SkippedItem{Title: l.title, URL: href, Reason: reason})
		return
	}
	if n, dup := seen[href]; dup {
		d.Skipped = append(d.Skipped, SkippedItem{Title: l.title, URL: href, Reason: fmt.Sprintf("duplicate of item %d", n)})
		return
	}
	it := Item{Title: textnorm.CollapseSpace(l.title), Publisher: textnorm.CollapseSpace(l.publisher), URL: href, Tags: l.tags}
	if it.Publisher == "" && isGoogleNews(href) {
		// Google News titles every link "Headline - Publisher", and
		// bookmarks and URL lists keep that title as it was.
		if i := strings.LastIndex(it.Title, " - "); i > 0 {
			it.Title, it.Publisher = strings.TrimSpace(it.Title[:i]), strings.TrimSpace(it.Title[i+3:])
		}
	}
	if it.Title == "" {
		it.Title = textnorm.CollapseSpace(href)
	}
	if it.Publisher == "" {
		it.Publisher = textnorm.CollapseSpace(hostName(href))
	}
	d.Items = append(d.Items, it)
	seen[href] = len(d.Items)
}

// hrefProblem says why href cannot be an article link, or returns "".
func hrefProblem(href string) string {
	if href == "" {
		return "empty href"
	}
	u, err := url.Parse(href)
	if err != nil {
		return "unparsable URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return "not an absolute URL: write the whole link, from http:// or https://"
	default:
		return fmt.Sprintf("scheme %q is not http or https", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return "URL has no host"
	}
	if strings.ContainsFunc(host, func(r rune) bool {
		return r <= ' ' || r == 0x7f || unicode.IsSpace(r) || strings.ContainsRune("<>\"{}|\\^`", r)
	}) {
		return "URL host is not valid"
	}
	return ""
}

// hostName is the host of an http(s) URL without "www.", the publisher
// name of last resort.
func hostName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// splitTitle splits a Google News title "Title - Publisher" at its last
// " - "; titles themselves may contain " - ".
func splitTitle(s string) (title, publisher string) {
	s = textnorm.CollapseSpace(html.UnescapeString(s))
	if i := strings.LastIndex(s, " - "); i > 0 {
		return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+3:])
	}
	return s, ""
}

// digestSlug picks the digest's slug: the front-matter slug if it is valid
// as it stands, else one made from the title, else from the file name.
func digestSlug(path string, fm record.FrontMatter) string {
	if record.ValidSlug(fm.Slug) {
		return fm.Slug
	}
	if s, ok := record.SlugifyOK(fm.Title); ok {
		return s
	}
	base := filepath.Base(path)
	return record.Slugify(strings.TrimSuffix(base, filepath.Ext(base)))
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// splitFrontMatter splits a digest into its YAML front matter and its body.
// Front matter starts at the first non-blank line, which must be "---", and
// ends at the next "---" or "..." line. The YAML is returned with the lines
// before it blanked out, so YAML error line numbers are file line numbers.
func splitFrontMatter(data []byte) (fm, body []byte, err error) {
	rest := data
	line := 0
	nextLine := func() []byte {
		i := bytes.IndexByte(rest, '\n')
		var l []byte
		if i < 0 {
			l, rest = rest, nil
		} else {
			l, rest = rest[:i], rest[i+1:]
		}
		line++
		return bytes.TrimRight(l, " \t\r")
	}
	for len(rest) > 0 {
		l := nextLine()
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if string(l) != "---" {
			return nil, nil, errors.New("no front matter: the file must start with a --- line")
		}
		start, startLine := rest, line
		for len(rest) > 0 {
			before := rest
			if l := nextLine(); string(l) == "---" || string(l) == "..." {
				yamlText := start[:len(start)-len(before)]
				prefixed := append(bytes.Repeat([]byte("\n"), startLine), yamlText...)
				return prefixed, rest, nil
			}
		}
		return nil, nil, fmt.Errorf("front matter opened on line %d is never closed with ---", startLine)
	}
	return nil, nil, errors.New("no front matter: the file is empty")
}

// yamlLineRE matches the line yaml.v3 puts in a syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the problems yaml.v3's parser (not its scanner)
// reports. For these it gives the line of the construct being parsed
// counted from 0 (yaml.v3 decode.go, parser.fail, adds 1 for scanner
// errors only): "tags: [a, b" left open on line 4 is "line 3".
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// fileLine corrects the line of a yaml.v3 syntax error to the file's line
// (the front matter is parsed with the lines before it blanked out, so the
// rest of its numbering already is the file's).
func fileLine(err error) error {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil || !yamlParserProblems[m[2]] {
		return err
	}
	n, _ := strconv.Atoi(m[1])
	return fmt.Errorf("yaml: line %d: %s", n+1, m[2])
}

// parseFrontMatter decodes the YAML front matter tolerantly: keys match
// case-insensitively, unknown keys are ignored, date is kept as written
// (YAML date or string), tags and categories may be one string or a list.
func parseFrontMatter(text []byte) (record.FrontMatter, error) {
	var fm record.FrontMatter
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return fm, fmt.Errorf("invalid YAML: %w", fileLine(err))
	}
	if doc.Kind == 0 { // empty front matter
		return fm, nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return fm, nil
	}
	if root.Kind != yaml.MappingNode {
		return fm, fmt.Errorf("line %d: expected key: value pairs, got %s", root.Line, nodeKind(root))
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := resolveAlias(root.Content[i]), resolveAlias(root.Content[i+1])
		var err error
		switch strings.ToLower(k.Value) {
		case "title":
			fm.Title, err = scalar(v)
		case "date":
			fm.Date, err = scalar(v)
		case "slug":
			fm.Slug, err = scalar(v)
		case "link":
			fm.Link, err = scalar(v)
		case "source":
			fm.Source, err = scalar(v)
		case "description":
			fm.Description, err = scalar(v)
		case "summary":
			fm.Summary, err = scalar(v)
		case "image":
			fm.Image, err = scalar(v)
		case "categories":
			fm.Categories, err = stringList(v)
		case "tags":
			fm.Tags, err = stringList(v)
		case "draft":
			fm.Draft, err = boolean(v)
		default:
			continue // unknown keys are someone else's business
		}
		if err != nil {
			return fm, fmt.Errorf("line %d: %s: %w", v.Line, k.Value, err)
		}
	}
	return fm, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "nothing usable"
}

// scalar returns a scalar's text as written (trimmed); null is "".
func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("expected a single value, got %s", nodeKind(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(n.Value), nil
}

// stringList accepts a single value or a list of values; empty ones drop.
func stringList(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := scalar(n)
		if s == "" {
			return nil, err
		}
		return []string{s}, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("expected a list, got %s", nodeKind(n))
	}
	var out []string
	for _, c := range n.Content {
		s, err := scalar(resolveAlias(c))
		if err != nil {
			return nil, fmt.Errorf("list item on line %d: %w", c.Line, err)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// boolean accepts YAML 1.1 and 1.2 spellings of true and false.
func boolean(n *yaml.Node) (bool, error) {
	s, err := scalar(n)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "", "false", "no", "n", "off", "0":
		return false, nil
	case "true", "yes", "y", "on", "1":
		return true, nil
	}
	return false, fmt.Errorf("expected true or false, got %s", strconv.Quote(s))
}

// link is a link found in an input, before validation.
type link struct {
	href, title, publisher string
	tags                   []string
}

// listLinks returns the first link of every <li>, in document order, with
// the publisher that follows it. A nested list's items are their own items.
func listLinks(doc *html.Node) []link {
	var out []link
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.DataAtom != atom.Li {
			continue
		}
		if a := firstAnchor(n); a != nil {
			out = append(out, linkFrom(n, a))
		}
	}
	return out
}

// bareLinks returns every <a href> in the document, for digests whose body
// is not a list.
func bareLinks(doc *html.Node) []link {
	var out []link
	for n := range doc.Descendants() {
		if isAnchor(n) && !insideAnchor(n) {
			out = append(out, linkFrom(n.Parent, n))
		}
	}
	return out
}

func isAnchor(n *html.Node) bool {
	if n.Type != html.ElementNode || n.DataAtom != atom.A {
		return false
	}
	_, ok := attr(n, "href")
	return ok
}

func insideAnchor(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == atom.A {
			return true
		}
	}
	return false
}

// firstAnchor finds the first <a href> in li that is not inside a nested <li>.
func firstAnchor(li *html.Node) *html.Node {
	for c := li.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || c.DataAtom == atom.Li {
			continue
		}
		if isAnchor(c) {
			return c
		}
		if a := firstAnchor(c); a != nil {
			return a
		}
	}
	return nil
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// linkFrom builds the link for anchor a inside container.
func linkFrom(container, a *html.Node) link {
	href, _ := attr(a, "href")
	title := textnorm.CollapseSpace(textOf(a))
	if title == "" {
		title = anchorLabel(a)
	}
	return link{href: href, title: title, publisher: publisherAfter(container, a)}
}

// anchorLabel names a link without text: its title attribute or the alt
// text of an image in it.
func anchorLabel(a *html.Node) string {
	if t, ok := attr(a, "title"); ok && strings.TrimSpace(t) != "" {
		return textnorm.CollapseSpace(t)
	}
	for n := range a.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img {
			if alt, ok := attr(n, "alt"); ok && strings.TrimSpace(alt) != "" {
				return textnorm.CollapseSpace(alt)
			}
		}
	}
	return ""
}

// publisherAfter finds the publisher that follows anchor a in container:
// the text of the first <font> after it (Google News' markup), else the
// text after it up to the next link, trimmed of separators. Nested list
// items are not looked into; they are items of their own.
func publisherAfter(container, a *html.Node) string {
	var (
		seen, done bool
		after      strings.Builder
		font       string
	)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !done; c = c.NextSibling {
			switch {
			case c == a:
				seen = true
				continue
			case c.Type == html.ElementNode && (c.DataAtom == atom.Li || c.DataAtom == atom.Script || c.DataAtom == atom.Style):
				continue
			case !seen:
			case c.Type == html.ElementNode && c.DataAtom == atom.Font:
				if t := textnorm.CollapseSpace(textOf(c)); t != "" {
					font, done = t, true
					return
				}
			case isAnchor(c):
				done = true
				return
			case c.Type == html.TextNode:
				after.WriteString(c.Data)
				after.WriteByte(' ')
			}
			walk(c)
		}
	}
	walk(container)
	if font != "" {
		return font
	}
	return unbracket(strings.Trim(textnorm.CollapseSpace(after.String()), " -–—|·•:,;"))
}

// unbracket drops the parentheses or brackets around a whole name
// ("(Reuters)") and returns "" for brackets alone (the "(" before a second
// link).
func unbracket(s string) string {
	if len(s) >= 2 && (s[0] == '(' && s[len(s)-1] == ')' || s[0] == '[' && s[len(s)-1] == ']') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if strings.Trim(s, "()[]") == "" {
		return ""
	}
	return s
}

// textOf concatenates the text inside n, leaving out scripts and styles.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode && (c.DataAtom == atom.Script || c.DataAtom == atom.Style):
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// Find lists the digest files under roots: files given directly are
// taken as they are; directories are walked recursively for .md, .txt,
// .markdown and .html files (any case), skipping hidden files and
// directories and not following symbolic links to directories. The result
// is sorted and free of duplicates. A root or directory that cannot be read
// yields a *Error in errs; the others are still listed.
func Find(roots []string) (paths []string, errs []error) {
	seen := map[string]bool{}
	addPath := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for _, root := range roots {
		info, err := os.Stat(root)
		if err != nil {
			errs = append(errs, &Error{Path: root, Reason: "cannot read: " + pathErrReason(err), Err: err})
			continue
		}
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				errs = append(errs, &Error{Path: root, Reason: "not a regular file"})
				continue
			}
			addPath(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, &Error{Path: p, Reason: "cannot read: " + pathErrReason(err), Err: err})
				if d != nil && d.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			if p != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || !slices.Contains(digestExts, strings.ToLower(filepath.Ext(p))) {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				fi, err := os.Stat(p)
				if err != nil {
					errs = append(errs, &Error{Path: p, Reason: "broken link: " + pathErrReason(err), Err: err})
					return nil
				}
				if !fi.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			addPath(p)
			return nil
		})
		if err != nil {
			errs = append(errs, &Error{Path: root, Reason: "walk: " + err.Error(), Err: err})
		}
	}
	slices.Sort(paths)
	return paths, errs
}

// pathErrReason drops the path from an *fs.PathError, which Error
// already carries.
func pathErrReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
