// Package archivetest builds small worlds for end-to-end tests and
// benchmarks of the archive pipeline: publisher sites on distinct loopback
// addresses serving real article pages, and digest folders in the format of
// the real seed digest. Everything listens on 127.0.0.0/8 only.
package archivetest

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Page is a real article page with its hand-checked text, from the
// article-extraction benchmark in testdata/extraction.
type Page struct {
	ID   string // benchmark page id
	HTML []byte // page, UTF-8
	Text string // ground-truth article body
}

// MinWords is the shortest ground truth LoadPages takes: shorter "articles"
// in the benchmark are paywall teasers, which the pipeline rightly stores as
// blocked, so worlds that expect every article ok leave them out.
const MinWords = 200

// LoadPages reads up to n benchmark pages (all when n <= 0) whose ground
// truth has at least MinWords words from dir, the repository's
// testdata/extraction folder, in a stable order.
func LoadPages(dir string, n int) ([]Page, error) {
	gt, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		return nil, fmt.Errorf("load pages: %w", err)
	}
	var truth map[string]struct {
		ArticleBody string `json:"articleBody"`
	}
	if err := json.Unmarshal(gt, &truth); err != nil {
		return nil, fmt.Errorf("load pages: ground truth: %w", err)
	}
	ids := make([]string, 0, len(truth))
	for id, t := range truth {
		if len(strings.Fields(t.ArticleBody)) >= MinWords {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if n > 0 && n < len(ids) {
		ids = ids[:n]
	}
	pages := make([]Page, 0, len(ids))
	for _, id := range ids {
		html, err := readGzip(filepath.Join(dir, "html", id+".html.gz"))
		if err != nil {
			return nil, fmt.Errorf("load page %s: %w", id, err)
		}
		pages = append(pages, Page{ID: id, HTML: html, Text: truth[id].ArticleBody})
	}
	return pages, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// Publisher is a fake publisher site on its own loopback address. It serves
// what Add, Put and PutFunc give it and a robots.txt, and records when each
// request arrived, so tests can measure politeness at the server. An asset
// host of a world with requisites is a Publisher too.
type Publisher struct {
	Host string // "127.0.0.N:PORT"
	srv  *http.Server

	mu       sync.Mutex
	files    map[string]file // path -> what is served there
	arrivals []Arrival
	served   int64 // body bytes sent
	robots   string
	handler  http.HandlerFunc // optional override for misbehaviour tests
}

// file is one resource a publisher serves; body is called for each
// request, so that large worlds need not hold every body at once.
type file struct {
	ctype string
	body  func() []byte
}

// Arrival is one request as the publisher saw it.
type Arrival struct {
	Path string
	At   time.Time
}

// StartPublisher starts a publisher on 127.0.0.<n> (n in 2..254; Linux
// routes all of 127/8 to loopback) on a free port.
func StartPublisher(tb testing.TB, n int) *Publisher {
	tb.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", n))
	if err != nil {
		tb.Fatalf("publisher 127.0.0.%d: %v", n, err)
	}
	p := &Publisher{Host: ln.Addr().String(), files: map[string]file{}, robots: "User-agent: *\nDisallow: /private/\n"}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	tb.Cleanup(func() { p.srv.Close() })
	return p
}

// Add serves html at path and returns the page's absolute URL.
func (p *Publisher) Add(path string, html []byte) string {
	return p.Put(path, "text/html; charset=utf-8", html)
}

// Put serves body with the given Content-Type at path and returns its
// absolute URL.
func (p *Publisher) Put(path, ctype string, body []byte) string {
	return p.PutFunc(path, ctype, func() []byte { return body })
}

// PutFunc serves what body returns (called once per request) with the
// given Content-Type at path and returns its absolute URL.
func (p *Publisher) PutFunc(path, ctype string, body func() []byte) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files[path] = file{ctype, body}
	return "http://" + p.Host + path
}

// SetHandler replaces the publisher's behaviour for page requests (robots.txt
// is still served normally), for misbehaviour tests.
func (p *Publisher) SetHandler(h http.HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handler = h
}

// SetRobots replaces the publisher's robots.txt.
func (p *Publisher) SetRobots(robots string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.robots = robots
}

// ServeHTTP implements http.Handler.
func (p *Publisher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.arrivals = append(p.arrivals, Arrival{Path: r.URL.Path, At: time.Now()})
	f, ok := p.files[r.URL.Path]
	robots, h := p.robots, p.handler
	p.mu.Unlock()

	switch {
	case r.URL.Path == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, robots)
	case h != nil:
		h(w, r)
	case !ok:
		http.NotFound(w, r)
	default:
		body := f.body()
		p.mu.Lock()
		p.served += int64(len(body))
		p.mu.Unlock()
		w.Header().Set("Content-Type", f.ctype)
		w.Write(body)
	}
}

// ServedBytes is the number of body bytes served from Put, Add and PutFunc
// paths (robots.txt and SetHandler responses are not counted).
func (p *Publisher) ServedBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served
}

// Arrivals returns the requests seen so far, robots.txt excluded unless
// withRobots.
func (p *Publisher) Arrivals(withRobots bool) []Arrival {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Arrival
	for _, a := range p.arrivals {
		if withRobots || a.Path != "/robots.txt" {
			out = append(out, a)
		}
	}
	return out
}

// Requests is the number of requests seen, robots.txt included.
func (p *Publisher) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.arrivals)
}

// Gaps returns the times between consecutive arrivals (robots.txt
// included: it counts against the host's budget too), sorted ascending.
func (p *Publisher) Gaps() []time.Duration {
	arr := p.Arrivals(true)
	var gaps []time.Duration
	for i := 1; i < len(arr); i++ {
		gaps = append(gaps, arr[i].At.Sub(arr[i-1].At))
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	return gaps
}

// DigestItem is one list item of a generated digest.
type DigestItem struct {
	Title, Publisher, Link string
}

// WriteDigest writes a digest in the seed's format (YAML front matter, an
// HTML <ol> of links each followed by the publisher in a <font>) and returns
// its path.
func WriteDigest(dir, name, title string, date time.Time, items []DigestItem) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %q\ndate: %s\n", title, date.Format("2006-01-02"))
	if len(items) > 0 {
		fmt.Fprintf(&b, "link: '%s'\n", items[0].Link)
	}
	b.WriteString("categories:\n- 'news.google.com'\ndraft: false\n---\n<ol>")
	for _, it := range items {
		fmt.Fprintf(&b, `<li><a href="%s" target="_blank">%s</a>&nbsp;&nbsp;<font color="#6f6f6f">%s</font></li>`,
			htmlEscape(it.Link), htmlEscape(it.Title), htmlEscape(it.Publisher))
	}
	b.WriteString("</ol>")
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }
