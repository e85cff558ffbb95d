package digest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/text/encoding/unicode"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// Kind says what an input was. Each kind names and slugs its digests its
// own way, always from the input itself (never from the clock alone), so
// that archiving the same input again maps to the same digest record.
type Kind string

const (
	// KindDigest is a digest file: YAML front matter, then an HTML list,
	// links or Markdown links. Named and slugged by its front matter (see
	// Parse).
	KindDigest Kind = "digest"
	// KindFeed is an RSS 2.0, RSS 1.0 (RDF), Atom or JSON Feed document.
	// Named by the feed's title; slug = slug of the title + "-" + the
	// feed's date (YYYY-MM-DD, UTC: its updated or published date, else its
	// newest item's), so each day of a live feed is a digest of its own, as
	// a folder of daily digests is. See ParseFeed.
	KindFeed Kind = "feed"
	// KindBookmarks is a bookmark export: Netscape bookmark HTML (browsers,
	// Pinboard, Raindrop), Pocket's HTML or CSV export, or another CSV with
	// a url column. One digest per folder that holds links, named
	// "<file name> › <folder> › <subfolder>" and slugged from that name;
	// the folder path becomes the digest's categories.
	KindBookmarks Kind = "bookmarks"
	// KindMarkdown is Markdown (or an HTML fragment) without front matter
	// whose links are [title](url), [title][ref] or <url>. Named by its
	// first heading, else the file name; slugged by the file name.
	KindMarkdown Kind = "markdown"
	// KindURLList is text with one link per line. Named and slugged by the
	// file name. See parseURLList for what a line may hold.
	KindURLList Kind = "urls"
	// KindArguments is the URLs given on the command line: one digest
	// named "command line YYYY-MM-DD", slugged "command-line-" + the first
	// 8 hex digits of the SHA-256 of its URLs.
	KindArguments Kind = "arguments"
)

// stdinName is the name Open gives standard input; stdinLabel is how
// digests read from it are named. Their slugs start "stdin-" and end with
// a hash of their links when the input names nothing itself.
const (
	stdinName  = "-"
	stdinLabel = "standard input"
)

// ReadInput reads the file at path (at most MaxSize bytes) and parses it
// with ParseInput. Errors are *Error.
func ReadInput(path string) ([]*Digest, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return ParseInput(path, data)
}

// readLimited reads at most MaxSize+1 bytes of path, so that an oversized
// file is refused without being read whole.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Reason: "cannot read: " + pathErrReason(err), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{Path: path, Reason: "read: " + pathErrReason(err), Err: err}
	}
	return data, nil
}

// ParseInput finds out what data holds, by its content and not its name,
// and parses it into one digest or more (a bookmark export gives one per
// folder). name is the file's path, "-" for standard input, or a feed's
// URL; it names the digests (see Kind) and the errors.
//
// Detection, in order: a first line "---" is a digest; an XML document
// whose root is <rss>, <rdf:RDF> or <feed>, or a JSON Feed, is a feed;
// Netscape bookmark HTML (<!DOCTYPE NETSCAPE-Bookmark-file-1>, <DT><A>) or
// Pocket's export is bookmarks, and so is CSV whose header has a url
// column; text with Markdown links ([t](http…), [t]: http…) or HTML <a>
// elements is Markdown; anything else is read as a list of URLs. Other XML
// (OPML, sitemaps), whole HTML pages and other JSON are refused with what
// they look like.
//
// Errors are *Error: over MaxSize, binary, not UTF-8 (feeds may declare
// another encoding), unreadable XML, a feed without items, no usable link.
func ParseInput(name string, data []byte) ([]*Digest, error) {
	return parseInput(name, data, time.Time{})
}

// parseInput is ParseInput; a non-zero now dates the digests named after
// standard input ("standard input 2026-01-04").
func parseInput(name string, data []byte, now time.Time) ([]*Digest, error) {
	fail := func(format string, args ...any) ([]*Digest, error) {
		return nil, &Error{Path: name, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxSize {
		return fail("%s", tooLarge(len(data)))
	}
	data = fromUTF16(data)
	kind, what := sniff(data)
	if kind != KindFeed {
		if reason := textProblem(data); reason != "" {
			return fail("%s", reason)
		}
	}
	one := func(d *Digest, err error) ([]*Digest, error) {
		if err != nil {
			return nil, err
		}
		return []*Digest{d}, nil
	}
	switch kind {
	case KindDigest:
		return one(Parse(name, data))
	case KindFeed:
		return one(ParseFeed(name, data))
	case KindBookmarks:
		return parseBookmarks(name, data, now)
	case KindMarkdown:
		return one(parseMarkdown(name, data, now))
	case KindURLList:
		return one(parseURLList(name, data, now))
	}
	return fail("%s", what)
}

// Detect says what kind of input data holds, by its content, as ParseInput
// decides; "" when it is none that linkarc reads.
func Detect(data []byte) Kind {
	k, _ := sniff(fromUTF16(data))
	return k
}

// sniffWindow bounds how much of an input detection looks at: roots,
// doctypes and CSV headers come first.
const sniffWindow = 64 << 10

var (
	// mdLinkRE finds what only Markdown (or HTML) writes: an inline link
	// "[text](target)", a reference definition "[ref]: http…", an <a> tag.
	mdLinkRE = regexp.MustCompile(`(?i)\]\([^)\n]*\)|(?m)^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*<?(?:https?://|www\.)|<a\s[^>]*href`)
	// htmlPageRE finds the start of a whole HTML page.
	htmlPageRE = regexp.MustCompile(`(?i)^(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])`)
)

// sniff detects the kind of data (already UTF-8 or a feed); for data of no
// kind it says what the data looks like.
func sniff(data []byte) (Kind, string) {
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	if len(t) == 0 {
		return "", "empty: no links"
	}
	head := t[:min(len(t), sniffWindow)]
	if line, _, _ := bytes.Cut(head, []byte("\n")); string(bytes.TrimRight(line, " \t\r")) == "---" {
		return KindDigest, ""
	}
	lower := bytes.ToLower(head)
	switch t[0] {
	case '<':
		switch gofeed.DetectFeedType(bytes.NewReader(head)) {
		case gofeed.FeedTypeRSS, gofeed.FeedTypeAtom:
			return KindFeed, ""
		}
		if bytes.Contains(lower, []byte("<!doctype netscape-bookmark-file")) ||
			bytes.Contains(lower, []byte("<dt><a ")) || bytes.Contains(lower, []byte("<dt><h3")) ||
			bytes.Contains(lower, []byte("<title>pocket export</title>")) {
			return KindBookmarks, ""
		}
		if bytes.HasPrefix(lower, []byte("<?xml")) || bytes.HasPrefix(lower, []byte("<!doctype")) && !htmlPageRE.Match(lower) {
			return "", xmlWhat(head)
		}
		if htmlPageRE.Match(lower) {
			return "", "an HTML page, not a digest (no --- front matter), feed or bookmark export; to archive the page itself, give its URL"
		}
	case '{', '[':
		if t[0] == '{' && gofeed.DetectFeedType(bytes.NewReader(head)) == gofeed.FeedTypeJSON &&
			bytes.Contains(lower, []byte("jsonfeed.org/version")) {
			return KindFeed, ""
		}
		if json.Valid(t) {
			return "", "JSON, but not a JSON Feed (https://jsonfeed.org): give the export as bookmark HTML or CSV"
		}
	}
	if csvHeader(head) != nil {
		return KindBookmarks, ""
	}
	if mdLinkRE.Match(t) {
		return KindMarkdown, ""
	}
	return KindURLList, ""
}

// xmlWhat names XML that is not a feed by its root element.
func xmlWhat(data []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for range 1000 {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch strings.ToLower(se.Name.Local) {
			case "opml":
				return "an OPML list of feeds, not a feed: give each feed's URL or file instead"
			case "urlset", "sitemapindex":
				return "a sitemap, not a feed or digest"
			case "html":
				return "an XHTML page, not a digest, feed or bookmark export; to archive the page itself, give its URL"
			}
			return fmt.Sprintf("XML whose root element is <%s>, not an RSS or Atom feed", se.Name.Local)
		}
	}
	return "XML without a root element: not an RSS or Atom feed"
}

// textProblem says why data cannot be read as text, or returns "".
func textProblem(data []byte) string {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Sprintf("binary data, not text (NUL byte at offset %d)", i)
	}
	if !utf8.Valid(data) {
		return fmt.Sprintf("not UTF-8 text (invalid byte sequence at offset %d)", invalidUTF8Offset(data))
	}
	return ""
}

func tooLarge(n int) string {
	return fmt.Sprintf("%d bytes, over the %d MiB limit for an input", n, MaxSize>>20)
}

// fromUTF16 transcodes text that starts with a UTF-16 byte order mark
// (what Windows editors save as "Unicode") to UTF-8. An XML declaration's
// encoding is dropped with it, since it no longer holds.
func fromUTF16(data []byte) []byte {
	if len(data) < 2 || !(data[0] == 0xff && data[1] == 0xfe || data[0] == 0xfe && data[1] == 0xff) {
		return data
	}
	out, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Bytes(data)
	if err != nil {
		return data
	}
	if bytes.HasPrefix(out, []byte("<?xml")) {
		if end := bytes.Index(out, []byte("?>")); end > 0 {
			out = append([]byte(`<?xml version="1.0"?>`), out[end+2:]...)
		}
	}
	return out
}

// inputLabel is how digests made from the input called name are named:
// the file name without its extension, "standard input", or a URL's host.
func inputLabel(name string) string {
	switch {
	case name == stdinName:
		return stdinLabel
	case name == "":
		return "command line"
	case strings.Contains(name, "://"):
		return hostName(name)
	}
	base := filepath.Base(name)
	if b := strings.TrimSuffix(base, filepath.Ext(base)); b != "" {
		return b
	}
	return base
}

// labelSlug is the slug of an input's label; standard input has no name of
// its own, so its slug is "stdin-" + a hash of what it held.
func labelSlug(name string, items []Item) string {
	if name == stdinName {
		return "stdin-" + itemsHash(items)
	}
	if s, ok := record.SlugifyOK(inputLabel(name)); ok {
		return s
	}
	return slugWithSuffix("input", itemsHash(items))
}

// itemsHash is the first 8 hex digits of the SHA-256 of the items' URLs,
// one per line: the same links in the same order give the same hash.
func itemsHash(items []Item) string {
	h := sha256.New()
	for _, it := range items {
		io.WriteString(h, it.URL)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// slugWithSuffix is the slug of base, shortened so that "-" + suffix still
// fits in record.MaxSlugLen, followed by "-" + suffix; suffix must itself
// be a slug (a date, hex digits). Without a usable base it is suffix alone.
func slugWithSuffix(base, suffix string) string {
	s, ok := record.SlugifyOK(base)
	if !ok {
		return suffix
	}
	if limit := record.MaxSlugLen - len(suffix) - 1; len(s) > limit {
		cut := s[:limit]
		if i := strings.LastIndexByte(cut, '-'); i >= limit/2 {
			cut = cut[:i]
		} else {
			for len(cut) > 0 && !utf8.RuneStart(s[len(cut)]) {
				cut = cut[:len(cut)-1]
			}
		}
		s = strings.TrimRight(cut, "-")
	}
	if out := s + "-" + suffix; record.ValidSlug(out) {
		return out
	}
	return record.Slugify(s + " " + suffix)
}

// day formats t as the date part of names and slugs: YYYY-MM-DD in t's
// own zone (UTC for dates read from inputs, local for the clock).
func day(t time.Time) string { return t.Format(time.DateOnly) }

// lowerSchemeHost lower-cases an absolute URL's scheme and host; see
// weburl.LowerSchemeHost.
func lowerSchemeHost(raw string) string { return weburl.LowerSchemeHost(raw) }

// plainText turns a title that may hold markup or entities ("<b>x</b>",
// "A &amp; B") into collapsed plain text.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return textnorm.CollapseSpace(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return textnorm.CollapseSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "script" || string(name) == "style" {
				skip++
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); (string(name) == "script" || string(name) == "style") && skip > 0 {
				skip--
			}
		}
	}
}

// noUsable is the error of an input that held no usable link: the first
// skipped link and why, or that there was none.
func noUsable(name string, d *Digest) error {
	if len(d.Skipped) > 0 {
		return &Error{Path: name, Reason: fmt.Sprintf("no usable links: %d skipped, the first because %s (%q)",
			len(d.Skipped), d.Skipped[0].Reason, d.Skipped[0].URL)}
	}
	return &Error{Path: name, Reason: "no links found"}
}

// asError wraps err as an *Error for name unless it already is one.
func asError(name string, err error) error {
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	return &Error{Path: name, Reason: err.Error(), Err: err}
}
