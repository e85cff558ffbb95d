package digest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
	"github.com/linkarc/linkarc/storage/record"
)

const inputsDir = "../../testdata/inputs/"

// gnURL is the Google News article link of the id in
// testdata/google-news/ids.tsv that starts with prefix, as feeds write it.
func gnURL(t *testing.T, prefix, query string) string {
	t.Helper()
	f, err := os.Open("../../testdata/google-news/ids.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if id, _, _ := strings.Cut(sc.Text(), "\t"); strings.HasPrefix(id, prefix) {
			return "https://news.google.com/rss/articles/" + id + query
		}
	}
	t.Fatalf("no id %s… in ids.tsv", prefix)
	return ""
}

// seedURLs are the five Google News links of the seed digest.
func seedURLs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(seedDigest)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(seedDigest, data)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range d.Items {
		out = append(out, it.URL)
	}
	return out
}

// want is what one digest made from an input must be.
type want struct {
	kind        Kind
	title, slug string
	date        string
	link        string
	source      string
	categories  []string
	tags        []string
	items       []Item
	skipped     []string // reasons
}

func checkDigest(t *testing.T, d *Digest, w want, path string) {
	t.Helper()
	fm := d.FrontMatter
	if d.Kind != w.kind || fm.Title != w.title || d.Slug != w.slug || fm.Date != w.date || d.Path != path {
		t.Errorf("digest kind %q title %q slug %q date %q path %q,\nwant kind %q title %q slug %q date %q path %q",
			d.Kind, fm.Title, d.Slug, fm.Date, d.Path, w.kind, w.title, w.slug, w.date, path)
	}
	if w.link != "" && fm.Link != w.link || fm.Source != w.source {
		t.Errorf("link %q source %q, want link %q source %q", fm.Link, fm.Source, w.link, w.source)
	}
	if !reflect.DeepEqual(fm.Categories, w.categories) || !reflect.DeepEqual(fm.Tags, w.tags) {
		t.Errorf("categories %q tags %q, want %q %q", fm.Categories, fm.Tags, w.categories, w.tags)
	}
	if len(d.Items) != len(w.items) {
		t.Errorf("%d items, want %d:\n got %+v", len(d.Items), len(w.items), d.Items)
	}
	for i := range min(len(d.Items), len(w.items)) {
		if !reflect.DeepEqual(d.Items[i], w.items[i]) {
			t.Errorf("item %d\n got %+v\nwant %+v", i, d.Items[i], w.items[i])
		}
	}
	var reasons []string
	for _, s := range d.Skipped {
		reasons = append(reasons, s.Reason)
	}
	if !reflect.DeepEqual(reasons, w.skipped) {
		t.Errorf("skipped %q, want %q", reasons, w.skipped)
	}
	checkSlug(t, fm.Title, d.Slug)
	checkStorable(t, fm.Title, d.Slug)
	if !record.ValidSlug(d.Slug) {
		t.Errorf("slug %q is not a valid slug", d.Slug)
	}
}

func tags(s ...string) []string { return s }

func TestParseInputSamples(t *testing.T) {
	seed := seedURLs(t)
	bbc, tonline := "https://www.bbc.com/news/articles/cjjjnxdv188o",
		"https://www.t-online.de/nachrichten/ukraine/id_100310616/ukraine-krieg-russland-welches-ziel-verfolgt-putin-mit-dem-luftangriff-.html"
	reuters := "https://www.reuters.com/world/middle-east/hope-progress-after-us-iran-hold-first-shuttle-talks-months-2026-09-23/"
	fp := "https://foreignpolicy.com/2023/03/18/russian-mercenaries-are-pushing-france-out-of-central-africa/"
	tests := []struct {
		file string
		want []want
	}{
		{"google-news-topic.xml", []want{{
			kind: KindFeed, title: "World - Latest - Google News", slug: "world-latest-google-news-2026-01-04", date: "2026-01-04",
			link: "https://news.google.com/topics/CAAqJggKIiBDQkFTRWdvSUwyMHZNRGx1YlY4U0FtVnVHZ0pWVXlnQVAB?hl=en-US&gl=US&ceid=US:en",
			items: []Item{
				{"Why Security Guarantees Are So Crucial, and Thorny, for Ukraine", "The New York Times", seed[0], nil},
				{"TAC right now: Top Trump official tells all, NATO guarantees for Ukraine", "Defense Priorities", seed[1], nil},
				{"The NYT continues to add fuel: Disagree, Mr. Zelensky, fight on", "EADaily", seed[2], nil},
				{"ADAPTIVE INDOMITABLE UKRAINE's Only REAL Security: NATO or Article 5-Type or Security Partnership", "Daily Kos", seed[3], nil},
				{"Ukrainian President's advisor reveals details of Ukraine's security guarantee framework", "Bitget", seed[4], nil},
			},
		}}},
		{"google-news-search.xml", []want{{
			kind: KindFeed, title: `"security guarantees" when:7d - Google News`, slug: "security-guarantees-when-7d-google-news-2026-09-23", date: "2026-09-23",
			link: "https://news.google.com/search?q=%22security%20guarantees%22%20when:7d&hl=en-US&gl=US&ceid=US:en",
			items: []Item{
				{"Hope for progress after US and Iran hold first shuttle talks in months", "Reuters", gnURL(t, "CBMiswFBVV95cUxPWjBh", "?oc=5"), nil},
				// The title holds " - " itself: <source> says where the publisher starts.
				{"Ukraine security guarantees: what we know - explained", "BBC", gnURL(t, "CBMiLmh0dHBzOi8vd3d3LmJi", "?oc=5"), nil},
				{"Ukraine-Krieg: Welches Ziel verfolgt Putin mit dem Luftangriff?", "t-online", gnURL(t, "CBMihQFodHRwczovL3d3dy50", "?oc=5"), nil},
				{"Russian Mercenaries Are Pushing France Out of Central Africa", "Foreign Policy", gnURL(t, "CBMiYmh0dHBzOi8vZm9yZWln", "?oc=5"), nil},
			},
		}}},
		{"ledger-world.rss", []want{{
			kind: KindFeed, title: "The Example Ledger – World", slug: "the-example-ledger-world-2026-01-04", date: "2026-01-04",
			link: "https://ledger.example/world/", source: "https://ledger.example/world/feed/",
			categories: tags("World"), tags: tags("Diplomacy", "Europe", "Markets"),
			items: []Item{
				{"Talks resume in Geneva & Vienna", "ledger.example", "https://ledger.example/2026/01/04/talks-resume/", tags("Diplomacy", "Europe")},
				{"Markets: calm before the vote", "ledger.example", "https://ledger.example/2026/01/03/markets-calm/", tags("Markets", "europe")},
				{"Permalink only", "ledger.example", "https://ledger.example/2026/01/02/permalink-only/", nil},
			},
			skipped: []string{"duplicate of item 1"},
		}}},
		{"koeln.rdf", []want{{ // RSS 1.0 in ISO-8859-1
			kind: KindFeed, title: "Nachrichten aus Köln", slug: "nachrichten-aus-koln-2026-01-03", date: "2026-01-03",
			link: "https://koeln.example/", tags: tags("Verkehr", "Kultur"),
			items: []Item{
				{"Straßenbahn fährt wieder", "koeln.example", "https://koeln.example/artikel/strassenbahn", tags("Verkehr")},
				{"Dom: Gerüst fällt", "koeln.example", "https://koeln.example/artikel/dom", tags("Kultur")},
			},
		}}},
		{"monde-international.atom", []want{{
			kind: KindFeed, title: "Le Monde d'exemple International", slug: "le-monde-dexemple-international-2026-01-04", date: "2026-01-04",
			link: "https://monde.example/international/", source: "https://monde.example/international/atom.xml",
			categories: tags("international"), tags: tags("politique", "Europe", "diplomatie"),
			items: []Item{
				{"Élections : le second tour aura lieu dimanche", "monde.example", "https://monde.example/international/2026/01/04/elections", tags("politique", "Europe")},
				{"Dépêche : accord de principe à Vienne", "Agence Exemple", "https://agence.example/depeches/2026/01/03/accord", tags("diplomatie")},
				{"Analyse : ce que change le vote", "monde.example", "https://monde.example/international/2026/01/03/analyse", nil},
			},
		}}},
		{"notes.json", []want{{
			kind: KindFeed, title: "Desk notes", slug: "desk-notes-2026-01-04", date: "2026-01-04",
			link: "https://notes.example/", source: "https://notes.example/feed.json", tags: tags("desk", "notes"),
			items: []Item{
				{"First note", "notes.example", "https://notes.example/2026/01/04/first", tags("desk", "notes")},
				{"Linked elsewhere", "elsewhere.example", "https://elsewhere.example/story", nil},
			},
		}}},
		{"bookmarks-chrome.html", []want{
			{
				kind: KindBookmarks, title: "bookmarks-chrome › Bookmarks bar", slug: "bookmarks-chrome-bookmarks-bar", date: "2026-01-01",
				categories: tags("Bookmarks bar"),
				items:      []Item{{"Mail", "mail.example.com", "https://mail.example.com/", nil}},
				skipped:    []string{`scheme "javascript" is not http or https`},
			},
			{
				kind: KindBookmarks, title: "bookmarks-chrome › Bookmarks bar › News", slug: "bookmarks-chrome-bookmarks-bar-news", date: "2026-01-04",
				categories: tags("Bookmarks bar", "News"),
				items:      []Item{{"Ukraine security guarantees: what we know", "BBC", gnURL(t, "CBMiLmh0dHBzOi8vd3d3LmJi", "?oc=5"), nil}},
			},
			{
				kind: KindBookmarks, title: "bookmarks-chrome › Bookmarks bar › News › Ukraine", slug: "bookmarks-chrome-bookmarks-bar-news-ukraine", date: "2026-01-04",
				categories: tags("Bookmarks bar", "News", "Ukraine"),
				items: []Item{
					{"Ukraine-Krieg: Welches Ziel verfolgt Putin mit dem Luftangriff?", "t-online.de", tonline, nil},
					{"Russian Mercenaries Are Pushing France Out of Central Africa & more", "foreignpolicy.com", fp, nil},
				},
			},
			{
				kind: KindBookmarks, title: "bookmarks-chrome › Other bookmarks", slug: "bookmarks-chrome-other-bookmarks", date: "2026-01-03",
				categories: tags("Other bookmarks"),
				items:      []Item{{"Hope for progress after US and Iran hold first shuttle talks in months | Reuters", "reuters.com", reuters, nil}},
				skipped:    []string{`scheme "chrome" is not http or https`},
			},
		}},
		{"bookmarks-firefox.html", []want{
			{
				kind: KindBookmarks, title: "bookmarks-firefox", slug: "bookmarks-firefox", date: "2026-01-01",
				items: []Item{{"Getting Started", "mozilla.org", "https://www.mozilla.org/en-US/firefox/central/", nil}},
			},
			{
				kind: KindBookmarks, title: "bookmarks-firefox › Read later", slug: "bookmarks-firefox-read-later", date: "2026-01-04",
				categories: tags("Read later"), tags: tags("ukraine", "security", "media"),
				items: []Item{
					{"Ukraine security guarantees: what we know", "bbc.com", bbc, tags("ukraine", "security")},
					{"New York Post hacked", "techcrunch.com", "https://techcrunch.com/2022/10/27/new-york-post-hacked-offensive-tweets/", tags("media", "Security")},
				},
			},
			{
				kind: KindBookmarks, title: "bookmarks-firefox › Bookmarks Toolbar", slug: "bookmarks-firefox-bookmarks-toolbar", date: "2026-01-04",
				categories: tags("Bookmarks Toolbar"), tags: tags("film"),
				items: []Item{{"Bollywood's small-budget films are in crisis mode", "businesstoday.in",
					"https://www.businesstoday.in/magazine/corporate/story/bollywoods-small-budget-films-are-in-crisis-mode-heres-whats-going-on-361118-2023-01-19", tags("film")}},
				skipped: []string{`scheme "place" is not http or https`},
			},
		}},
		{"pocket-export.html", []want{
			{
				kind: KindBookmarks, title: "pocket-export › Unread", slug: "pocket-export-unread", date: "2025-09-23",
				categories: tags("Unread"), tags: tags("iran", "diplomacy"),
				items: []Item{
					{"Hope for progress after US and Iran hold first shuttle talks in months", "reuters.com", reuters, tags("iran", "diplomacy")},
					{"Empowering the Quintuple Aim", "healthdatamanagement.com", "https://healthdatamanagement.com/articles/empowering-the-quintuple-aim-embracing-an-essential-architecture/", nil},
				},
			},
			{
				kind: KindBookmarks, title: "pocket-export › Read Archive", slug: "pocket-export-read-archive", date: "2023-03-18",
				categories: tags("Read Archive"), tags: tags("africa", "france"),
				items: []Item{{fp, "foreignpolicy.com", fp, tags("africa", "france")}},
			},
		}},
		{"pocket-export.csv", []want{
			{
				kind: KindBookmarks, title: "pocket-export › unread", slug: "pocket-export-unread", date: "2025-09-23",
				categories: tags("unread"), tags: tags("iran", "diplomacy"),
				items: []Item{
					{"Hope for progress after US and Iran hold first shuttle talks in months", "reuters.com", reuters, tags("iran", "diplomacy")},
					{"Some Website Title", "somewebsite.example", "https://somewebsite.example/with,commas,in,the,url", nil},
				},
			},
			{
				kind: KindBookmarks, title: "pocket-export › archive", slug: "pocket-export-archive", date: "2023-12-31",
				categories: tags("archive"), tags: tags("ukraine", "mit Ümlaut", "with space"),
				items: []Item{{"Ukraine-Krieg: Welches Ziel verfolgt Putin mit dem Luftangriff?", "t-online.de", tonline, tags("ukraine", "mit Ümlaut", "with space")}},
			},
		}},
		{"reading-list.md", []want{{
			kind: KindMarkdown, title: "Ukraine: security guarantees, week 1", slug: "reading-list",
			items: []Item{
				{"method", "linkarc.example", "https://linkarc.example/method", nil},
				{"Why Security Guarantees Are So Crucial, and Thorny, for Ukraine", "The New York Times", seed[0], nil},
				{"TAC right now: Top Trump official tells all", "Defense Priorities", seed[1], nil}, // reference link
				{"Hope for progress after US and Iran hold first shuttle talks", "reuters.com", reuters, nil},
				{bbc, "bbc.com", bbc, nil}, // <autolink>
				{"Ukraine-Krieg: Welches Ziel verfolgt Putin?", "t-online", tonline, nil},
			},
			skipped: []string{"not an absolute URL: write the whole link, from http:// or https://", "not the first link of its list item"},
		}}},
		{"to-read.txt", []want{{
			kind: KindURLList, title: "to-read", slug: "to-read",
			items: []Item{
				{bbc, "bbc.com", bbc, nil},
				{reuters, "reuters.com", reuters, nil}, // HTTPS://WWW.Reuters.com/…, trailing comment dropped
				{"https://news.google.com/read/" + strings.TrimPrefix(gnURL(t, "CBMi2AFBVV95cUxPd1ZC", "?hl=en-US&gl=US&ceid=US%3Aen"), "https://news.google.com/rss/articles/"),
					"news.google.com", "https://news.google.com/read/" + strings.TrimPrefix(gnURL(t, "CBMi2AFBVV95cUxPd1ZC", "?hl=en-US&gl=US&ceid=US%3Aen"), "https://news.google.com/rss/articles/"), nil},
				{"Why Security Guarantees Are So Crucial, and Thorny, for Ukraine", "The New York Times", seed[0], nil}, // share text
				{tonline, "t-online.de", tonline, nil}, // www. without scheme
				{gnURL(t, "CBMiYmh0dHBzOi8vZm9yZWln", ""), "news.google.com", gnURL(t, "CBMiYmh0dHBzOi8vZm9yZWln", ""), nil}, // bare id
				{"See also", "techcrunch.com", "https://techcrunch.com/2022/10/27/new-york-post-hacked-offensive-tweets/", nil},
				{"https://a.example/one", "a.example", "https://a.example/one", nil},
				{"https://b.example/two", "b.example", "https://b.example/two", nil},
			},
			skipped: []string{
				`line 12: "example.com" is a host name without a scheme or path; write https://example.com/ to archive it`,
				"line 13: no link",
				"duplicate of item 1",
			},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := inputsDir + tt.file
			ds, err := ReadInput(path)
			if err != nil {
				t.Fatalf("ReadInput: %v", err)
			}
			if len(ds) != len(tt.want) {
				t.Fatalf("%d digests, want %d", len(ds), len(tt.want))
			}
			for i, w := range tt.want {
				checkDigest(t, ds[i], w, path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if k := Detect(data); k != tt.want[0].kind {
				t.Errorf("Detect = %q, want %q", k, tt.want[0].kind)
			}
			// The same input read again (moved elsewhere, same name) maps to
			// the same digests.
			moved := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(moved, data, 0o644); err != nil {
				t.Fatal(err)
			}
			again, err := ReadInput(moved)
			if err != nil {
				t.Fatal(err)
			}
			for i := range ds {
				if again[i].Slug != ds[i].Slug || again[i].FrontMatter.Title != ds[i].FrontMatter.Title {
					t.Errorf("read again: digest %d is %q %q, was %q %q", i, again[i].Slug, again[i].FrontMatter.Title, ds[i].Slug, ds[i].FrontMatter.Title)
				}
			}
		})
	}
}

func TestParseInputBroken(t *testing.T) {
	truncated, err := os.ReadFile(inputsDir + "ledger-world.rss")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		file   string // under testdata/inputs, or
		data   []byte
		reason string // substring of Error.Reason
	}{
		{name: "truncated RSS", file: "broken/truncated.rss", reason: "unreadable feed: XML syntax error on line 33: unexpected EOF"},
		{name: "truncated Atom", data: []byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>x</title><link href="https://a.example/1"/`), reason: "unreadable feed"},
		{name: "feed without items", file: "broken/no-items.rss", reason: `the feed "Quiet Desk" has no items`},
		{name: "feed whose links are all unusable", data: []byte(`<rss version="2.0"><channel><title>T</title><item><title>x</title><link>javascript:alert(1)</link></item></channel></rss>`), reason: "no usable links: 1 skipped"},
		{name: "OPML", file: "broken/feeds.opml", reason: "an OPML list of feeds, not a feed"},
		{name: "sitemap", data: []byte(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/</loc></url></urlset>`), reason: "a sitemap"},
		{name: "other XML", data: []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), reason: "XML whose root element is <svg>"},
		{name: "an article page", file: "broken/article-page.html", reason: "an HTML page, not a digest"},
		{name: "JSON that is not a JSON Feed", file: "broken/bookmarks.json", reason: "JSON, but not a JSON Feed"},
		{name: "binary", file: "broken/image.png", reason: "binary data, not text (NUL byte at offset 8)"},
		{name: "windows-1251 text", data: []byte("https://a.example/\n\xcf\xf0\xe8\xe2\xe5\xf2\n"), reason: "not UTF-8 text (invalid byte sequence at offset 19)"},
		{name: "empty", data: nil, reason: "empty: no links"},
		{name: "only comments", data: []byte("# nothing yet\n\n# still nothing\n"), reason: "no links: only blank lines and # comments"},
		{name: "prose", data: []byte("Dear diary,\ntoday I read the news.\n"), reason: `none of its 2 lines holds a link (line 1: no link: "Dear diary,")`},
		{name: "a line of prose", data: []byte("Dear diary,\n"), reason: `none of its 1 line holds a link (line 1: no link: "Dear diary,")`},
		{name: "prose with one link", data: []byte("Notes\nwritten on the train\nabout https://a.example/x\nand other things\nthat matter\n"), reason: "not a list of links: only 1 of its 5 lines holds a link"},
		{name: "markdown without usable links", data: []byte("# Notes\n\n[home](/index.html) and [mail](mailto:a@b.example)\n"), reason: "no usable links: 2 skipped, the first because not an absolute URL"},
		{name: "bookmarks without bookmarks", data: []byte("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<H1>Bookmarks</H1>\n<DL><p>\n</DL><p>\n"), reason: "a bookmark export without bookmarks"},
		{name: "CSV without urls", data: []byte("title,url\nA,\nB,\n"), reason: "no usable links: 2 skipped, the first because line 2: empty url"},
		{name: "over the size limit", data: append(truncated, bytes.Repeat([]byte(" "), MaxSize)...), reason: "over the 32 MiB limit for an input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, data := "input.txt", tt.data
			if tt.file != "" {
				name = inputsDir + tt.file
				var err error
				if data, err = os.ReadFile(name); err != nil {
					t.Fatal(err)
				}
			}
			ds, err := ParseInput(name, data)
			if err == nil {
				t.Fatalf("ParseInput succeeded: %+v", ds)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *Error", err, err)
			}
			if de.Path != name || !strings.Contains(de.Reason, tt.reason) {
				t.Fatalf("Error{Path: %q, Reason: %q}, want reason containing %q", de.Path, de.Reason, tt.reason)
			}
		})
	}
}

// TestReadInputOversize: a file over the limit is refused without being
// read whole.
func TestReadInputOversize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 * MaxSize); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	_, err = ReadInput(path)
	var de *Error
	if !errors.As(err, &de) || de.Reason != "33554433 bytes, over the 32 MiB limit for an input" {
		t.Fatalf("ReadInput(huge) = %v, want the size limit named", err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		data string
		want Kind
	}{
		{"digest", "\n---\ntitle: x\n---\n<ol></ol>", KindDigest},
		{"digest with a BOM", "\ufeff---\r\ntitle: x\r\n---\r\n", KindDigest},
		{"RSS 2.0", `<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>`, KindFeed},
		{"RSS 1.0", `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>`, KindFeed},
		{"Atom after a comment", "<?xml version=\"1.0\"?>\n<!-- generated -->\n<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>", KindFeed},
		{"JSON Feed", `{"version": "https://jsonfeed.org/version/1", "items": []}`, KindFeed},
		{"Netscape bookmarks", "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>", KindBookmarks},
		{"bookmarks without doctype", "<DL><p>\n<DT><A HREF=\"https://a.example/\">a</A>", KindBookmarks},
		{"Pocket HTML", "<!DOCTYPE html>\n<html><head><title>Pocket Export</title></head>", KindBookmarks},
		{"Pocket CSV", "title,url,time_added,tags,status\nA,https://a.example/,1,,unread\n", KindBookmarks},
		{"Instapaper CSV", "URL,Title,Selection,Folder,Timestamp,Tags\n", KindBookmarks},
		{"markdown", "Some notes\n\n* [A](https://a.example/)\n", KindMarkdown},
		{"markdown starting with a link", "[A](https://a.example/) - Reuters\n[B](https://b.example/) - AP\n", KindMarkdown},
		{"markdown reference", "See [A][1].\n\n[1]: https://a.example/\n", KindMarkdown},
		{"HTML fragment of links", "<ol><li><a href=\"https://a.example/\">A</a></li></ol>", KindMarkdown},
		{"URL list", "https://a.example/\nhttps://b.example/\n", KindURLList},
		{"share text", "Title - Source (https://a.example/x)\n", KindURLList},
		{"angle-bracket URL", "<https://a.example/x>\n", KindURLList},
		{"UTF-16 URL list", "\xff\xfeh\x00t\x00t\x00p\x00s\x00:\x00/\x00/\x00a\x00.\x00e\x00x\x00/\x00\n\x00", KindURLList},
		{"HTML page", "<!DOCTYPE html><html><body><a href=\"https://a.example/\">x</a></body></html>", ""},
		{"OPML", `<?xml version="1.0"?><opml version="2.0"></opml>`, ""},
		{"other JSON", `[{"href": "https://a.example/"}]`, ""},
		{"empty", " \n\t\n", ""},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: Detect = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestURLListLines(t *testing.T) {
	tests := []struct {
		line  string
		links []link
		note  string
	}{
		{"https://a.example/x", []link{{href: "https://a.example/x"}}, ""},
		{"  https://a.example/x  # for Monday", []link{{href: "https://a.example/x"}}, ""},
		{"https://a.example/x#section", []link{{href: "https://a.example/x#section"}}, ""},
		{"Headline - The Paper (https://a.example/x)", []link{{href: "https://a.example/x", title: "Headline", publisher: "The Paper"}}, ""},
		{"Headline - The Paper <https://a.example/x>", []link{{href: "https://a.example/x", title: "Headline", publisher: "The Paper"}}, ""},
		{"Headline https://a.example/x", []link{{href: "https://a.example/x", title: "Headline"}}, ""},
		{"https://a.example/x Headline — via the app", []link{{href: "https://a.example/x", title: "Headline — via the app"}}, ""},
		{"(see https://a.example/wiki/Foo_(bar)).", []link{{href: "https://a.example/wiki/Foo_(bar)", title: "see"}}, ""},
		{"“Quote” https://a.example/x, then more.", []link{{href: "https://a.example/x", title: "“Quote” , then more"}}, ""},
		{"news.google.com/read/CBMiAbc?hl=en-US&gl=US", []link{{href: "https://news.google.com/read/CBMiAbc?hl=en-US&gl=US"}}, ""},
		{"NEWS.GOOGLE.COM/rss/articles/CBMiAbc", []link{{href: "https://news.google.com/rss/articles/CBMiAbc"}}, ""},
		{"www.example.com", []link{{href: "https://www.example.com"}}, ""},
		{"CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cw", []link{{href: "https://news.google.com/rss/articles/CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cw"}}, ""},
		{"mail me at someone@example.com/x", nil, "no link"},
		{"example.com", nil, `"example.com" is a host name without a scheme or path; write https://example.com/ to archive it`},
		{"Node.js is nice", nil, "no link"},
		{"127.0.0.1:8701/news/latin1.html", nil, "no scheme: https:// is assumed only before a host name, not an IP address, localhost or a port; write http://127.0.0.1:8701/news/latin1.html or https://127.0.0.1:8701/news/latin1.html"},
		{"localhost/x", nil, "no scheme: https:// is assumed only before a host name, not an IP address, localhost or a port; write http://localhost/x or https://localhost/x"},
		{"v1.2", nil, "no link"},
		{"v1.2/3 release notes", nil, "no link"},
		{"https://a.example/1 and https://b.example/2", []link{{href: "https://a.example/1"}, {href: "https://b.example/2"}},
			"2 links on one line: the text around them is not used as a title"},
		{"https://a.example/1 https://b.example/2", []link{{href: "https://a.example/1"}, {href: "https://b.example/2"}}, ""},
	}
	for _, tt := range tests {
		links, note := lineLinks(tt.line)
		if !reflect.DeepEqual(links, tt.links) || note != tt.note {
			t.Errorf("lineLinks(%q)\n = %+v, %q\nwant %+v, %q", tt.line, links, note, tt.links, tt.note)
		}
	}
}

// TestMarkdownBounds: what goldmark is given never holds a paragraph of
// more than mdParagraphLines lines, more than mdMaxNesting container markers
// or mdMaxIndent columns of indentation at the start of a line, and the
// links of such input are still found.
func TestMarkdownBounds(t *testing.T) {
	var indented strings.Builder
	for i := range 300 {
		indented.WriteString(strings.Repeat(" ", 2*i) + "- x\n")
	}
	tests := []struct {
		name string
		src  string
		want int // links found
	}{
		{"one paragraph of references", "[a]: https://a.example/\n" + strings.Repeat("[x][a] - AP\n", 1000), 1},
		{"list items in one line", strings.Repeat("- ", 5000) + "[x](https://a.example/)\n", 1},
		{"quotes in one line", strings.Repeat(">", 5000) + " [x](https://a.example/)\n", 1},
		{"lists nested by indentation", indented.String() + "- [x](https://a.example/)\n", 1},
		{"a long list", strings.Repeat("- [x](https://a.example/)\n", 500) + "- [y](https://b.example/)\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tamed := string(tameMarkdown([]byte(tt.src)))
			run := 0
			for _, line := range strings.Split(tamed, "\n") {
				if strings.TrimSpace(line) == "" {
					run = 0
					continue
				}
				if run++; run > mdParagraphLines {
					t.Fatalf("a paragraph of more than %d lines", mdParagraphLines)
				}
				if keep, all := nestingPrefix([]byte(line), 1000); all != keep || strings.Count(line[:all], ">")+strings.Count(line[:all], "- ") > mdMaxNesting {
					t.Fatalf("line opens more than %d containers: %.80q", mdMaxNesting, line)
				}
				if ws := len(line) - len(strings.TrimLeft(line, " \t")); ws > mdMaxIndent {
					t.Fatalf("line indented %d columns", ws)
				}
			}
			d, err := ParseInput("list.md", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(d[0].Items) != tt.want {
				t.Errorf("%d items, want %d: %+v", len(d[0].Items), tt.want, d[0].Items)
			}
		})
	}
	big := "- [x](https://a.example/)\n" + strings.Repeat("word ", maxMarkdown/5)
	if _, err := ParseInput("big.md", []byte(big)); err == nil || !strings.Contains(err.Error(), "over the 1 MiB limit for Markdown") {
		t.Errorf("Markdown over the limit: %v", err)
	}
}

// TestHostileShapesBounded: shapes whose cost could grow with the square
// of their size (folders nested thousands deep, thousands of links or
// closing brackets on one line) stay within the fuzz targets' allocation
// bound and still give the right links.
func TestHostileShapesBounded(t *testing.T) {
	deep := "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n" + strings.Repeat("<DT><H3>f</H3>\n<DL><p>\n", 5000) +
		"<DT><A HREF=\"https://a.example/deep\">deep</A>\n" + strings.Repeat("</DL><p>\n", 5000) + "</DL><p>\n"
	manyLinks := strings.Repeat("https://a.example/x ", 20000) + "words\n"
	brackets := "https://a.example/x" + strings.Repeat(")", 100000) + "\n"
	tests := []struct {
		name  string
		data  string
		check func(t *testing.T, ds []*Digest)
	}{
		{"folders nested 5,000 deep", deep, func(t *testing.T, ds []*Digest) {
			if len(ds) != 1 || len(ds[0].FrontMatter.Categories) != maxFolderDepth || ds[0].Items[0].URL != "https://a.example/deep" {
				t.Errorf("got %d digests, categories %d", len(ds), len(ds[0].FrontMatter.Categories))
			}
		}},
		{"20,000 links on one line", manyLinks, func(t *testing.T, ds []*Digest) {
			if len(ds[0].Items) != 1 || len(ds[0].Skipped) != 20000 { // the repeats, and the note about the words
				t.Errorf("%d items, %d skipped", len(ds[0].Items), len(ds[0].Skipped))
			}
		}},
		{"100,000 closing brackets", brackets, func(t *testing.T, ds []*Digest) {
			if ds[0].Items[0].URL != "https://a.example/x" {
				t.Errorf("URL %q", ds[0].Items[0].URL)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ds []*Digest
			var err error
			fuzzcheck.MaxAlloc(t, uint64(256*len(tt.data)), "ParseInput", func() { ds, err = ParseInput("hostile.txt", []byte(tt.data)) })
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ds)
		})
	}
}
