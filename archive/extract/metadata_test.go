package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/hostile"
)

func TestReadMetadata(t *testing.T) {
	page, _ := url.Parse("https://news.example/2024/03/bridge")
	ld := func(s string) string { return `<script type="application/ld+json">` + s + `</script>` }
	tests := []struct {
		name string
		head string // inside <head>
		body string // inside <body>
		want pageMetadata
	}{
		{
			name: "NewsArticle over OpenGraph",
			head: `<meta property="og:title" content="Social title | Coast Times">
				<meta property="og:site_name" content="Coast Times">
				<meta property="article:published_time" content="2024-03-01T00:00:00Z">` +
				ld(`{"@context":"https://schema.org","@type":"NewsArticle","headline":"Bridge reopens",
				"author":{"@type":"Person","name":"Maria Lopes"},"datePublished":"2024-03-05T08:30:00+01:00",
				"inLanguage":"en-GB","publisher":{"@type":"Organization","name":"Coast Times Ltd"},
				"description":"The bridge is open.","image":{"@type":"ImageObject","url":"/img/b.jpg"}}`),
			want: pageMetadata{
				Title:         sourced{"Bridge reopens", fromJSONLD},
				Byline:        sourced{"Maria Lopes", fromJSONLD},
				SiteName:      sourced{"Coast Times", fromOpenGraph},
				PublishedTime: sourced{"2024-03-05T08:30:00+01:00", fromJSONLD},
				Lang:          sourced{"en-GB", fromJSONLD},
				Excerpt:       sourced{"The bridge is open.", fromJSONLD},
				Image:         sourced{"https://news.example/img/b.jpg", fromJSONLD},
			},
		},
		{
			name: "@graph with @id references",
			head: ld(`{"@context":"https://schema.org","@graph":[
				{"@type":"WebSite","@id":"https://news.example/#site","name":"Example News"},
				{"@type":"Organization","@id":"https://news.example/#org","name":"Example Media"},
				{"@type":"Person","@id":"https://news.example/#/person/1","name":"Ann Lee"},
				{"@type":"WebPage","@id":"https://news.example/2024/03/bridge","name":"Bridge page"},
				{"@type":["Article","NewsArticle"],"headline":"Graph headline","author":[{"@id":"https://news.example/#/person/1"}],
				 "publisher":{"@id":"https://news.example/#org"},"datePublished":"2024-03-05",
				 "mainEntityOfPage":{"@id":"https://news.example/2024/03/bridge"}}]}`),
			want: pageMetadata{
				Title:         sourced{"Graph headline", fromJSONLD},
				Byline:        sourced{"Ann Lee", fromJSONLD},
				SiteName:      sourced{"Example Media", fromJSONLD},
				PublishedTime: sourced{"2024-03-05T00:00:00Z", fromJSONLD},
			},
		},
		{
			name: "top-level array, several authors, string author",
			head: ld(`[{"@context":"http://schema.org","@type":"BreadcrumbList","itemListElement":[]},
				{"@context":"http://schema.org","@type":"BlogPosting","name":"Array post",
				 "author":[{"@type":"Person","name":"Ann Lee"},"Bo Chen",{"@type":"Person","name":"ann lee"}]}]`),
			want: pageMetadata{
				Title:  sourced{"Array post", fromJSONLD},
				Byline: sourced{"Ann Lee, Bo Chen", fromJSONLD},
			},
		},
		{
			name: "the article about this page, not a listed one",
			head: ld(`{"@context":"https://schema.org","@type":"ItemList","itemListElement":[
				{"@type":"ListItem","item":{"@type":"NewsArticle","headline":"Other story"}}]}`) +
				ld(`{"@context":"https://schema.org","@type":"NewsArticle","headline":"Related story","url":"https://news.example/related"}`) +
				ld(`{"@context":"https://schema.org","@type":"NewsArticle","headline":"This story","url":"http://www.news.example/2024/03/bridge/?utm=x"}`),
			want: pageMetadata{Title: sourced{"This story", fromJSONLD}},
		},
		{
			name: "malformed JSON-LD falls back to OpenGraph",
			head: ld(`{"@context":"https://schema.org","@type":"NewsArticle","headline":"Broken",`) +
				`<meta property="og:title" content="From OpenGraph">
				<meta property="og:description" content="OG description">
				<meta property="og:locale" content="pt_BR">`,
			want: pageMetadata{
				Title:   sourced{"From OpenGraph", fromOpenGraph},
				Excerpt: sourced{"OG description", fromOpenGraph},
				Lang:    sourced{"pt-BR", fromOpenGraph},
			},
		},
		{
			name: "malformed JSON-LD of every kind, the valid script still read",
			head: ld(`not json at all`) + ld(``) + ld(`{"@type": "NewsArticle", "headline": }`) + ld(`["unterminated"`) +
				ld(`{"@type":"NewsArticle","headline":["Headline in a list"],"author":{"name":{"@value":"Nested Value"}},"datePublished":12345}`),
			want: pageMetadata{
				Title:  sourced{"Headline in a list", fromJSONLD},
				Byline: sourced{"Nested Value", fromJSONLD},
			},
		},
		{
			name: "repairable JSON-LD: CDATA, raw line breaks, trailing semicolon",
			head: ld("//<![CDATA[\n{\"@type\":\"NewsArticle\",\"headline\":\"Line one\nline two\",\"articleBody\":\"" +
				strings.Repeat("word ", 60) + "\"};\n//]]>"),
			want: pageMetadata{
				Title:       sourced{"Line one line two", fromJSONLD},
				ArticleBody: strings.TrimSpace(strings.Repeat("word ", 60)),
			},
		},
		{
			name: "a teaser articleBody is not an opinion",
			head: ld(`{"@type":"NewsArticle","headline":"Paywalled","articleBody":"Only the first sentence is free."}`),
			want: pageMetadata{Title: sourced{"Paywalled", fromJSONLD}},
		},
		{
			name: "meta tags, Dublin Core, profile-URL authors skipped",
			head: `<meta name="DC.title" content="DC title">
				<meta property="article:author" content="https://facebook.com/someone">
				<meta name="DC.creator" content="Dub Lin">
				<meta name="DC.date.issued" content="2023-12-31">
				<meta name="DC.publisher" content="DC Press">
				<meta http-equiv="Content-Language" content="de-DE, en">
				<meta name="description" content="Plain description">
				<meta name="twitter:image" content="https://cdn.example/t.png">`,
			want: pageMetadata{
				Title:         sourced{"DC title", fromDublin},
				Byline:        sourced{"Dub Lin", fromDublin},
				SiteName:      sourced{"DC Press", fromDublin},
				PublishedTime: sourced{"2023-12-31T00:00:00Z", fromDublin},
				Lang:          sourced{"de-DE", fromMeta},
				Excerpt:       sourced{"Plain description", fromMeta},
				Image:         sourced{"https://cdn.example/t.png", fromTwitter},
			},
		},
		{
			name: "byline prefix and entities",
			head: `<meta name="author" content="By Jo &amp;amp; Al">`,
			want: pageMetadata{Byline: sourced{"Jo & Al", fromMeta}},
		},
		{
			name: "time marked as publication date wins",
			body: `<time datetime="2024-01-01T10:00:00Z">New Year</time>
				<article><time datetime="2024-02-02T10:00">Feb</time>
				<time pubdate datetime="2024-03-03T10:00:00+02:00">March</time></article>`,
			want: pageMetadata{PublishedTime: sourced{"2024-03-03T10:00:00+02:00", fromTime}},
		},
		{
			name: "time inside the article before the page's first",
			body: `<header><time datetime="2020-01-01">today</time></header><article><time datetime="2024-02-02 10:00:00">Feb</time></article>`,
			want: pageMetadata{PublishedTime: sourced{"2024-02-02T10:00:00Z", fromTime}},
		},
		{
			name: "unreadable and placeholder dates skipped",
			head: `<meta property="article:published_time" content="0001-01-01T00:00:00Z">
				<meta name="pubdate" content="someday">
				<meta name="date" content="03/04/2024">
				<meta itemprop="datePublished" content="2022-07-08T09:10:11.123-04:00">`,
			want: pageMetadata{PublishedTime: sourced{"2022-07-08T09:10:11-04:00", fromMeta}},
		},
		{
			name: "html lang, invalid tags skipped",
			head: `<meta property="og:locale" content="fr_FR">`,
			want: pageMetadata{Lang: sourced{"fr-FR", fromOpenGraph}},
		},
		{
			name: "site name that is a URL skipped, publisher used",
			head: `<meta property="og:site_name" content="https://www.example.com">` +
				ld(`{"@type":"NewsArticle","publisher":"Example Daily"}`),
			want: pageMetadata{SiteName: sourced{"Example Daily", fromJSONLD}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lang := ""
			if tt.name == "html lang, invalid tags skipped" {
				lang = ` lang="{{lang}}"`
			}
			src := `<!DOCTYPE html><html` + lang + `><head>` + tt.head + `</head><body>` + tt.body + `</body></html>`
			doc, err := html.Parse(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			if got := readMetadata(doc, page); got != tt.want {
				t.Errorf("readMetadata:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]string{
		"en": "en", "EN-gb": "en-GB", "pt_BR": "pt-BR", "zh-Hant-TW": "zh-Hant-TW",
		"de-DE, en": "de-DE", "": "", "{{lang}}": "", "und": "", "english": "",
	} {
		if got := parseLang(in); got != want {
			t.Errorf("parseLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-05T08:30:00+01:00":     "2024-03-05T08:30:00+01:00",
		"2024-03-05T08:30:00.000Z":      "2024-03-05T08:30:00Z",
		"2024-03-05":                    "2024-03-05T00:00:00Z",
		"2024-03-05 08:30:00":           "2024-03-05T08:30:00Z",
		"Tue, 05 Mar 2024 08:30:00 GMT": "2024-03-05T08:30:00Z",
		"March 5, 2024":                 "2024-03-05T00:00:00Z",
		"03/04/2024":                    "", // March 4 or 3 April: refused
		"0001-01-01T00:00:00Z":          "",
		"yesterday":                     "",
	} {
		if got := parseTime(in); got != want {
			t.Errorf("parseTime(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectLang(t *testing.T) {
	long := strings.Repeat("Das ist ein langer deutscher Satz über die Stadt. ", 15)
	tests := []struct {
		declared sourced
		op       opinion
		want     sourced
	}{
		{sourced{}, opinion{long, "de"}, sourced{"de", fromDetected}},
		{sourced{}, opinion{"Ein kurzer Satz.", "de"}, sourced{}},
		{sourced{"en", fromHTMLLang}, opinion{long, "de"}, sourced{"de", fromDetected}},
		{sourced{"en", fromHTMLLang}, opinion{"Ein kurzer Satz.", "de"}, sourced{"en", fromHTMLLang}},
		{sourced{"de-AT", fromHTMLLang}, opinion{long, "de"}, sourced{"de-AT", fromHTMLLang}},
		{sourced{"en", fromHTMLLang}, opinion{long, ""}, sourced{"en", fromHTMLLang}},
	}
	for _, tt := range tests {
		m := pageMetadata{Lang: tt.declared}
		m.detectLang(tt.op)
		if m.Lang != tt.want {
			t.Errorf("declared %v, detected %q: Lang = %v, want %v", tt.declared, tt.op.lang, m.Lang, tt.want)
		}
	}
}

// TestMetadataCoverage reports, for each metadata field, on how many
// benchmark pages Extract fills it and from which source, next to
// readability alone, and keeps the per-page values in
// testdata/extraction/metadata.golden (-update rewrites it). No field may
// be filled on fewer pages than readability alone fills it.
//
//	go test ./archive/extract -run TestMetadataCoverage -v
func TestMetadataCoverage(t *testing.T) {
	pages := loadBenchmark(t)
	fields := []string{"title", "byline", "site name", "published", "language", "excerpt", "image"}
	ours := map[string]map[string]int{} // field → source → pages
	theirs := map[string]int{}
	var golden strings.Builder
	for _, p := range pages {
		doc, err := html.Parse(bytes.NewReader(p.html))
		if err != nil {
			t.Fatal(err)
		}
		_, m, err := extractDocument(doc, p.url)
		if err != nil {
			t.Fatalf("%s: %v", p.id, err)
		}
		fmt.Fprintf(&golden, "%s %s\n", p.id, p.url)
		for i, f := range []sourced{m.Title, m.Byline, m.SiteName, m.PublishedTime, m.Lang, m.Excerpt, m.Image} {
			if ours[fields[i]] == nil {
				ours[fields[i]] = map[string]int{}
			}
			if f.Value != "" {
				ours[fields[i]][f.From]++
			}
			fmt.Fprintf(&golden, "  %-9s %-11s %.100q\n", fields[i], f.From, f.Value)
		}

		doc, err = html.Parse(bytes.NewReader(p.html))
		if err != nil {
			t.Fatal(err)
		}
		art, err := readability.FromDocument(doc, p.url)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := art.PublishedTime()
		for i, v := range []string{art.Title(), art.Byline(), art.SiteName(), pub.Format("2006"), art.Language(), art.Excerpt(), art.ImageURL()} {
			if strings.TrimSpace(v) != "" && v != "0001" {
				theirs[fields[i]]++
			}
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| field | linkarc | readability alone | linkarc's sources |\n| --- | --- | --- | --- |\n")
	for _, f := range fields {
		total := 0
		var srcs []string
		for src, n := range ours[f] {
			total += n
			srcs = append(srcs, fmt.Sprintf("%s %d", src, n))
		}
		slices.Sort(srcs)
		fmt.Fprintf(&table, "| %s | %d/%d | %d/%d | %s |\n", f, total, len(pages), theirs[f], len(pages), strings.Join(srcs, ", "))
		if total < theirs[f] {
			t.Errorf("%s: filled on %d pages, readability alone fills it on %d", f, total, theirs[f])
		}
	}
	t.Logf("metadata coverage on %d benchmark pages:\n%s", len(pages), table.String())
	checkGolden(t, filepath.Join("..", "..", "testdata", "extraction", "metadata.golden"),
		"# Extract's metadata on the article-extraction benchmark: field, source, value\n"+
			"# coverage:\n# "+strings.ReplaceAll(strings.TrimSpace(table.String()), "\n", "\n# ")+"\n"+golden.String())
}

// FuzzReadMetadata feeds arbitrary JSON-LD, a <meta> value and a <time>
// through readMetadata: it must not panic, every value must be valid UTF-8,
// a date must be RFC 3339, a language a canonical tag, and an articleBody
// either empty or long enough to be an opinion.
//
//	go test ./archive/extract -run '^$' -fuzz '^FuzzReadMetadata$' -fuzztime 30s
func FuzzReadMetadata(f *testing.F) {
	f.Add(`{"@context":"https://schema.org","@type":"NewsArticle","headline":"H","author":[{"@id":"#a"}],"@graph":[{"@id":"#a","name":"N"}]}`, "2024-01-02", "en_GB")
	f.Add(`[{"@type":["BlogPosting"],"author":{"@id":"#x","name":{"@value":"V"}},"image":[{"url":"/i.png"}],"inLanguage":{"name":"de"}}]`, "03/04/2024", "{{x}}")
	f.Add("<![CDATA[{\"@type\":\"Article\",\"headline\":\"a\nb\"}]]>", "0001-01-01", "")
	f.Add(`{"@graph":[{"@id":"#p","publisher":{"@id":"#p"}}],"@type":"NewsArticle","publisher":{"@id":"#p"}}`, "x", "zz")
	page, _ := url.Parse("https://news.example/a")
	f.Fuzz(func(t *testing.T, jsonLD, date, lang string) {
		src := `<html lang="` + html.EscapeString(lang) + `"><head><script type="application/ld+json">` + jsonLD +
			`</script><meta property="article:published_time" content="` + html.EscapeString(date) + `"></head>` +
			`<body><time datetime="` + html.EscapeString(date) + `">t</time></body></html>`
		doc, err := html.Parse(strings.NewReader(src))
		if err != nil {
			return
		}
		m := readMetadata(doc, page)
		for _, v := range []string{m.Title.Value, m.Byline.Value, m.SiteName.Value, m.PublishedTime.Value, m.Lang.Value, m.Excerpt.Value, m.Image.Value, m.ArticleBody} {
			if !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 in %q", v)
			}
		}
		if v := m.PublishedTime.Value; v != "" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				t.Fatalf("PublishedTime %q is not RFC 3339", v)
			}
		}
		if v := m.Lang.Value; v != "" && parseLang(v) != v {
			t.Fatalf("Lang %q is not a canonical tag", v)
		}
		if m.ArticleBody != "" && countWords(m.ArticleBody) < minArticleBodyWords {
			t.Fatalf("articleBody of %d words kept", countWords(m.ArticleBody))
		}
	})
}

// TestMetadataBounds: a page whose metadata values are megabytes long
// (internal/hostile's giant-metadata page: a 4 MiB <title>, og:title,
// og:description and description) yields fields within their bounds,
// valid UTF-8; and on the benchmark pages the longest value of each field
// is far below its bound, so no real value is cut.
func TestMetadataBounds(t *testing.T) {
	ex, err := Extract(hostile.GiantMetadata(16<<20), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"title", ex.Title, MaxTitleBytes}, {"byline", ex.Byline, MaxBylineBytes},
		{"site name", ex.SiteName, MaxSiteNameBytes}, {"excerpt", ex.Excerpt, MaxExcerptBytes},
		{"image", ex.Image, MaxImageBytes}, {"lang", ex.Lang, MaxLangBytes},
	} {
		if len(f.value) > f.max || !utf8.ValidString(f.value) {
			t.Errorf("%s: %d bytes, bound %d (valid UTF-8: %v)", f.name, len(f.value), f.max, utf8.ValidString(f.value))
		}
	}
	if !strings.HasSuffix(ex.Title, "…") || !strings.HasSuffix(ex.Excerpt, "…") {
		t.Errorf("cut title or excerpt does not end in an ellipsis: %q / %q", ex.Title[len(ex.Title)-20:], ex.Excerpt[len(ex.Excerpt)-20:])
	}
	// A too long image URL or language tag is dropped, not cut.
	page := `<html lang="en-` + strings.Repeat("x", 40) + `"><head><meta property="og:image" content="/` +
		strings.Repeat("i", MaxImageBytes) + `.jpg"></head><body><p>Short.</p></body></html>`
	if ex, err := Extract([]byte(page), nil); err != nil || ex.Image != "" || ex.Lang != "" {
		t.Errorf("over-long image %d bytes, lang %q (%v): want both dropped", len(ex.Image), ex.Lang, err)
	}

	var most [6]int
	for _, p := range loadBenchmark(t) {
		ex, err := Extract(p.html, p.url)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range []string{ex.Title, ex.Byline, ex.SiteName, ex.Excerpt, ex.Image, ex.Lang} {
			most[i] = max(most[i], len(v))
		}
	}
	t.Logf("longest on the benchmark pages: title %d, byline %d, site name %d, excerpt %d, image %d, lang %d bytes",
		most[0], most[1], most[2], most[3], most[4], most[5])
	for i, bound := range []int{MaxTitleBytes, MaxBylineBytes, MaxSiteNameBytes, MaxExcerptBytes, MaxImageBytes, MaxLangBytes} {
		if most[i] > bound/2 {
			t.Errorf("field %d: a benchmark page has %d bytes, over half the bound %d", i, most[i], bound)
		}
	}
}
