package stored

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/warc"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// A revisit record (a requisite another capture fetched first) names its
// original by WARC-Refers-To (the record id), WARC-Refers-To-Target-URI,
// -Date and the payload digest, but not by the file holding it: that may
// be another article's WARC, which moves under history/ when the article
// is captured again. The requisite index (record.RequisiteEntry) says
// which capture holds it — the article's slug and the capture's id, which
// stay true wherever the capture's objects are —, and OpenOriginal finds
// that capture's WARC, current or in history. Everything that resolves a
// revisit from the store goes through FindOriginal and OpenOriginal: the
// self-contained page, built at capture time (archive) or again from a
// stored capture (archive/reextract), through singlepage.StoreOriginals
// and singlepage.OpenStoredOriginal, and the WACZ export (archive/export).
// Revisit is the one reading of a revisit record's reference (RevisitOf),
// singlepage's index included.

// OriginalRef names the WARC record a revisit refers to and the capture
// holding it (record.RequisiteOrigin).
type OriginalRef = record.RequisiteOrigin

// ErrNoOriginal is returned (wrapped) when the original of a revisit is
// not in the store: not in the requisite index, or its capture is gone.
var ErrNoOriginal = errors.New("the original of the revisit is not in the store")

// Revisit is what a revisit record says of its original (WARC 1.1
// §6.7.2).
type Revisit struct {
	URL           string    // the revisit's own WARC-Target-URI
	RefersTo      string    // WARC-Refers-To, the original's record id, without angle brackets ("" if not given)
	RefersToURI   string    // WARC-Refers-To-Target-URI
	RefersToDate  time.Time // WARC-Refers-To-Date
	PayloadDigest string    // WARC-Payload-Digest, labelled
}

// RevisitOf reads a revisit record's reference; ok is false for a record
// that is not a revisit.
func RevisitOf(rec *warc.Record) (Revisit, bool) {
	if rec.Type != "revisit" {
		return Revisit{}, false
	}
	date, _ := time.Parse(time.RFC3339Nano, rec.Header.Get("WARC-Refers-To-Date"))
	return Revisit{
		URL:           rec.TargetURI(),
		RefersTo:      strings.Trim(rec.Header.Get("WARC-Refers-To"), "<>"),
		RefersToURI:   strings.Trim(rec.Header.Get("WARC-Refers-To-Target-URI"), "<>"),
		RefersToDate:  date,
		PayloadDigest: rec.Header.Get("WARC-Payload-Digest"),
	}, true
}

// ReadRevisits lists the revisit records of a WARC read from r, to its
// end (reading record heads only).
func ReadRevisits(r io.Reader, opts warc.ReaderOptions) ([]Revisit, error) {
	opts.HeadersOnly = true
	rd := warc.NewReader(r, opts)
	var out []Revisit
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if rv, ok := RevisitOf(rec); ok {
			out = append(out, rv)
		}
		if err := rec.Close(); err != nil {
			return out, err
		}
	}
}

// FindOriginal looks a revisit's original up in the requisite index: the
// entry of its WARC-Refers-To-Target-URI (else of its own URL), whose
// record — or one of its previous records — is the one the revisit names
// (by record id; by target URI and payload digest for a revisit without
// one). Not found is ErrNoOriginal.
func FindOriginal(ctx context.Context, st storage.Store, rv Revisit) (OriginalRef, error) {
	var urls []string
	for _, u := range []string{rv.RefersToURI, rv.URL} {
		if u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	for _, u := range urls {
		ent, err := record.ReadRequisite(ctx, st, u)
		switch {
		case storage.IsNotExist(err), errors.Is(err, record.ErrUnreadable):
			continue
		case err != nil:
			return OriginalRef{}, err
		}
		for _, o := range ent.Origins() {
			if rv.RefersTo != "" && o.RecordID == rv.RefersTo ||
				rv.RefersTo == "" && o.PayloadDigest == rv.PayloadDigest && o.TargetURI == cmpOr(rv.RefersToURI, rv.URL) {
				return o, nil
			}
		}
	}
	return OriginalRef{}, fmt.Errorf("%s: %w", rv.URL, ErrNoOriginal)
}

// LocateOriginal returns the key of the WARC holding ref's record: the
// WARC of the capture ref names (ref.Slug, ref.CaptureID), in history/ if
// the article was captured again since, else its current one. A ref
// without them (an index entry of an earlier version) is located by the
// key it was written to (ref.WARC): that article's current WARC, then its
// earlier ones, newest first, the first holding the record. An article
// merged into another by `linkarc dedupe` keeps its captures in its own
// history, its last current one under the id its alias names
// (record.Alias.Current), where they are found too. Not found is
// ErrNoOriginal; err is otherwise the store's.
func LocateOriginal(ctx context.Context, st storage.Store, ref OriginalRef) (string, error) {
	slug, id := refCapture(ref)
	if !record.ValidSlug(slug) || id != "" && !record.ValidCaptureID(id) {
		return "", fmt.Errorf("%s: %w (no capture named)", ref.TargetURI, ErrNoOriginal)
	}
	if id != "" {
		// A capture in history stays there; the current one is the
		// capture only while meta.json says so.
		key := WARCKey(slug, id)
		if ok, err := exists(ctx, st, key); ok || err != nil {
			return key, err
		}
		m, err := record.ReadMeta(ctx, st, slug)
		switch {
		case storage.IsNotExist(err):
			if key, err := retiredCurrent(ctx, st, slug, id); key != "" || err != nil {
				return key, err
			}
			return "", fmt.Errorf("%s: %w (article %s has no capture %s)", ref.TargetURI, ErrNoOriginal, slug, id)
		case errors.Is(err, record.ErrUnreadable):
			return "", fmt.Errorf("%s: %w (article %s has no capture %s)", ref.TargetURI, ErrNoOriginal, slug, id)
		case err != nil:
			return "", err
		}
		if record.CaptureID(m.FetchedAt) != id || !slices.Contains(m.Files, WARCFile) {
			return "", fmt.Errorf("%s: %w (article %s has no capture %s)", ref.TargetURI, ErrNoOriginal, slug, id)
		}
		return WARCKey(slug, ""), nil
	}
	// No capture id: look for the record.
	keys := []string{WARCKey(slug, "")}
	m, err := record.ReadMeta(ctx, st, slug)
	if err == nil {
		for _, h := range slices.Backward(m.History) {
			if record.ValidCaptureID(h.CaptureID) {
				keys = append(keys, WARCKey(slug, h.CaptureID))
			}
		}
	} else if storage.IsNotExist(err) {
		// Merged away by linkarc dedupe: its captures are in its history.
		a, err := record.ReadAlias(ctx, st, slug)
		if err != nil && !storage.IsNotExist(err) && !errors.Is(err, record.ErrUnreadable) {
			return "", err
		}
		if err == nil {
			for _, c := range slices.Backward(a.Captures) {
				if record.ValidCaptureID(c.CaptureID) {
					keys = append(keys, WARCKey(slug, c.CaptureID))
				}
			}
		}
	} else if !errors.Is(err, record.ErrUnreadable) {
		return "", err
	}
	for _, key := range keys {
		ok, err := holdsRecord(ctx, st, key, ref)
		if err != nil {
			return "", err
		}
		if ok {
			return key, nil
		}
	}
	return "", fmt.Errorf("%s: %w (not in the WARCs of article %s)", ref.TargetURI, ErrNoOriginal, slug)
}

// retiredCurrent is the key of the WARC of capture id of an article that
// `linkarc dedupe` merged away, when id was its current capture then: the
// merge kept that capture in the article's own history, under the id its
// alias names (record.Alias.Current), which differs from id only when
// another capture had it. "" when slug has no alias or the capture is not
// that one.
func retiredCurrent(ctx context.Context, st storage.Store, slug, id string) (string, error) {
	a, err := record.ReadAlias(ctx, st, slug)
	if storage.IsNotExist(err) || errors.Is(err, record.ErrUnreadable) || err == nil && !record.ValidCaptureID(a.Current) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	m, err := record.ReadMetaKey(ctx, st, record.HistoryKey(slug, a.Current, record.MetaFile))
	switch {
	case storage.IsNotExist(err), errors.Is(err, record.ErrUnreadable):
		return "", nil
	case err != nil:
		return "", err
	}
	if record.CaptureID(m.FetchedAt) != id || !slices.Contains(m.Files, WARCFile) {
		return "", nil
	}
	return WARCKey(slug, a.Current), nil
}

// OpenOriginal opens the WARC holding ref's record (LocateOriginal) and
// returns it with its key.
func OpenOriginal(ctx context.Context, st storage.Store, ref OriginalRef) (io.ReadCloser, string, error) {
	key, err := LocateOriginal(ctx, st, ref)
	if err != nil {
		return nil, "", err
	}
	rc, err := st.Get(ctx, key)
	if storage.IsNotExist(err) {
		return nil, "", fmt.Errorf("%s: %w (%s is gone)", ref.TargetURI, ErrNoOriginal, key)
	}
	if err != nil {
		return nil, "", err
	}
	if slug, id := refCapture(ref); id != "" && key == WARCKey(slug, "") {
		// A capture of the article being written meanwhile copies this
		// one to history before it replaces the current WARC: if the copy
		// is there now, what was opened may be the next capture's.
		hist := WARCKey(slug, id)
		if ok, err := exists(ctx, st, hist); err != nil || ok {
			rc.Close()
			if err != nil {
				return nil, "", err
			}
			if rc, err = st.Get(ctx, hist); err != nil {
				return nil, "", err
			}
			return rc, hist, nil
		}
	}
	return rc, key, nil
}

// refCapture is the article and capture id ref names, from its WARC key
// for an entry of an earlier version.
func refCapture(ref OriginalRef) (slug, id string) {
	if ref.Slug != "" {
		return ref.Slug, ref.CaptureID
	}
	return parseWARCKey(ref.WARC)
}

// parseWARCKey reads the article and capture id out of a WARC's key:
// articles/<slug>/capture.warc.gz (id "") or
// articles/<slug>/history/<id>/capture.warc.gz.
func parseWARCKey(key string) (slug, id string) {
	rest, ok := strings.CutPrefix(key, record.ArticlesPrefix)
	if !ok {
		return "", ""
	}
	rest, ok = strings.CutSuffix(rest, "/"+WARCFile)
	if !ok {
		return "", ""
	}
	slug, hist, found := strings.Cut(rest, "/")
	if !found {
		return slug, ""
	}
	id, ok = strings.CutPrefix(hist, record.HistoryDir+"/")
	if !ok || strings.Contains(id, "/") {
		return "", ""
	}
	return slug, id
}

func exists(ctx context.Context, st storage.Store, key string) (bool, error) {
	_, err := st.Stat(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case storage.IsNotExist(err):
		return false, nil
	}
	return false, err
}

// holdsRecord reports whether the WARC at key holds ref's record in full:
// by record id, else a response at its target URI with its payload
// digest. A WARC that does not read to its end counts for what it held
// before.
func holdsRecord(ctx context.Context, st storage.Store, key string, ref OriginalRef) (bool, error) {
	rc, err := st.Get(ctx, key)
	if storage.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer rc.Close()
	rd := warc.NewReader(rc, warc.ReaderOptions{HeadersOnly: true})
	for {
		rec, err := rd.Next()
		if err != nil {
			return false, nil // io.EOF, or a WARC that does not read on
		}
		if rec.Type == "response" && (ref.RecordID != "" && rec.ID == ref.RecordID ||
			ref.RecordID == "" && rec.TargetURI() == ref.TargetURI && rec.Header.Get("WARC-Payload-Digest") == ref.PayloadDigest) {
			return true, nil
		}
		if err := rec.Close(); err != nil {
			return false, nil
		}
	}
}
