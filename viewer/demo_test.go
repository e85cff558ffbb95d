package viewer

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// demoDigest is a digest of the demo archive, built from real pages of the
// article-extraction benchmark (testdata/extraction, MIT licensed): their
// raw HTML as archived and their hand-checked text as the readable view.
type demoDigest struct {
	slug, title, date string
	articles          []demoArticle
}

type demoArticle struct {
	page      string // benchmark page id prefix; "" for a failed capture
	title     string
	publisher string
	byline    string
	status    string
}

// demoTags are each demo digest's category, then its tags.
var demoTags = map[string][]string{
	"2019-11-18-science-and-space":      {"Science", "space", "astronomy"},
	"2019-11-19-markets-and-business":   {"Business", "markets", "trade"},
	"2019-11-20-tech-culture-and-sport": {"Technology", "culture", "sport"},
}

func demoDigests() []demoDigest {
	return []demoDigest{
		{"2019-11-18-science-and-space", "Science and space", "2019-11-18", []demoArticle{
			{"14cc2a0ca5", "NASA Just Confirmed There Are Water Plumes Above the Surface of Jupiter's Moon Europa", "ScienceAlert", "Michelle Starr", record.StatusOK},
			{"42aad16bde", "NASA's commercial moon shot: Musk's and Bezos's firms to bid", "Al Jazeera", "", record.StatusOK},
			{"3c5bf8db42", "Physicists Just Created the Most Detailed Simulation of the Universe in History", "Live Science", "Rafi Letzter", record.StatusOK},
			{"359fee2285", "The First Map of Saturn's Moon Titan Just Revealed Some Tantalising Features", "ScienceAlert", "Will Dunham", record.StatusOK},
		}},
		{"2019-11-19-markets-and-business", "Markets and business", "2019-11-19", []demoArticle{
			{"57d46c9d75", "Oversupply angst drags oil lower, stocks drift near highs", "Reuters", "Herbert Lash", record.StatusOK},
			{"374ac9a59a", "Emirates inks order for 30 Boeing 787 jets, talks expansion plans", "CNBC", "", record.StatusOK},
			{"360c732d1f", "Alibaba to raise up to $12.9bn in landmark Hong Kong listing", "City A.M.", "", record.StatusOK},
			{"51374560f4", "Home Depot sales miss, shares plunge", "Fox Business", "", record.StatusOK},
			{"39d5c43beb", "Beijing tariff demands may expand US-China trade deal", "Deccan Herald", "", record.StatusBlocked},
			{"1ace8c85aa", "New York State Attorney General reportedly investigating WeWork", "TechCrunch", "Jonathan Shieber", record.StatusOK},
			{"", "WeWork's valuation questions deepen as investors weigh options", "Financial Post", "", record.StatusFailed},
		}},
		{"2019-11-20-tech-culture-and-sport", "Tech, culture and sport", "2019-11-20", []demoArticle{
			{"098bb3e96c", "Disney+ glitches blamed on heavy demand, says executive Kevin Mayer", "Los Angeles Times", "Ryan Faughnder", record.StatusOK},
			{"232a43fb15", "13-Inch MacBook Pro With Scissor Keyboard Expected in First Half of 2020", "MacRumors", "Joe Rossignol", record.StatusOK},
			{"2f42ef1d3e", "The Future of Banking Is … You're Broke", "WIRED", "Kevin Roose", record.StatusOK},
			{"0d46122928", "Nadal keeps Spain alive against Russia in Davis Cup Finals", "Sportsnet", "", record.StatusOK},
			{"5a822960e9", "House Hitler was born in will become a police station, Austria says", "NBC News", "", record.StatusOK},
		}},
	}
}

// benchmarkPage is one page of testdata/extraction.
type benchmarkPage struct {
	raw, text, url string
}

func loadBenchmarkPages(t testing.TB) map[string]benchmarkPage {
	t.Helper()
	dir := filepath.Join("..", "testdata", "extraction")
	b, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		t.Fatalf("demo archive needs the extraction benchmark pages: %v", err)
	}
	var truth map[string]struct {
		ArticleBody string `json:"articleBody"`
		URL         string `json:"url"`
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	pages := map[string]benchmarkPage{}
	for _, d := range demoDigests() {
		for _, a := range d.articles {
			if a.page == "" {
				continue
			}
			for id, gt := range truth {
				if !strings.HasPrefix(id, a.page) {
					continue
				}
				f, err := os.Open(filepath.Join(dir, "html", id+".html.gz"))
				if err != nil {
					t.Fatal(err)
				}
				zr, err := gzip.NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				raw, err := io.ReadAll(zr)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				pages[a.page] = benchmarkPage{raw: string(raw), text: gt.ArticleBody, url: gt.URL}
			}
			if _, ok := pages[a.page]; !ok {
				t.Fatalf("benchmark page %s missing", a.page)
			}
		}
	}
	return pages
}

// writeDemo writes the demo archive (three digests of real articles) into st.
func writeDemo(t testing.TB, st storage.Store) {
	t.Helper()
	ctx := testContext(t)
	pages := loadBenchmarkPages(t)
	for di, d := range demoDigests() {
		day, _ := time.Parse("2006-01-02", d.date)
		rec := record.DigestRecord{
			Slug: d.slug, SourceFile: "digests/" + d.slug + ".md",
			FrontMatter: record.FrontMatter{Title: d.title + " — " + day.Format("2 January 2006"), Date: d.date,
				Description: "Stories of the day, archived from Google News links.",
				Categories:  demoTags[d.slug][:1], Tags: demoTags[d.slug][1:]},
			ArchivedAt: day.Add(7*time.Hour + time.Duration(di)*time.Minute),
		}
		for i, a := range d.articles {
			slug := strings.Trim(strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
					return r
				}
				return '-'
			}, strings.ToLower(a.title+" "+a.publisher)), "-")
			for strings.Contains(slug, "--") {
				slug = strings.ReplaceAll(slug, "--", "-")
			}
			p := pages[a.page]
			if p.url == "" {
				p.url = "https://financialpost.example/news/wework-valuation"
			}
			fetched := rec.ArchivedAt.Add(time.Duration(i+1) * 13 * time.Second)
			m := record.ArticleMeta{
				Slug: slug, Title: a.title, Publisher: a.publisher,
				// As long as real ones: the id is base64 of a message that holds the URL.
				GoogleNewsURL: "https://news.google.com/rss/articles/CBMi" +
					base64.RawURLEncoding.EncodeToString([]byte("\x08\x13\x22"+p.url+"\xd2\x01\x00")) + "?oc=5",
				URL: p.url, ResolveMethod: "batchexecute", FinalURL: p.url,
				Status: a.status, HTTPStatus: 200, FetchedAt: fetched,
				ContentType: "text/html; charset=utf-8", Charset: "utf-8",
				ArticleTitle: a.title, Byline: a.byline, SiteName: a.publisher,
				PublishedTime: day.Add(-5 * time.Hour).Format(time.RFC3339), Lang: "en",
				Digests: []string{d.slug},
			}
			if u, err := url.Parse(p.url); err == nil && u.Scheme == "http" {
				m.RedirectChain = []string{p.url, "https://" + u.Host + u.Path}
				m.FinalURL = m.RedirectChain[1]
			}
			art := viewertest.Article{Meta: m}
			switch a.status {
			case record.StatusFailed:
				art.Meta.HTTPStatus, art.Meta.Reason, art.Meta.Error = 0, "fetch failed", "GET https://financialpost.example/news/wework-valuation: 503 Service Unavailable after 3 attempts"
			case record.StatusBlocked:
				art.Meta.HTTPStatus, art.Meta.Reason = 403, "consent wall"
				art.Raw = p.raw
				art.Text = "Before you continue, we use cookies to deliver our services.\n"
			default:
				var rb strings.Builder
				words := 0
				for _, para := range strings.Split(p.text, "\n") {
					if para = strings.TrimSpace(para); para != "" {
						rb.WriteString("<p>" + html.EscapeString(para) + "</p>\n")
						words += len(strings.Fields(para))
					}
				}
				art.Raw, art.Readable, art.Text = p.raw, rb.String(), p.text+"\n"
				art.Meta.WordCount = words
				art.Meta.Excerpt = strings.SplitN(p.text, "\n", 2)[0]
			}
			if a.page == "57d46c9d75" { // a re-archived article: the first try met a consent wall
				old := art.Meta
				old.Status, old.Reason, old.HTTPStatus, old.FetchedAt = record.StatusBlocked, "consent wall", 403, fetched.Add(-20*time.Hour)
				art.History = []viewertest.Capture{{ID: old.FetchedAt.Format("20060102T150405Z"), Meta: old,
					Raw: "<html><body><h1>Before you continue</h1></body></html>", Text: "Before you continue\n"}}
			}
			if err := viewertest.PutArticle(ctx, st, art); err != nil {
				t.Fatal(err)
			}
			rec.Articles = append(rec.Articles, record.DigestArticle{
				Slug: slug, Title: a.title, Publisher: a.publisher, GoogleNewsURL: m.GoogleNewsURL,
				URL: p.url, Status: a.status, Reason: art.Meta.Reason,
			})
		}
		if err := viewertest.PutDigest(ctx, st, rec); err != nil {
			t.Fatal(err)
		}
	}
}
