package dedupe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/storage/storagetest"
)

var minioServer *storagetest.MinIO

func TestMain(m *testing.M) {
	storagetest.Main(m, func(s *storagetest.MinIO) { minioServer = s })
}

// stores are the backends every test runs against: a directory and a
// bucket of a real MinIO, behind the retrying wrapper linkarc opens S3
// with.
var stores = []struct {
	name string
	open func(t *testing.T) storage.Store
}{
	{"local", func(t *testing.T) storage.Store {
		s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"minio", func(t *testing.T) storage.Store {
		return storage.NewRetrying(minioServer.NewBucketStore(t), storage.RetryOptions{})
	}},
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var day = time.Date(2026, 1, 4, 8, 0, 0, 0, time.UTC)

// capture is one capture of a test article: when, its status, and the
// words of its page (its objects differ with them).
type capture struct {
	at     time.Time
	status string
	words  string
}

// article is a test article as an earlier linkarc left it: its captures
// oldest first, the last current, each stored through record.Writer as
// the archiver stores them (raw.html, readable.html, text.txt and a
// WARC, meta.json last, earlier ones in history).
type article struct {
	slug, url string
	digests   []string
	captures  []capture
}

func ok(at time.Time, words string) capture { return capture{at, record.StatusOK, words} }

func failed(at time.Time) capture { return capture{at: at, status: record.StatusFailed} }

func writeArticle(t *testing.T, st storage.Store, a article) {
	t.Helper()
	ctx := testContext(t)
	w := record.Writer{Store: st}
	for _, c := range a.captures {
		s := &record.Snapshot{Meta: record.ArticleMeta{
			Slug: a.slug, Title: strings.ReplaceAll(a.slug, "-", " "), Publisher: "Paper", URL: a.url,
			Status: c.status, FetchedAt: c.at, Digests: a.digests,
		}}
		if c.status == record.StatusFailed {
			s.Meta.Reason, s.Meta.Error = record.ReasonTimeout, "the server did not answer"
		} else {
			page := "<html><body><p>" + c.words + "</p></body></html>"
			warc := []byte("WARC/1.1\r\n" + a.slug + " " + c.words + "\r\n")
			s.Raw, s.Readable, s.Text = []byte(page), "<p>"+c.words+"</p>", c.words
			s.Extra = []record.Object{{Name: record.WARCFile, ContentType: "application/warc", Size: int64(len(warc)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(warc)), nil }}}
		}
		prior, err := w.LoadMeta(ctx, a.slug)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(ctx, s, prior); err != nil {
			t.Fatal(err)
		}
	}
}

// digest writes a digest record listing slugs, in order.
func digest(t *testing.T, st storage.Store, slug string, slugs ...string) {
	t.Helper()
	rec := record.DigestRecord{Slug: slug, Source: "d/" + slug + ".md", ArchivedAt: day, Counts: map[string]int{}}
	for _, s := range slugs {
		m, err := record.ReadMeta(testContext(t), st, s)
		if err != nil {
			t.Fatal(err)
		}
		rec.Articles = append(rec.Articles, record.DigestArticle{Slug: s, Title: m.Title, Publisher: m.Publisher, URL: m.URL, Status: m.Status})
		rec.Counts[m.Status]++
	}
	if err := (record.Writer{Store: st}).PutDigest(testContext(t), rec); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, st storage.Store, opts Options) *Report {
	t.Helper()
	opts.Store = st
	if opts.Now == nil {
		opts.Now = func() time.Time { return day.Add(30 * 24 * time.Hour) }
	}
	rep, err := Run(testContext(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// consistent checks what a merge promises, over the whole store: every
// meta.json, current and in history (a merged article's included),
// describes the objects beside it (record.Verify); no two articles hold
// one canonical URL; every digest item names an article; every alias ends
// at an article. It returns the current articles by canonical URL.
func consistent(t *testing.T, st storage.Store) map[string]string {
	t.Helper()
	ctx := testContext(t)
	slugs := map[string]bool{}
	err := st.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		slug, _, _ := strings.Cut(strings.TrimPrefix(info.Key, record.ArticlesPrefix), "/")
		slugs[slug] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byURL := map[string]string{}
	for _, slug := range slices.Sorted(mapKeys(slugs)) {
		problems, err := record.Verify(ctx, st, slug)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
		m, err := record.ReadMeta(ctx, st, slug)
		if storage.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		u := weburl.Canonical(m.URL)
		if other, dup := byURL[u]; dup {
			t.Errorf("%s and %s both hold %s", other, slug, u)
		}
		byURL[u] = slug
	}
	err = st.List(ctx, record.DigestsPrefix, func(info storage.Info) error {
		d, err := record.ReadDigestAll(ctx, st, strings.TrimSuffix(strings.TrimPrefix(info.Key, record.DigestsPrefix), ".json"))
		if err != nil {
			return err
		}
		for _, e := range d.Articles {
			if _, err := record.ReadMeta(ctx, st, e.Slug); err != nil {
				t.Errorf("digest %s lists %s: %v", d.Slug, e.Slug, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = record.ListAliases(ctx, st, func(slug string) error {
		end, _, err := record.ResolveAlias(ctx, st, slug)
		if err != nil {
			t.Errorf("alias %s: %v", slug, err)
		} else if _, err := record.ReadMeta(ctx, st, end); err != nil {
			t.Errorf("alias %s ends at %s: %v", slug, end, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return byURL
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

const birds = "https://paper.example/birds.html"

// TestMerge: groups of articles holding one URL, as earlier versions left
// them, merged into the article archived first, on a directory and on
// MinIO. Every capture of the others is in the keeper's history after,
// marked with the slug it came from, and still in their own folder; the
// keeper's meta.json lists every digest; digest records name the keeper;
// each old slug has an alias saying where its captures went; the URL
// index names the keeper; and a second run finds nothing to do.
func TestMerge(t *testing.T) {
	type want struct {
		keeper   string
		status   string // the keeper's current capture's, after
		history  int    // captures in the keeper's history, after
		promoted string
	}
	tests := []struct {
		name     string
		articles []article
		digests  map[string][]string // digest slug -> the slugs it lists
		want     want
	}{
		{"two titles, one URL",
			[]article{
				{"birds-paper", birds + "?utm_source=feed", []string{"d2"}, []capture{ok(day.Add(48*time.Hour), "second")}},
				{"rare-birds-return-paper", birds, []string{"d1"}, []capture{ok(day, "first")}},
			},
			map[string][]string{"d1": {"rare-birds-return-paper"}, "d2": {"birds-paper"}},
			want{"rare-birds-return-paper", record.StatusOK, 1, ""}},
		{"three copies, with histories",
			[]article{
				{"a-birds", birds, []string{"d1"}, []capture{ok(day.Add(time.Hour), "a1"), ok(day.Add(72*time.Hour), "a2")}},
				{"b-birds", birds + "#comments", []string{"d2"}, []capture{ok(day, "b1"), failed(day.Add(24 * time.Hour))}},
				{"c-birds", birds, []string{"d3"}, []capture{ok(day.Add(2*time.Hour), "c1"), ok(day.Add(96*time.Hour), "c2")}},
			},
			map[string][]string{"d1": {"a-birds"}, "d2": {"b-birds"}, "d3": {"c-birds"}},
			// b-birds is first (day): its ok capture stays current, its
			// failed one is in its history; a-birds and c-birds bring 2 each.
			want{"b-birds", record.StatusOK, 5, ""}},
		{"a digest naming both",
			[]article{
				{"rare-birds-return-paper", birds, []string{"both"}, []capture{ok(day, "first")}},
				{"birds-paper", birds, []string{"both"}, []capture{ok(day.Add(time.Hour), "second")}},
			},
			map[string][]string{"both": {"rare-birds-return-paper", "birds-paper"}},
			want{"rare-birds-return-paper", record.StatusOK, 1, ""}},
		{"the keeper failed, the other is ok: its capture becomes the keeper's",
			[]article{
				{"rare-birds-return-paper", birds, []string{"d1"}, []capture{failed(day)}},
				{"birds-paper", birds, []string{"d2"}, []capture{ok(day.Add(time.Hour), "later")}},
			},
			map[string][]string{"d1": {"rare-birds-return-paper"}, "d2": {"birds-paper"}},
			want{"rare-birds-return-paper", record.StatusOK, 1, "birds-paper"}},
		{"two captures fetched in one millisecond",
			[]article{
				{"rare-birds-return-paper", birds, []string{"d1"}, []capture{ok(day, "one"), ok(day.Add(time.Hour), "two")}},
				{"birds-paper", birds, []string{"d2"}, []capture{ok(day.Add(time.Hour), "other")}},
			},
			map[string][]string{"d1": {"rare-birds-return-paper"}, "d2": {"birds-paper"}},
			want{"rare-birds-return-paper", record.StatusOK, 2, ""}},
	}
	for _, sto := range stores {
		for _, tt := range tests {
			t.Run(sto.name+"/"+tt.name, func(t *testing.T) {
				ctx := testContext(t)
				st := sto.open(t)
				before := map[string]*record.ArticleMeta{}
				for _, a := range tt.articles {
					writeArticle(t, st, a)
					m, err := record.ReadMeta(ctx, st, a.slug)
					if err != nil {
						t.Fatal(err)
					}
					before[a.slug] = m
				}
				for _, d := range slices.Sorted(mapKeys(tt.digests)) {
					digest(t, st, d, tt.digests[d]...)
				}
				rep := run(t, st, Options{})
				if len(rep.Merges) != 1 || rep.Merged != len(tt.articles)-1 || rep.Skipped != 0 {
					t.Fatalf("report: %+v", rep)
				}
				mg := rep.Merges[0]
				if mg.Keeper.Slug != tt.want.keeper || mg.Promoted != tt.want.promoted || mg.URL != weburl.Canonical(birds) {
					t.Errorf("merge: keeper %s, promoted %q, URL %s", mg.Keeper.Slug, mg.Promoted, mg.URL)
				}
				byURL := consistent(t, st)
				if len(byURL) != 1 || byURL[weburl.Canonical(birds)] != tt.want.keeper {
					t.Fatalf("articles after: %v", byURL)
				}
				k, err := record.ReadMeta(ctx, st, tt.want.keeper)
				if err != nil {
					t.Fatal(err)
				}
				if k.Status != tt.want.status || len(k.History) != tt.want.history {
					t.Errorf("keeper: %s with %d in history, want %s and %d: %+v", k.Status, len(k.History), tt.want.status, tt.want.history, k.History)
				}
				var allDigests []string
				for _, a := range tt.articles {
					allDigests = record.MergeDigests(allDigests, a.digests)
				}
				if !record.SameDigests(k.Digests, allDigests) {
					t.Errorf("keeper lists digests %v, want %v", k.Digests, allDigests)
				}
				for _, a := range tt.articles {
					if a.slug == tt.want.keeper {
						continue
					}
					checkMerged(t, st, before[a.slug], k, tt.want.keeper)
				}
				if slug, _ := record.ReadURLIndex(ctx, st, weburl.Canonical(birds)); slug != tt.want.keeper {
					t.Errorf("URL index names %q", slug)
				}
				for d, slugs := range tt.digests {
					rec, err := record.ReadDigest(ctx, st, d)
					if err != nil {
						t.Fatal(err)
					}
					for i, e := range rec.Articles {
						if e.Slug != tt.want.keeper || e.Status != k.Status || (slugs[i] != tt.want.keeper) != (e.MergedFrom == slugs[i]) {
							t.Errorf("digest %s item %d: %+v (listed %s)", d, i, e, slugs[i])
						}
					}
					if rec.Counts[k.Status] != len(slugs) {
						t.Errorf("digest %s counts %v", d, rec.Counts)
					}
				}
				keys := listing(t, st)
				again := run(t, st, Options{})
				if again.Merged != 0 || len(again.Merges) != 0 || again.Digests != 0 || again.Aliases != 0 || again.Index != 0 {
					t.Errorf("second run: %+v", again)
				}
				if after := listing(t, st); !sameListing(keys, after) {
					t.Errorf("second run changed the store")
				}
			})
		}
	}
}

// checkMerged checks that the capture of merged (its meta.json before the
// merge) and each in its history are the keeper's too, with the same
// objects, and still in merged's own history; and that its alias says so.
func checkMerged(t *testing.T, st storage.Store, merged, keeper *record.ArticleMeta, keeperSlug string) {
	t.Helper()
	ctx := testContext(t)
	slug := merged.Slug
	if _, err := record.ReadMeta(ctx, st, slug); !storage.IsNotExist(err) {
		t.Errorf("%s still has a meta.json: %v", slug, err)
	}
	a, err := record.ReadAlias(ctx, st, slug)
	if err != nil {
		t.Fatalf("alias of %s: %v", slug, err)
	}
	if a.Target != keeperSlug || a.URL != weburl.Canonical(birds) || len(a.Captures) != len(merged.History)+1 {
		t.Errorf("alias of %s: %+v", slug, a)
	}
	own, err := record.ReadMetaKey(ctx, st, record.HistoryKey(slug, a.Current, record.MetaFile))
	if err != nil || !record.SameCapture(own, merged) {
		t.Errorf("%s's current capture is not in its own history at %s: %v", slug, a.Current, err)
	}
	for _, c := range a.Captures {
		src, err := record.ReadMetaKey(ctx, st, record.HistoryKey(slug, c.CaptureID, record.MetaFile))
		if err != nil {
			t.Fatalf("%s history %s: %v", slug, c.CaptureID, err)
		}
		var dst *record.ArticleMeta
		if keeper.MergedFrom == slug && record.CaptureID(keeper.FetchedAt) == c.As {
			dst = keeper // promoted
		} else {
			if !slices.ContainsFunc(keeper.History, func(r record.CaptureRef) bool { return r.CaptureID == c.As && r.MergedFrom == slug }) {
				t.Errorf("keeper's history does not list %s as merged from %s: %+v", c.As, slug, keeper.History)
			}
			dst, err = record.ReadMetaKey(ctx, st, record.HistoryKey(keeperSlug, c.As, record.MetaFile))
			if err != nil {
				t.Fatalf("keeper history %s: %v", c.As, err)
			}
		}
		if !record.SameCapture(src, dst) || dst.MergedFrom != slug || dst.Sums[record.WARCFile] != src.Sums[record.WARCFile] {
			t.Errorf("capture %s of %s is not the keeper's %s: %+v / %+v", c.CaptureID, slug, c.As, src, dst)
		}
	}
}

// listing is every key of the store (but leases) with its content.
func listing(t *testing.T, st storage.Store) map[string]string {
	t.Helper()
	ctx := testContext(t)
	out := map[string]string{}
	err := st.List(ctx, "", func(info storage.Info) error {
		if strings.HasPrefix(info.Key, record.LeasesPrefix) {
			return nil
		}
		rc, err := st.Get(ctx, info.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		out[info.Key] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameListing(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestDryRun: a dry run says what a run would merge, on a read-only view
// of the store, and changes nothing.
func TestDryRun(t *testing.T) {
	for _, sto := range stores {
		t.Run(sto.name, func(t *testing.T) {
			st := sto.open(t)
			writeArticle(t, st, article{"rare-birds-return-paper", birds, []string{"d1"}, []capture{ok(day, "first")}})
			writeArticle(t, st, article{"birds-paper", birds, []string{"d2"}, []capture{ok(day.Add(time.Hour), "second"), ok(day.Add(2*time.Hour), "third")}})
			writeArticle(t, st, article{"other-paper", "https://paper.example/other.html", []string{"d2"}, []capture{ok(day, "other")}})
			digest(t, st, "d1", "rare-birds-return-paper")
			digest(t, st, "d2", "birds-paper", "other-paper")
			keys := listing(t, st)
			rep := run(t, storage.ReadOnly(st), Options{DryRun: true})
			if !rep.DryRun || rep.Articles != 3 || len(rep.Merges) != 1 || rep.Merged != 1 || rep.Captures != 2 || rep.Digests != 1 || rep.Entries != 1 {
				t.Errorf("dry run: %+v", rep)
			}
			if m := rep.Merges[0]; m.Keeper.Slug != "rare-birds-return-paper" || len(m.Merged) != 1 || m.Merged[0].Slug != "birds-paper" {
				t.Errorf("plan: %+v", m)
			}
			if after := listing(t, st); !sameListing(keys, after) {
				t.Error("the dry run changed the store")
			}
			real := run(t, st, Options{})
			if real.Merged != rep.Merged || real.Captures != rep.Captures || real.Digests != rep.Digests || real.Entries != rep.Entries {
				t.Errorf("the run did %+v, the dry run said %+v", real, rep)
			}
		})
	}
}

// TestAliasChain: an article merged into a keeper that is itself merged
// later into an article archived earlier still (restored from a backup,
// say): the first alias is pointed at the end of the chain, its captures
// at where they are now, and digests listing either old slug name the
// end.
func TestAliasChain(t *testing.T) {
	for _, sto := range stores {
		t.Run(sto.name, func(t *testing.T) {
			ctx := testContext(t)
			st := sto.open(t)
			writeArticle(t, st, article{"a-birds", birds, []string{"d1"}, []capture{ok(day, "a")}})
			writeArticle(t, st, article{"b-birds", birds, []string{"d2"}, []capture{ok(day.Add(time.Hour), "b")}})
			digest(t, st, "d1", "a-birds")
			digest(t, st, "d2", "b-birds")
			run(t, st, Options{})
			// An older copy comes back.
			writeArticle(t, st, article{"c-birds", birds, []string{"d3"}, []capture{ok(day.Add(-24*time.Hour), "c")}})
			digest(t, st, "d3", "c-birds")
			rep := run(t, st, Options{})
			if rep.Merged != 1 || rep.Merges[0].Keeper.Slug != "c-birds" || rep.Aliases != 1 {
				t.Fatalf("second run: %+v", rep)
			}
			consistent(t, st)
			b, err := record.ReadAlias(ctx, st, "b-birds")
			if err != nil {
				t.Fatal(err)
			}
			if b.Target != "c-birds" {
				t.Errorf("b-birds's alias names %s", b.Target)
			}
			c, err := record.ReadMeta(ctx, st, "c-birds")
			if err != nil {
				t.Fatal(err)
			}
			for _, mc := range b.Captures {
				if !slices.ContainsFunc(c.History, func(r record.CaptureRef) bool { return r.CaptureID == mc.As }) {
					t.Errorf("b-birds's capture %s is at %s, which c-birds's history does not list: %+v", mc.CaptureID, mc.As, c.History)
				}
			}
			for _, r := range c.History {
				if r.MergedFrom != "a-birds" && r.MergedFrom != "b-birds" {
					t.Errorf("c-birds's history: %+v", r)
				}
			}
			for _, d := range []string{"d1", "d2", "d3"} {
				rec, err := record.ReadDigest(ctx, st, d)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Articles[0].Slug != "c-birds" {
					t.Errorf("digest %s lists %+v", d, rec.Articles[0])
				}
			}
			// An unflattened chain (left by a run cut short) resolves too.
			if err := (record.Writer{Store: st}).PutAlias(ctx, record.Alias{Slug: "b-birds", Target: "a-birds", URL: weburl.Canonical(birds)}); err != nil {
				t.Fatal(err)
			}
			if end, chain, err := record.ResolveAlias(ctx, st, "b-birds"); err != nil || end != "c-birds" || len(chain) != 2 {
				t.Errorf("b-birds resolves to %q over %d aliases: %v", end, len(chain), err)
			}
			if rep := run(t, st, Options{}); rep.Aliases != 1 {
				t.Errorf("third run: %+v", rep)
			}
			if b, err := record.ReadAlias(ctx, st, "b-birds"); err != nil || b.Target != "c-birds" {
				t.Errorf("b-birds's alias after: %+v %v", b, err)
			}
		})
	}
}

// TestLoopedAliases: aliases that lead back to themselves are reported
// (ErrAliasLoop), not followed for ever.
func TestLoopedAliases(t *testing.T) {
	ctx := testContext(t)
	st := stores[0].open(t)
	w := record.Writer{Store: st}
	for _, a := range []record.Alias{{Slug: "a", Target: "b"}, {Slug: "b", Target: "a"}} {
		if err := w.PutAlias(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := record.ResolveAlias(ctx, st, "a"); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("a loop resolved: %v", err)
	}
	run(t, st, Options{}) // and dedupe goes on
}

// TestMergeRefusesDamage: an object that is not the one its meta.json
// records (damaged, or another capture's) stops its group before the
// keeper changes: the group is reported and left, and the rest of the
// store is merged.
func TestMergeRefusesDamage(t *testing.T) {
	ctx := testContext(t)
	st := stores[0].open(t)
	writeArticle(t, st, article{"rare-birds-return-paper", birds, nil, []capture{ok(day, "first")}})
	writeArticle(t, st, article{"birds-paper", birds, nil, []capture{ok(day.Add(time.Hour), "second")}})
	writeArticle(t, st, article{"fish-paper", "https://paper.example/fish.html", nil, []capture{ok(day, "fish")}})
	writeArticle(t, st, article{"more-fish-paper", "https://paper.example/fish.html", nil, []capture{ok(day.Add(time.Hour), "more fish")}})
	damaged := []byte("not the WARC the capture recorded")
	if err := st.Put(ctx, record.ArticleKey("birds-paper", record.WARCFile), bytes.NewReader(damaged), int64(len(damaged)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	keeper, _ := record.ReadMeta(ctx, st, "rare-birds-return-paper")
	rep := run(t, st, Options{})
	if rep.Skipped != 1 || rep.Merged != 1 || len(rep.Merges) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	if !strings.Contains(rep.Merges[0].Skipped, "capture.warc.gz") {
		t.Errorf("left because %q", rep.Merges[0].Skipped)
	}
	after, _ := record.ReadMeta(ctx, st, "rare-birds-return-paper")
	if len(after.History) != len(keeper.History) {
		t.Errorf("the keeper changed: %+v", after.History)
	}
	if _, err := record.ReadMeta(ctx, st, "birds-paper"); err != nil {
		t.Errorf("the damaged article is gone: %v", err)
	}
}

// TestUnreadableHistory: a capture in history whose meta.json does not
// read is copied as it is, byte for byte, and listed by its id.
func TestUnreadableHistory(t *testing.T) {
	ctx := testContext(t)
	st := stores[0].open(t)
	writeArticle(t, st, article{"rare-birds-return-paper", birds, nil, []capture{ok(day, "first")}})
	writeArticle(t, st, article{"birds-paper", birds, nil, []capture{ok(day.Add(time.Hour), "second"), ok(day.Add(2*time.Hour), "third")}})
	id := record.CaptureID(day.Add(time.Hour))
	junk := []byte("{not json")
	if err := st.Put(ctx, record.HistoryKey("birds-paper", id, record.MetaFile), bytes.NewReader(junk), int64(len(junk)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep := run(t, st, Options{}); rep.Merged != 1 {
		t.Fatalf("report: %+v", rep)
	}
	for _, name := range []string{record.MetaFile, record.RawFile, record.WARCFile} {
		same, err := sameObject(ctx, st, record.HistoryKey("birds-paper", id, name), record.HistoryKey("rare-birds-return-paper", id, name))
		if err != nil || !same {
			t.Errorf("%s of the unreadable capture: copied %v, %v", name, same, err)
		}
	}
}

// TestOtherPagesLeftAlone: articles of other URLs, and an article whose
// URL differs by what the canonical form keeps (a trailing slash), are not
// merged.
func TestOtherPagesLeftAlone(t *testing.T) {
	st := stores[0].open(t)
	writeArticle(t, st, article{"rare-birds-return-paper", birds, nil, []capture{ok(day, "first")}})
	writeArticle(t, st, article{"birds-slash-paper", birds + "/", nil, []capture{ok(day.Add(time.Hour), "slash")}})
	writeArticle(t, st, article{"fish-paper", "https://paper.example/fish.html", nil, []capture{ok(day, "fish")}})
	keys := listing(t, st)
	if rep := run(t, st, Options{}); len(rep.Merges) != 0 || rep.Articles != 3 {
		t.Errorf("report: %+v", rep)
	}
	if !sameListing(keys, listing(t, st)) {
		t.Error("the store changed")
	}
}

// cutStore fails every write (Put or Delete, leases aside) from the
// cut-th on, as a crash or a store gone away would leave a run: what was
// written stays, nothing after.
type cutStore struct {
	storage.Store
	cond   storage.Conditional
	cut    int
	writes int
}

var errCut = fmt.Errorf("the store went away (test)")

func (c *cutStore) write(key string) error {
	if strings.HasPrefix(key, record.LeasesPrefix) {
		return nil
	}
	c.writes++
	if c.cut > 0 && c.writes >= c.cut {
		return errCut
	}
	return nil
}

func (c *cutStore) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) error {
	if err := c.write(key); err != nil {
		return err
	}
	return c.Store.Put(ctx, key, r, size, o)
}

func (c *cutStore) Delete(ctx context.Context, key string) error {
	if err := c.write(key); err != nil {
		return err
	}
	return c.Store.Delete(ctx, key)
}

func (c *cutStore) GetVersion(ctx context.Context, key string) (io.ReadCloser, string, error) {
	return c.cond.GetVersion(ctx, key)
}

func (c *cutStore) PutIf(ctx context.Context, key string, r io.Reader, size int64, ifMatch string, o storage.PutOptions) (string, error) {
	if err := c.write(key); err != nil {
		return "", err
	}
	return c.cond.PutIf(ctx, key, r, size, ifMatch, o)
}

// TestInterruptedMerge cuts a merge short at every one of its writes in
// turn (the store fails from there on) and runs it again on the store as
// it was left: the second run always finishes it, to the very store an
// uninterrupted run makes, byte for byte, and the store is consistent
// after. The world has it all: three copies of one URL, the keeper failed
// (so an ok capture is promoted), histories, and a digest naming two of
// them.
func TestInterruptedMerge(t *testing.T) {
	setup := func(t *testing.T, st storage.Store) {
		writeArticle(t, st, article{"rare-birds-return-paper", birds, []string{"d1", "both"}, []capture{failed(day)}})
		writeArticle(t, st, article{"birds-paper", birds, []string{"d2", "both"}, []capture{ok(day.Add(time.Hour), "b1"), ok(day.Add(3*time.Hour), "b2")}})
		writeArticle(t, st, article{"marsh-birds-paper", birds + "?utm_medium=email", []string{"d3"}, []capture{ok(day.Add(2*time.Hour), "m1")}})
		digest(t, st, "d1", "rare-birds-return-paper")
		digest(t, st, "d2", "birds-paper")
		digest(t, st, "d3", "marsh-birds-paper")
		digest(t, st, "both", "birds-paper", "rare-birds-return-paper")
	}
	for _, sto := range stores {
		t.Run(sto.name, func(t *testing.T) {
			ref := sto.open(t)
			setup(t, ref)
			counter := &cutStore{Store: ref, cond: storagetest.MustConditional(t, ref)}
			run(t, counter, Options{})
			want := listing(t, ref)
			consistent(t, ref)
			step := 1
			if sto.name == "minio" {
				step = 4 // every write on a directory; a sample on MinIO
			}
			for cut := 1; cut <= counter.writes; cut += step {
				st := sto.open(t)
				setup(t, st)
				cs := &cutStore{Store: st, cond: storagetest.MustConditional(t, st), cut: cut}
				opts := Options{Store: cs, Now: func() time.Time { return day.Add(30 * 24 * time.Hour) }}
				if _, err := Run(testContext(t), opts); err == nil {
					// Cut at a write the run can do without (a lease, the
					// last): nothing to finish.
					t.Logf("cut at write %d: the run did not notice", cut)
				}
				run(t, st, Options{})
				got := listing(t, st)
				for k, v := range want {
					if w, ok := got[k]; !ok {
						t.Errorf("cut at write %d of %d: %s missing after the re-run", cut, counter.writes, k)
					} else if w != v {
						t.Errorf("cut at write %d of %d: %s differs after the re-run:\n%s\nwant\n%s", cut, counter.writes, k, w, v)
					}
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						t.Errorf("cut at write %d of %d: %s left over after the re-run", cut, counter.writes, k)
					}
				}
				consistent(t, st)
				if t.Failed() {
					return
				}
			}
			t.Logf("a merge of %d writes, cut short at each and run again", counter.writes)
		})
	}
}
