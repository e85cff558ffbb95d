package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/charset"
	"github.com/linkarc/linkarc/archive/charset/charsettest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

// The issue 12 kinds the fetcher owns, each run through `linkarc archive`
// over loopback publishers: robots.txt as RFC 9309 reads it, redirects
// that are not HTTP redirects, and bytes decoded as the page declares.

// directArchive runs `linkarc archive` over the given URLs (no Google
// News) into store and returns every stored article by its URL.
func directArchive(t *testing.T, store string, wantCode int, urls ...string) map[string]record.ArticleMeta {
	t.Helper()
	args := append([]string{"archive", "--store", store, "--allow-private", "--host-interval", "5ms",
		"--progress", "none", "--timeout", "20s", "--max-retries", "0"}, urls...)
	res := runLinkarc(t, nil, "", args...)
	if res.code != wantCode {
		t.Fatalf("archive exit %d, want %d\n%s", res.code, wantCode, res.stderr)
	}
	s, err := storage.NewLocal(store)
	if err != nil {
		t.Fatal(err)
	}
	return metasByURL(t, s)
}

// metasByURL reads every current meta.json of s, keyed by the article's URL.
func metasByURL(t *testing.T, s storage.Store) map[string]record.ArticleMeta {
	t.Helper()
	out := map[string]record.ArticleMeta{}
	err := s.List(context.Background(), record.ArticlesPrefix, func(info storage.Info) error {
		if !strings.HasSuffix(info.Key, "/"+record.MetaFile) || strings.Contains(info.Key, "/"+record.HistoryDir+"/") {
			return nil
		}
		var m record.ArticleMeta
		readJSON(t, s, info.Key, &m)
		out[m.URL] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fetchFaultArticle is an article page with enough text to be stored ok.
func fetchFaultArticle(title string) []byte {
	return []byte(`<!DOCTYPE html><html><head><title>` + title + `</title></head><body><article><h1>` + title + `</h1>` +
		strings.Repeat(`<p>The city council approved the long-debated harbour redevelopment plan on Tuesday evening, after a session in which residents, shop owners and dock workers spoke for and against the proposal.</p>`, 6) +
		`</article></body></html>`)
}

// TestArchiveRobotsRFC9309: robots.txt is read as RFC 9309 says (issue 12):
// a rule written in raw UTF-8 blocks the page whose request line carries
// the path percent-encoded, and Allow wins a tie with an equal Disallow.
func TestArchiveRobotsRFC9309(t *testing.T) {
	news := archivetest.StartPublisher(t, 61)
	news.SetRobots("User-agent: *\nDisallow: /новости/\n")
	blocked := news.Add("/новости/2026/story.html", fetchFaultArticle("Blocked story"))
	open := news.Add("/sport/story.html", fetchFaultArticle("Open story"))

	tie := archivetest.StartPublisher(t, 62)
	tie.SetRobots("User-agent: *\nDisallow: /test.html\nAllow: /test.html\n")
	allowed := tie.Add("/test.html", fetchFaultArticle("Tie story"))

	metas := directArchive(t, filepath.Join(t.TempDir(), "store"), exitSomeFailed, blocked, open, allowed)
	if m := metas[blocked]; m.Status != record.StatusFailed || m.Reason != record.ReasonRobots {
		t.Errorf("page under Disallow: /новости/: %s/%s (%s), want failed/robots", m.Status, m.Reason, m.Error)
	}
	for _, a := range news.Arrivals(false) {
		if strings.Contains(a.Path, "новости") {
			t.Errorf("the disallowed page was requested: %s", a.Path)
		}
	}
	for _, u := range []string{open, allowed} {
		if m := metas[u]; m.Status != record.StatusOK {
			t.Errorf("%s: %s/%s (%s), want ok", u, m.Status, m.Reason, m.Error)
		}
	}
}

// TestArchiveRefreshRedirects: redirects that are not HTTP redirects are
// followed by `linkarc archive` as by `linkarc resolve` (issue 12): a 200
// hop page whose only content is a meta refresh, and the <noscript> form
// after a script redirect; each hop is in the redirect chain. A page with
// an article and a noscript refresh to a "no JavaScript" notice stays.
func TestArchiveRefreshRedirects(t *testing.T) {
	pub := archivetest.StartPublisher(t, 63)
	target := pub.Add("/2026/harbour-plan.html", fetchFaultArticle("Harbour plan approved"))
	other := archivetest.StartPublisher(t, 64)
	crossTarget := other.Add("/moved/harbour.html", fetchFaultArticle("Harbour plan moved"))
	hop := pub.Add("/t/abc", []byte(`<html><head><meta http-equiv="refresh" content="0; url=/2026/harbour-plan.html"></head><body></body></html>`))
	cross := pub.Add("/t/cross", []byte(`<html><head><meta http-equiv="refresh" content="0;URL='`+crossTarget+`'"></head><body></body></html>`))
	alerts := pub.Add("/alerts/xyz", []byte(`<html><head><script>window.location.replace("`+target+`")</script>`+
		`<noscript><meta http-equiv="refresh" content="0;url='`+target+`'"></noscript></head><body></body></html>`))
	nojs := pub.Add("/no-js.html", []byte(`<html><body><p>Please enable JavaScript.</p></body></html>`))
	withNotice := pub.Add("/2026/with-notice.html", bytes.Replace(fetchFaultArticle("Ferry timetable"), []byte("<head>"),
		[]byte(`<head><noscript><meta http-equiv="refresh" content="0; url=/no-js.html"></noscript>`), 1))

	metas := directArchive(t, filepath.Join(t.TempDir(), "store"), exitOK, hop, cross, alerts, withNotice)
	for _, tt := range []struct {
		link, final string
	}{
		{hop, target}, {cross, crossTarget}, {alerts, target}, {withNotice, withNotice},
	} {
		m := metas[tt.link]
		if m.Status != record.StatusOK || m.FinalURL != tt.final {
			t.Errorf("%s: %s/%s final %q (%s), want ok at %s", tt.link, m.Status, m.Reason, m.FinalURL, m.Error, tt.final)
		}
		wantChain := []string{tt.link}
		if tt.final != tt.link {
			wantChain = append(wantChain, tt.final)
		}
		if strings.Join(m.RedirectChain, " ") != strings.Join(wantChain, " ") {
			t.Errorf("%s: redirect chain %q, want %q", tt.link, m.RedirectChain, wantChain)
		}
	}
	for _, a := range pub.Arrivals(false) {
		if a.Path == "/no-js.html" {
			t.Errorf("the no-JavaScript notice %s was requested", nojs)
		}
	}

	// linkarc resolve follows the same rule, the noscript form included.
	code, stdout, stderr := resolveRun(t, nil, "", "--allow-private", "--store", t.TempDir(), hop, alerts, withNotice)
	if code != exitOK {
		t.Fatalf("resolve exit %d\n%s", code, stderr)
	}
	if got, want := lines(stdout), []string{target, target, withNotice}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("resolve printed %q, want %q", got, want)
	}
}

// TestArchiveDecodesAsDeclared: a page whose <meta charset> comes after 22
// KiB of inline style and script, with no charset in the header, is
// decoded as declared, not as a statistical guess (issue 12); gzip sent as
// two Content-Encoding lines over a body gzipped twice is decoded, not
// stored as not_html; and no ok capture is mojibake.
func TestArchiveDecodesAsDeclared(t *testing.T) {
	const polish = "Rada miasta zatwierdziła w środę nowy plan rozwoju transportu publicznego. Żółć, gęślą jaźń — mówią mieszkańcy."
	var body strings.Builder
	for range 8 {
		body.WriteString("<p>" + polish + " Radni głosowali długo, a dyskusja trwała do późnego wieczora.</p>")
	}
	page := "<!DOCTYPE html><html><head><title>Plan transportu</title>" + charsettest.LongHead +
		`<meta charset="windows-1250"></head><body><article><h1>Plan transportu</h1>` + body.String() + "</article></body></html>"
	cp1250, err := charmap.Windows1250.NewEncoder().String(page)
	if err != nil {
		t.Fatal(err)
	}
	twice := gzipped(t, gzipped(t, fetchFaultArticle("Twice compressed")))

	pub := archivetest.StartPublisher(t, 65)
	pub.SetHandler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/late-meta.html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, cp1250)
		case "/gzip-twice.html":
			w.Header().Set("Content-Type", "text/html")
			w.Header()["Content-Encoding"] = []string{"gzip", "gzip"}
			w.Write(twice)
		default:
			http.NotFound(w, r)
		}
	})
	base := "http://" + pub.Host
	store := filepath.Join(t.TempDir(), "store")
	metas := directArchive(t, store, exitOK, base+"/late-meta.html", base+"/gzip-twice.html")
	s, _ := storage.NewLocal(store)

	m := metas[base+"/late-meta.html"]
	if m.Status != record.StatusOK || m.Charset != "windows-1250" {
		t.Fatalf("late meta: %s/%s charset %q (%s), want ok windows-1250", m.Status, m.Reason, m.Charset, m.Error)
	}
	text := string(storagetest.ReadObject(t, s, record.ArticleKey(m.Slug, record.TextFile)))
	if !strings.Contains(text, "zatwierdziła w środę") || charset.LooksMisdecoded(text) {
		t.Errorf("late meta: text.txt is not the Polish text: %.200q", text)
	}
	if raw := string(storagetest.ReadObject(t, s, record.ArticleKey(m.Slug, record.RawFile))); raw != cp1250 {
		t.Error("late meta: raw.html is not the bytes as sent")
	}

	m = metas[base+"/gzip-twice.html"]
	if m.Status != record.StatusOK {
		t.Errorf("gzip twice as two lines: %s/%s (%s), want ok", m.Status, m.Reason, m.Error)
	}

	for u, m := range metas {
		if m.Status != record.StatusOK {
			continue
		}
		text := string(storagetest.ReadObject(t, s, record.ArticleKey(m.Slug, record.TextFile)))
		if mis := charset.MeasureMisdecoding(text); mis.Bad() {
			t.Errorf("%s stored ok but its text looks misdecoded: %s", u, mis)
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestArchiveFeedURL: a feed named by URL is fetched (feed media types
// asked for, robots.txt and the host's interval obeyed) and its items are
// archived as a digest of their own.
func TestArchiveFeedURL(t *testing.T) {
	pub := archivetest.StartPublisher(t, 66)
	var items strings.Builder
	var urls []string
	for i := range 3 {
		u := pub.Add(fmt.Sprintf("/2026/story-%d.html", i), fetchFaultArticle(fmt.Sprintf("Feed story %d", i)))
		urls = append(urls, u)
		fmt.Fprintf(&items, "<item><title>Feed story %d</title><link>%s</link><pubDate>Mon, 05 Jan 2026 08:00:00 GMT</pubDate></item>", i, u)
	}
	rss := `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Loopback News</title><link>http://` + pub.Host + `/</link>` + items.String() + `</channel></rss>`
	feeds := archivetest.StartPublisher(t, 67)
	var accept string
	feeds.SetHandler(func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		io.WriteString(w, rss)
	})
	store := filepath.Join(t.TempDir(), "store")
	report := filepath.Join(t.TempDir(), "report.json")
	res := runLinkarc(t, nil, "", "archive", "--store", store, "--allow-private", "--host-interval", "5ms",
		"--progress", "none", "--report", report, "feed:http://"+feeds.Host+"/rss.xml")
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !strings.HasPrefix(accept, "application/rss+xml") {
		t.Errorf("the feed was asked for with Accept %q", accept)
	}
	if n := len(feeds.Arrivals(true)); n != 2 { // robots.txt and the feed
		t.Errorf("the feed host saw %d requests, want 2", n)
	}
	s, _ := storage.NewLocal(store)
	metas := metasByURL(t, s)
	for _, u := range urls {
		if m := metas[u]; m.Status != record.StatusOK || len(m.Digests) != 1 {
			t.Errorf("%s: %s/%s digests %v (%s), want ok in the feed's digest", u, m.Status, m.Reason, m.Digests, m.Error)
		}
	}
	var rep struct {
		Digests int `json:"digests"`
	}
	data := readFile(t, report)
	if err := json.Unmarshal(data, &rep); err != nil || rep.Digests != 1 {
		t.Errorf("report: %d digests (%v), want the feed's one", rep.Digests, err)
	}

	// A feed that cannot be fetched is an input error, the run goes on.
	res = runLinkarc(t, nil, "", "archive", "--store", store, "--allow-private", "--progress", "none",
		"feed:http://"+feeds.Host+"/rss.xml", "feed:http://127.0.0.1:1/closed.xml")
	if res.code != exitSomeFailed || !strings.Contains(res.stderr, "127.0.0.1:1/closed.xml") {
		t.Errorf("exit %d, want 1 naming the unreachable feed\n%s", res.code, res.stderr)
	}
}

// clientSend is one request as the fetcher logged it at debug level
// ("fetch: request sent"): its turn began at ready and it had been written
// to the connection by sent.
type clientSend struct {
	host        string
	ready, sent time.Time
}

var sendLine = regexp.MustCompile(`msg="fetch: request sent" host=(\S+) ready=(\S+) sent=(\S+)`)

// clientSends reads the fetcher's send log from a run's stderr (run with
// --log-level debug), by host, in send order.
func clientSends(t *testing.T, stderr string) map[string][]clientSend {
	t.Helper()
	out := map[string][]clientSend{}
	for _, m := range sendLine.FindAllStringSubmatch(stderr, -1) {
		ready, err1 := time.Parse(time.RFC3339Nano, m[2])
		sent, err2 := time.Parse(time.RFC3339Nano, m[3])
		if err1 != nil || err2 != nil {
			t.Fatalf("send log line %q: %v %v", m[0], err1, err2)
		}
		out[m[1]] = append(out[m[1]], clientSend{host: m[1], ready: ready, sent: sent})
	}
	for _, ss := range out {
		slices.SortFunc(ss, func(a, b clientSend) int { return a.ready.Compare(b.ready) })
	}
	return out
}

// checkClientSpacing proves from what the client did that consecutive
// requests to one host were at least interval apart on the wire: a
// request's bytes leave between its ready and sent times, so the gap
// between two is at least next.ready - previous.sent. A loaded machine
// can only make that longer; the servers' own arrival times, taken by
// goroutines of a busy process, can be late by any amount and prove
// nothing either way.
func checkClientSpacing(t *testing.T, host string, sends []clientSend, interval time.Duration) {
	t.Helper()
	for i := 1; i < len(sends); i++ {
		if gap := sends[i].ready.Sub(sends[i-1].sent); gap < interval {
			t.Errorf("host %s: request %d began %v after request %d was sent, want >= %v", host, i, gap, i-1, interval)
		}
	}
}
