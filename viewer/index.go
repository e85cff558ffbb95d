package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	bolt "go.etcd.io/bbolt"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// indexVersion names the index layout. Bump it when the mapping or the
// indexed document changes (3: accents folded, textAnalyzer): an index of
// another version is rebuilt from the store (it is only a cache of it).
const indexVersion = "3"

const (
	// fingerprintsKey is the index-internal key under which the index
	// remembers which version of each meta.json it holds, so that a restart
	// reindexes only what changed while the viewer was down.
	fingerprintsKey = "linkarc.fingerprints"

	// maxIndexedText bounds how much of text.txt is indexed per article:
	// enough for any news article, and a bound on a hostile 2 GB "article".
	maxIndexedText = 256 << 10

	indexBatchSize   = 256 // documents per bleve batch
	indexFetchers    = 8   // concurrent store reads while indexing
	fingerprintEvery = 8   // batches between saves of the fingerprints
)

// indexDoc is what the search index holds of an article. Field names are the
// JSON tags (bleve reads them).
type indexDoc struct {
	Title     string    `json:"title"`
	AltTitle  string    `json:"alt_title,omitempty"` // the digest's title when the page has another
	Publisher string    `json:"publisher"`
	SiteName  string    `json:"site_name,omitempty"` // the page's own name for its site, when it differs
	Byline    string    `json:"byline"`
	Text      string    `json:"text"`
	Status    string    `json:"status"`
	Host      string    `json:"host"`
	FetchedAt time.Time `json:"fetched_at"`
	Tags      []string  `json:"tags,omitempty"` // of the digests listing it, and its own there
}

// storedFields are returned with every hit so that a result page needs no
// store reads.
func storedFields() []string { return []string{"title", "publisher", "status", "host", "fetched_at"} }

// textAnalyzer is the analyzer of the text fields and of queries on them:
// bleve's English analyzer (possessives, lower case, stop words, Porter
// stems) with accents folded after lower-casing, so that "cafe" finds
// "Café" and "café" finds "cafe". The folding is bleve's asciifolding (the
// Lucene ASCIIFoldingFilter table), applied to each term: it maps Latin
// letters with diacritics, ligatures and the like to ASCII and leaves other
// scripts (Cyrillic, Greek, CJK) as they are. Used as a character filter it
// would shift the terms' offsets on the text and so the highlights; here
// each term keeps the offsets of the word as written.
const textAnalyzer = "linkarc_en_folded"

// foldFilter is the token filter that folds each term (textAnalyzer).
const foldFilter = "linkarc_ascii_fold"

func init() {
	// bleve names the parts of an analyzer through its registry, so that
	// an index on disk can name them in its mapping.
	err := registry.RegisterTokenFilter(foldFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return termFolder{asciifolding.New()}, nil
	})
	if err != nil {
		panic(err)
	}
}

// termFolder applies a character filter to each term of a token stream.
type termFolder struct{ f analysis.CharFilter }

func (t termFolder) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, tok := range in {
		tok.Term = t.f.Filter(tok.Term)
	}
	return in
}

func newIndexMapping() mapping.IndexMapping {
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = textAnalyzer
		f.Store = true
		f.IncludeTermVectors = true // positions for phrases and highlighting
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.IncludeInAll = false
		return f
	}
	date := bleve.NewDateTimeFieldMapping()
	date.IncludeInAll = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("title", text())
	alt := text()
	alt.Store = false
	doc.AddFieldMappingsAt("alt_title", alt)
	doc.AddFieldMappingsAt("publisher", text())
	site := text()
	site.Store = false
	doc.AddFieldMappingsAt("site_name", site)
	doc.AddFieldMappingsAt("byline", text())
	tags := text()
	tags.Store = false
	doc.AddFieldMappingsAt("tags", tags)
	doc.AddFieldMappingsAt("text", text())
	doc.AddFieldMappingsAt("status", kw())
	doc.AddFieldMappingsAt("host", kw())
	doc.AddFieldMappingsAt("fetched_at", date)

	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{en.PossessiveName, lowercase.Name, foldFilter, en.StopName, porter.Name},
	}); err != nil {
		panic(fmt.Sprintf("search index analyzer: %v", err)) // the parts are linked in: cannot happen
	}
	m.DefaultMapping = doc
	m.DefaultAnalyzer = textAnalyzer // used for the composite _all field
	m.StoreDynamic = false
	m.IndexDynamic = false
	return m
}

// IndexStats describes the search index, for /healthz and the search page.
type IndexStats struct {
	Documents   uint64    `json:"documents"`              // articles searchable now
	Pending     int       `json:"pending"`                // changed articles not yet indexed
	Refreshing  bool      `json:"refreshing"`             // a refresh is running
	LastIndexed int       `json:"last_indexed"`           // articles (re)indexed or dropped by the last refresh
	LastRefresh time.Time `json:"last_refresh,omitzero"`  // end of the last complete refresh
	LastError   string    `json:"last_error,omitempty"`   // why the last refresh failed, if it did
	LastErrorAt time.Time `json:"last_error_at,omitzero"` // when it failed
}

// searchIndex is a bleve index of the articles in a store, kept current by
// refresh. Searches run concurrently with refreshes: bleve serves the last
// committed batch while the next one is built.
type searchIndex struct {
	idx   bleve.Index
	store storage.Store
	log   *slog.Logger
	// tags returns the tags of every tagged article (the catalog's
	// articleTags); nil when there are none to index.
	tags func(context.Context) (map[string][]string, error)

	refreshMu sync.Mutex // one refresh at a time

	mu      sync.Mutex
	fps     map[string]string // slug -> fingerprint of the indexed meta.json
	stats   IndexStats
	indexed int // articles indexed or dropped by the running refresh
}

// openSearchIndex opens the index kept under dir, creating or rebuilding it
// as needed, or an in-memory index when dir is "".
func openSearchIndex(dir string, store storage.Store, log *slog.Logger, tags func(context.Context) (map[string][]string, error)) (*searchIndex, error) {
	idx, err := openBleve(dir, log)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = func(context.Context) (map[string][]string, error) { return nil, nil }
	}
	ix := &searchIndex{idx: idx, store: store, log: log, tags: tags, fps: map[string]string{}}
	if raw, err := idx.GetInternal([]byte(fingerprintsKey)); err == nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, &ix.fps); err != nil {
			// The fingerprints are advisory: without them every article is
			// reindexed once, which is correct, only slower.
			log.Warn("search index: fingerprints unreadable; reindexing everything", "err", err)
			ix.fps = map[string]string{}
		}
	}
	return ix, nil
}

func openBleve(dir string, log *slog.Logger) (bleve.Index, error) {
	if dir == "" {
		idx, err := bleve.NewUsing("", newIndexMapping(), scorch.Name, scorch.Name, nil)
		if err != nil {
			return nil, fmt.Errorf("create in-memory search index: %w", err)
		}
		return idx, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("search index directory: %w", err)
	}
	path := filepath.Join(dir, "articles-v"+indexVersion+".bleve")
	// Without a timeout a second viewer on the same directory would hang on
	// the index lock; with one it gets a clear error.
	cfg := func() map[string]any { return map[string]any{"bolt_timeout": "2s"} }
	idx, err := bleve.OpenUsing(path, cfg())
	switch {
	case err == nil:
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("search index %s is in use by another process (give each viewer its own --index-dir): %w", path, err)
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist) || errors.Is(err, bleve.ErrorIndexMetaMissing):
		if err := os.RemoveAll(path); err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		if idx, err = bleve.NewUsing(path, newIndexMapping(), scorch.Name, scorch.Name, cfg()); err != nil {
			return nil, fmt.Errorf("create search index %s: %w", path, err)
		}
	default:
		// The index is a cache of the store: a damaged one is rebuilt, not
		// repaired.
		log.Warn("search index unreadable; rebuilding it from the store", "path", path, "err", err)
		if err := os.RemoveAll(path); err != nil {
			return nil, fmt.Errorf("remove damaged search index: %w", err)
		}
		if idx, err = bleve.NewUsing(path, newIndexMapping(), scorch.Name, scorch.Name, cfg()); err != nil {
			return nil, fmt.Errorf("create search index %s: %w", path, err)
		}
	}
	// Indexes of other versions are dead weight.
	if old, _ := filepath.Glob(filepath.Join(dir, "articles-v*.bleve")); len(old) > 0 {
		for _, p := range old {
			if p != path {
				if err := os.RemoveAll(p); err != nil {
					log.Warn("search index: could not remove old index", "path", p, "err", err)
				}
			}
		}
	}
	return idx, nil
}

// Close releases the index.
func (ix *searchIndex) Close() error { return ix.idx.Close() }

// Stats reports the index state.
func (ix *searchIndex) Stats() IndexStats {
	ix.mu.Lock()
	s := ix.stats
	ix.mu.Unlock()
	if n, err := ix.idx.DocCount(); err == nil {
		s.Documents = n
	}
	return s
}

func fingerprint(info storage.Info) string {
	return fmt.Sprintf("%d:%d", info.ModTime.UnixNano(), info.Size)
}

// articleSlugOf returns the slug of an "articles/<slug>/meta.json" key.
func articleSlugOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, record.ArticlesPrefix)
	if !ok {
		return "", false
	}
	slug, name, ok := strings.Cut(rest, "/")
	if !ok || name != record.MetaFile || !record.ValidSlug(slug) {
		return "", false
	}
	return slug, true
}

// refresh brings the index up to date with the store: it lists every
// meta.json, reindexes the articles whose meta.json changed (it is written
// last, so a change to any of an article's objects shows there) and drops the
// ones that are gone. Progress is committed batch by batch, so an
// interrupted refresh loses little and searches see new articles early.
func (ix *searchIndex) refresh(ctx context.Context) error {
	ix.refreshMu.Lock()
	defer ix.refreshMu.Unlock()
	ix.mu.Lock()
	ix.stats.Refreshing, ix.stats.Pending, ix.indexed = true, 0, 0
	ix.mu.Unlock()
	err := ix.refreshLocked(ctx)
	ix.mu.Lock()
	ix.stats.Refreshing, ix.stats.LastIndexed = false, ix.indexed
	if err != nil {
		ix.stats.LastError, ix.stats.LastErrorAt = publicError(err), time.Now()
	} else {
		ix.stats.LastError, ix.stats.LastRefresh, ix.stats.Pending = "", time.Now(), 0
	}
	ix.mu.Unlock()
	return err
}

func (ix *searchIndex) refreshLocked(ctx context.Context) error {
	// An article's tags live in the digests that list it: they are part of
	// its fingerprint, so that a digest gaining a tag reindexes its
	// articles.
	tags, err := ix.tags(ctx)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	current := map[string]string{}
	err = ix.store.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		if slug, ok := articleSlugOf(info.Key); ok {
			current[slug] = fingerprint(info)
			if t := tags[slug]; len(t) > 0 {
				current[slug] += "|" + strings.Join(t, "\x1f")
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list articles: %w", err)
	}

	ix.mu.Lock()
	var changed, removed []string
	for slug, fp := range current {
		if ix.fps[slug] != fp {
			changed = append(changed, slug)
		}
	}
	for slug := range ix.fps {
		if _, ok := current[slug]; !ok {
			removed = append(removed, slug)
		}
	}
	ix.stats.Pending = len(changed) + len(removed)
	ix.mu.Unlock()
	if len(changed) == 0 && len(removed) == 0 {
		return nil
	}
	sort.Strings(changed)
	ix.log.Info("search index: refreshing", "changed", len(changed), "removed", len(removed))

	if len(removed) > 0 {
		b := ix.idx.NewBatch()
		for _, slug := range removed {
			b.Delete(slug)
		}
		if err := ix.idx.Batch(b); err != nil {
			return fmt.Errorf("search index: remove %d articles: %w", len(removed), err)
		}
		ix.mu.Lock()
		for _, slug := range removed {
			delete(ix.fps, slug)
		}
		ix.stats.Pending -= len(removed)
		ix.indexed += len(removed)
		ix.mu.Unlock()
	}

	batches := 0
	for start := 0; start < len(changed); start += indexBatchSize {
		chunk := changed[start:min(start+indexBatchSize, len(changed))]
		if err := ix.indexChunk(ctx, chunk, current, tags); err != nil {
			// Keep what was committed so far.
			if serr := ix.saveFingerprints(); serr != nil {
				ix.log.Warn("search index: save fingerprints", "err", serr)
			}
			return err
		}
		if batches++; batches%fingerprintEvery == 0 {
			if err := ix.saveFingerprints(); err != nil {
				return err
			}
		}
	}
	return ix.saveFingerprints()
}

// indexChunk reads the given articles from the store and commits them to the
// index as one batch.
func (ix *searchIndex) indexChunk(ctx context.Context, slugs []string, current map[string]string, tags map[string][]string) error {
	type result struct {
		doc  *indexDoc
		gone bool
		err  error
	}
	results := make([]result, len(slugs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(indexFetchers, len(slugs)) {
		wg.Go(func() {
			for i := range next {
				doc, err := ix.loadDoc(ctx, slugs[i], tags[slugs[i]])
				switch {
				case storage.IsNotExist(err):
					results[i].gone = true
				case err != nil:
					results[i].err = err
				default:
					results[i].doc = doc
				}
			}
		})
	}
feed:
	for i := range slugs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}

	b := ix.idx.NewBatch()
	done := make([]string, 0, len(slugs))
	for i, slug := range slugs {
		r := results[i]
		switch {
		case r.err != nil && errors.Is(r.err, record.ErrUnreadable):
			// A damaged meta.json stays out of the index until it is
			// rewritten (its fingerprint then changes); retrying every
			// refresh would only repeat the warning.
			ix.log.Warn("search index: skipping article", "slug", slug, "err", r.err)
			b.Delete(slug)
		case r.err != nil:
			return fmt.Errorf("search index: read article %s: %w", slug, r.err)
		case r.gone:
			b.Delete(slug)
		default:
			if err := b.Index(slug, r.doc); err != nil {
				return fmt.Errorf("search index: index article %s: %w", slug, err)
			}
		}
		done = append(done, slug)
	}
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("search index: commit batch: %w", err)
	}
	ix.mu.Lock()
	for i, slug := range done {
		if results[i].gone {
			delete(ix.fps, slug)
		} else {
			ix.fps[slug] = current[slug]
		}
	}
	ix.stats.Pending -= len(done)
	ix.indexed += len(done)
	ix.mu.Unlock()
	return nil
}

// loadDoc builds the index document of one article from its meta.json and
// the first maxIndexedText bytes of its text.txt.
func (ix *searchIndex) loadDoc(ctx context.Context, slug string, tags []string) (*indexDoc, error) {
	meta, err := record.ReadMeta(ctx, ix.store, slug)
	if err != nil {
		return nil, err
	}
	doc := &indexDoc{
		Title:     displayTitle(meta),
		Publisher: strings.TrimSpace(meta.Publisher),
		Byline:    meta.Byline,
		Status:    meta.Status,
		Host:      hostOf(meta.URL),
		FetchedAt: meta.FetchedAt,
		Tags:      tags,
	}
	if doc.Title != meta.Title {
		doc.AltTitle = meta.Title
	}
	if doc.Publisher == "" {
		doc.Publisher = strings.TrimSpace(meta.SiteName)
	} else if !strings.EqualFold(meta.SiteName, doc.Publisher) {
		doc.SiteName = meta.SiteName
	}
	rc, err := ix.store.Get(ctx, record.ArticleKey(slug, record.TextFile))
	switch {
	case storage.IsNotExist(err):
		return doc, nil // failed captures have no text
	case err != nil:
		return nil, fmt.Errorf("open text: %w", err)
	}
	defer rc.Close()
	var sb strings.Builder
	if _, err := io.Copy(&sb, io.LimitReader(rc, maxIndexedText)); err != nil {
		return nil, fmt.Errorf("read text: %w", err)
	}
	doc.Text = strings.ToValidUTF8(sb.String(), "\uFFFD")
	return doc, nil
}

func (ix *searchIndex) saveFingerprints() error {
	ix.mu.Lock()
	raw, err := json.Marshal(ix.fps)
	ix.mu.Unlock()
	if err != nil {
		return fmt.Errorf("search index: encode fingerprints: %w", err)
	}
	if err := ix.idx.SetInternal([]byte(fingerprintsKey), raw); err != nil {
		return fmt.Errorf("search index: save fingerprints: %w", err)
	}
	return nil
}
