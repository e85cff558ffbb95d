package digest

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/linkarc/linkarc/storage/record"
)

// ParseFeed parses an RSS 2.0, RSS 1.0 (RDF), Atom 1.0 or JSON Feed
// document into one digest whose items are the feed's items, in feed
// order. name is the feed's file path, or its URL when the pipeline
// fetched it (then it is also the digest's front-matter source). The XML's
// own encoding declaration is honoured.
//
// Each item's link is its <link> (Atom: the alternate link), else a
// permalink <guid>; relative links are resolved against the feed's link.
// Its publisher is the <source> element's text (RSS 2.0 §<source>, Atom
// §4.2.11), stripped from the end of the title when the title repeats it
// ("Headline - The New York Times", as Google News writes every item);
// items of a Google News feed without <source> have their title split at
// the last " - ". Otherwise the publisher is left to the link's host. The
// item's categories (RSS <category>, <dc:subject>, Atom <category term>)
// are its Tags, and together the digest's tags; the channel's own
// categories are the digest's categories.
//
// Naming: see KindFeed. Errors are *Error: over MaxSize, not a feed,
// unreadable XML (truncated, malformed), no items, no usable link.
func ParseFeed(name string, data []byte) (*Digest, error) {
	fail := func(err error, format string, args ...any) (*Digest, error) {
		return nil, &Error{Path: name, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	if len(data) > MaxSize {
		return fail(nil, "%s", tooLarge(len(data)))
	}
	data = fromUTF16(data)
	fp := gofeed.NewParser()
	fp.KeepOriginalFeed = true
	feed, err := fp.Parse(bytes.NewReader(data))
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return fail(err, "not an RSS, Atom or JSON feed")
	}
	if err != nil {
		return fail(err, "unreadable feed: %v", err)
	}
	title := plainText(feed.Title)
	if len(feed.Items) == 0 {
		return fail(nil, "the feed %q has no items", title)
	}

	sources := feedSources(feed)
	base := feedBase(name, feed)
	google := isGoogleNews(feed.Link) || isGoogleNews(name)
	d := &Digest{Path: name, Kind: KindFeed}
	seen := map[string]int{}
	var newest time.Time
	for i, it := range feed.Items {
		l := link{href: itemLink(it, base), title: plainText(it.Title), tags: cleanTags(it.Categories)}
		if i < len(sources) && sources[i] != "" {
			l.publisher = sources[i]
			l.title = strings.TrimSuffix(l.title, " - "+l.publisher)
		} else if google || isGoogleNews(l.href) {
			l.title, l.publisher = splitTitle(l.title)
		}
		d.add(l, seen)
		for _, t := range []*time.Time{it.PublishedParsed, it.UpdatedParsed} {
			if t != nil && t.After(newest) {
				newest = *t
			}
		}
	}
	if len(d.Items) == 0 {
		return nil, noUsable(name, d)
	}

	fm := record.FrontMatter{
		Title:       title,
		Link:        feed.Link,
		Description: plainText(feed.Description),
		Categories:  cleanTags(feed.Categories),
		Tags:        itemTags(d.Items),
	}
	if fm.Title == "" {
		fm.Title = inputLabel(name)
	}
	if isHTTP(name) {
		fm.Source = name
	} else if feed.FeedLink != "" {
		fm.Source = feed.FeedLink
	}
	if feed.Image != nil {
		fm.Image = feed.Image.URL
	}
	date := newest
	for _, t := range []*time.Time{feed.PublishedParsed, feed.UpdatedParsed} {
		if t != nil {
			date = *t
		}
	}
	if !date.IsZero() {
		fm.Date = day(date.UTC())
		d.Slug = slugWithSuffix(fm.Title, fm.Date)
	} else {
		d.Slug = record.Slugify(fm.Title)
	}
	d.FrontMatter = fm
	return d, nil
}

// feedSources returns, per item, the publisher its <source> names
// (gofeed's common Item drops the element; the original feed keeps it).
func feedSources(feed *gofeed.Feed) []string {
	var out []string
	switch orig := feed.OriginalFeed().(type) {
	case *rss.Feed:
		for _, it := range orig.Items {
			s := ""
			if it.Source != nil {
				s = plainText(it.Source.Title)
			}
			out = append(out, s)
		}
	case *atom.Feed:
		for _, e := range orig.Entries {
			s := ""
			if e.Source != nil {
				s = plainText(e.Source.Title)
			}
			out = append(out, s)
		}
	}
	if len(out) != len(feed.Items) {
		return nil // not parallel: use none rather than misattribute
	}
	return out
}

// feedBase is what relative item links resolve against: the feed's link,
// else the feed's own URL.
func feedBase(name string, feed *gofeed.Feed) *url.URL {
	for _, s := range []string{feed.Link, feed.FeedLink, name} {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.IsAbs() && u.Host != "" {
			return u
		}
	}
	return nil
}

// itemLink is the item's article link, absolute where base allows.
func itemLink(it *gofeed.Item, base *url.URL) string {
	href := strings.TrimSpace(it.Link)
	if href == "" && isHTTP(it.GUID) {
		href = strings.TrimSpace(it.GUID)
	}
	if href == "" && len(it.Links) > 0 {
		href = strings.TrimSpace(it.Links[0])
	}
	if base != nil && href != "" && !strings.Contains(href, "://") {
		if u, err := base.Parse(href); err == nil {
			return u.String()
		}
	}
	return href
}

// isGoogleNews reports whether raw is a news.google.com URL.
func isGoogleNews(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	return err == nil && strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), "news.google.com")
}

// isHTTP reports whether raw is an absolute http(s) URL with a host.
func isHTTP(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	return err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) && u.Host != ""
}

// cleanTags collapses white space, drops empty and repeated tags (case
// kept, compared without case), and keeps the first order.
func cleanTags(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		t = plainText(t)
		if key := strings.ToLower(t); t != "" && !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	return out
}

// itemTags is every item's tags together, in first-seen order.
func itemTags(items []Item) []string {
	var all []string
	for _, it := range items {
		all = append(all, it.Tags...)
	}
	return cleanTags(all)
}
