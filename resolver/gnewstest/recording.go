package gnewstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Recording is one real decode captured from Google (testdata/google-news:
// the Step-1 page, the batchexecute answer and the link). The fake serves
// the page verbatim for its id and accepts its signature, which is Google's
// and not the fake's, as a special case, without expiry.
type Recording struct {
	SourceURL    string // the Google News link that was decoded
	ID           string
	TS           int64
	SG           string
	Page         []byte // the Step-1 page, byte for byte
	Response     []byte // the batchexecute answer, byte for byte (framing A, tag "generic")
	PublisherURL string // what Google answered
}

// Recording file names in testdata/google-news.
const (
	recordedPage     = "rss-articles-page.2026-09-23.html"
	recordedResponse = "batchexecute-single-ok.2026-09-23.txt"
	recordedSource   = "source-url.2026-09-23.txt"
)

var recordedPair = regexp.MustCompile(`data-n-a-ts="([0-9]+)" data-n-a-sg="([A-Za-z0-9_-]+)"`)

// LoadRecording reads the recorded decode from dir (the repository's
// testdata/google-news).
func LoadRecording(dir string) (*Recording, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load recording: %w", err)
		}
		return b, nil
	}
	src, err := read(recordedSource)
	if err != nil {
		return nil, err
	}
	rec := &Recording{SourceURL: strings.TrimSpace(string(src))}
	u, err := url.Parse(rec.SourceURL)
	if err != nil {
		return nil, fmt.Errorf("load recording: source URL: %w", err)
	}
	rec.ID = idFromPath(u.Path)
	if rec.Page, err = read(recordedPage); err != nil {
		return nil, err
	}
	m := recordedPair.FindSubmatch(rec.Page)
	if m == nil {
		return nil, fmt.Errorf("load recording: %s has no data-n-a-ts/data-n-a-sg pair", recordedPage)
	}
	rec.TS, _ = strconv.ParseInt(string(m[1]), 10, 64)
	rec.SG = string(m[2])
	if rec.Response, err = read(recordedResponse); err != nil {
		return nil, err
	}
	if rec.PublisherURL, err = recordedURL(rec.Response); err != nil {
		return nil, fmt.Errorf("load recording: %s: %w", recordedResponse, err)
	}
	if !bytes.Contains(rec.Page, []byte(`data-n-a-id="`+rec.ID+`"`)) {
		return nil, fmt.Errorf("load recording: the page is not for the id of %s", recordedSource)
	}
	return rec, nil
}

// recordedURL takes the URL out of a framing-A answer with one wrb.fr row.
func recordedURL(body []byte) (string, error) {
	_, rest, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return "", fmt.Errorf("no blank line after the guard")
	}
	var rows [][]json.RawMessage
	if err := json.Unmarshal(rest, &rows); err != nil || len(rows) == 0 || len(rows[0]) < 3 {
		return "", fmt.Errorf("not a framing-A answer: %v", err)
	}
	var payload string
	var inner []string
	if err := json.Unmarshal(rows[0][2], &payload); err != nil {
		return "", err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(payload), &raw); err != nil || len(raw) < 2 {
		return "", fmt.Errorf("payload: %v", err)
	}
	inner = make([]string, 2)
	for i := range inner {
		if err := json.Unmarshal(raw[i], &inner[i]); err != nil {
			return "", err
		}
	}
	return inner[1], nil
}
