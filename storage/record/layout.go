package record

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Key prefixes and object names of the layout (see the package comment).
const (
	ArticlesPrefix = "articles/"
	DigestsPrefix  = "digests/"
	CachePrefix    = "cache/"

	MetaFile     = "meta.json"
	RawFile      = "raw.html"
	ReadableFile = "readable.html"
	TextFile     = "text.txt"
	HistoryDir   = "history"

	// WARCFile is the capture's WARC 1.1 file, one gzip member per record:
	// the page, its redirects, robots.txt, its requisites and the exchanges
	// that resolved its link (with Google News, or a short link's hops).
	WARCFile = "capture.warc.gz"
	// PageFile is the self-contained page derived from the WARC: one HTML
	// file, stylesheets inlined, images and fonts as data: URIs, no script.
	PageFile = "page.html"
	// ThumbFile is a small JPEG of the capture's lead image (og:image),
	// scaled and re-encoded from the WARC's copy (internal/thumbnail): what
	// the viewer shows beside an article in lists.
	ThumbFile = "thumb.jpg"
)

// DerivedFile reports whether name is one of a capture's objects derived
// from its WARC (PageFile, ThumbFile): made again from the capture without
// changing it (Writer.RederiveCapture), unlike the WARC and raw.html, which
// are what was received.
func DerivedFile(name string) bool { return name == PageFile || name == ThumbFile }

// ArticleKey is the key of one of an article's objects, e.g.
// ArticleKey("some-slug", MetaFile) = "articles/some-slug/meta.json".
func ArticleKey(slug, name string) string { return path.Join("articles", slug, name) }

// HistoryKey is the key of an object of an earlier capture of an article.
func HistoryKey(slug, captureID, name string) string {
	return path.Join("articles", slug, HistoryDir, captureID, name)
}

// DigestKey is the key of a digest record.
func DigestKey(digestSlug string) string { return "digests/" + digestSlug + ".json" }

// gnewsCacheDir is where the resolver's cache entries live.
const gnewsCacheDir = CachePrefix + "gnews/"

// GNewsCacheKey returns the store key of the resolver's cache entry for a
// Google News article id: "cache/gnews/<sha256 hex of the id>.json". Ids
// are up to 8 KiB of base64, too long for some file systems' names, hence
// the hash.
func GNewsCacheKey(id string) string {
	return hashedKey(gnewsCacheDir, id)
}

// hashedKey is the key of s's JSON object under dir, named by the SHA-256
// of s in hex: names of one length whatever s holds.
func hashedKey(dir, s string) string {
	sum := sha256.Sum256([]byte(s))
	return dir + hex.EncodeToString(sum[:]) + ".json"
}

// GNewsCacheEntry is the resolver's cache entry for one Google News
// article id, at GNewsCacheKey(ID): small JSON that any tool can read.
type GNewsCacheEntry struct {
	ID         string    `json:"id"`
	URL        string    `json:"url"` // the publisher URL the id resolved to
	ResolvedAt time.Time `json:"resolved_at"`
}

// linkCacheDir is where the resolver's entries for short links live.
const linkCacheDir = CachePrefix + "links/"

// LinkCacheKey returns the store key of the resolver's cache entry for a
// short link (t.co, bit.ly…): "cache/links/<sha256 hex of the link>.json".
func LinkCacheKey(link string) string {
	return hashedKey(linkCacheDir, link)
}

// LinkCacheEntry is the resolver's cache entry for one short link, at
// LinkCacheKey(Link): the publisher URL its redirects named, and when
// they were followed.
type LinkCacheEntry struct {
	Link       string    `json:"link"`
	URL        string    `json:"url"`
	ResolvedAt time.Time `json:"resolved_at"`
}

// Article statuses.
const (
	StatusOK      = "ok"      // fetched and extracted
	StatusBlocked = "blocked" // fetched, but the page is a wall: consent, CAPTCHA, soft 404, paywall stub
	StatusFailed  = "failed"  // not fetched or not extracted; Error says why
)

// ExtractionBounded is ArticleMeta.Extraction of a page that was over the
// extraction budget (time or memory): its text and metadata come from
// readability alone on the page's first 512 KiB (extract.ExtractBounded).
const ExtractionBounded = "bounded"

// ArticleMeta is meta.json: everything known about one capture of an article.
type ArticleMeta struct {
	Slug          string   `json:"slug"`
	Title         string   `json:"title"`     // title as the digest gives it
	Publisher     string   `json:"publisher"` // publisher name as the digest gives it
	GoogleNewsURL string   `json:"google_news_url,omitempty"`
	URL           string   `json:"url"` // publisher URL (resolved)
	ResolveMethod string   `json:"resolve_method,omitempty"`
	FinalURL      string   `json:"final_url,omitempty"` // after redirects
	RedirectChain []string `json:"redirect_chain,omitempty"`

	Status      string    `json:"status"`           // StatusOK, StatusBlocked or StatusFailed
	Reason      Reason    `json:"reason,omitempty"` // why the status is not ok
	Error       string    `json:"error,omitempty"`  // set when Status is not ok
	HTTPStatus  int       `json:"http_status,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
	ContentType string    `json:"content_type,omitempty"`
	Charset     string    `json:"charset,omitempty"`

	// Extracted metadata.
	ArticleTitle  string `json:"article_title,omitempty"` // title found in the page
	Byline        string `json:"byline,omitempty"`
	SiteName      string `json:"site_name,omitempty"`
	PublishedTime string `json:"published_time,omitempty"` // RFC 3339 where known
	Lang          string `json:"lang,omitempty"`
	Excerpt       string `json:"excerpt,omitempty"`
	Image         string `json:"image,omitempty"`
	WordCount     int    `json:"word_count"`
	// Extraction is ExtractionBounded when the page was over the
	// extraction budget and its text comes from the bounded extraction;
	// empty for the full extraction.
	Extraction string `json:"extraction,omitempty"`

	SHA256 string `json:"sha256,omitempty"` // of raw.html
	Size   int64  `json:"size,omitempty"`   // bytes of raw.html
	// Files names the capture's objects beyond raw.html, readable.html and
	// text.txt (WARCFile, PageFile), in the order they were written; they
	// sit beside meta.json and move to history with it.
	Files []string `json:"files,omitempty"`
	// Sums are the SHA-256 (hex) of the capture's objects other than
	// raw.html (whose sum is SHA256) by name: readable.html, text.txt and
	// those in Files. They tie each object to this capture, so that a
	// checker (Verify) can tell one capture's text from another's.
	Sums map[string]string `json:"sums,omitempty"`
	// PageVersion is the version of the builder that made PageFile
	// (archive/singlepage.Version), so that a page built by an older
	// builder can be found and built again (`linkarc reextract`); 0 when
	// the capture has no page, or its page was made before builders were
	// versioned (and is then taken for an old one).
	PageVersion int `json:"page_version,omitempty"`
	// Requisites is what the page's requisites came to; nil for captures
	// that fetched none (made before requisites, or failed).
	Requisites *RequisiteStats `json:"requisites,omitempty"`

	Digests []string `json:"digests"` // slugs of the digests that list this article

	// MergedFrom is the slug this capture was archived under before
	// `linkarc dedupe` merged that article into this one (Alias); empty
	// for the article's own captures.
	MergedFrom string `json:"merged_from,omitempty"`

	// History lists earlier captures, oldest first; their objects are under
	// articles/<slug>/history/<CaptureID>/.
	History []CaptureRef `json:"history,omitempty"`
}

// CaptureRef names an earlier capture kept in an article's history.
type CaptureRef struct {
	CaptureID string    `json:"capture_id"`
	Status    string    `json:"status"`
	FetchedAt time.Time `json:"fetched_at"`
	SHA256    string    `json:"sha256,omitempty"`
	// MergedFrom is the slug of the article the capture was archived
	// under, when `linkarc dedupe` folded it into this article's history
	// (ArticleMeta.MergedFrom of its meta.json).
	MergedFrom string `json:"merged_from,omitempty"`
}

// DigestRecord is digests/<digest-slug>.json.
//
// One record is one listing: a digest file of one day. Another day's (or
// another file's) digest with the same slug gets another key (see
// SameListing), so that no listing replaces another.
type DigestRecord struct {
	Slug       string `json:"slug"`
	SourceFile string `json:"source_file"` // path as given on the command line
	// Source names the input across runs wherever they are started from:
	// the last two segments of its absolute path ("day1/digest.md"), or
	// the URL of a feed. Empty in records of earlier versions.
	Source      string          `json:"source,omitempty"`
	FrontMatter FrontMatter     `json:"front_matter"`
	Articles    []DigestArticle `json:"articles"` // in digest order
	// ArchivedAt is when the digest was first archived; a re-run keeps it
	// and sets UpdatedAt.
	ArchivedAt time.Time      `json:"archived_at"`
	UpdatedAt  time.Time      `json:"updated_at,omitzero"`
	Counts     map[string]int `json:"counts"` // status -> number of articles
	// Parts is the number of continuation parts holding the articles
	// after those in Articles, when they do not all fit in one record of
	// MaxRecordSize (see Writer.PutDigest, ReadDigestPart); Counts counts
	// them all.
	Parts int `json:"parts,omitempty"`
	// Skipped lists the links of the input that were not archived, with
	// why (the first MaxSkippedLinks); SkippedTotal counts them all.
	Skipped      []SkippedLink `json:"skipped,omitempty"`
	SkippedTotal int           `json:"skipped_total,omitempty"`
}

// SkippedLink is a link (or a line of a URL list) of a digest that was
// not archived: not an http(s) URL, a repeat, a line without a link.
type SkippedLink struct {
	Title  string `json:"title,omitempty"` // the link's text, or the line as written
	URL    string `json:"url,omitempty"`   // the link as written; empty for a line without one
	Reason string `json:"reason"`          // why, and what to write instead ("line 2: …" in line-based inputs)
}

// DigestPart is a continuation part of a digest record, at
// DigestPartKey(slug, Part): the articles after those of part Part-1 (part
// 1 being the record itself).
type DigestPart struct {
	Slug     string          `json:"slug"`
	Part     int             `json:"part"`   // 2, 3, ...
	Offset   int             `json:"offset"` // the index of its first article in the whole digest
	Articles []DigestArticle `json:"articles"`
}

// DigestPartKey is the key of part n (2, 3, ...) of a digest record:
// digests/<slug>/<n>.json.
func DigestPartKey(slug string, n int) string {
	return DigestsPrefix + slug + "/" + strconv.Itoa(n) + ".json"
}

// SameListing reports whether a stored digest record is the listing of
// the same digest as one with front-matter date and source about to be
// written: the same date, and the same source (compared by file name for
// records of earlier versions, which have no Source).
func SameListing(rec *DigestRecord, date, source, sourceFile string) bool {
	if strings.TrimSpace(rec.FrontMatter.Date) != strings.TrimSpace(date) {
		return false
	}
	if rec.Source != "" {
		return rec.Source == source
	}
	return path.Base(filepathSlash(rec.SourceFile)) == path.Base(filepathSlash(sourceFile))
}

func filepathSlash(p string) string { return strings.ReplaceAll(p, "\\", "/") }

// FrontMatter is a digest's YAML front matter.
type FrontMatter struct {
	Title       string   `json:"title" yaml:"title"`
	Date        string   `json:"date,omitempty" yaml:"date"`
	Slug        string   `json:"slug,omitempty" yaml:"slug"`
	Link        string   `json:"link,omitempty" yaml:"link"`
	Source      string   `json:"source,omitempty" yaml:"source"`
	Categories  []string `json:"categories,omitempty" yaml:"categories"`
	Tags        []string `json:"tags,omitempty" yaml:"tags"`
	Description string   `json:"description,omitempty" yaml:"description"`
	Summary     string   `json:"summary,omitempty" yaml:"summary"`
	Draft       bool     `json:"draft,omitempty" yaml:"draft"`
	Image       string   `json:"image,omitempty" yaml:"image"`
}

// DigestArticle is one list item of a digest as archived.
type DigestArticle struct {
	Slug      string `json:"slug"`
	Title     string `json:"title"`
	Publisher string `json:"publisher"`
	// GoogleNewsURL is the item's link as listed when it is a Google News
	// link; Link is the item's link as listed when it is not (a publisher
	// link, a shortener). Exactly one of them is set. Records written
	// before Link existed hold every link in GoogleNewsURL: read the
	// listed link through Listed, which tells them apart.
	GoogleNewsURL string `json:"google_news_url,omitempty"`
	Link          string `json:"link,omitempty"`
	// URL is the publisher URL this item's own link resolved to (a
	// publisher link is its own), which may differ from the article's
	// meta.json url when two items with different tracking parameters
	// lead to one article.
	URL    string `json:"url,omitempty"`
	Status string `json:"status"`
	Reason Reason `json:"reason,omitempty"`
	// Tags are the item's own tags or categories, where its source gives
	// them (a bookmark's tags, a feed item's categories); the digest's own
	// are in its front matter. The viewer shows and filters by both.
	Tags []string `json:"tags,omitempty"`
	// MergedFrom is the slug the item named before `linkarc dedupe`
	// pointed it at the article it was merged into (Slug); empty otherwise.
	MergedFrom string `json:"merged_from,omitempty"`
}

// Listed is the item's link as the digest listed it, and whether it is a
// Google News link. In records written before DigestArticle.Link existed
// GoogleNewsURL held every link; there the host decides: news.google.com,
// consent.google.com, and Google's own redirect hosts (google.com,
// www.google.com), the hosts resolver.IsGoogleNews accepts.
func (a DigestArticle) Listed() (link string, google bool) {
	if a.Link != "" {
		return a.Link, false
	}
	if a.GoogleNewsURL == "" {
		return "", false
	}
	return a.GoogleNewsURL, GoogleHost(a.GoogleNewsURL)
}

// GoogleHost reports whether rawURL is an http(s) URL on a host Google
// News links are given on (news.google.com, consent.google.com, and the
// google.com hosts of its redirect links), by host alone.
func GoogleHost(rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	switch strings.TrimSuffix(strings.ToLower(u.Hostname()), ".") {
	case "news.google.com", "consent.google.com", "google.com", "www.google.com":
		return true
	}
	return false
}
