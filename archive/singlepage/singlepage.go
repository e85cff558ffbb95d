// Package singlepage builds a capture's self-contained page (issue 11 item
// 3): from the capture's WARC (the page's response and its requisites'),
// one HTML file that shows the page as a reader saw it with nothing to
// fetch and nothing to run. It is what the viewer's "Archived page" shows
// and what a user downloads (storage/record's PageFile, page.html).
//
// What Build does to the page, parsed as a browser without scripts parses
// it:
//
//   - stylesheets (<link rel=stylesheet>) become <style> elements, and
//     every @import in them (and in the page's own <style>) is replaced by
//     the sheet it imports, recursively, each resolved against the URL of
//     the sheet it is in and wrapped in the @media, @supports or @layer
//     its import conditions name;
//   - images (img, picture, input type=image, video posters, SVG image,
//     body/table backgrounds, icons) and every url() in stylesheets and
//     style attributes (fonts, background images) become data: URIs of the
//     payloads the WARC holds, redirects and revisit records followed to
//     the payload they stand for;
//   - lazy images appear as a reader with scripts saw them: data-src and
//     data-srcset (and their usual variants) in place of the placeholder,
//     a <noscript> image in place of a placeholder without them, other
//     <noscript> content gone;
//   - srcset and <picture> are reduced to the candidate a 1280-px desktop
//     loads (internal/srcset; the capture fetched that one), falling back
//     to another candidate the WARC holds; a w or x candidate stays a
//     one-candidate srcset with its descriptor (and its sizes), so that
//     the image renders at the size it did live; sizes="auto" (a lazy
//     image's laid-out width) is read from the image's markup, and an
//     image keeps a sizes attribute that gave it size containment;
//   - scripts, event handlers, script URLs, <base>, meta refresh, resource
//     hints and the like go by the viewer's own rules (internal/inert), and
//     frames are removed;
//   - links (a, area, link) point at their original absolute URLs;
//   - the page is UTF-8 with a <meta charset="utf-8"> first.
//
// A resource the WARC does not hold is left out: an image loses its src
// (keeping its size and alt text), a url() becomes url(about:invalid), a
// stylesheet link is removed. Nothing in the page refers to the network
// any more except links a reader would click.
//
// # Bounds
//
// Everything is bounded (Limits; DefaultLimits): the page's total size
// (MaxBytes, 64 MiB), each resource (MaxResourceBytes, 16 MiB decoded,
// the fetcher's default body cap), the bytes of data: URIs repeated for a
// resource embedded already (MaxRepeatBytes, 8 MiB), the number of
// distinct resources embedded (MaxResources, 2,000), the references
// followed (MaxReferences,
// 200,000 url()s and attributes: a stylesheet of a million url()s reads
// through in a second and embeds nothing past the cap) and the nesting of
// @import (MaxCSSDepth, 8 levels, cycles stopped). What is over a limit is
// left out as if it were missing, and counted in Stats. A page whose parse
// tree would be over MaxNodes (250,000, estimated by a tokenizer before the
// parse, formatting elements the parser reopens included) or deeper than
// the parser's 512 elements is not built (ErrPageTooComplex). The WARC is read
// at the offsets of its records (one index pass, then each payload used),
// never whole.
package singlepage

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/archive/requisite"
	"github.com/linkarc/linkarc/internal/thumbnail"
	"github.com/linkarc/linkarc/storage/record"
)

// Defaults of Limits, used for zero fields.
const (
	DefaultMaxBytes         = 64 << 20
	DefaultMaxResourceBytes = 16 << 20
	DefaultMaxResources     = 2000
	DefaultMaxReferences    = 200_000
	DefaultMaxCSSDepth      = 8
	DefaultMaxNodes         = 250_000
	DefaultMaxRepeatBytes   = 8 << 20
	// MaxPageBytes bounds the archived page itself (decoded), as
	// archive/stored reads it.
	MaxPageBytes = 32 << 20
)

// Version is the version of the builder, recorded with each page it makes
// (record.ArticleMeta.PageVersion) so that `linkarc reextract` builds again
// the pages an older one made. Bump it when a change makes the pages
// differ: what is embedded and how, or internal/inert's rules (a test pins
// the inert.Version each builder version was made with).
//
// Version 2 keeps a srcset candidate's descriptor (version 1 made it a
// plain src, which changed the image's rendered size). Version 3 reads
// sizes="auto" (version 2 took it for 100vw, embedding a larger candidate
// than a lazy image showed, and dropped the attribute from images of a
// plain src or an x candidate, which changed their box). Version 4 leaves
// out what a browser would not use: a stylesheet not served as text/css
// (in standards mode, or cross-origin), an image whose bytes are text, an
// HTML page where a url() wanted an image or a font.
const Version = 4

// Limits bound what Build does. Zero fields mean the defaults; negative
// values are a usage error.
type Limits struct {
	// MaxBytes bounds the page built: a resource that would take it over
	// is left out, and a page still over it (the archived page alone is too
	// large) is an error.
	MaxBytes int64
	// MaxResourceBytes bounds each resource, after its content coding is
	// undone; a larger one is left out.
	MaxResourceBytes int64
	// MaxResources bounds the distinct resources read from the WARC.
	MaxResources int
	// MaxReferences bounds the references (url()s, @imports, URL
	// attributes) followed; the rest are left out.
	MaxReferences int
	// MaxCSSDepth bounds the nesting of stylesheets: 1 is a sheet the page
	// links or holds, 2 one it imports, and so on.
	MaxCSSDepth int
	// MaxNodes bounds the nodes the page's parse tree may have, estimated
	// by a tokenizer before the page is parsed: its elements, attributes,
	// texts and comments, and the formatting elements (b, i, font…) the parser
	// reopens in every block while they are left open (a "formatting
	// bomb" makes millions of nodes out of a few kilobytes). A page over
	// it is not built (ErrPageTooComplex). The estimate follows the
	// parser's rules only roughly: the pipeline also keeps away pages
	// that were over the extraction's own budget.
	MaxNodes int
	// MaxRepeatBytes bounds the bytes of data: URIs written again for a
	// resource already embedded (a page has no other way to show one
	// image twice): an icon used on every line is repeated, a 10 MiB
	// image named 2,000 times is embedded once and then left out.
	MaxRepeatBytes int64
}

// DefaultLimits are the limits Build uses for zero fields.
var DefaultLimits = Limits{
	MaxBytes:         DefaultMaxBytes,
	MaxResourceBytes: DefaultMaxResourceBytes,
	MaxResources:     DefaultMaxResources,
	MaxReferences:    DefaultMaxReferences,
	MaxCSSDepth:      DefaultMaxCSSDepth,
	MaxNodes:         DefaultMaxNodes,
	MaxRepeatBytes:   DefaultMaxRepeatBytes,
}

func (l Limits) withDefaults() (Limits, error) {
	if l.MaxBytes < 0 || l.MaxResourceBytes < 0 || l.MaxResources < 0 || l.MaxReferences < 0 || l.MaxCSSDepth < 0 || l.MaxNodes < 0 || l.MaxRepeatBytes < 0 {
		return l, errors.New("singlepage: a limit is negative")
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxResourceBytes == 0 {
		l.MaxResourceBytes = DefaultMaxResourceBytes
	}
	if l.MaxResources == 0 {
		l.MaxResources = DefaultMaxResources
	}
	if l.MaxReferences == 0 {
		l.MaxReferences = DefaultMaxReferences
	}
	if l.MaxCSSDepth == 0 {
		l.MaxCSSDepth = DefaultMaxCSSDepth
	}
	if l.MaxNodes == 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxRepeatBytes == 0 {
		l.MaxRepeatBytes = DefaultMaxRepeatBytes
	}
	return l, nil
}

// Options configures Build.
type Options struct {
	Limits Limits
	// Originals opens the WARC holding the original of a revisit that the
	// sources do not hold (see OriginalFunc); nil means none.
	Originals OriginalFunc
	// TempDir holds the spill file of a record whose block is over
	// warc.DefaultMemoryLimit while it is read; "" means os.TempDir().
	TempDir string
}

// Stats says what Build embedded and what it left out.
type Stats struct {
	// Bytes is the size of the page built.
	Bytes int64
	// Resources counts the distinct resources embedded (stylesheets,
	// images, fonts), ResourceBytes their decoded bytes.
	Resources     int
	ResourceBytes int64
	// Missing counts the distinct resources referred to that the WARC does
	// not hold (never fetched, or not a 2xx); MissingURLs names the first
	// maxMissingURLs of them.
	Missing     int
	MissingURLs []string
	// What was left out over a limit: references that would have taken
	// the page over MaxBytes, repeats of embedded resources beyond
	// MaxRepeatBytes, resources over MaxResourceBytes or beyond
	// MaxResources, references beyond MaxReferences, @imports nested
	// beyond MaxCSSDepth or in a cycle.
	OverTotal      int
	OverRepeat     int
	OverSize       int
	OverCount      int
	OverReferences int
	OverDepth      int
	// NotUsable counts the distinct resources the WARC holds that a
	// browser would not use for what refers to them, and the page built
	// leaves out: a stylesheet not served as text/css (the browser rule,
	// usableStylesheet), an image whose bytes are text, a url() in a
	// stylesheet whose bytes are an HTML page (an error page where an
	// image or a font was wanted).
	NotUsable int
}

// maxMissingURLs bounds Stats.MissingURLs.
const maxMissingURLs = 20

// LeftOut is the number of things left out over a limit.
func (s Stats) LeftOut() int {
	return s.OverTotal + s.OverRepeat + s.OverSize + s.OverCount + s.OverReferences + s.OverDepth
}

// ErrPageTooLarge is returned (wrapped) by Build when the page is over
// Limits.MaxBytes even without the resources left out.
var ErrPageTooLarge = errors.New("singlepage: the page is over the size limit")

// ErrPageTooComplex is returned (wrapped) by Build for a page whose parse
// tree would be over Limits.MaxNodes, or nested deeper than the HTML
// parser accepts (512 elements).
var ErrPageTooComplex = errors.New("singlepage: the page is too complex")

// Build builds the self-contained page of the capture of pageURL (the
// URL the page was received at, after redirects) from the WARCs sources
// (the capture's own first).
func Build(ctx context.Context, pageURL string, sources []Source, opts Options) ([]byte, Stats, error) {
	r, err := Capture(ctx, pageURL, "", sources, opts)
	return r.Page, r.Stats, err
}

// BuildFile is Build of the WARC file at path, the capture's own.
func BuildFile(ctx context.Context, pageURL, path string, opts Options) ([]byte, Stats, error) {
	src, f, err := OpenFile(path)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("singlepage: %w", err)
	}
	defer f.Close()
	return Build(ctx, pageURL, []Source{src}, opts)
}

// Result is what Capture derives from a capture's WARC.
type Result struct {
	// Page is the self-contained page (record.PageFile).
	Page []byte
	// LeadImage is the URL of the lead image the thumbnail was made from
	// ("" when there is none); Thumbnail the thumbnail (record.ThumbFile),
	// nil when the lead image is not archived or not an image the viewer
	// shows (ThumbnailError says why).
	LeadImage      string
	Thumbnail      []byte
	ThumbnailError error
	Stats          Stats
}

// Capture builds the self-contained page of the capture of pageURL and the
// thumbnail of its lead image: leadImage, the lead image the extraction
// found (meta.json's image), else the page's og:image or twitter:image.
// The archive pipeline calls it once the capture's WARC is written, and
// stores Result.Objects beside meta.json (record.Snapshot.Extra).
func Capture(ctx context.Context, pageURL, leadImage string, sources []Source, opts Options) (Result, error) {
	limits, err := opts.Limits.withDefaults()
	if err != nil {
		return Result{}, err
	}
	a, err := OpenArchive(ctx, sources, opts.Originals)
	if err != nil {
		return Result{}, err
	}
	a.tempDir = opts.TempDir
	page, err := a.Get(ctx, pageURL, MaxPageBytes)
	if err != nil {
		return Result{}, fmt.Errorf("singlepage: the page: %w", err)
	}
	b := &builder{ctx: ctx, archive: a, limits: limits, cache: map[string]*cached{}, unlazied: map[*html.Node]bool{}, fromSource: map[*html.Node]bool{}, autoSized: map[*html.Node]string{}}
	out, err := b.build(page)
	if err != nil {
		return Result{Stats: b.stats}, err
	}
	b.stats.Bytes = int64(len(out))
	r := Result{Page: out, Stats: b.stats, LeadImage: leadImage}
	if r.LeadImage == "" {
		r.LeadImage = b.leadImage
	}
	if r.LeadImage != "" {
		r.Thumbnail, r.ThumbnailError = makeThumbnail(ctx, a, r.LeadImage, limits)
	}
	return r, nil
}

// makeThumbnail reads the lead image from the archive and scales it.
func makeThumbnail(ctx context.Context, a *Archive, imageURL string, limits Limits) ([]byte, error) {
	res, err := a.Get(ctx, imageURL, limits.MaxResourceBytes)
	if err != nil {
		return nil, err
	}
	t, err := thumbnail.Make(res.Body, res.ContentType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", imageURL, err)
	}
	return t, nil
}

// Objects are the capture objects of r: record.PageFile and, when there
// is a thumbnail, record.ThumbFile.
func (r Result) Objects() []record.Object {
	objs := []record.Object{bytesObject(record.PageFile, "text/html; charset=utf-8", r.Page)}
	if r.Thumbnail != nil {
		objs = append(objs, bytesObject(record.ThumbFile, "image/jpeg", r.Thumbnail))
	}
	return objs
}

func bytesObject(name, contentType string, b []byte) record.Object {
	return record.Object{Name: name, ContentType: contentType, Size: int64(len(b)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// builder is one Build.
type builder struct {
	ctx     context.Context
	archive *Archive
	limits  Limits
	stats   Stats
	spent   int64 // bytes of the page so far (its HTML and what was embedded)
	repeats int64 // bytes of data: URIs written again (MaxRepeatBytes)
	refs    int
	fetched int
	cache   map[string]*cached // by urlKey
	base    *url.URL
	// leadImage is the page's og:image (else twitter:image), absolute.
	leadImage  string
	leadFromOG bool
	// unlazied are the images whose lazy-loading attributes named their
	// real source.
	unlazied map[*html.Node]bool
	// fromSource are the <picture> images whose srcset is their selected
	// <source>'s.
	fromSource map[*html.Node]bool
	// autoSized are the <picture> images whose own sizes attribute, which
	// the selected source's replaced, gave them size containment
	// (srcset.SizeContained): that attribute, kept for their box.
	autoSized map[*html.Node]string
	// page is the page's URL, its origin the document's; quirks is whether
	// the document is in quirks mode (its doctype, HTML §13.2.6.4.1), which
	// lets a same-origin stylesheet of another type apply.
	page   *url.URL
	quirks bool
}

// cached is a resource read (or found missing) once.
type cached struct {
	res      *Resource
	text     string // a stylesheet's text, decoded (its Body dropped)
	dataURI  string
	embedded bool // dataURI was written once
	ok       bool
	unusable bool // counted in Stats.NotUsable
}

// notUsable counts c, once, as a resource a browser would not use.
func (b *builder) notUsable(c *cached) {
	if !c.unusable {
		c.unusable = true
		b.stats.NotUsable++
	}
}

func (b *builder) build(page *Resource) ([]byte, error) {
	body, _ := charset.ToUTF8(page.Body, page.ContentType)
	if requisite.TagBomb(body, b.limits.MaxNodes) >= 0 {
		// Not even tokenized: the tokenizer holds a tag's attributes at once.
		return nil, fmt.Errorf("%w: a tag of more than %d attributes", ErrPageTooComplex, b.limits.MaxNodes)
	}
	if n := nodeEstimate(body, b.limits.MaxNodes); n > b.limits.MaxNodes {
		return nil, fmt.Errorf("%w: more than %d nodes", ErrPageTooComplex, b.limits.MaxNodes)
	}
	doc, err := html.ParseWithOptions(bytes.NewReader(body), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPageTooComplex, err)
	}
	b.spent = int64(len(body))
	pageBase, err := url.Parse(page.URL)
	if err != nil {
		return nil, fmt.Errorf("singlepage: the page's URL: %w", err)
	}
	b.page, b.quirks = pageBase, quirksMode(doc)
	b.base = documentBase(doc, pageBase)
	b.rewriteDocument(doc)
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	// spent is about the size of the page rendered: one buffer of it,
	// not the doublings of a growing one.
	var out bytes.Buffer
	out.Grow(int(min(b.spent, b.limits.MaxBytes)) + 64<<10)
	if err := html.Render(&out, doc); err != nil {
		return nil, fmt.Errorf("singlepage: render: %w", err)
	}
	if int64(out.Len()) > b.limits.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrPageTooLarge, out.Len(), b.limits.MaxBytes)
	}
	return out.Bytes(), nil
}

// formatting are the elements HTML's parser keeps in its list of active
// formatting elements and reopens (HTML §13.2.4.3).
var formatting = map[string]bool{"a": true, "b": true, "big": true, "code": true, "em": true, "font": true, "i": true,
	"nobr": true, "s": true, "small": true, "strike": true, "strong": true, "tt": true, "u": true}

// nodeEstimate estimates the nodes of page's parse tree, up to limit+1:
// one per start tag, attribute, text and comment, plus, for each of those, the
// formatting elements left open that the parser would reopen (at most
// three alike, its "Noah's Ark" rule).
func nodeEstimate(page []byte, limit int) int {
	z := html.NewTokenizer(bytes.NewReader(page))
	open := map[string]int{} // tag and attributes -> open ones
	reopen := 0              // sum over open of min(count, 3)
	n := 0
	for n <= limit {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return n
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			n += 1 + reopen
			for more && n <= limit {
				// Every attribute is a node's worth of the tree: a tag of
				// 500,000 attributes parsed to 160 MiB.
				_, _, more = z.TagAttr()
				n++
			}
			if tt == html.StartTagToken && formatting[string(name)] {
				key := string(z.Raw())
				if len(key) > 256 {
					key = key[:256]
				}
				if open[key] < 3 {
					reopen++
				}
				open[key]++
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if formatting[string(name)] {
				prefix := "<" + string(name)
				for k, c := range open {
					if len(k) > len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) && (k[len(prefix)] == '>' || k[len(prefix)] == ' ' || k[len(prefix)] == '/' || k[len(prefix)] == '\t' || k[len(prefix)] == '\n') {
						if c <= 3 {
							reopen--
						}
						if c == 1 {
							delete(open, k)
						} else {
							open[k] = c - 1
						}
						break
					}
				}
			}
		case html.TextToken, html.CommentToken:
			n += 1 + reopen
		}
	}
	return n
}

// overReferences counts one reference, and reports whether it is beyond
// MaxReferences (then counted as left out).
func (b *builder) overReferences() bool {
	b.refs++
	if b.refs > b.limits.MaxReferences {
		b.stats.OverReferences++
		return true
	}
	return false
}

// fetch reads the resource at abs from the archive once; false when it is
// missing or over a limit (counted the first time). A resource inlined as
// text (a stylesheet) costs the page its size, any other its size in
// base64.
func (b *builder) fetch(abs string, asText bool) (*Resource, bool) {
	key := urlKey(abs)
	if key == "" {
		return nil, false
	}
	if c, ok := b.cache[key]; ok {
		return c.res, c.ok
	}
	c := &cached{}
	b.cache[key] = c
	if b.ctx.Err() != nil {
		return nil, false
	}
	if b.fetched >= b.limits.MaxResources {
		b.stats.OverCount++
		return nil, false
	}
	b.fetched++
	// Nothing larger than what is left of the page's budget (in base64,
	// 4 bytes for 3) could be embedded: it is not even read.
	limit, byBudget := b.limits.MaxResourceBytes, false
	left := b.limits.MaxBytes - b.spent
	if !asText {
		left = left / 4 * 3
	}
	if left < limit {
		limit, byBudget = left, true
	}
	if limit <= 0 {
		b.stats.OverTotal++
		return nil, false
	}
	res, err := b.archive.Get(b.ctx, abs, limit)
	switch {
	case errors.Is(err, ErrTooLarge) && byBudget:
		b.stats.OverTotal++
		return nil, false
	case errors.Is(err, ErrTooLarge):
		b.stats.OverSize++
		return nil, false
	case err != nil:
		b.stats.Missing++
		if len(b.stats.MissingURLs) < maxMissingURLs {
			b.stats.MissingURLs = append(b.stats.MissingURLs, abs)
		}
		return nil, false
	}
	b.stats.Resources++
	b.stats.ResourceBytes += int64(len(res.Body))
	c.res, c.ok = res, true
	return res, true
}

// Kinds of resource a reference wants.
type kind int

const (
	kindAny   kind = iota // a url() in a stylesheet: an image or a font
	kindImage             // an <img> and the like
)

// embed returns the data: URI of the resource ref (resolved against base)
// refers to; false when it is missing, of the wrong kind, or over a
// limit.
func (b *builder) embed(base *url.URL, ref string, k kind) (string, bool) {
	if b.overReferences() {
		return "", false
	}
	abs, ok := resolve(base, ref)
	if !ok {
		return "", false
	}
	res, ok := b.fetch(abs, false)
	if !ok {
		return "", false
	}
	c := b.cache[urlKey(abs)]
	if c.dataURI == "" {
		if res.Body == nil && c.text != "" {
			res.Body = []byte(c.text) // a stylesheet, read before as one
		}
		mt := mediaType(res, k)
		if mt == "" {
			b.notUsable(c)
			return "", false
		}
		c.dataURI = "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(res.Body)
		res.Body = nil // the data: URI holds it now
	}
	uri := c.dataURI
	// An SVG keeps the fragment that names a view or element in it
	// (sprite.svg#icon).
	if i := strings.IndexByte(ref, '#'); i >= 0 && strings.HasPrefix(uri, "data:image/svg+xml;") && isFragment(ref[i+1:]) {
		uri += ref[i:]
	}
	if c.embedded && b.repeats+int64(len(uri)) > b.limits.MaxRepeatBytes {
		b.stats.OverRepeat++
		return "", false
	}
	if !b.spend(len(uri)) {
		return "", false
	}
	if c.embedded {
		b.repeats += int64(len(uri))
	}
	c.embedded = true
	return uri, true
}

// isFragment reports whether s is a plain fragment (an id or an SVG view
// such as svgView(viewBox(0,0,10,10))), safe to write after a data: URI
// in a url() token or an attribute.
func isFragment(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:,", c) >= 0) {
			return false
		}
	}
	return true
}

// spend accounts n more bytes of the page; false (and counted) when they
// would take it over MaxBytes.
func (b *builder) spend(n int) bool {
	if b.spent+int64(n) > b.limits.MaxBytes {
		b.stats.OverTotal++
		return false
	}
	b.spent += int64(n)
	return true
}

// mediaType is the media type a data: URI carries for res: its declared
// type when it is a plain type/subtype, else what its bytes sniff as. An
// image reference wants an image, and no reference an HTML page: for
// those it is "".
func mediaType(res *Resource, k kind) string {
	declared, _, _ := mime.ParseMediaType(res.ContentType)
	if !plainMediaType(declared) {
		declared = ""
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(res.Body))
	svg := isSVG(res.Body)
	// Browsers decode an image by its bytes, whatever its type says: text
	// (an HTML error page, a JSON answer) is no image, and an HTML page no
	// font either (HTML §2.x "image sniffing"; fonts are checked by their
	// format, CSS Fonts §4.3).
	if !svg && (sniffed == "text/html" || (k == kindImage && strings.HasPrefix(sniffed, "text/"))) {
		return ""
	}
	if k == kindImage {
		switch {
		case strings.HasPrefix(declared, "image/"):
			return declared
		case strings.HasPrefix(sniffed, "image/"):
			return sniffed
		case svg:
			return "image/svg+xml"
		}
		return ""
	}
	if declared != "" && declared != "application/octet-stream" && declared != "text/plain" {
		return declared
	}
	if svg {
		return "image/svg+xml"
	}
	if plainMediaType(sniffed) {
		return sniffed
	}
	return "application/octet-stream"
}

// plainMediaType reports whether t is a lower-case type/subtype of token
// characters, safe to write in a data: URI.
func plainMediaType(t string) bool {
	typ, sub, ok := strings.Cut(t, "/")
	if !ok || typ == "" || sub == "" || len(t) > 100 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '/' || c == '.' || c == '+' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isSVG reports whether body looks like an SVG document.
func isSVG(body []byte) bool {
	head := body[:min(len(body), 1024)]
	return bytes.Contains(bytes.ToLower(head), []byte("<svg"))
}

// resolve resolves ref against base to an absolute http(s) URL.
func resolve(base *url.URL, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > 8<<10 {
		return "", false
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), true
}

// hasScheme reports whether ref starts with scheme: (any case).
func hasScheme(ref, scheme string) bool {
	return len(ref) > len(scheme) && ref[len(scheme)] == ':' && strings.EqualFold(ref[:len(scheme)], scheme)
}
