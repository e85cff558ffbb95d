package viewer

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	htmlhighlight "github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/linkarc/linkarc/internal/textnorm"
)

const (
	maxQueryRunes = 256  // a search box query, not a document
	maxQueryTerms = 32   // words and phrases in one query
	maxResultsWin = 1000 // deepest result reachable by paging
)

// errBadQuery marks a query the user must change; its message says how.
var errBadQuery = errors.New("bad search query")

// searchQuery is a parsed search box query: free words, all of which must
// appear somewhere in the article, and "quoted phrases".
type searchQuery struct {
	Words   string   // free words, space separated
	Phrases []string // quoted phrases
}

// parseQuery parses the search box syntax: words, and phrases in double
// quotes. There is deliberately no field, wildcard, fuzzy or regexp syntax:
// those let one request scan the whole term dictionary.
func parseQuery(q string) (searchQuery, error) {
	var sq searchQuery
	q = strings.TrimSpace(q)
	if n := utf8.RuneCountInString(q); n > maxQueryRunes {
		return sq, fmt.Errorf("%w: %d characters, at most %d allowed", errBadQuery, n, maxQueryRunes)
	}
	if !utf8.ValidString(q) {
		return sq, fmt.Errorf("%w: not valid UTF-8", errBadQuery)
	}
	var words []string
	for i, part := range strings.Split(q, `"`) {
		part = textnorm.CollapseSpace(part)
		if part == "" {
			continue
		}
		if i%2 == 1 { // inside quotes (an unclosed quote runs to the end)
			sq.Phrases = append(sq.Phrases, part)
		} else {
			words = append(words, part)
		}
	}
	sq.Words = strings.Join(words, " ")
	if n := len(strings.Fields(sq.Words)) + len(sq.Phrases); n > maxQueryTerms {
		return sq, fmt.Errorf("%w: %d words and phrases, at most %d allowed", errBadQuery, n, maxQueryTerms)
	}
	return sq, nil
}

func (sq searchQuery) empty() bool { return sq.Words == "" && len(sq.Phrases) == 0 }

// bleveQuery ranks matches in titles above publishers, bylines and body text.
// Every word and phrase must occur somewhere in the article (the composite
// _all field); the per-field clauses only add score.
func (sq searchQuery) bleveQuery() query.Query {
	bq := bleve.NewBooleanQuery()
	type boost struct {
		field string
		boost float64
	}
	// The body text is scored through _all only: a separate clause for it
	// would add little to the ranking and double the cost of a search.
	short := []boost{{"title", 5}, {"alt_title", 3}, {"publisher", 2}, {"site_name", 2}, {"tags", 2}, {"byline", 1.5}}
	if sq.Words != "" {
		all := bleve.NewMatchQuery(sq.Words)
		all.SetField("_all")
		all.SetOperator(query.MatchQueryOperatorAnd)
		bq.AddMust(all)
		for _, b := range short {
			m := bleve.NewMatchQuery(sq.Words)
			m.SetField(b.field)
			m.SetBoost(b.boost)
			bq.AddShould(m)
		}
	}
	for _, p := range sq.Phrases {
		var anyField []query.Query
		for _, b := range append(short, boost{"text", 1}) {
			m := bleve.NewMatchPhraseQuery(p)
			m.SetField(b.field)
			m.SetBoost(b.boost)
			anyField = append(anyField, m)
		}
		bq.AddMust(bleve.NewDisjunctionQuery(anyField...))
	}
	return bq
}

// searchHit is one ranked result.
type searchHit struct {
	Slug      string        `json:"slug"`
	Title     string        `json:"title"`
	Publisher string        `json:"publisher"`
	Host      string        `json:"host,omitempty"`
	Status    string        `json:"status"`
	FetchedAt time.Time     `json:"fetched_at,omitzero"`
	Score     float64       `json:"score"`
	Snippet   []snippetPart `json:"-"`
	// SnippetText is the snippet as plain text, for API clients.
	SnippetText string `json:"snippet,omitempty"`
}

// snippetPart is a run of snippet text, matched or not. Templates escape it
// like any other text, so a snippet can never carry markup.
type snippetPart struct {
	Text string
	Mark bool
}

// searchResults is one page of results.
type searchResults struct {
	Total uint64        `json:"total"`
	Took  time.Duration `json:"-"`
	Hits  []searchHit   `json:"hits"`
}

// search runs a search when a slot is free (see Server.searches).
func (s *Server) search(ctx context.Context, sq searchQuery, from, size int) (*searchResults, error) {
	select {
	case s.searches <- struct{}{}:
		defer func() { <-s.searches }()
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a search slot: %w", ctx.Err())
	}
	return s.index.search(ctx, sq, from, size)
}

// search runs sq and returns the results from..from+size.
func (ix *searchIndex) search(ctx context.Context, sq searchQuery, from, size int) (*searchResults, error) {
	if from+size > maxResultsWin {
		return nil, fmt.Errorf("%w: only the first %d results can be paged through; add words to narrow the search", errBadQuery, maxResultsWin)
	}
	req := bleve.NewSearchRequestOptions(sq.bleveQuery(), size, from, false)
	req.Fields = storedFields()
	req.Highlight = bleve.NewHighlightWithStyle(htmlhighlight.Name)
	req.Highlight.AddField("text")
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &searchResults{Total: res.Total, Took: res.Took, Hits: make([]searchHit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		hit := searchHit{
			Slug:      h.ID,
			Title:     fieldString(h.Fields, "title"),
			Publisher: fieldString(h.Fields, "publisher"),
			Host:      fieldString(h.Fields, "host"),
			Status:    fieldString(h.Fields, "status"),
			Score:     h.Score,
		}
		if t, err := time.Parse(time.RFC3339Nano, fieldString(h.Fields, "fetched_at")); err == nil && t.Year() > 1 {
			hit.FetchedAt = t
		}
		if frags := h.Fragments["text"]; len(frags) > 0 {
			hit.Snippet = splitHighlight(frags[0])
			var sb strings.Builder
			for _, p := range hit.Snippet {
				sb.WriteString(p.Text)
			}
			hit.SnippetText = sb.String()
		}
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

func fieldString(fields map[string]any, name string) string {
	s, _ := fields[name].(string)
	return s
}

const (
	markOpen  = "<mark>"
	markClose = "</mark>"
)

// splitHighlight turns a fragment from bleve's HTML highlighter back into
// plain text runs. The highlighter escapes the text between its <mark> tags,
// so splitting on the tags is unambiguous; unescaping and letting the
// template escape again means no markup from an archived page can ever reach
// the viewer's HTML through a snippet.
func splitHighlight(frag string) []snippetPart {
	var parts []snippetPart
	for frag != "" {
		i := strings.Index(frag, markOpen)
		if i < 0 {
			parts = append(parts, snippetPart{Text: html.UnescapeString(frag)})
			break
		}
		if i > 0 {
			parts = append(parts, snippetPart{Text: html.UnescapeString(frag[:i])})
		}
		frag = frag[i+len(markOpen):]
		j := strings.Index(frag, markClose)
		if j < 0 {
			j = len(frag)
		}
		parts = append(parts, snippetPart{Text: html.UnescapeString(frag[:j]), Mark: true})
		frag = strings.TrimPrefix(frag[j:], markClose)
	}
	return parts
}
