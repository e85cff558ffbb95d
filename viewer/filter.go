package viewer

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linkarc/linkarc/storage/record"
)

// Tags are the digests' front-matter categories and tags and their items'
// own (record.DigestArticle.Tags), taken as one vocabulary: a tag is
// matched without regard to case, and shown as first spelled.
const (
	maxTagBytes      = 100 // longer tags are cut (at a character boundary)
	maxTagsPerDigest = 64  // tags after these are ignored
)

// cleanTag returns a tag as shown: spaces collapsed, cut to maxTagBytes,
// valid UTF-8; "" for a tag that is empty.
func cleanTag(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
	for len(s) > maxTagBytes {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return strings.TrimSpace(s)
}

// tagKey is the form tags are compared in.
func tagKey(s string) string { return strings.ToLower(cleanTag(s)) }

// tagSet collects tags, unique by tagKey, in the order first seen.
type tagSet struct {
	list []string
	keys map[string]bool
	max  int // 0: no limit
}

func (ts *tagSet) add(tags ...string) {
	for _, t := range tags {
		if ts.max > 0 && len(ts.list) >= ts.max {
			return
		}
		t = cleanTag(t)
		k := strings.ToLower(t)
		if k == "" || ts.keys[k] {
			continue
		}
		if ts.keys == nil {
			ts.keys = map[string]bool{}
		}
		ts.keys[k] = true
		ts.list = append(ts.list, t)
	}
}

// digestTags returns a digest's own tags: front-matter categories, then
// tags.
func digestTags(d *record.DigestRecord) []string {
	ts := tagSet{max: maxTagsPerDigest}
	ts.add(d.FrontMatter.Categories...)
	ts.add(d.FrontMatter.Tags...)
	return ts.list
}

// Sort orders of a digest list.
const (
	sortNewest = "newest" // by date, newest first (the default)
	sortOldest = "oldest"
	sortTitle  = "title"
)

// digestFilter selects and orders digests: the query parameters of the
// home page, /tags/NAME and /api/digests.
//
//	tag=NAME         digests with that tag, their own or one of their items'
//	publisher=NAME   digests listing an article of that publisher
//	status=S         digests with at least one article of status S (ok, blocked, failed)
//	from=YYYY-MM-DD  digests dated that day or later (their date, else when archived)
//	to=YYYY-MM-DD    digests dated that day or earlier
//	sort=newest|oldest|title
type digestFilter struct {
	Tag, Publisher, Status string
	From, To               string // as given, validated
	Sort                   string // "" is sortNewest

	from, to time.Time // To is the end of its day
}

// parseDigestFilter reads a digestFilter from a query. Bad values are an
// errBadQuery saying what is accepted.
func parseDigestFilter(q url.Values) (digestFilter, error) {
	f := digestFilter{
		Tag:       cleanTag(q.Get("tag")),
		Publisher: strings.Join(strings.Fields(q.Get("publisher")), " "),
		Status:    strings.ToLower(strings.TrimSpace(q.Get("status"))),
		From:      strings.TrimSpace(q.Get("from")),
		To:        strings.TrimSpace(q.Get("to")),
		Sort:      strings.ToLower(strings.TrimSpace(q.Get("sort"))),
	}
	switch f.Status {
	case "", record.StatusOK, record.StatusBlocked, record.StatusFailed:
	default:
		return f, fmt.Errorf("%w: status must be ok, blocked or failed", errBadQuery)
	}
	switch f.Sort {
	case sortNewest:
		f.Sort = ""
	case "", sortOldest, sortTitle:
	default:
		return f, fmt.Errorf("%w: sort must be newest, oldest or title", errBadQuery)
	}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"from", f.From, &f.from}, {"to", f.To, &f.to}} {
		if d.in == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.in)
		if err != nil {
			return f, fmt.Errorf("%w: %s must be a date like 2024-03-31", errBadQuery, d.name)
		}
		*d.out = t
	}
	if !f.to.IsZero() {
		f.to = f.to.Add(24*time.Hour - time.Nanosecond)
	}
	if !f.from.IsZero() && !f.to.IsZero() && f.to.Before(f.from) {
		return f, fmt.Errorf("%w: to is before from", errBadQuery)
	}
	return f, nil
}

// Active reports whether f selects anything less than every digest.
func (f digestFilter) Active() bool {
	return f.Tag != "" || f.Publisher != "" || f.Status != "" || f.From != "" || f.To != ""
}

func (f digestFilter) match(d *digestSummary) bool {
	switch {
	case f.Tag != "" && !slices.Contains(d.tagKeys, strings.ToLower(f.Tag)):
		return false
	case f.Publisher != "" && !slices.Contains(d.publisherKeys, strings.ToLower(f.Publisher)):
		return false
	case f.Status == record.StatusOK && d.OK == 0,
		f.Status == record.StatusBlocked && d.Blocked == 0,
		f.Status == record.StatusFailed && d.Failed == 0:
		return false
	case !f.from.IsZero() && d.when.Before(f.from):
		return false
	case !f.to.IsZero() && d.when.After(f.to):
		return false
	}
	return true
}

// apply returns the digests of list (newest first, as the catalog keeps
// them) that f selects, in f's order. list is not modified.
func (f digestFilter) apply(list []digestSummary) []digestSummary {
	if !f.Active() && f.Sort == "" {
		return list
	}
	out := make([]digestSummary, 0, len(list))
	for i := range list {
		if f.match(&list[i]) {
			out = append(out, list[i])
		}
	}
	switch f.Sort {
	case sortOldest:
		slices.Reverse(out)
	case sortTitle:
		slices.SortStableFunc(out, func(a, b digestSummary) int {
			return cmp.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		})
	}
	return out
}

// query is f as query parameters, for links to other pages of a list.
// without names a parameter to leave out (the tag of a /tags/NAME page).
func (f digestFilter) query(without string) url.Values {
	q := url.Values{}
	for _, p := range []struct{ k, v string }{
		{"tag", f.Tag}, {"publisher", f.Publisher}, {"status", f.Status},
		{"from", f.From}, {"to", f.To}, {"sort", f.Sort},
	} {
		if p.v != "" && p.k != without {
			q.Set(p.k, p.v)
		}
	}
	return q
}
