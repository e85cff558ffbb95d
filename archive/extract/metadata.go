package extract

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/itlightning/dateparse"
	"github.com/linkarc/linkarc/internal/textnorm"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/language"
)

// Metadata sources, as recorded in sourced.From. The order of the
// candidates for each field in readMetadata is the order of trust: the
// publisher's structured data first, then the social-card tags, then plain
// <meta> tags and the page's markup.
const (
	fromJSONLD    = "json-ld"
	fromOpenGraph = "opengraph"
	fromTwitter   = "twitter"
	fromMeta      = "meta"
	fromDublin    = "dublin-core"
	fromTime      = "time"
	fromHTMLLang  = "html-lang"
	// fromReadability marks readability's guesses from the page's markup
	// (a byline element, the <title> cleaned of the site name, the first
	// paragraph), taken when the page offers no structured value.
	fromReadability = "readability"
	// fromDetected marks a language detected in the article text.
	fromDetected = "detected"
	// fromArticleText marks an excerpt that is the article's first
	// paragraph.
	fromArticleText = "article-text"
)

// minDetectWords is the article length from which a language detected in
// the text is used: on shorter text detectors guess.
const minDetectWords = 100

// The longest value of each metadata field, in bytes of UTF-8 (issue 10:
// a 5 MB og:description made a 5.2 MB meta.json, a 9 MB og:title broke
// the viewer). Text fields longer than their bound are cut at a character
// boundary and end in "…" (textnorm.Shorten), within the bound. A longer
// image URL or language tag is dropped instead: a cut URL names another
// resource, a cut tag another language. The bounds are far above real
// values: on the 123 benchmark pages the longest title has 149 bytes,
// byline 65, site name 57, excerpt 1,785, image URL 316 and language tag
// 5 (TestMetadataBounds).
const (
	MaxTitleBytes    = 1000
	MaxBylineBytes   = 500
	MaxSiteNameBytes = 300
	MaxExcerptBytes  = 4000
	MaxImageBytes    = 2048 // a common URL length limit of browsers and servers
	MaxLangBytes     = 35   // RFC 5646 §4.4.1: tags up to 35 characters must be accepted
)

// limit bounds every field (see MaxTitleBytes and the others).
func (m *pageMetadata) limit() {
	cut := func(f *sourced, n int) {
		if len(f.Value) > n {
			f.Value = textnorm.Shorten(f.Value, n-len("…"))
		}
	}
	drop := func(f *sourced, n int) {
		if len(f.Value) > n {
			*f = sourced{}
		}
	}
	cut(&m.Title, MaxTitleBytes)
	cut(&m.Byline, MaxBylineBytes)
	cut(&m.SiteName, MaxSiteNameBytes)
	cut(&m.Excerpt, MaxExcerptBytes)
	drop(&m.Image, MaxImageBytes)
	drop(&m.Lang, MaxLangBytes)
}

// sourced is a metadata value and the source it was read from.
type sourced struct {
	Value string
	From  string // one of the from* constants, "" when Value is empty
}

// pageMetadata is what a page says about itself in its structured data
// and markup. Empty fields were not found; Extract falls back to
// readability's guesses for them.
type pageMetadata struct {
	Title         sourced
	Byline        sourced
	SiteName      sourced
	PublishedTime sourced // RFC 3339
	Lang          sourced // BCP 47 tag, canonical case
	Excerpt       sourced
	Image         sourced // absolute URL
	// ArticleBody is the schema.org articleBody of the page's article, an
	// opinion of the article text for pruneUnconfirmed.
	ArticleBody string
}

// readMetadata reads the page's metadata. It only reads the tree, so it
// can run before readability rewrites it. pageURL makes the image URL
// absolute and picks, of several articles described in JSON-LD, the one
// about this page; it may be empty.
func readMetadata(doc *html.Node, pageURL *url.URL) pageMetadata {
	s := scanMetadata(doc)
	ld := pickArticle(s.jsonLD, pageURL)
	m := pageMetadata{ArticleBody: ld.articleBody}

	m.Title = first(
		sourced{ld.headline, fromJSONLD},
		sourced{s.meta["og:title"], fromOpenGraph},
		sourced{s.meta["twitter:title"], fromTwitter},
		sourced{s.meta["dc.title"], fromDublin},
		sourced{s.meta["dcterms.title"], fromDublin},
	)
	m.SiteName = first(
		sourced{notURL(s.meta["og:site_name"]), fromOpenGraph},
		sourced{ld.publisher, fromJSONLD},
		sourced{s.meta["application-name"], fromMeta},
		sourced{s.meta["dc.publisher"], fromDublin},
		sourced{s.meta["dcterms.publisher"], fromDublin},
	)
	// A social title often carries the site's name as a suffix.
	m.Title.Value = trimSiteSuffix(m.Title.Value, m.SiteName.Value)
	m.Byline = firstFunc(trimBy,
		sourced{ld.author, fromJSONLD},
		sourced{notURL(s.meta["author"]), fromMeta},
		sourced{notURL(s.meta["article:author"]), fromOpenGraph},
		sourced{notURL(s.meta["dc.creator"]), fromDublin},
		sourced{notURL(s.meta["dcterms.creator"]), fromDublin},
		sourced{notURL(s.meta["parsely-author"]), fromMeta},
		sourced{notURL(s.meta["sailthru.author"]), fromMeta},
	)
	m.PublishedTime = firstFunc(parseTime,
		sourced{ld.published, fromJSONLD},
		sourced{s.meta["article:published_time"], fromOpenGraph},
		sourced{s.meta["og:published_time"], fromOpenGraph},
		sourced{s.meta["datepublished"], fromMeta}, // <meta itemprop="datePublished">
		sourced{s.meta["dc.date.issued"], fromDublin},
		sourced{s.meta["dcterms.issued"], fromDublin},
		sourced{s.meta["dcterms.created"], fromDublin},
		sourced{s.meta["dc.date"], fromDublin},
		sourced{s.meta["pubdate"], fromMeta},
		sourced{s.meta["publishdate"], fromMeta},
		sourced{s.meta["publish-date"], fromMeta},
		sourced{s.meta["parsely-pub-date"], fromMeta},
		sourced{s.meta["sailthru.date"], fromMeta},
		sourced{s.meta["date"], fromMeta},
		sourced{s.pubTime, fromTime},
	)
	m.Lang = firstFunc(parseLang,
		sourced{s.htmlLang, fromHTMLLang},
		sourced{ld.lang, fromJSONLD},
		sourced{s.meta["content-language"], fromMeta}, // http-equiv
		sourced{s.meta["language"], fromMeta},
		sourced{s.meta["dc.language"], fromDublin},
		sourced{s.meta["og:locale"], fromOpenGraph},
	)
	m.Excerpt = first(
		sourced{s.meta["og:description"], fromOpenGraph},
		sourced{s.meta["description"], fromMeta},
		sourced{ld.description, fromJSONLD},
		sourced{s.meta["twitter:description"], fromTwitter},
		sourced{s.meta["dc.description"], fromDublin},
	)
	m.Image = firstFunc(func(v string) string { return absoluteURL(pageURL, v) },
		sourced{s.meta["og:image"], fromOpenGraph},
		sourced{s.meta["og:image:url"], fromOpenGraph},
		sourced{s.meta["twitter:image"], fromTwitter},
		sourced{s.meta["twitter:image:src"], fromTwitter},
		sourced{ld.image, fromJSONLD},
	)
	return m
}

// fillFrom takes readability's values for the fields the page's metadata
// left empty. (Its excerpt is not taken: it is the page's description,
// which readMetadata has read, or the first <p>, which may hold only an
// image; Extract uses the first paragraph of the text instead.)
func (m *pageMetadata) fillFrom(art readability.Article, pageURL *url.URL) {
	fill := func(f *sourced, v string, norm func(string) string) {
		if f.Value == "" {
			*f = firstFunc(norm, sourced{v, fromReadability})
		}
	}
	same := func(v string) string { return v }
	fill(&m.Title, art.Title(), same)
	fill(&m.Byline, art.Byline(), trimBy)
	fill(&m.SiteName, art.SiteName(), notURL)
	fill(&m.Lang, art.Language(), parseLang)
	fill(&m.Image, art.ImageURL(), func(v string) string { return absoluteURL(pageURL, v) })
	if m.PublishedTime.Value == "" {
		if t, err := art.PublishedTime(); err == nil && t.Year() >= 1990 {
			m.PublishedTime = sourced{t.Format(time.RFC3339), fromReadability}
		}
	}
}

// detectLang uses the language trafilatura detected in the article text
// when the text is long enough to trust and the page declares no
// language, or another one: templates often leave a site-wide lang="en" on
// pages in other languages.
func (m *pageMetadata) detectLang(op opinion) {
	detected := parseLang(op.lang)
	if detected == "" {
		return
	}
	declared, _ := language.Make(m.Lang.Value).Base()
	base, _ := language.Make(detected).Base()
	if (m.Lang.Value == "" || base != declared) && countWords(op.text) >= minDetectWords {
		m.Lang = sourced{detected, fromDetected}
	}
}

// first returns the first candidate with a value, whitespace collapsed.
func first(candidates ...sourced) sourced {
	return firstFunc(func(v string) string { return v }, candidates...)
}

// firstFunc returns the first candidate that norm turns into a value.
func firstFunc(norm func(string) string, candidates ...sourced) sourced {
	for _, c := range candidates {
		if v := textnorm.CollapseSpace(html.UnescapeString(c.Value)); v != "" {
			if v = norm(v); v != "" {
				return sourced{v, c.From}
			}
		}
	}
	return sourced{}
}

// metadataScan is the raw material of readMetadata, collected in one walk.
type metadataScan struct {
	htmlLang string
	meta     map[string]string // first content of each <meta>, by lower-case property, name, itemprop or http-equiv
	jsonLD   [][]byte          // contents of the JSON-LD scripts, in page order
	pubTime  string            // datetime of the <time> most likely to be the publication's
}

// scanMetadata walks the page once for the sources of readMetadata.
func scanMetadata(doc *html.Node) metadataScan {
	s := metadataScan{meta: map[string]string{}}
	var pubdate, inArticle, anyTime string
	var walk func(n *html.Node, article bool)
	walk = func(n *html.Node, article bool) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				if s.htmlLang == "" {
					s.htmlLang = attrValue(n, "lang")
				}
			case atom.Meta:
				content := attrValue(n, "content")
				for _, key := range []string{"property", "name", "itemprop", "http-equiv"} {
					for k := range strings.FieldsSeq(strings.ToLower(attrValue(n, key))) {
						if _, seen := s.meta[k]; !seen && content != "" {
							s.meta[k] = content
						}
					}
				}
			case atom.Script:
				if strings.Contains(strings.ToLower(attrValue(n, "type")), "ld+json") {
					var b bytes.Buffer
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						if c.Type == html.TextNode {
							b.WriteString(c.Data)
						}
					}
					s.jsonLD = append(s.jsonLD, b.Bytes())
				}
				return
			case atom.Article:
				article = true
			case atom.Time:
				dt := attrValue(n, "datetime")
				switch {
				case dt == "":
				case hasAttr(n, "pubdate") || strings.EqualFold(attrValue(n, "itemprop"), "datePublished"):
					if pubdate == "" {
						pubdate = dt
					}
				case article && inArticle == "":
					inArticle = dt
				case anyTime == "":
					anyTime = dt
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, article)
		}
	}
	walk(doc, false)
	// A <time> marked as the publication date, else the first inside an
	// <article>, else the page's first: article pages put their date near
	// the headline, before any list of other articles.
	s.pubTime = firstNonEmpty(pubdate, inArticle, anyTime)
	return s
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// attrValue is the value of an attribute, "" when it is missing.
func attrValue(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := attr(n, key)
	return ok
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// ldArticle is what linkarc reads from a schema.org article in JSON-LD.
type ldArticle struct {
	headline, author, published, publisher, lang, description, image string
	articleBody                                                      string
	url                                                              string // url or mainEntityOfPage, to match the page
}

// pickArticle decodes the JSON-LD scripts and returns the article the page
// is about: among the objects of an article type (NewsArticle,
// BlogPosting, …; found at the top, in arrays, in @graph or nested in other
// objects such as a WebPage's mainEntity, but not in lists of other
// articles), the one whose URL is the page's, else the first. Scripts that
// are not valid JSON even after the usual repairs are skipped: a broken
// script must not cost the page its other metadata.
func pickArticle(scripts [][]byte, pageURL *url.URL) ldArticle {
	var objs []map[string]any
	for _, src := range scripts {
		v, ok := decodeJSONLD(src)
		if ok {
			collectObjects(v, false, &objs)
		}
	}
	// An @id names a node that other objects refer to by {"@id": …}
	// alone; index the node itself, not those references.
	ids := map[string]map[string]any{}
	for _, o := range objs {
		if id, _ := o["@id"].(string); id != "" && len(o) > 1 {
			if _, seen := ids[id]; !seen {
				ids[id] = o
			}
		}
	}
	var articles, pages []map[string]any
	var siteName string
	for _, o := range objs {
		if o["#inList"] != nil {
			continue
		}
		switch {
		case isType(o, isArticleType):
			articles = append(articles, o)
		case isType(o, func(t string) bool { return strings.HasSuffix(t, "Page") }):
			pages = append(pages, o)
		case isType(o, func(t string) bool { return t == "WebSite" }) && siteName == "":
			siteName = ldString(o["name"])
		}
	}
	var best map[string]any
	for _, a := range articles {
		if sameURL(ldURL(a, ids), pageURL) {
			best = a
			break
		}
	}
	if best == nil && len(articles) > 0 {
		best = articles[0]
	}
	if best == nil && len(pages) > 0 {
		// A WebPage still names the page, its dates and language.
		best = pages[0]
	}
	if best == nil {
		return ldArticle{publisher: siteName}
	}
	a := ldArticle{
		headline:    firstNonEmpty(ldString(best["headline"]), ldString(best["name"])),
		author:      ldNames(firstSet(best["author"], best["creator"]), ids),
		published:   firstNonEmpty(ldString(best["datePublished"]), ldString(best["dateCreated"]), ldString(best["uploadDate"])),
		publisher:   firstNonEmpty(ldNames(best["publisher"], ids), siteName),
		lang:        ldLang(best["inLanguage"]),
		description: ldString(best["description"]),
		image:       ldImage(best["image"], ids),
		articleBody: ldString(best["articleBody"]),
	}
	if strings.Contains(a.articleBody, "<") {
		// Some publishers put the article's HTML in articleBody.
		a.articleBody = htmlText(a.articleBody)
	}
	if n := countWords(a.articleBody); n < minArticleBodyWords {
		a.articleBody = ""
	}
	return a
}

// htmlText is the text of an HTML fragment, or s itself when it does not
// parse.
func htmlText(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return s
	}
	var b strings.Builder
	appendText(&b, doc)
	return textnorm.CollapseSpace(b.String())
}

// decodeJSONLD decodes one script's JSON, repairing what pages commonly
// get wrong: CDATA or comment wrappers, a trailing semicolon, and raw
// control characters (line breaks inside strings).
func decodeJSONLD(src []byte) (any, bool) {
	s := bytes.TrimSpace(src)
	for _, w := range [][2]string{{"<![CDATA[", "]]>"}, {"<!--", "-->"}, {"/*<![CDATA[*/", "/*]]>*/"}, {"//<![CDATA[", "//]]>"}} {
		if bytes.HasPrefix(s, []byte(w[0])) && bytes.HasSuffix(s, []byte(w[1])) {
			s = bytes.TrimSpace(s[len(w[0]) : len(s)-len(w[1])])
		}
	}
	s = bytes.TrimRight(s, "; \t\r\n")
	var v any
	if json.Unmarshal(s, &v) == nil {
		return v, true
	}
	// Outside strings a control character is whitespace; inside one it is
	// invalid JSON that browsers' consumers tolerate. A space is right in
	// both places.
	fixed := bytes.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, s)
	if json.Unmarshal(fixed, &v) == nil {
		return v, true
	}
	return nil, false
}

// collectObjects appends every JSON object in v, depth first, marking the
// ones inside an ItemList (other articles, not this page's) with "#inList".
func collectObjects(v any, inList bool, out *[]map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		if inList {
			x["#inList"] = true
		}
		*out = append(*out, x)
		// In key order: "the first article" must not depend on Go's map
		// iteration order.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			collectObjects(x[k], inList || k == "itemListElement", out)
		}
	case []any:
		for _, y := range x {
			collectObjects(y, inList, out)
		}
	}
}

// isArticleType tells whether a schema.org type is an Article or one of
// its subtypes that pages use for articles.
func isArticleType(t string) bool {
	return strings.HasSuffix(t, "Article") || strings.HasSuffix(t, "Posting") || t == "Report" || t == "Blog"
}

// isType tells whether the object's @type (a string or a list, possibly
// with a schema.org prefix) satisfies ok.
func isType(o map[string]any, ok func(string) bool) bool {
	check := func(v any) bool {
		s, _ := v.(string)
		s = s[strings.LastIndexAny(s, "/:")+1:]
		return s != "" && ok(s)
	}
	switch t := o["@type"].(type) {
	case string:
		return check(t)
	case []any:
		for _, x := range t {
			if check(x) {
				return true
			}
		}
	}
	return false
}

// ldString is a JSON-LD value as text: a string, the first string of a
// list, or a language-tagged {"@value": …}.
func ldString(v any) string {
	switch x := v.(type) {
	case string:
		return textnorm.CollapseSpace(x)
	case []any:
		for _, y := range x {
			if s := ldString(y); s != "" {
				return s
			}
		}
	case map[string]any:
		return ldString(x["@value"])
	}
	return ""
}

// ldNames reads authors or a publisher: a name, a Person or Organization
// (perhaps only an @id pointing elsewhere in the @graph), or a list of
// them, joined with ", ".
func ldNames(v any, ids map[string]map[string]any) string {
	var names []string
	var add func(v any, depth int)
	add = func(v any, depth int) {
		switch x := v.(type) {
		case string:
			if s := notURL(textnorm.CollapseSpace(x)); s != "" {
				names = append(names, s)
			}
		case []any:
			for _, y := range x {
				add(y, depth)
			}
		case map[string]any:
			if name := ldString(x["name"]); name != "" {
				add(name, depth)
				return
			}
			if id, _ := x["@id"].(string); id != "" && depth < 3 {
				if o, ok := ids[id]; ok {
					add(o, depth+1)
				}
			}
		}
	}
	add(v, 0)
	// A page that lists an author twice (once per script) means one.
	var out []string
	for _, n := range names {
		dup := false
		for _, o := range out {
			dup = dup || strings.EqualFold(o, n)
		}
		if !dup {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// ldImage reads an image: a URL, an ImageObject, or a list of either.
func ldImage(v any, ids map[string]map[string]any) string {
	switch x := v.(type) {
	case string:
		return textnorm.CollapseSpace(x)
	case []any:
		for _, y := range x {
			if s := ldImage(y, ids); s != "" {
				return s
			}
		}
	case map[string]any:
		if s := firstNonEmpty(ldString(x["url"]), ldString(x["contentUrl"])); s != "" {
			return s
		}
		if id, _ := x["@id"].(string); id != "" {
			if o, ok := ids[id]; ok && o["@id"] != nil && (o["url"] != nil || o["contentUrl"] != nil) {
				return firstNonEmpty(ldString(o["url"]), ldString(o["contentUrl"]))
			}
		}
	}
	return ""
}

// ldLang reads inLanguage: a tag, or a Language object.
func ldLang(v any) string {
	if o, ok := v.(map[string]any); ok {
		return firstNonEmpty(ldString(o["alternateName"]), ldString(o["name"]))
	}
	return ldString(v)
}

// ldURL is the address an article says it is at.
func ldURL(o map[string]any, ids map[string]map[string]any) string {
	if s := ldString(o["url"]); s != "" {
		return s
	}
	switch m := o["mainEntityOfPage"].(type) {
	case string:
		return m
	case map[string]any:
		return firstNonEmpty(ldString(m["@id"]), ldString(m["url"]))
	}
	return ""
}

// firstSet returns the first of two JSON values that is set.
func firstSet(a, b any) any {
	if a != nil {
		return a
	}
	return b
}

// sameURL compares an article's URL with the page's, ignoring the scheme,
// a "www." prefix, the query, the fragment and a trailing slash.
func sameURL(ref string, page *url.URL) bool {
	if ref == "" || page == nil || page.Host == "" {
		return false
	}
	u, err := page.Parse(ref)
	if err != nil {
		return false
	}
	key := func(u *url.URL) string {
		return strings.TrimPrefix(strings.ToLower(u.Host), "www.") + strings.TrimSuffix(u.Path, "/")
	}
	return key(u) == key(page)
}

// notURL drops a value that is a URL: article:author and some author
// fields hold a profile page, not a name.
func notURL(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "//") {
		return ""
	}
	return s
}

// trimBy removes the "By" that English bylines start with.
func trimBy(s string) string {
	for _, p := range []string{"by:", "by "} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			return strings.TrimSpace(s[len(p):])
		}
	}
	return s
}

// trimSiteSuffix removes " | Site", " - Site" or " — Site" from a title.
func trimSiteSuffix(title, site string) string {
	if site == "" || len(title) <= len(site) {
		return title
	}
	for _, sep := range []string{" | ", " - ", " – ", " — ", " :: ", " · "} {
		if t, ok := strings.CutSuffix(title, sep+site); ok && t != "" {
			return t
		}
	}
	return title
}

// parseTime reads a date as RFC 3339. A date without a zone is taken as
// UTC, and a date alone as its midnight UTC. Ambiguous day/month orders and
// years before 1990 (placeholders such as 0001-01-01) are refused.
func parseTime(v string) string {
	t, err := dateparse.ParseStrict(v)
	if err != nil || t.Year() < 1990 || t.Year() > 2200 {
		return ""
	}
	return t.Format(time.RFC3339)
}

// parseLang reads a language tag ("en", "en_GB", "pt-br") in canonical
// form ("en-GB", "pt-BR"), or "" for a value that is not one.
func parseLang(v string) string {
	v = strings.ReplaceAll(strings.TrimSpace(v), "_", "-")
	if i := strings.IndexAny(v, ",;"); i >= 0 { // "en-US, en" in Content-Language
		v = strings.TrimSpace(v[:i])
	}
	tag, err := language.Parse(v)
	if err != nil || tag == language.Und {
		return ""
	}
	return tag.String()
}
