package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer"
)

// Links says where a rewritten digest's "archived copy" links lead.
type Links struct {
	// Viewer is the base URL of a viewer serving the archive
	// ("http://127.0.0.1:8080"): an article is at Viewer + "/articles/SLUG".
	Viewer string
	// Site is the base URL, or path, of a static site export of the
	// archive (WriteSite), e.g. "https://news.example/archive" or
	// "../site": an article is at Site + "/articles/SLUG/index.html".
	// When set, it wins over Viewer.
	Site string
}

// Check reports a base that would not make a link: Viewer must be an
// absolute http or https URL; Site may be one, or a path ("../site",
// "/archive"). Anything else (javascript:, data:, a scheme-relative
// "//host", a URL with a user name) is refused, since every link of the
// export would carry it.
func (l Links) Check() error {
	if l.Viewer != "" {
		if err := checkBase(l.Viewer, false); err != nil {
			return fmt.Errorf("--base-url %q: %w", l.Viewer, err)
		}
	}
	if l.Site != "" {
		if err := checkBase(l.Site, true); err != nil {
			return fmt.Errorf("--site-url %q: %w", l.Site, err)
		}
	}
	return nil
}

func checkBase(s string, pathOK bool) error {
	want := "want an http or https URL such as http://127.0.0.1:8080"
	if pathOK {
		want += ", or a path such as ../site"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.TrimSpace(s) != s:
		return errors.New(want)
	case u.Scheme == "" && pathOK && u.Host == "" && !strings.HasPrefix(s, "//") && u.Path != "":
		return nil
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "":
		return errors.New(want)
	}
	return nil
}

// DefaultViewer is the viewer base Links uses when given neither: where
// `linkarc serve` listens by default.
const DefaultViewer = "http://" + viewer.DefaultAddr

// Article is the link to an article's archived copy.
func (l Links) Article(slug string) string {
	p := "/articles/" + url.PathEscape(slug)
	if l.Site != "" {
		file, _ := viewer.SiteFile(p)
		return strings.TrimSuffix(l.Site, "/") + "/" + file
	}
	base := l.Viewer
	if base == "" {
		base = DefaultViewer
	}
	return strings.TrimSuffix(base, "/") + p
}

// WriteDigests writes each selected digest to dir as <slug>.md: its front
// matter, then its list of articles as the digest package reads them
// (<li><a href=URL>Title</a> <font>Publisher</font>), in digest order.
// Each item links to the publisher URL its link resolved to (the Google
// News link stays only for an item that never resolved), and an item whose
// article is in the selection and was captured (ok or blocked) gets a
// second link, "archived copy", to links.Article. A front-matter link that
// is one of the items' Google News links is replaced by that item's
// publisher URL. Item titles and publishers are kept as archived, so a
// rewritten digest parses to the same articles (the same slugs).
//
// dir must be ready (PrepareDir); what an earlier export there wrote and
// this one does not is removed (Report.Removed). ErrNothing when no digest
// is selected.
func WriteDigests(ctx context.Context, sel *stored.Selection, dir string, links Links) (Report, error) {
	rep := Report{Format: FormatDigests}
	out := newDirOut(dir, FormatDigests)
	err := sel.Digests(ctx, func(d *record.DigestRecord) error {
		body, n, err := rewriteDigest(ctx, sel, d, links)
		if err != nil {
			return err
		}
		if err := out.write(d.Slug+".md", body); err != nil {
			return err
		}
		rep.Digests++
		rep.Articles += n
		rep.Files++
		rep.Bytes += int64(len(body))
		return nil
	})
	if err == nil && rep.Digests == 0 {
		return rep, fmt.Errorf("%w: the selection holds no digest", ErrNothing)
	}
	removed, ferr := out.finish(err == nil)
	rep.Removed = removed
	return rep, errors.Join(err, ferr)
}

// frontMatter is record.FrontMatter as a rewritten digest writes it:
// empty fields left out, in the order digests are usually written.
type frontMatter struct {
	Title       string   `yaml:"title"`
	Date        string   `yaml:"date,omitempty"`
	Slug        string   `yaml:"slug,omitempty"`
	Link        string   `yaml:"link,omitempty"`
	Source      string   `yaml:"source,omitempty"`
	Categories  []string `yaml:"categories,omitempty"`
	Tags        []string `yaml:"tags,omitempty"`
	Description string   `yaml:"description,omitempty"`
	Summary     string   `yaml:"summary,omitempty"`
	Image       string   `yaml:"image,omitempty"`
	Draft       bool     `yaml:"draft,omitempty"`
}

// rewriteDigest renders one digest; n counts the items given an archived
// link.
func rewriteDigest(ctx context.Context, sel *stored.Selection, d *record.DigestRecord, links Links) (body []byte, n int, err error) {
	fm := d.FrontMatter
	resolved := map[string]string{} // Google News link -> publisher URL
	for _, a := range d.Articles {
		if link, google := a.Listed(); google && a.URL != "" {
			resolved[link] = a.URL
		}
	}
	if u, ok := resolved[fm.Link]; ok {
		fm.Link = u
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(frontMatter{
		Title: fm.Title, Date: fm.Date, Slug: fm.Slug, Link: fm.Link, Source: fm.Source,
		Categories: fm.Categories, Tags: fm.Tags, Description: fm.Description, Summary: fm.Summary,
		Image: fm.Image, Draft: fm.Draft,
	}); err != nil {
		return nil, 0, fmt.Errorf("digest %s: front matter: %w", d.Slug, err)
	}
	b.WriteString("---\n<ol>\n")
	for _, a := range d.Articles {
		href := itemHref(a)
		if href == "" {
			continue
		}
		title := a.Title
		if title == "" {
			title = href
		}
		fmt.Fprintf(&b, `<li><a href="%s">%s</a>`, html.EscapeString(href), html.EscapeString(title))
		if a.Publisher != "" {
			fmt.Fprintf(&b, `&nbsp;&nbsp;<font color="#6f6f6f">%s</font>`, html.EscapeString(a.Publisher))
		}
		ok, err := archived(ctx, sel, a)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			fmt.Fprintf(&b, ` · <a href="%s">archived copy</a>`, html.EscapeString(links.Article(a.Slug)))
			n++
		}
		if len(a.Tags) > 0 {
			fmt.Fprintf(&b, ` <span class="tags">%s</span>`, html.EscapeString(strings.Join(a.Tags, ", ")))
		}
		b.WriteString("</li>\n")
	}
	b.WriteString("</ol>\n")
	return b.Bytes(), n, nil
}

// itemHref is the link a rewritten digest gives an item: the publisher
// URL its own link resolved to, or its link as listed when that was not
// a Google News link (it is its own publisher URL; in records written
// before DigestArticle.Link, url could be another item's spelling of the
// article's URL, with that item's tracking parameters), or, for a Google
// News link never resolved, that link.
func itemHref(a record.DigestArticle) string {
	link, google := a.Listed()
	if link != "" && !google {
		return link
	}
	if a.URL != "" {
		return a.URL
	}
	return link
}

// archived reports whether an item gets an archived link: its article is
// in the selection and has a capture to show (ok or blocked; a failed one
// has none).
func archived(ctx context.Context, sel *stored.Selection, a record.DigestArticle) (bool, error) {
	if a.Status == record.StatusFailed || !record.ValidSlug(a.Slug) {
		return false, nil
	}
	return sel.HasArticle(ctx, a.Slug)
}
