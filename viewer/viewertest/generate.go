package viewertest

import (
	"context"
	"fmt"
	"html"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// GenerateOptions sizes a synthetic archive. The zero value gives 100
// articles in digests of 25.
type GenerateOptions struct {
	Articles    int       // number of articles; default 100
	PerDigest   int       // articles per digest; default 25
	Words       int       // words of text per article; default 400
	Seed        uint64    // the same seed writes the same archive
	Concurrency int       // parallel writes; default 16
	Start       time.Time // date of the oldest digest; default 2024-01-01 UTC
}

// Generated describes what Generate wrote.
type Generated struct {
	Digests  []string          // digest slugs, oldest first
	Articles []string          // article slugs, in digest order
	Status   map[string]string // article slug -> status
}

// Vocabulary returns the words generated texts are made of, most frequent
// first: function words, a few hundred news words, then synthetic rarer
// ones.
func Vocabulary() []string { return NewLexicon().words }

// Lexicon draws words with the frequencies of natural language (Zipf's
// law: the word of rank r has probability proportional to 1/r), so that, as
// in a real news archive, a few words occur in nearly every article and
// most in very few. Search costs depend on that.
type Lexicon struct {
	words []string
	cdf   []float64 // cumulative probability by rank
	stop  int       // words[:stop] are function words, which search ignores
}

// lexiconSize is the number of words: the news words plus synthetic ones.
const lexiconSize = 20000

// NewLexicon builds the lexicon; every call gives the same one.
func NewLexicon() *Lexicon {
	// Function words take the top ranks, as in English; the search index
	// drops them, so the content words that follow carry realistic
	// frequencies.
	stop := strings.Fields(functionWords)
	words := append(stop, strings.Fields(vocabulary)...)
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	consonants, vowels := "bdfgklmnprstvz", "aeiou"
	rng := rand.New(rand.NewPCG(1, 2))
	for len(words) < lexiconSize {
		var b strings.Builder
		for range 2 + rng.IntN(2) {
			b.WriteByte(consonants[rng.IntN(len(consonants))])
			b.WriteByte(vowels[rng.IntN(len(vowels))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	cdf := make([]float64, len(words))
	sum := 0.0
	for r := range words {
		sum += 1 / float64(r+1)
		cdf[r] = sum
	}
	for r := range cdf {
		cdf[r] /= sum
	}
	return &Lexicon{words: words, cdf: cdf, stop: len(stop)}
}

// Pick draws one word.
func (l *Lexicon) Pick(rng *rand.Rand) string {
	i, _ := slices.BinarySearch(l.cdf, rng.Float64())
	return l.words[min(i, len(l.words)-1)]
}

// Keyword draws a word someone would search for: a content word, with its
// frequency in the texts.
func (l *Lexicon) Keyword(rng *rand.Rand) string {
	lo := l.cdf[l.stop-1]
	i, _ := slices.BinarySearch(l.cdf, lo+rng.Float64()*(1-lo))
	return l.words[min(i, len(l.words)-1)]
}

// Rank returns the word of the given frequency rank among content words (0
// is the most frequent).
func (l *Lexicon) Rank(r int) string { return l.words[min(l.stop+r, len(l.words)-1)] }

// withDefaults fills in the zero fields of opts.
func (opts GenerateOptions) withDefaults() GenerateOptions {
	if opts.Articles <= 0 {
		opts.Articles = 100
	}
	if opts.PerDigest <= 0 {
		opts.PerDigest = 25
	}
	if opts.Words <= 0 {
		opts.Words = 400
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 1, 1, 6, 0, 0, 0, time.UTC)
	}
	return opts
}

// Plan returns what Generate writes for opts, without writing anything:
// the same options always give the same archive.
func Plan(opts GenerateOptions) *Generated {
	gen, _ := plan(opts.withDefaults())
	return gen
}

// plan builds the digest records and the description of the archive; the
// articles' texts are made one at a time when they are written.
func plan(opts GenerateOptions) (*Generated, []record.DigestRecord) {
	words, pubs := NewLexicon(), strings.Fields(publishers)
	gen := &Generated{Status: map[string]string{}}
	var digests []record.DigestRecord
	for start := 0; start < opts.Articles; start += opts.PerDigest {
		n := len(digests)
		day := opts.Start.AddDate(0, 0, n)
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(1<<40+n)))
		d := record.DigestRecord{
			Slug:       fmt.Sprintf("%s-news-digest-%04d", day.Format("2006-01-02"), n+1),
			SourceFile: fmt.Sprintf("digests/%s.md", day.Format("2006-01-02")),
			FrontMatter: record.FrontMatter{
				Title: fmt.Sprintf("News digest %d: %s", n+1, sentence(rng, words, 4, 6, false)),
				Date:  day.Format("2006-01-02"),
				Tags:  []string{"news", pick(rng, words)},
			},
			ArchivedAt: day.Add(90 * time.Minute),
		}
		for i := start; i < min(start+opts.PerDigest, opts.Articles); i++ {
			m, _ := articleHead(opts, words, pubs, i)
			d.Articles = append(d.Articles, record.DigestArticle{
				Slug: m.Slug, Title: m.Title, Publisher: m.Publisher,
				GoogleNewsURL: m.GoogleNewsURL, URL: m.URL, Status: m.Status, Reason: m.Reason,
			})
			gen.Articles = append(gen.Articles, m.Slug)
			gen.Status[m.Slug] = m.Status
		}
		digests = append(digests, d)
		gen.Digests = append(gen.Digests, d.Slug)
	}
	return gen, digests
}

// Generate writes a synthetic archive of news digests: every article has a
// raw page (with scripts and remote images, as real pages have), readable
// HTML, text and a meta.json; about one in ten is blocked and one in twenty
// failed, as in real runs. Publishers live under .example domains. Articles
// are made and written one at a time, so memory stays small for any size.
func Generate(ctx context.Context, st storage.Store, opts GenerateOptions) (*Generated, error) {
	opts = opts.withDefaults()
	gen, digests := plan(opts)
	words, pubs := NewLexicon(), strings.Fields(publishers)

	jobs := make(chan int)
	errs := make(chan error, opts.Concurrency)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				if err := PutArticle(ctx, st, makeArticle(opts, words, pubs, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range opts.Articles {
		select {
		case jobs <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	if err != nil {
		return nil, fmt.Errorf("generate archive: %w", err)
	}
	for _, d := range digests {
		if err := PutDigest(ctx, st, d); err != nil {
			return nil, fmt.Errorf("generate archive: %w", err)
		}
	}
	return gen, nil
}

// articleHead makes article i's meta.json, without the text-derived
// fields. Each article has its own random stream, so any one can be made
// without the others.
func articleHead(opts GenerateOptions, words *Lexicon, pubs []string, i int) (record.ArticleMeta, *rand.Rand) {
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
	day := opts.Start.AddDate(0, 0, i/opts.PerDigest)
	pub := pubs[rng.IntN(len(pubs))]
	title := sentence(rng, words, 6, 11, false)
	slug := fmt.Sprintf("%s-%s-%06d", strings.ToLower(strings.Join(strings.Fields(title)[:3], "-")), pub, i+1)
	u := fmt.Sprintf("https://www.%s.example/news/%s", pub, slug)
	m := record.ArticleMeta{
		Slug:          slug,
		Title:         title,
		Publisher:     publisherName(pub),
		GoogleNewsURL: fmt.Sprintf("https://news.google.com/rss/articles/CBMi%08x?oc=5", rng.Uint32()),
		URL:           u,
		ResolveMethod: "batchexecute",
		FinalURL:      u,
		HTTPStatus:    200,
		FetchedAt:     day.Add(time.Duration(95+i%50) * time.Minute),
		ContentType:   "text/html; charset=utf-8",
		Charset:       "utf-8",
		ArticleTitle:  title,
		Byline:        "By " + capitalize(pick(rng, words)) + " " + capitalize(pick(rng, words)),
		SiteName:      publisherName(pub),
		PublishedTime: day.Add(-3 * time.Hour).Format(time.RFC3339),
		Lang:          "en",
		Status:        record.StatusOK,
		Digests:       []string{fmt.Sprintf("%s-news-digest-%04d", day.Format("2006-01-02"), i/opts.PerDigest+1)},
	}
	switch r := rng.IntN(20); {
	case r < 1: // failed: nothing fetched
		m.Status, m.Reason, m.Error = record.StatusFailed, "fetch failed", "dial tcp: connect: connection refused"
		m.HTTPStatus, m.ArticleTitle, m.Byline = 0, "", ""
	case r < 3: // blocked: a consent wall
		m.Status, m.Reason = record.StatusBlocked, "consent wall"
	}
	return m, rng
}

// makeArticle makes article i whole.
func makeArticle(opts GenerateOptions, words *Lexicon, pubs []string, i int) Article {
	m, rng := articleHead(opts, words, pubs, i)
	a := Article{Meta: m}
	var paras []string
	switch m.Status {
	case record.StatusFailed:
		return a
	case record.StatusBlocked:
		paras = []string{"Before you continue, we use cookies and data to deliver and maintain our services."}
	default:
		for left := opts.Words; left > 0; {
			var p []string
			for range 3 + rng.IntN(3) {
				s := sentence(rng, words, 8, 18, true)
				p = append(p, s)
				left -= len(strings.Fields(s))
			}
			paras = append(paras, strings.Join(p, " "))
		}
	}
	a.Meta.Excerpt = paras[0]
	var rb, tb strings.Builder
	words2 := 0
	for j, p := range paras {
		if j == 2 {
			fmt.Fprintf(&rb, "<h2>%s</h2>\n", html.EscapeString(sentence(rng, words, 3, 6, false)))
		}
		if j == 4 {
			fmt.Fprintf(&rb, "<blockquote><p>%s</p></blockquote>\n", html.EscapeString(sentence(rng, words, 10, 16, true)))
		}
		fmt.Fprintf(&rb, "<p>%s</p>\n", html.EscapeString(p))
		tb.WriteString(p + "\n\n")
		words2 += len(strings.Fields(p))
	}
	a.Meta.WordCount = words2
	a.Readable = "<article>\n" + rb.String() + "</article>\n"
	a.Text = tb.String()
	host := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(m.URL, "https://"), "/", 2)[0], "www.")
	a.Raw = fmt.Sprintf(rawPage, html.EscapeString(m.Title), html.EscapeString(m.Publisher), host, html.EscapeString(m.Title), a.Readable)
	return a
}

// rawPage looks like a publisher's page: scripts, trackers and remote
// images that the viewer must never run or load.
const rawPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<script src="https://cdn.tracker.example/t.js"></script>
<style>body{font-family:Georgia,serif;max-width:42em;margin:2em auto;padding:0 1em;color:#222} header{border-bottom:3px solid #b00;margin-bottom:1em} .brand{font:700 1.6em sans-serif;color:#b00}</style>
</head><body><header><div class="brand">%s</div><img src="https://img.%s/logo.png" alt="logo"></header>
<h1>%s</h1>
%s
<script>document.title = "tracked"; fetch("/api/digests");</script>
</body></html>
`

func publisherName(p string) string { return "The " + capitalize(p) + " Herald" }

// capitalize upper-cases the first letter of an ASCII word.
func capitalize(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

func pick(rng *rand.Rand, words *Lexicon) string { return words.Pick(rng) }

// sentence makes lo..hi words; body sentences end with a full stop.
func sentence(rng *rand.Rand, words *Lexicon, lo, hi int, stop bool) string {
	n := lo + rng.IntN(hi-lo+1)
	w := make([]string, n)
	for i := range w {
		w[i] = pick(rng, words)
	}
	w[0] = capitalize(w[0])
	s := strings.Join(w, " ")
	if stop {
		s += "."
	}
	return s
}

const functionWords = `the of and to a in that is was he for it with as his on be at by i this had
not are but from or have an they which one you were her all she there would their we him been has when
who will more no if out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also did many
before must through back years where much your way well down should because each just those people how`

const publishers = `northwind meridian bluelake harbor summit granite riverside lantern
coastal prairie redwood ironbridge silverline westgate oakmont fairview highland
eastbrook stonebridge clearwater`

const vocabulary = `government minister election parliament council budget economy inflation market
shares investors bank interest rates growth recession trade exports tariffs energy oil gas
prices climate emissions drought flood storm heatwave wildfire rainfall harvest farmers
water river coast island city village region province border army navy ceasefire talks
treaty summit leaders president prime opposition party vote campaign poll survey report
study researchers scientists university hospital doctors patients vaccine virus health
school teachers students court judge trial verdict police investigation arrest charges
company workers union strike wages jobs factory industry technology software startup
data privacy security cyber attack network satellite rocket launch space mission museum
festival film music artist novel author library archive history heritage football league
match season coach players stadium tournament championship record railway airport bridge
highway transport housing rent construction mayor district neighbourhood community
volunteers charity donation aid refugees migration census population families children
pensions tax reform law bill committee hearing inquiry scandal resignation appointment
agreement deal merger acquisition profit loss revenue forecast quarter annual monthly
weekly morning evening overnight yesterday today tomorrow early late sudden gradual
major minor local national international global regional rural urban coastal northern
southern eastern western central remote crowded quiet busy historic modern ancient new
old young senior junior public private independent official unofficial formal informal
announced said warned confirmed denied reported revealed promised rejected approved
delayed cancelled expanded reduced increased decreased rose fell doubled halved slowed
accelerated recovered collapsed surged plunged stabilised improved worsened continued
ended began resumed paused opened closed launched unveiled signed vetoed passed blocked
solar wind turbine battery electric vehicle grid pipeline reactor nuclear coal carbon
forest ocean glacier mountain valley desert plain lake wetland species wildlife habitat
conservation biodiversity pollution recycling plastic waste fisheries shipping port
container cargo freight supply chain shortage surplus demand consumer retail sales
online digital platform app users subscribers broadcast newspaper journalist editor
photographer interview statement spokesperson analyst economist historian engineer`
