package archive

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/archive/digest"
	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

// Report summarises a run. It is printed at the end of `linkarc archive` and
// written as JSON by --report, so scripts can act on what failed and why.
type Report struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`

	Digests      int             `json:"digests"`       // digests archived
	DigestErrors []DigestFailure `json:"digest_errors"` // digests skipped, with the reason
	// SkippedLinks lists the links of the digests that were not archived
	// (not http(s), repeated, a line of a URL list without a usable link),
	// in input order, each with its digest and why.
	SkippedLinks []SkippedLink `json:"skipped_links"`

	Articles  int                       `json:"articles"`  // distinct articles in the input
	Unchanged int                       `json:"unchanged"` // already ok in the store: no request made
	Counts    map[string]int            `json:"counts"`    // status -> articles (unchanged ones count as ok)
	ByReason  map[record.Reason]int     `json:"by_reason"` // reason -> articles not ok
	ByHost    map[string]map[string]int `json:"by_host"`   // host -> status -> articles
	Failures  []ArticleFailure          `json:"failures"`

	// RateLimited is set when Google refused further requests; Unresolved
	// links are left for a re-run.
	RateLimited bool `json:"rate_limited"`
	Unresolved  int  `json:"unresolved"`
	// GoogleUnreachable says why Google was not asked about the rest of
	// the links once it could not be reached (resolver.UnreachableAfter
	// failures in a row); those links failed with reason network.
	GoogleUnreachable string `json:"google_unreachable,omitempty"`
	// Interrupted is set when the run was stopped by a signal or deadline.
	Interrupted bool `json:"interrupted"`
	// Unfinished counts articles that were neither stored nor skipped.
	Unfinished int `json:"unfinished"`
	// Stopped says why the run stopped before its end (the store failed);
	// empty when it ran to the end or was interrupted.
	Stopped string `json:"stopped,omitempty"`
	// Unreadable lists the meta.json records found damaged
	// (record.ErrUnreadable), each kept in its article's history before
	// the article was captured again.
	Unreadable []string `json:"unreadable,omitempty"`
	// Leased lists the articles left to another run writing them at the
	// same time (see docs/storage.md, "Concurrent writers"); they count as
	// Unfinished.
	Leased []string `json:"leased,omitempty"`
	// Requisites sums the page requisites of the captures stored (see
	// record.RequisiteStats; Capped is unused); CappedPages counts the
	// captures that hit a per-page cap.
	Requisites  record.RequisiteStats `json:"requisites"`
	CappedPages int                   `json:"requisites_capped_pages"`

	mu              sync.Mutex
	unreadableSlugs map[string]bool
}

// DigestFailure names a digest that was skipped and why.
type DigestFailure struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// SkippedLink is a link of a digest that was not archived: its input's
// path ("-" for standard input, "" for URL arguments) and the link, the
// line or the text, with why (record.SkippedLink).
type SkippedLink struct {
	Digest string `json:"digest"`
	record.SkippedLink
}

// maxSkippedLines bounds the skipped links a summary lists; the rest are
// counted (and all are in the JSON report).
const maxSkippedLines = 20

// noteSkipped puts the links d could not use into the report and the log.
func (a *Archiver) noteSkipped(rep *Report, d *digest.Digest) {
	for _, s := range d.Skipped {
		a.log.Info("link skipped", "digest", d.Path, "url", s.URL, "text", s.Title, "reason", s.Reason)
		rep.SkippedLinks = append(rep.SkippedLinks, SkippedLink{Digest: d.Path, SkippedLink: s})
	}
}

// writeSkipped lists skipped links for people: where, what, why.
func writeSkipped(w io.Writer, links []SkippedLink) {
	if len(links) == 0 {
		return
	}
	fmt.Fprintf(w, "skipped links (not archived; correct the input and re-run to archive them):\n")
	for i, s := range links {
		if i == maxSkippedLines {
			fmt.Fprintf(w, "  … and %d more (every one is in --report's skipped_links and in the digest's record)\n", len(links)-i)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", skippedWhere(s), skippedWhat(s))
	}
}

// skippedWhere names the input of a skipped link, and its line when the
// reason gives one ("links.txt line 2").
func skippedWhere(s SkippedLink) string {
	where := cmp.Or(s.Digest, "(arguments)")
	if where == "-" {
		where = "(standard input)"
	}
	if rest, ok := strings.CutPrefix(s.Reason, "line "); ok {
		if n, _, ok := strings.Cut(rest, ": "); ok {
			where += " line " + n
		}
	}
	return where
}

// skippedWhat is the link (or the line) and why it was skipped.
func skippedWhat(s SkippedLink) string {
	reason := s.Reason
	if rest, ok := strings.CutPrefix(reason, "line "); ok {
		if _, why, ok := strings.Cut(rest, ": "); ok {
			reason = why
		}
	}
	what := s.URL
	switch {
	case what == "":
		what = strconv.Quote(s.Title)
	case s.Title != "" && s.Title != s.URL:
		what = fmt.Sprintf("%s (%q)", s.URL, s.Title)
	}
	return what + ": " + reason
}

// ArticleFailure names an article that was not stored as ok and why.
type ArticleFailure struct {
	Slug   string        `json:"slug"`
	URL    string        `json:"url"`
	Link   string        `json:"link"`
	Status string        `json:"status"`
	Reason record.Reason `json:"reason"`
	Error  string        `json:"error,omitempty"`
}

func newReport(start time.Time) *Report {
	return &Report{
		StartedAt: start,
		Counts:    map[string]int{record.StatusOK: 0, record.StatusBlocked: 0, record.StatusFailed: 0},
		ByReason:  map[record.Reason]int{},
		ByHost:    map[string]map[string]int{},
	}
}

// add records the outcome of one article.
func (r *Report) add(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Counts[ev.Status]++
	if ev.Unchanged {
		r.Unchanged++
	}
	host := ev.Host
	if host == "" {
		host = "(unresolved)"
	}
	if r.ByHost[host] == nil {
		r.ByHost[host] = map[string]int{}
	}
	r.ByHost[host][ev.Status]++
	if ev.Status != record.StatusOK {
		r.ByReason[ev.Reason]++
		r.Failures = append(r.Failures, ArticleFailure{
			Slug: ev.Slug, URL: ev.URL, Link: ev.Link, Status: ev.Status, Reason: ev.Reason, Error: ev.Error,
		})
	}
}

// addRequisites adds a stored capture's requisite counts.
func (r *Report) addRequisites(st *record.RequisiteStats) {
	if st == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.Requisites
	t.Found += st.Found
	t.Fetched += st.Fetched
	t.Deduplicated += st.Deduplicated
	t.FromStore += st.FromStore
	t.Failed += st.Failed
	t.Skipped += st.Skipped
	t.Bytes += st.Bytes
	if st.Capped != "" {
		r.CappedPages++
	}
}

// addUnreadable records a damaged meta.json once per slug; it reports
// whether this was the first time.
func (r *Report) addUnreadable(slug string, err error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unreadableSlugs == nil {
		r.unreadableSlugs = map[string]bool{}
	}
	if r.unreadableSlugs[slug] {
		return false
	}
	r.unreadableSlugs[slug] = true
	r.Unreadable = append(r.Unreadable, err.Error())
	return true
}

func (r *Report) setGoogleUnreachable(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.GoogleUnreachable = why
}

// OK reports whether every article and every digest ended ok.
func (r *Report) OK() bool {
	return len(r.DigestErrors) == 0 && r.Counts[record.StatusBlocked] == 0 &&
		r.Counts[record.StatusFailed] == 0 && r.Unfinished == 0 && !r.Interrupted
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.Slice(r.Failures, func(i, j int) bool { return r.Failures[i].Slug < r.Failures[j].Slug })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteSummary writes the human summary printed at the end of a run.
func (r *Report) WriteSummary(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	took := r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond)
	fmt.Fprintf(w, "\nlinkarc: %s, %s in %s: %d ok (%d already archived), %d blocked, %d failed\n",
		textnorm.Count(r.Digests, "digest", "digests"), textnorm.Count(r.Articles, "article", "articles"), took, r.Counts[record.StatusOK], r.Unchanged,
		r.Counts[record.StatusBlocked], r.Counts[record.StatusFailed])
	if q := r.Requisites; q.Found > 0 {
		fmt.Fprintf(w, "page requisites: %d fetched (%s), %d reused within this run, %d already archived by earlier runs, %d failed, %d skipped over a cap",
			q.Fetched, formatBytes(q.Bytes), q.InRun(), q.FromStore, q.Failed, q.Skipped)
		if r.CappedPages > 0 {
			fmt.Fprintf(w, " (%s a cap: see \"requisites\" in %s meta.json)", textnorm.Count(r.CappedPages, "page hit", "pages hit"), textnorm.Plural(r.CappedPages, "its", "their"))
		}
		fmt.Fprintln(w)
	}
	writeSkipped(w, r.SkippedLinks)
	if len(r.DigestErrors) > 0 {
		fmt.Fprintf(w, "skipped digests:\n")
		for _, d := range r.DigestErrors {
			fmt.Fprintf(w, "  %s: %s\n", d.Path, d.Reason)
		}
	}
	if len(r.ByReason) > 0 {
		fmt.Fprintf(w, "not ok, by reason:\n")
		for _, k := range sortedKeys(r.ByReason) {
			fmt.Fprintf(w, "  %-22s %d\n", k, r.ByReason[k])
		}
	}
	var bad []string
	for _, h := range sortedKeys(r.ByHost) {
		c := r.ByHost[h]
		if c[record.StatusBlocked]+c[record.StatusFailed] > 0 {
			bad = append(bad, fmt.Sprintf("  %-30s ok %d, blocked %d, failed %d", h, c[record.StatusOK], c[record.StatusBlocked], c[record.StatusFailed]))
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(w, "hosts with problems:\n%s\n", strings.Join(bad, "\n"))
	}
	if len(r.Unreadable) > 0 {
		fmt.Fprintf(w, "unreadable records, kept in history and captured again:\n")
		for _, u := range r.Unreadable {
			fmt.Fprintf(w, "  %s\n", u)
		}
	}
	if r.GoogleUnreachable != "" {
		fmt.Fprintf(w, "%s; the links that need Google were not resolved. Re-run the same command once it is fixed.\n", r.GoogleUnreachable)
	}
	if len(r.Leased) > 0 {
		fmt.Fprintf(w, "left to another run archiving into the same store (re-run to finish them):\n")
		for _, l := range r.Leased {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if r.RateLimited {
		fmt.Fprintf(w, "Google rate-limited this run: %s still unresolved. Re-run the same command later to resume; resolved links are cached.\n", textnorm.Count(r.Unresolved, "link is", "links are"))
	}
	if n := r.ByReason[record.ReasonGoogleDisabled]; n > 0 {
		fmt.Fprintf(w, "%s Google, which --no-google forbade asking; run once without --no-google to resolve %s (resolved links are cached).\n", textnorm.Count(n, "link needs", "links need"), textnorm.Plural(n, "it", "them"))
	}
	if r.Interrupted {
		fmt.Fprintf(w, "interrupted: %s unfinished; re-run the same command to resume.\n", textnorm.Count(r.Unfinished, "article", "articles"))
	}
	if r.Stopped != "" {
		fmt.Fprintf(w, "%s\n%s unfinished; once the store works again, re-run the same command to resume.\n", r.Stopped, textnorm.Count(r.Unfinished, "article", "articles"))
	}
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// formatBytes renders a byte count for people: "512 B", "3.4 MiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
