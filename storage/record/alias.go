package record

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// An alias says that the article once stored under a slug was merged into
// another (`linkarc dedupe`: two articles holding one canonical URL, left
// by versions before the URL index). One small object per merged slug:
//
//	aliases/<old-slug>.json   Alias
//
// The old slug keeps its folder: its captures stay in its own history/
// (its current one moved there like any replaced capture), and copies of
// them are in the target's history. Its meta.json is gone, so nothing
// lists it as an article; readers that meet the old slug (an old link to
// the viewer, a digest record written before the merge, a revisit whose
// original is in its WARC) follow the alias. A slug with a meta.json is
// an article whatever alias names it: a merge writes the alias before it
// removes the meta.json, so an interrupted one leaves both, and `linkarc
// dedupe` run again finishes it.
const AliasesPrefix = "aliases/"

// MaxAliasHops bounds how many aliases ResolveAlias follows: an alias
// chain grows by one each time a keeper is itself merged into an older
// article, and `linkarc dedupe` rewrites chains to their end.
const MaxAliasHops = 16

// AliasKey is the key of the alias of an old slug: aliases/<slug>.json.
func AliasKey(slug string) string { return AliasesPrefix + slug + ".json" }

// Alias is aliases/<slug>.json: the article once stored under Slug was
// merged into Target.
type Alias struct {
	Slug     string    `json:"slug"`   // the old slug
	Target   string    `json:"target"` // the article it was merged into
	URL      string    `json:"url"`    // the canonical publisher URL both held
	MergedAt time.Time `json:"merged_at"`
	// Current is the capture id, under articles/<Slug>/history/, of the
	// capture that was the old article's current one at the merge.
	Current string `json:"current,omitempty"`
	// Captures says where each capture of the old article is in Target.
	Captures []MovedCapture `json:"captures,omitempty"`
	// Digests are the digests that listed the old article at the merge;
	// their records now name Target (DigestArticle.MergedFrom).
	Digests []string `json:"digests,omitempty"`
}

// MovedCapture is one capture of a merged article: its id under the old
// slug's history/ and its id in the target's (the same unless the target
// already had a capture with that id). The target's meta.json lists it in
// History, or, when it became the target's current capture, has it as its
// own (same fetched_at).
type MovedCapture struct {
	CaptureID string `json:"capture_id"`
	As        string `json:"as"`
}

// In returns where the capture id of the old article is in the target:
// its id there, and ok false when the alias does not list it.
func (a *Alias) In(captureID string) (string, bool) {
	for _, c := range a.Captures {
		if c.CaptureID == captureID {
			return c.As, true
		}
	}
	return "", false
}

// ReadAlias reads the alias of slug. No alias is an error for which
// storage.IsNotExist is true; a damaged one wraps ErrUnreadable.
func ReadAlias(ctx context.Context, st storage.Store, slug string) (*Alias, error) {
	var a Alias
	if err := ReadJSON(ctx, st, AliasKey(slug), &a); err != nil {
		return nil, err
	}
	if a.Slug == "" {
		a.Slug = slug
	}
	if !ValidSlug(a.Target) || a.Target == slug {
		return nil, fmt.Errorf("%w: %s: target %q is not another article's slug", ErrUnreadable, AliasKey(slug), a.Target)
	}
	return &a, nil
}

// ErrAliasLoop marks aliases that lead back to a slug already passed, or
// on for more than MaxAliasHops: ResolveAlias's error, wrapped.
var ErrAliasLoop = errors.New("aliases loop or chain too long")

// ResolveAlias follows the aliases from slug to the article they end at:
// the first target that has a meta.json, or else has no alias of its own.
// It returns that slug and the aliases passed (the first is slug's).
// slug without an alias is an error for which storage.IsNotExist is true;
// a loop wraps ErrAliasLoop; a damaged alias ErrUnreadable; any other
// error is the store's.
func ResolveAlias(ctx context.Context, st storage.Store, slug string) (string, []*Alias, error) {
	seen := map[string]bool{slug: true}
	var chain []*Alias
	for cur := slug; ; {
		a, err := ReadAlias(ctx, st, cur)
		if storage.IsNotExist(err) && len(chain) > 0 {
			return cur, chain, nil
		}
		if err != nil {
			return "", chain, err
		}
		chain = append(chain, a)
		if seen[a.Target] || len(chain) > MaxAliasHops {
			return "", chain, fmt.Errorf("%w: from %s", ErrAliasLoop, slug)
		}
		seen[a.Target] = true
		cur = a.Target
		_, err = st.Stat(ctx, ArticleKey(cur, MetaFile))
		switch {
		case err == nil:
			return cur, chain, nil
		case !storage.IsNotExist(err):
			return "", chain, fmt.Errorf("resolve alias %s: %w", slug, err)
		}
	}
}

// ListAliases calls fn with the old slug of every alias in the store,
// in key order, from one listing (no alias is read).
func ListAliases(ctx context.Context, st storage.Store, fn func(slug string) error) error {
	err := st.List(ctx, AliasesPrefix, func(info storage.Info) error {
		slug, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, AliasesPrefix), ".json")
		if !ok || !ValidSlug(slug) {
			return nil
		}
		return fn(slug)
	})
	if err != nil {
		return fmt.Errorf("list aliases: %w", err)
	}
	return nil
}

// PutAlias writes a's alias record at AliasKey(a.Slug). Write it under
// the old slug's article lease.
func (w Writer) PutAlias(ctx context.Context, a Alias) error {
	if !ValidSlug(a.Slug) || !ValidSlug(a.Target) || a.Slug == a.Target {
		return fmt.Errorf("alias %q -> %q: not two article slugs", a.Slug, a.Target)
	}
	return w.putJSON(ctx, AliasKey(a.Slug), a)
}
