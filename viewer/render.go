package viewer

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

//go:embed templates
var templateFS embed.FS

// pageNames are the page templates; each is parsed together with the
// layout (base.tmpl) and the shared partials.
func pageNames() []string {
	return []string{"home", "digest", "article", "raw", "search", "error", "tags"}
}

// pageRenderer renders the viewer's HTML pages.
type pageRenderer struct {
	pages    map[string]*template.Template
	cssPath  string
	iconPath string
}

func newPageRenderer() (*pageRenderer, error) {
	pr := &pageRenderer{pages: map[string]*template.Template{}}
	for _, name := range pageNames() {
		t, err := template.New(name).Funcs(templateFuncs()).ParseFS(templateFS,
			"templates/base.tmpl", "templates/partials.tmpl", "templates/"+name+".tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pr.pages[name] = t
	}
	return pr, nil
}

// page is what the layout needs; Data is the page's own view.
type page struct {
	Title    string // <title>, before " · linkarc"
	Query    string // shown in the search box
	CSS      string
	Icon     string
	Notice   string // shown in a banner (a stale digest list, an index being built)
	Data     any
	BodyAttr string // class of <body>, per page
}

// render writes a complete page, or an error page if the template fails.
// Pages are rendered into a buffer first so that a failure never leaves a
// half-written page behind a 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.CSS, p.Icon, p.BodyAttr = s.pages.cssPath, s.pages.iconPath, name
	buf, _ := s.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 { // do not keep huge buffers around
			s.bufs.Put(buf)
		}
	}()
	if err := s.pages.pages[name].ExecuteTemplate(buf, "base", p); err != nil {
		s.log.Error("viewer: render page", "page", name, "err", err)
		if name != "error" {
			s.errorPage(w, r, http.StatusInternalServerError, "The viewer could not render this page. The details are in its log.")
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorView is the data of the error page.
type errorView struct {
	Status  int
	Text    string // "Not Found"
	Message string
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"link":      externalURL,
		"host":      hostOf,
		"datetime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when":      formatWhen,
		"day":       func(t time.Time) string { return t.UTC().Format("2 January 2006") },
		"published": formatPublished,
		"plural":    plural,
		"bytes":     formatBytes,
		"query":     url.QueryEscape,
		"pathesc":   url.PathEscape,
		"add":       func(a, b int) int { return a + b },
		"status":    statusLabel,
		"short":     shortHash,
		"validslug": record.ValidSlug,
		"int":       func(n uint64) int { return int(min(n, 1<<31)) },
		"shorturl":  shortURL,
		"itemtags":  itemTags,
		"listed":    listedLink,
	}
}

// itemTags cleans a digest item's own tags for display (see cleanTag).
func itemTags(tags []string) []string {
	ts := tagSet{max: maxTagsPerDigest}
	ts.add(tags...)
	return ts.list
}

// formatWhen shows a time to the minute in UTC, the zone the archive uses.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// formatPublished shows an article's published time, which the archive keeps
// as the page stated it (RFC 3339 where it could be parsed).
func formatPublished(s string) string {
	s = strings.TrimSpace(s)
	if t, ok := parseDate(s); ok {
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2 Jan 2006")
		}
		return t.Format("2 Jan 2006 15:04 MST")
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

func statusLabel(s string) string {
	switch s {
	case "ok", "blocked", "failed":
		return s
	case "":
		return "unknown"
	default:
		return "other"
	}
}

func shortHash(s string) string { return textnorm.Shorten(s, 12) }
