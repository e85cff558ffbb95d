package fetch

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/linkarc/linkarc/storage/record"
)

const rss = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>` +
	`<item><title>Harbour plan</title><link>https://pub.example/a</link></item></channel></rss>`

// TestFetchFeed: feeds are fetched in their own mode: feed media types
// asked for and taken, the body kept as received (a feed declares its own
// encoding), robots.txt obeyed; what is plainly not text is refused. The
// page mode still refuses a feed.
func TestFetchFeed(t *testing.T) {
	cp1251, _ := charmap.Windows1251.NewEncoder().String(strings.Replace(rss, "UTF-8", "windows-1251", 1) + "<!-- Новости -->")
	tests := []struct {
		name   string
		ctype  string
		body   string
		reason record.Reason
	}{
		{"rss", "application/rss+xml; charset=utf-8", rss, ""},
		{"atom", "application/atom+xml", `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>`, ""},
		{"json feed", "application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":"x","items":[]}`, ""},
		{"xml", "application/xml", rss, ""},
		{"text/xml", "text/xml", rss, ""},
		{"labelled text/html", "text/html", rss, ""},
		{"unlabelled", "", rss, ""},
		{"legacy encoding kept as sent", "application/rss+xml; charset=windows-1251", cp1251, ""},
		{"gzip file named a feed", "application/gzip", "\x1f\x8b\x08\x00", record.ReasonNotHTML},
		{"image", "image/png", "\x89PNG\r\n\x1a\n", record.ReasonNotHTML},
		{"png labelled xml", "application/xml", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", record.ReasonNotHTML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var accept string
			pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				accept = r.Header.Get("Accept")
				w.Header()["Content-Type"] = []string{tt.ctype}
				io.WriteString(w, tt.body)
			}))
			f := newTestFetcher(t, testOptions())
			c, err := f.FetchFeed(context.Background(), pub.URL+"/feed.xml")
			if !strings.HasPrefix(accept, "application/rss+xml") {
				t.Errorf("Accept = %q, want the feed types first", accept)
			}
			if tt.reason != "" {
				fe := fetchErr(t, err, tt.reason)
				if !strings.Contains(fe.Error(), "not a feed") {
					t.Errorf("message %q", fe)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Body, []byte(tt.body)) || !bytes.Equal(c.Raw, []byte(tt.body)) {
				t.Errorf("Body %q, want the feed as sent", c.Body)
			}
		})
	}

	t.Run("the page mode refuses a feed", func(t *testing.T) {
		pub := newPublisher(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, rss)
		}))
		f := newTestFetcher(t, testOptions())
		_, err := f.Fetch(context.Background(), pub.URL+"/feed.xml")
		fetchErr(t, err, record.ReasonNotHTML)
	})

	t.Run("robots.txt applies", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "User-agent: *\nDisallow: /rss/\n") })
		mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, rss) })
		pub := newPublisher(t, "127.0.0.1:0", mux)
		opts := testOptions()
		opts.IgnoreRobots = false
		f := newTestFetcher(t, opts)
		_, err := f.FetchFeed(context.Background(), pub.URL+"/rss/news")
		fetchErr(t, err, record.ReasonRobots)
		if n := pub.hits("/rss/news"); n != 0 {
			t.Errorf("disallowed feed requested %d times", n)
		}
	})
}

// TestFetchHostIntervals: a host of HostIntervals is spaced by its own
// interval (news.google.com at the Google News spacing), the others by
// HostInterval.
func TestFetchHostIntervals(t *testing.T) {
	slow := listenOn(t, "127.0.0.2:0", htmlHandler(testPage))
	fast := listenOn(t, "127.0.0.3:0", htmlHandler(testPage))
	logs := &sendLog{}
	opts := testOptions()
	opts.HostInterval = time.Millisecond
	opts.HostIntervals = map[string]time.Duration{"127.0.0.2": 150 * time.Millisecond}
	opts.Logger = slog.New(logs)
	f := newTestFetcher(t, opts)
	for range 3 {
		for _, p := range []*publisher{slow, fast} {
			if _, err := f.FetchFeed(context.Background(), p.URL+"/feed"); err != nil {
				t.Fatal(err)
			}
		}
	}
	sends := logs.byHost()
	checkSpacing(t, sends["127.0.0.2"], 150*time.Millisecond)
	if n := len(sends[fast.Listener.Addr().(*net.TCPAddr).IP.String()]); n != 3 {
		t.Errorf("%d sends to the other host, want 3", n)
	}
	if got := f.interval(context.Background(), "127.0.0.3"); got != time.Millisecond {
		t.Errorf("the other host's interval is %v, want HostInterval", got)
	}
}
