package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Bounds of what a record holds, so that no page, feed or digest can make
// a record larger than its readers accept (MaxRecordSize, shared by the
// writer and every reader). The writer cuts longer values (at a character
// boundary) before it writes; nothing is refused. docs/storage.md lists
// them.
const (
	// MaxTitleLen bounds titles and names: the digest's title and
	// publisher, the page's title, byline and site name, a front matter's
	// title, an error message.
	MaxTitleLen = 2 << 10
	// MaxDescriptionLen bounds the page's excerpt (og:description) and a
	// front matter's description and summary.
	MaxDescriptionLen = 16 << 10
	// MaxURLLen bounds every URL kept: the publisher URL, the final URL,
	// the Google News link, the image, each redirect.
	MaxURLLen = 8 << 10
	// MaxRedirects bounds the redirect chain kept (its first entries).
	MaxRedirects = 20
	// MaxShortFieldLen bounds the short fields: language, charset, content
	// type, published time, resolve method, extraction, tags.
	MaxShortFieldLen = 256
	// MaxListLen bounds lists of tags and categories.
	MaxListLen = 64
	// MaxArticleDigests bounds the digests an article's meta.json lists
	// (the first, in sorted order).
	MaxArticleDigests = 1000
	// MaxSkippedLinks bounds the skipped links a digest record lists (the
	// first, in input order; SkippedTotal counts them all).
	MaxSkippedLinks = 100
)

// cut returns s cut to at most n bytes at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func cutList(list []string, n, each int) []string {
	if len(list) > n {
		list = list[:n]
	}
	var out []string
	for _, v := range list {
		out = append(out, cut(v, each))
	}
	return out
}

// Bound cuts m's fields to the bounds above.
func (m *ArticleMeta) Bound() {
	m.Title, m.Publisher = cut(m.Title, MaxTitleLen), cut(m.Publisher, MaxTitleLen)
	m.GoogleNewsURL, m.URL, m.FinalURL = cut(m.GoogleNewsURL, MaxURLLen), cut(m.URL, MaxURLLen), cut(m.FinalURL, MaxURLLen)
	m.ResolveMethod = cut(m.ResolveMethod, MaxShortFieldLen)
	if m.RedirectChain != nil {
		m.RedirectChain = cutList(m.RedirectChain, MaxRedirects, MaxURLLen)
	}
	m.Error = cut(m.Error, MaxTitleLen)
	m.ContentType, m.Charset = cut(m.ContentType, MaxShortFieldLen), cut(m.Charset, MaxShortFieldLen)
	m.ArticleTitle, m.Byline, m.SiteName = cut(m.ArticleTitle, MaxTitleLen), cut(m.Byline, MaxTitleLen), cut(m.SiteName, MaxTitleLen)
	m.PublishedTime, m.Lang = cut(m.PublishedTime, MaxShortFieldLen), cut(m.Lang, MaxShortFieldLen)
	m.Excerpt, m.Image = cut(m.Excerpt, MaxDescriptionLen), cut(m.Image, MaxURLLen)
	m.Extraction = cut(m.Extraction, MaxShortFieldLen)
	if len(m.Digests) > MaxArticleDigests {
		m.Digests = m.Digests[:MaxArticleDigests]
	}
}

// Bound cuts the front matter's fields to the bounds above.
func (f *FrontMatter) Bound() {
	f.Title, f.Date, f.Slug = cut(f.Title, MaxTitleLen), cut(f.Date, MaxShortFieldLen), cut(f.Slug, MaxShortFieldLen)
	f.Link, f.Source, f.Image = cut(f.Link, MaxURLLen), cut(f.Source, MaxURLLen), cut(f.Image, MaxURLLen)
	f.Description, f.Summary = cut(f.Description, MaxDescriptionLen), cut(f.Summary, MaxDescriptionLen)
	if f.Categories != nil {
		f.Categories = cutList(f.Categories, MaxListLen, MaxShortFieldLen)
	}
	if f.Tags != nil {
		f.Tags = cutList(f.Tags, MaxListLen, MaxShortFieldLen)
	}
}

// Bound cuts the record's fields to the bounds above (each article's
// title, publisher, URLs and tags).
func (d *DigestRecord) Bound() {
	d.SourceFile, d.Source = cut(d.SourceFile, MaxURLLen), cut(d.Source, MaxURLLen)
	d.FrontMatter.Bound()
	for i := range d.Articles {
		a := &d.Articles[i]
		a.Title, a.Publisher = cut(a.Title, MaxTitleLen), cut(a.Publisher, MaxTitleLen)
		a.GoogleNewsURL, a.Link, a.URL = cut(a.GoogleNewsURL, MaxURLLen), cut(a.Link, MaxURLLen), cut(a.URL, MaxURLLen)
		if a.Tags != nil {
			a.Tags = cutList(a.Tags, MaxListLen, MaxShortFieldLen)
		}
	}
	if len(d.Skipped) > MaxSkippedLinks {
		d.Skipped = d.Skipped[:MaxSkippedLinks]
	}
	for i := range d.Skipped {
		s := &d.Skipped[i]
		s.Title, s.URL, s.Reason = cut(s.Title, MaxTitleLen), cut(s.URL, MaxURLLen), cut(s.Reason, MaxTitleLen)
	}
}

// encodeRecord is how every record is written: indented JSON, not
// HTML-escaped (other tools read these files, and URLs with "&" should read
// as URLs, not as \u0026), its fields within the bounds above. A record
// over MaxRecordSize is an error: no reader could read it (PutDigest splits
// large digests into parts first).
func encodeRecord(v any) ([]byte, error) {
	if m, ok := v.(ArticleMeta); ok {
		m.Bound()
		v = m
	}
	data, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("record of %d bytes is over the %d MiB readers accept", len(data), MaxRecordSize>>20)
	}
	return data, nil
}

// splitDigest returns the longest beginning of articles whose record, as
// encode makes it, fits in MaxRecordSize, the rest, and that record.
func splitDigest(articles []DigestArticle, encode func([]DigestArticle) ([]byte, error)) (first, rest []DigestArticle, data []byte, err error) {
	n := len(articles)
	const sample = 1000
	if n > sample {
		// Start from an estimate, so a huge digest is not encoded whole.
		data, err := encode(articles[:sample])
		if err != nil {
			return nil, nil, nil, err
		}
		if fit := int(float64(sample) * float64(MaxRecordSize) / float64(len(data)) * 0.97); fit < n {
			n = max(fit, 1)
		}
	}
	for {
		data, err := encode(articles[:n])
		if err != nil {
			return nil, nil, nil, err
		}
		if len(data) <= MaxRecordSize {
			return articles[:n], articles[n:], data, nil
		}
		if n <= 1 {
			return nil, nil, nil, fmt.Errorf("a digest record of %d bytes with %d article(s) is over the %d MiB readers accept", len(data), n, MaxRecordSize>>20)
		}
		// Keep the share that fits, with a margin, and try again.
		n = min(n-1, max(1, int(float64(n)*float64(MaxRecordSize)/float64(len(data))*0.97)))
	}
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
