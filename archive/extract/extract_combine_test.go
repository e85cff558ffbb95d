package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/textscore"
)

// parseFragment parses HTML and returns its <body>.
func parseFragment(t testing.TB, src string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var body *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "body" {
			body = n
		}
		for c := n.FirstChild; c != nil && body == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	return body
}

func TestArticleBlocks(t *testing.T) {
	tests := []struct {
		name string
		html string
		want []string
	}{
		{"paragraphs", `<p>One two.</p><p>Three <b>four</b> five.</p>`, []string{"One two", "Three four five"}},
		{"nested containers", `<div><section><p>A b</p></section><div><h2>C</h2><p>D</p></div></div>`, []string{"A b", "C", "D"}},
		{"inline runs between blocks", `<div>Loose <i>text</i><p>Para</p>tail text</div>`, []string{"Loose text", "Para", "tail text"}},
		{"list items", `<ul><li>first</li><li>second <a href=x>link</a></li></ul>`, []string{"first", "second link"}},
		{"table row is one block", `<table><tr><td>1</td><td>Kyle Busch</td><td>5040</td></tr></table>`, []string{"1 Kyle Busch 5040"}},
		{"inline element holding blocks", `<span><p>in span</p></span>`, []string{"in span"}},
		{"script and empty skipped", `<p><script>var x=1</script></p><p> </p><p>kept</p>`, []string{"kept"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, b := range articleBlocks(parseFragment(t, tt.html)) {
				got = append(got, strings.Join(b.tokens, " "))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("blocks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPruneUnconfirmed(t *testing.T) {
	const (
		p1 = "The harbour bridge reopened on Tuesday morning after six months of repairs."
		p2 = "Engineers replaced the corroded steel cables and resurfaced the deck."
		p3 = "Ferry operators said they would return to their normal timetable next week."
	)
	tests := []struct {
		name     string
		html     string
		opinions []string
		want     string // text after pruning, blocks joined by " | "
		html2    string // substring the rendered HTML must have, if set
	}{
		{
			name:     "drops what no opinion has",
			html:     `<p>` + p1 + `</p><figure><img src=a.jpg><figcaption>Photo: Ann Lee</figcaption></figure><p>` + p2 + `</p><p>` + p3 + `</p><div><h3>Read more</h3><ul><li>Other story</li></ul></div>`,
			opinions: []string{p1 + " " + p2 + " " + p3},
			want:     p1 + " | " + p2 + " | " + p3,
			html2:    `<img src="a.jpg"/>`, // the image stays, its caption goes
		},
		{
			name:     "either opinion confirms",
			html:     `<p>` + p1 + `</p><p>` + p2 + `</p><p>` + p3 + `</p><p>Subscribe now</p>`,
			opinions: []string{p1 + " " + p2, "", p3},
			want:     p1 + " | " + p2 + " | " + p3,
		},
		{
			name:     "repeated block kept only as often as confirmed",
			html:     `<p>Photo by the harbour authority press office</p><p>` + p1 + `</p><p>Photo by the harbour authority press office</p><p>` + p2 + `</p><p>` + p3 + `</p>`,
			opinions: []string{"Photo by the harbour authority press office " + p1 + " " + p2 + " " + p3},
			want:     "Photo by the harbour authority press office | " + p1 + " | " + p2 + " | " + p3,
		},
		{
			name:     "most of a block is enough",
			html:     `<p>` + p1 + ` Drivers queued from dawn.</p><p>` + p2 + `</p>`,
			opinions: []string{p1 + " " + p2},
			want:     p1 + " Drivers queued from dawn | " + p2,
		},
		{
			name:     "disagreement keeps readability's article",
			html:     `<p>` + p1 + `</p><p>` + p2 + `</p><p>` + p3 + `</p>`,
			opinions: []string{"Accept all cookies to continue reading this website today"},
			want:     p1 + " | " + p2 + " | " + p3,
		},
		{
			name:     "no opinion keeps everything",
			html:     `<p>` + p1 + `</p><p>Share this</p>`,
			opinions: []string{"", ""},
			want:     p1 + " | Share this",
		},
		{
			name:     "emptied containers removed",
			html:     `<p>` + p1 + `</p><p>` + p2 + `</p><p>` + p3 + `</p><aside><div><p>Sign up for our newsletter</p></div></aside>`,
			opinions: []string{p1 + " " + p2 + " " + p3},
			want:     p1 + " | " + p2 + " | " + p3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := parseFragment(t, `<div id="article">`+tt.html+`</div>`).FirstChild
			pruneUnconfirmed(root, tt.opinions, nil)
			var got []string
			for line := range strings.SplitSeq(paragraphs(render.InnerText(root)), "\n\n") {
				got = append(got, strings.Join(textscore.Tokens(line), " "))
			}
			var want []string
			for b := range strings.SplitSeq(tt.want, " | ") {
				want = append(want, strings.Join(textscore.Tokens(b), " "))
			}
			if !slices.Equal(got, want) {
				t.Errorf("text after pruning:\n got %q\nwant %q", got, want)
			}
			var out strings.Builder
			if err := html.Render(&out, root); err != nil {
				t.Fatal(err)
			}
			if tt.html2 != "" && !strings.Contains(out.String(), tt.html2) {
				t.Errorf("HTML lacks %s:\n%s", tt.html2, out.String())
			}
			for _, shell := range []string{"<aside><div></div></aside>", "<aside></aside>", "<figcaption></figcaption>", "<ul></ul>", "<div></div>"} {
				if strings.Contains(out.String(), shell) {
					t.Errorf("HTML keeps the empty shell %s:\n%s", shell, out.String())
				}
			}
		})
	}
}

func TestHashGram(t *testing.T) {
	// Word boundaries are part of the hash: "ab c" is not "a bc".
	if hashGram([]string{"ab", "c"}) == hashGram([]string{"a", "bc"}) {
		t.Error(`hashGram("ab c") == hashGram("a bc")`)
	}
	if hashGram([]string{"x", "y"}) != hashGram([]string{"x", "y"}) {
		t.Error("hashGram is not deterministic")
	}
}

// TestSecondOpinionLeavesTree checks, on every benchmark page, that
// trafilatura does not change the tree it is given: Extract relies on it
// to share one parse between the metadata reader, trafilatura and
// readability.
func TestSecondOpinionLeavesTree(t *testing.T) {
	for _, p := range loadBenchmark(t) {
		doc, err := html.Parse(bytes.NewReader(p.html))
		if err != nil {
			t.Fatal(err)
		}
		var before, after bytes.Buffer
		if err := html.Render(&before, doc); err != nil {
			t.Fatal(err)
		}
		if _, err := secondOpinion(doc, p.url); err != nil {
			t.Logf("%s: %v", p.id, err)
		}
		if err := html.Render(&after, doc); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Errorf("%s: trafilatura changed the parsed page", p.id)
		}
	}
}

// TestPruneRuleNotFitted guards against tuning the combination to the
// benchmark pages: it splits the pages in two halves by id (the ids are
// SHA-256 hashes, so the split is effectively random) and, on each half,
// checks that the combination beats readability alone, that no page loses
// much against readability alone, and that the chosen thresholds are within
// a small margin of the best of a grid: a rule picked on one half would
// not do noticeably better on the other.
func TestPruneRuleNotFitted(t *testing.T) {
	const (
		minGain       = 0.01 // mean F1 over readability alone, on each half
		maxPageLoss   = 0.10 // F1 a page may lose against readability alone
		maxGridMargin = 0.005
	)
	type page struct {
		url      *url.URL
		want     string
		article  *html.Node // readability's article, unpruned
		opinions []string
		half     int
	}
	var pages []page
	for i, p := range loadBenchmark(t) {
		doc, err := html.Parse(bytes.NewReader(p.html))
		if err != nil {
			t.Fatal(err)
		}
		meta := readMetadata(doc, p.url)
		op, _ := secondOpinion(doc, p.url)
		parser := readability.NewParser()
		art, err := parser.ParseAndMutate(doc, p.url)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page{p.url, p.want, art.Node, []string{meta.ArticleBody, op.text}, i % 2})
	}
	text := func(n *html.Node) string {
		if n == nil {
			return ""
		}
		return paragraphs(render.InnerText(n))
	}
	base := make([]textscore.Match, len(pages))
	for i, p := range pages {
		base[i] = textscore.Compare(p.want, text(p.article))
	}
	// score returns the mean F1 of each half under a rule (readability
	// alone for nil), and the largest loss of a page against readability
	// alone.
	score := func(r *pruneRule) (f1 [2]float64, worst float64) {
		var ms [2][]textscore.Match
		for i, p := range pages {
			m := base[i]
			if r != nil && p.article != nil {
				n := cloneTree(p.article)
				r.apply(n, p.opinions, p.url)
				m = textscore.Compare(p.want, text(n))
			}
			ms[p.half] = append(ms[p.half], m)
			worst = max(worst, base[i].F1()-m.F1())
		}
		for h := range 2 {
			f1[h] = textscore.Summarize(ms[h]).F1
		}
		return f1, worst
	}
	alone, _ := score(nil)
	chosen := pruneRule{support: minBlockSupport, agreement: minAgreement}
	got, worst := score(&chosen)
	var best [2]float64
	var table strings.Builder
	fmt.Fprintf(&table, "support agreement  F1 half 0  F1 half 1\n")
	for _, support := range []float64{0.3, 0.5, 0.7, 0.9} {
		for _, agreement := range []float64{0.3, 0.5, 0.7} {
			f1, _ := score(&pruneRule{support: support, agreement: agreement})
			fmt.Fprintf(&table, "%7.1f %9.1f  %9.4f  %9.4f\n", support, agreement, f1[0], f1[1])
			for h := range 2 {
				best[h] = max(best[h], f1[h])
			}
		}
	}
	t.Logf("readability alone F1 %.4f / %.4f; chosen rule %.4f / %.4f; best of grid %.4f / %.4f; worst page loss %.4f\n%s",
		alone[0], alone[1], got[0], got[1], best[0], best[1], worst, table.String())
	for h := range 2 {
		if got[h]-alone[h] < minGain {
			t.Errorf("half %d: F1 %.4f, readability alone %.4f: gain under %.2f", h, got[h], alone[h], minGain)
		}
		if best[h]-got[h] > maxGridMargin {
			t.Errorf("half %d: F1 %.4f, best of the grid %.4f: the chosen thresholds are not near the best", h, got[h], best[h])
		}
	}
	if worst > maxPageLoss {
		t.Errorf("a page loses %.4f F1 against readability alone, want at most %.2f", worst, maxPageLoss)
	}
}

// TestExtractConcurrent runs Extract on benchmark pages from several
// goroutines, as the pipeline's store workers do, and expects the results
// of a sequential run: readability, trafilatura and the metadata reader
// must share no state between pages (run with -race to check for races
// too).
func TestExtractConcurrent(t *testing.T) {
	pages := loadBenchmark(t)[:24]
	want := make([]*Extraction, len(pages))
	for i, p := range pages {
		ex, err := Extract(p.html, p.url)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ex
	}
	got := make([]*Extraction, len(pages))
	errs := make([]error, len(pages))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(pages); i += 4 {
				got[i], errs[i] = Extract(pages[i].html, pages[i].url)
			}
		})
	}
	wg.Wait()
	for i, p := range pages {
		if errs[i] != nil {
			t.Errorf("%s: %v", p.id, errs[i])
		} else if *got[i] != *want[i] {
			t.Errorf("%s: concurrent extraction differs from the sequential one", p.id)
		}
	}
}

// cloneTree deep-copies a node and its descendants.
func cloneTree(n *html.Node) *html.Node {
	c := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace, Attr: slices.Clone(n.Attr)}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		c.AppendChild(cloneTree(k))
	}
	return c
}

// TestLinkParagraphs: paragraphs whose whole text is a link, which the
// second opinions drop, are kept in the text when they are summaries
// among the article's paragraphs (a live blog's, linking to its posts on
// the page or to their own pages, in bold as live blogs set them), and not
// when they are promos for other pages ("READ MORE: …", plain "Also on …"
// links, a run of linked headlines) or the related-links box. The rule is
// checked with opinions that hold exactly the ordinary paragraphs, then
// through Extract.
func TestLinkParagraphs(t *testing.T) {
	summaries := []string{
		"12:40 The harbour master says the breakwater held",
		"11:55 Power cut in the old town",
		"11:10 Schools on the island will stay closed",
		"10:30 The first ferry of the day turned back",
	}
	related := []string{"Read more: Storm warning", "Breakwater repairs finished", "Ferry timetable changes"}
	promos := []string{"READ MORE", "Also on the Coastal Times", "Storm warning issued", "Rail link to the airport", "Market hall to be rebuilt"}
	u, _ := url.Parse("https://coastal.example/live/harbour-storm")
	for _, tc := range []struct {
		file      string
		keep, not []string
	}{
		{"liveblog-fragments.html", summaries, related},
		{"liveblog-permalinks.html", summaries, related},
		{"promos.html", []string{"The plan promises new housing", "The first residents could move"}, promos},
	} {
		body, err := os.ReadFile(filepath.Join("testdata", "link-paragraphs", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		check := func(how, text string) {
			for _, s := range tc.keep {
				if !strings.Contains(text, s) {
					t.Errorf("%s, %s: text lacks %q:\n%s", tc.file, how, s, text)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(text, s) {
					t.Errorf("%s, %s: text has %q:\n%s", tc.file, how, s, text)
				}
			}
		}
		doc, err := html.Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		article := findElement(doc, "article")
		var opinion strings.Builder
		for _, b := range articleBlocks(article) {
			if isTextParagraph(b) {
				for _, n := range b.nodes {
					appendText(&opinion, n)
				}
				opinion.WriteString("\n")
			}
		}
		pruneUnconfirmed(article, []string{opinion.String()}, u)
		check("opinion of the ordinary paragraphs", paragraphs(render.InnerText(article)))
		if tc.file != "promos.html" { // where trafilatura itself keeps promos
			ex, err := Extract(body, u)
			if err != nil {
				t.Fatal(err)
			}
			check("Extract", ex.Text)
		}
	}
}

// findElement is the first element named name in n's tree.
func findElement(n *html.Node, name string) *html.Node {
	if n.Type == html.ElementNode && n.Data == name {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElement(c, name); f != nil {
			return f
		}
	}
	return nil
}
