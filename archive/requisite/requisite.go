// Package requisite finds a page's requisites: what a reader's browser
// would fetch to show the page as it looked, so that the capture can keep
// it. FromHTML reads a page; FromCSS reads a stylesheet (or a <style>
// element, or a style attribute). Both only list URLs: fetching them,
// politely and once, is the archive pipeline's (package archive, through
// fetch.Fetcher.FetchAsset).
//
// # What is a requisite
//
// From the page:
//   - stylesheets: <link rel=stylesheet href> (not "alternate stylesheet",
//     not disabled), and what <style> elements and style attributes
//     reference through @import and url();
//   - images: <img src>, or the candidate of its srcset (or of the first
//     matching <source> of its <picture>) that a desktop browser with a
//     1280-pixel-wide window at device pixel ratio 1 would pick (Choose;
//     sizes="auto" of a lazy image is its width attribute or inline style
//     width, as internal/srcset reads it);
//     the lazy-loading attributes news sites use (data-src, data-lazy-src,
//     data-original, data-srcset, data-sizes and the like), which take the
//     place of src, srcset and sizes since they are what a reader with
//     scripts sees; and the images of <noscript> fallbacks. The choice is
//     the one archive/singlepage makes for the self-contained page (both
//     ask internal/srcset), so the capture holds the image the page shows;
//   - the lead image: <meta property="og:image">;
//   - the favicon: <link rel=icon> (and "shortcut icon"). /favicon.ico is
//     not guessed when the page declares none: a request per host that
//     mostly answers 404, for an icon the viewer does not need.
//
// From a stylesheet: @import rules (stylesheets, followed to
// Limits.MaxImportDepth), url() in @font-face (fonts) and every other
// url() (images). Media (<video>, <audio>), <iframe>s and <object>s are
// not requisites; scripts (<script src>) are listed as Script, for a
// capture that records them without running them, and are not fetched
// by default.
//
// # Bounds
//
// The HTML tokenizer makes one pass over the page, which the fetcher has
// already capped, and lists at most MaxListed requisites (attribute
// values are read to MaxCSSBytes). A stylesheet is read to at most Limits.MaxCSSBytes and
// yields at most Limits.MaxCSSURLs references; the pipeline follows
// @import to at most Limits.MaxImportDepth and fetches at most
// Limits.MaxCount requisites and Limits.MaxBytes bytes per page, in
// Limits.MaxTime. A stylesheet with a million url()s, an endless @import
// chain or a host that trickles every answer therefore costs bounded time
// and memory.
package requisite

import (
	"net/url"
	"strings"
	"time"
)

// Kind is what a requisite is for.
type Kind string

// Kinds of requisites.
const (
	Stylesheet Kind = "stylesheet"
	Image      Kind = "image"
	Font       Kind = "font"
	Icon       Kind = "icon"
	LeadImage  Kind = "lead_image" // og:image
	// Script is a <script src>: listed so that a capture may record it
	// (never run it); the pipeline fetches scripts only when asked.
	Script Kind = "script"
)

// Accept is the Accept header a browser sends for a requisite of this kind.
func (k Kind) Accept() string {
	switch k {
	case Stylesheet:
		return "text/css,*/*;q=0.1"
	case Image, Icon, LeadImage:
		return "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
	}
	return "*/*"
}

// Requisite is one resource a page needs.
type Requisite struct {
	URL  string // absolute, http or https, without fragment
	Kind Kind
}

// Defaults of Limits, used for zero fields.
const (
	DefaultMaxCount       = 100
	DefaultMaxBytes       = 25 << 20
	DefaultMaxCSSBytes    = 1 << 20
	DefaultMaxCSSURLs     = 500
	DefaultMaxImportDepth = 4
	DefaultMaxTime        = 2 * time.Minute
)

// MaxListed bounds the requisites FromHTML lists for one page (its
// stylesheets first): far more than any Limits.MaxCount worth fetching,
// so that a page of a million distinct images costs a list of ten
// thousand, and the count cap (reported) does the rest.
const MaxListed = 10_000

// Limits bound the requisites of one page. A zero field takes its Default.
type Limits struct {
	// MaxCount is how many requisites are fetched for one page (revisits
	// of requisites met earlier count too). Default DefaultMaxCount.
	MaxCount int
	// MaxBytes is how many bytes of requisites are fetched for one page,
	// after content decoding; the requisite that crosses it is kept, later ones are
	// skipped. Default DefaultMaxBytes.
	MaxBytes int64
	// MaxCSSBytes is how much of one stylesheet is parsed (and held in
	// memory for it); the rest is recorded but not read. Default
	// DefaultMaxCSSBytes.
	MaxCSSBytes int64
	// MaxCSSURLs is how many references are taken from one stylesheet.
	// Default DefaultMaxCSSURLs.
	MaxCSSURLs int
	// MaxImportDepth is how deep @import chains are followed: 1 fetches
	// the page's stylesheets only (with the fonts and images they name).
	// Default DefaultMaxImportDepth.
	MaxImportDepth int
	// MaxTime is how long one page's requisites may take, waits for a
	// host's turn included: a requisite not fetched by then is skipped
	// (and may be fetched for a later page). Two minutes is a hundred
	// requisites at the default one-second host interval with room to
	// spare. Default DefaultMaxTime; negative means no bound.
	MaxTime time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxCount == 0 {
		l.MaxCount = DefaultMaxCount
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxCSSBytes <= 0 {
		l.MaxCSSBytes = DefaultMaxCSSBytes
	}
	if l.MaxCSSURLs <= 0 {
		l.MaxCSSURLs = DefaultMaxCSSURLs
	}
	if l.MaxImportDepth <= 0 {
		l.MaxImportDepth = DefaultMaxImportDepth
	}
	if l.MaxTime == 0 {
		l.MaxTime = DefaultMaxTime
	}
	return l
}

// WithDefaults returns l with its zero fields at their defaults.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

func parseBase(base string) (*url.URL, error) {
	return url.Parse(base)
}

// resolve makes ref absolute against base and keeps it when it is an http
// or https URL with a host (not data:, not javascript:, not about:blank).
func resolve(base *url.URL, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") || len(ref) > 8<<10 {
		return "", false
	}
	u, err := base.Parse(ref)
	if err != nil {
		return "", false
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return "", false
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), true
}
