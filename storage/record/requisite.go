package record

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// requisiteCacheDir is where the index of archived page requisites lives.
const requisiteCacheDir = CachePrefix + "requisites/"

// RequisiteKey returns the store key of the index entry of a page
// requisite (a stylesheet, image or font some capture fetched in full):
// "cache/requisites/<sha256 hex of the URL>.json".
func RequisiteKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return requisiteCacheDir + hex.EncodeToString(sum[:]) + ".json"
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
	// that article moves it under history/).
	WARC        string `json:"warc"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size"`
	// Children are the URLs a stylesheet references (@import, fonts,
	// images), with their kinds, so that a capture reusing the stylesheet
	// finds them without reading it again.
	Children []RequisiteChild `json:"children,omitempty"`
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
	Failed       int   `json:"failed"`       // not fetched: an error (404, robots.txt, SSRF guard, too large…)
	Skipped      int   `json:"skipped"`      // not fetched: over a cap
	Bytes        int64 `json:"bytes"`        // bytes fetched
	// Capped names the per-page cap that was hit: "count", "bytes",
	// "css" (a stylesheet over its parse bounds) or "import_depth";
	// several are joined by commas. Empty when none was.
	Capped string `json:"capped,omitempty"`
}
