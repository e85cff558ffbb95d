package record

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/linkarc/linkarc/storage"
)

// Merging articles that hold one URL (`linkarc dedupe`, package
// archive/dedupe) is done with the writer's methods below, under the
// leases of every article involved. They copy and never remove a capture:
//
//   - FoldCapture copies a capture of one article into another's history,
//     each object checked against the sum its meta.json records;
//   - Promote makes such a capture the keeper's current one, the keeper's
//     own current capture going to its history first (as Write does);
//   - Retire moves the merged article's current capture into its own
//     history, writes its Alias, and only then removes its meta.json.
//
// Each step is idempotent and writes its meta.json last, so a merge cut
// short anywhere is finished by running it again.

// ErrCopyMismatch is returned (wrapped) when an object copied for a merge
// is missing or is not the one its meta.json records (another capture's,
// or damaged): the capture is not merged, and nothing of the target
// changes.
var ErrCopyMismatch = errors.New("object is not the one its meta.json records")

// CaptureDir names where a capture's objects are: an article's current
// capture (ID "") or one in its history.
type CaptureDir struct {
	Slug string
	ID   string // capture id under history/, "" for the current capture
}

// Key is the key of the capture's object name.
func (c CaptureDir) Key(name string) string {
	if c.ID == "" {
		return ArticleKey(c.Slug, name)
	}
	return HistoryKey(c.Slug, c.ID, name)
}

func (c CaptureDir) String() string {
	if c.ID == "" {
		return ArticleKey(c.Slug, "")
	}
	return HistoryKey(c.Slug, c.ID, "")
}

// FoldIDs are the capture ids a capture with id may take in the history of
// another article, in the order to try them: id itself, then id with a
// suffix naming the article it comes from (from), for when the target
// already holds another capture with that id (two captures fetched in the
// same millisecond). All pass ValidCaptureID.
func FoldIDs(id, from string) []string {
	sum := sha256.Sum256([]byte(from))
	tag := hex.EncodeToString(sum[:4])
	out := []string{id, id + "-" + tag}
	for n := 2; n <= 4; n++ {
		out = append(out, id+"-"+tag+"-"+strconv.Itoa(n))
	}
	return slices.DeleteFunc(out, func(s string) bool { return !ValidCaptureID(s) })
}

// SameCapture reports whether two meta.json describe one capture: the
// same fetch time, status and raw.html.
func SameCapture(a, b *ArticleMeta) bool {
	return a.FetchedAt.Equal(b.FetchedAt) && a.Status == b.Status && a.SHA256 == b.SHA256
}

// captureObjects are the objects of the capture m describes, with the sum
// each must have ("" when it is not recorded: then only its presence is
// required, or for raw.html, readable.html and text.txt of records
// without sums, nothing) and whether it must be there.
func captureObjects(m *ArticleMeta) []capturedObject {
	var out []capturedObject
	if m.SHA256 != "" {
		out = append(out, capturedObject{RawFile, m.SHA256, m.Size, true})
	}
	for _, name := range []string{ReadableFile, TextFile} {
		switch {
		case m.Sums == nil:
			out = append(out, capturedObject{name, "", -1, false}) // an earlier version's: copied if there
		case m.Sums[name] != "":
			out = append(out, capturedObject{name, m.Sums[name], -1, true})
		}
	}
	for _, name := range m.Files {
		if ValidObjectName(name) {
			out = append(out, capturedObject{name, m.Sums[name], -1, true})
		}
	}
	return out
}

type capturedObject struct {
	name     string
	sum      string // SHA-256 hex, "" when not recorded
	size     int64  // bytes, -1 when not recorded
	required bool
}

// CopyCapture copies the capture m describes from src to dst: each of its
// objects (raw.html, readable.html, text.txt and the files m lists),
// checked against the SHA-256 and size m records as it is copied, then m
// itself as dst's meta.json, last. A missing or different object fails
// with ErrCopyMismatch before meta.json is written. It deletes nothing;
// copying into a current capture is Promote's work.
func (w Writer) CopyCapture(ctx context.Context, src, dst CaptureDir, m ArticleMeta) error {
	if dst.ID == "" {
		return fmt.Errorf("copy capture %s: to a current capture: use Promote", src)
	}
	if _, err := w.copyObjects(ctx, src, dst, &m); err != nil {
		return err
	}
	return w.putJSON(ctx, dst.Key(MetaFile), m)
}

// copyObjects copies m's objects from src to dst and returns the names
// copied.
func (w Writer) copyObjects(ctx context.Context, src, dst CaptureDir, m *ArticleMeta) ([]string, error) {
	var copied []string
	for _, o := range captureObjects(m) {
		ok, err := w.copyChecked(ctx, src.Key(o.name), dst.Key(o.name), o)
		if err != nil {
			return copied, err
		}
		if ok {
			copied = append(copied, o.name)
		}
	}
	return copied, nil
}

// copyChecked copies one object, hashing it on the way; ok is false when
// an object that need not be there is not.
func (w Writer) copyChecked(ctx context.Context, from, to string, o capturedObject) (ok bool, err error) {
	info, err := w.Store.Stat(ctx, from)
	if storage.IsNotExist(err) {
		if o.required {
			return false, fmt.Errorf("copy %s: %w: it is missing", from, ErrCopyMismatch)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("copy %s: %w", from, err)
	}
	rc, err := w.Store.Get(ctx, from)
	if err != nil {
		return false, fmt.Errorf("copy %s: %w", from, err)
	}
	defer rc.Close()
	hr := &hashingReader{r: rc, h: sha256.New()}
	var body io.Reader = hr
	if sk, ok := rc.(io.Seeker); ok {
		body = &hashingSeeker{hashingReader: hr, s: sk} // so that a failed upload can be retried
	}
	if err := w.Store.Put(ctx, to, body, info.Size, storage.PutOptions{}); err != nil {
		return false, fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	got := hex.EncodeToString(hr.h.Sum(nil))
	if hr.unknown {
		// Retried from somewhere other than the start: check the copy.
		if got, _, err = objectSum(ctx, w.Store, to); err != nil {
			return false, fmt.Errorf("copy %s: %w", from, err)
		}
	}
	if o.sum != "" && got != o.sum || o.size >= 0 && info.Size != o.size {
		return false, fmt.Errorf("copy %s: %w: sha256 %s (%d bytes), recorded %s", from, ErrCopyMismatch, short(got), info.Size, short(o.sum))
	}
	return true, nil
}

// FoldCapture copies a capture of another article (src, described by m)
// into history/<as>/ of the article into, as CopyCapture does, its
// meta.json saying where it came from (MergedFrom; a capture merged once
// already keeps the slug it was first archived under). m nil is a capture
// whose meta.json is unreadable: its objects are copied as they are, byte
// for byte. It returns the capture's entry for into's History.
func (w Writer) FoldCapture(ctx context.Context, src CaptureDir, m *ArticleMeta, into, as string) (CaptureRef, error) {
	dst := CaptureDir{Slug: into, ID: as}
	if !ValidCaptureID(as) || !ValidSlug(into) {
		return CaptureRef{}, fmt.Errorf("fold %s into %s: not a capture of an article", src, dst)
	}
	if m == nil {
		if err := w.copyVerbatim(ctx, src, dst); err != nil {
			return CaptureRef{}, err
		}
		return CaptureRef{CaptureID: as, MergedFrom: src.Slug}, nil
	}
	fm := *m
	fm.Slug, fm.History = into, nil
	fm.MergedFrom = cmp.Or(m.MergedFrom, src.Slug)
	if err := w.CopyCapture(ctx, src, dst, fm); err != nil {
		return CaptureRef{}, err
	}
	ref := captureRef(fm)
	ref.CaptureID = as
	return ref, nil
}

// copyVerbatim copies every object of a capture's folder, meta.json last.
func (w Writer) copyVerbatim(ctx context.Context, src, dst CaptureDir) error {
	prefix := src.Key("") + "/"
	if src.ID == "" {
		return fmt.Errorf("copy %s: only a capture in history is copied as it is", src)
	}
	var names []string
	err := w.Store.List(ctx, prefix, func(info storage.Info) error {
		if name := strings.TrimPrefix(info.Key, prefix); !strings.Contains(name, "/") && name != MetaFile {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	for _, name := range append(names, MetaFile) {
		if err := w.copyObject(ctx, src.Key(name), dst.Key(name)); err != nil {
			return err
		}
	}
	return nil
}

// Promote makes the capture m describes, at src (another article's), the
// current capture of the article slug, whose meta.json was prior: the
// current capture goes to history first, whole (as Write does), its
// meta.json is removed, m's objects are copied in (checked as CopyCapture
// checks them), objects of the replaced capture m does not have are
// removed, and m is written as meta.json, last. m.Slug must be slug;
// m.History is kept, with the replaced capture added. A crash before the
// end leaves the article without meta.json and its earlier captures whole
// in history, like a crash in Write; running Promote again with
// Prior{} finishes it. It returns the meta.json written.
func (w Writer) Promote(ctx context.Context, prior Prior, src CaptureDir, m ArticleMeta) (ArticleMeta, error) {
	slug := m.Slug
	if prior.Unreadable != nil {
		return m, fmt.Errorf("promote into %s: %w", slug, prior.Unreadable)
	}
	dst := CaptureDir{Slug: slug}
	stale := []string{RawFile, ReadableFile, TextFile, WARCFile, PageFile, ThumbFile}
	if prior.Exists {
		// Kept whole, a failed capture too (unlike Write): a merge
		// removes nothing, not even the record of a failure.
		prev := prior.Meta
		ref := captureRef(prev)
		if err := w.copyToHistory(ctx, slug, ref.CaptureID, prev); err != nil {
			return m, err
		}
		m.History = appendRef(m.History, ref)
		stale = append(stale, prev.Files...)
		if err := w.Store.Delete(ctx, dst.Key(MetaFile)); err != nil {
			return m, fmt.Errorf("delete %s: %w", dst.Key(MetaFile), err)
		}
	}
	copied, err := w.copyObjects(ctx, src, dst, &m)
	if err != nil {
		return m, err
	}
	for _, name := range stale {
		if slices.Contains(copied, name) || !validCaptureName(name) {
			continue
		}
		if err := w.Store.Delete(ctx, dst.Key(name)); err != nil {
			return m, fmt.Errorf("delete %s: %w", dst.Key(name), err)
		}
	}
	return m, w.putJSON(ctx, dst.Key(MetaFile), m)
}

// validCaptureName reports whether name is one of a capture's objects
// other than meta.json.
func validCaptureName(name string) bool {
	return name == RawFile || name == ReadableFile || name == TextFile || ValidObjectName(name)
}

// Retire ends the article m describes (its current meta.json) once it has
// been merged into a.Target: its current capture is copied into its own
// history/<a.Current>/ (checked, as CopyCapture checks), the alias a is
// written, its meta.json removed, and then the current capture's objects
// (ClearRetired). Its history stays as it is. a.Slug must be m.Slug.
func (w Writer) Retire(ctx context.Context, m ArticleMeta, a Alias) error {
	if a.Slug != m.Slug || !ValidCaptureID(a.Current) {
		return fmt.Errorf("retire %s: the alias is %s's, capture %q", m.Slug, a.Slug, a.Current)
	}
	kept := m
	kept.History = nil
	if err := w.CopyCapture(ctx, CaptureDir{Slug: m.Slug}, CaptureDir{Slug: m.Slug, ID: a.Current}, kept); err != nil {
		return err
	}
	if err := w.PutAlias(ctx, a); err != nil {
		return err
	}
	if err := w.Store.Delete(ctx, ArticleKey(m.Slug, MetaFile)); err != nil {
		return fmt.Errorf("delete %s: %w", ArticleKey(m.Slug, MetaFile), err)
	}
	return w.clearCurrent(ctx, m.Slug, &kept)
}

// ClearRetired removes what is left of a retired article's current
// capture beside its alias (a merge interrupted after its meta.json was
// removed): the objects its copy in history/<a.Current>/ lists. Without
// that copy, nothing is removed.
func (w Writer) ClearRetired(ctx context.Context, a *Alias) error {
	if _, err := w.Store.Stat(ctx, ArticleKey(a.Slug, MetaFile)); err == nil {
		return fmt.Errorf("clear %s: it is an article again (it has a meta.json)", a.Slug)
	} else if !storage.IsNotExist(err) {
		return fmt.Errorf("clear %s: %w", a.Slug, err)
	}
	m, err := ReadMetaKey(ctx, w.Store, HistoryKey(a.Slug, a.Current, MetaFile))
	if storage.IsNotExist(err) || errors.Is(err, ErrUnreadable) {
		return nil
	}
	if err != nil {
		return err
	}
	return w.clearCurrent(ctx, a.Slug, m)
}

func (w Writer) clearCurrent(ctx context.Context, slug string, m *ArticleMeta) error {
	names := []string{RawFile, ReadableFile, TextFile}
	for _, n := range m.Files {
		if ValidObjectName(n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		if err := w.Store.Delete(ctx, ArticleKey(slug, name)); err != nil {
			return fmt.Errorf("delete %s: %w", ArticleKey(slug, name), err)
		}
	}
	return nil
}

// ReadMetas reads the current meta.json of each of slugs, workers at a
// time (on S3 each read is a round trip), and calls fn with each in the
// order of slugs, as LoadMeta reads it (a missing or unreadable meta.json
// is not an error). fn runs on the caller's goroutine. An error of the
// store or of fn stops the reads and is returned.
func ReadMetas(ctx context.Context, st storage.Store, slugs []string, workers int, fn func(slug string, p Prior) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	type result struct {
		p   Prior
		err error
	}
	w := Writer{Store: st}
	results := make([]chan result, len(slugs))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(slugs)) {
		wg.Go(func() {
			for i := range next {
				p, err := w.LoadMeta(ctx, slugs[i])
				results[i] <- result{p, err}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range slugs {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel() // the feeder stops handing out reads, and the workers end
		wg.Wait()
	}()
	for i, slug := range slugs {
		var r result
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := fn(slug, r.p); err != nil {
			return err
		}
	}
	return nil
}

// RefOf is the History entry of the capture m describes, kept in history
// under id.
func RefOf(m *ArticleMeta, id string) CaptureRef {
	ref := captureRef(*m)
	ref.CaptureID = id
	return ref
}

// AppendRefs adds refs to a history, oldest first, each unless the history
// already has a capture with its id.
func AppendRefs(h []CaptureRef, refs ...CaptureRef) []CaptureRef {
	for _, r := range refs {
		h = appendRef(h, r)
	}
	return h
}
