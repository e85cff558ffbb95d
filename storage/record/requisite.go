package record

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// requisiteCacheDir is where the index of archived page requisites lives.
const requisiteCacheDir = CachePrefix + "requisites/"

// RequisiteKey returns the store key of the index entry of a page
// requisite (a stylesheet, image or font some capture fetched in full):
// "cache/requisites/<sha256 hex of the URL>.json".
func RequisiteKey(url string) string {
	return hashedKey(requisiteCacheDir, url)
}

// RequisiteEntry is the index entry of a page requisite archived in full,
// at RequisiteKey(URL): later captures that need the same URL write a
// WARC revisit record referring to it instead of fetching it again.
type RequisiteEntry struct {
	URL string `json:"url"`
	// RecordID, TargetURI, Date and PayloadDigest identify the WARC
	// response record holding the payload (WARC-Record-ID,
	// WARC-Target-URI, WARC-Date, WARC-Payload-Digest): what a revisit
	// names in WARC-Refers-To, WARC-Refers-To-Target-URI and
	// WARC-Refers-To-Date.
	RecordID      string    `json:"record_id"`
	TargetURI     string    `json:"target_uri"`
	Date          time.Time `json:"date"`
	PayloadDigest string    `json:"payload_digest"`
	// WARC is the key of the WARC file the record was written to, when it
	// was written (articles/<slug>/capture.warc.gz; a later capture of
	// that article moves it under history/). Use Slug and CaptureID to
	// find it (archive/stored.OpenOriginal); WARC is kept for entries
	// written before them.
	WARC string `json:"warc"`
	// Slug and CaptureID name the capture whose WARC holds the record:
	// the article and the capture's id (CaptureID of its fetched_at),
	// which stay true when the capture moves to history/. Empty in entries
	// of earlier versions.
	Slug        string `json:"slug,omitempty"`
	CaptureID   string `json:"capture_id,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size"`
	// Children are the URLs a stylesheet references (@import, fonts,
	// images), with their kinds, so that a capture reusing the stylesheet
	// finds them without reading it again.
	Children []RequisiteChild `json:"children,omitempty"`
	// Previous are the records this entry named before the requisite was
	// fetched again (--refresh-requisites), newest first, at most
	// MaxRequisitePrevious: revisits written by earlier captures still
	// refer to them.
	Previous []RequisiteOrigin `json:"previous,omitempty"`
}

// MaxRequisitePrevious bounds RequisiteEntry.Previous.
const MaxRequisitePrevious = 16

// RequisiteOrigin is where a WARC record of a requisite is: its record id
// and payload digest, and the capture holding it (as in RequisiteEntry).
type RequisiteOrigin struct {
	RecordID      string    `json:"record_id"`
	TargetURI     string    `json:"target_uri"`
	Date          time.Time `json:"date"`
	PayloadDigest string    `json:"payload_digest"`
	WARC          string    `json:"warc,omitempty"`
	Slug          string    `json:"slug,omitempty"`
	CaptureID     string    `json:"capture_id,omitempty"`
}

// Origin is where the entry's record is.
func (e RequisiteEntry) Origin() RequisiteOrigin {
	return RequisiteOrigin{RecordID: e.RecordID, TargetURI: e.TargetURI, Date: e.Date, PayloadDigest: e.PayloadDigest,
		WARC: e.WARC, Slug: e.Slug, CaptureID: e.CaptureID}
}

// Origins are the entry's record and its previous ones, newest first.
func (e RequisiteEntry) Origins() []RequisiteOrigin {
	return append([]RequisiteOrigin{e.Origin()}, e.Previous...)
}

// MaxRequisiteEntrySize bounds an index entry read back.
const MaxRequisiteEntrySize = 1 << 20

// ReadRequisite reads the index entry of a requisite URL. A missing entry
// is storage.IsNotExist; one that does not read, or is not about url, is
// ErrUnreadable.
func ReadRequisite(ctx context.Context, st storage.Store, url string) (RequisiteEntry, error) {
	key := RequisiteKey(url)
	rc, err := st.Get(ctx, key)
	if err != nil {
		return RequisiteEntry{}, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxRequisiteEntrySize+1))
	if err != nil {
		return RequisiteEntry{}, fmt.Errorf("read %s: %w", key, err)
	}
	var ent RequisiteEntry
	if len(data) > MaxRequisiteEntrySize {
		return RequisiteEntry{}, fmt.Errorf("%s: %w: larger than %d bytes", key, ErrUnreadable, MaxRequisiteEntrySize)
	}
	if err := json.Unmarshal(data, &ent); err != nil {
		return RequisiteEntry{}, fmt.Errorf("%s: %w: %v", key, ErrUnreadable, err)
	}
	if ent.URL != url || ent.PayloadDigest == "" || ent.TargetURI == "" || ent.Date.IsZero() {
		return RequisiteEntry{}, fmt.Errorf("%s: %w: not an entry for %s", key, ErrUnreadable, url)
	}
	return ent, nil
}

// RequisiteChild is one reference of a stylesheet.
type RequisiteChild struct {
	URL  string `json:"url"`
	Kind string `json:"kind"`
}

// RequisiteStats is what a capture's page requisites came to, in
// meta.json's "requisites".
type RequisiteStats struct {
	Found        int   `json:"found"`        // distinct requisites named by the page and its stylesheets
	Fetched      int   `json:"fetched"`      // fetched in full
	Deduplicated int   `json:"deduplicated"` // not fetched: met earlier in the run or in the store (a WARC revisit)
	FromStore    int   `json:"from_store"`   // of Deduplicated, those an earlier run archived (the store's requisite index); see InRun
	Failed       int   `json:"failed"`       // not fetched: an error (404, robots.txt, SSRF guard, too large…)
	Skipped      int   `json:"skipped"`      // not fetched: over a cap
	Bytes        int64 `json:"bytes"`        // bytes fetched
	// Capped names the per-page cap that was hit: "count", "bytes",
	// "css" (a stylesheet over its parse bounds), "import_depth", "time"
	// (the page's time for requisites ran out) or "failing_host" (a host
	// given up for the run after failing requisites in a row); several
	// are joined by commas. Empty when none was.
	Capped string `json:"capped,omitempty"`
}

// InRun is the revisits of requisites fetched earlier in the same run, for
// another page: Deduplicated less FromStore. Records made before
// FromStore existed count every revisit here.
func (s RequisiteStats) InRun() int { return s.Deduplicated - s.FromStore }
