package archive

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/schollz/progressbar/v3"
)

// Event is the outcome of one article, reported to a Progress as soon as it
// is known.
type Event struct {
	Slug      string
	Link      string // the link as the digest gives it
	URL       string // publisher URL
	Host      string
	Status    string        // record.StatusOK, StatusBlocked or StatusFailed
	Reason    record.Reason // machine reason when not ok
	Error     string        // human message when not ok
	Unchanged bool          // already archived: nothing was requested
	// Pending is set on a duplicate (another link to an article of the
	// run) whose article is not done yet: its own line comes later.
	Pending bool
	Took    time.Duration
}

// Progress receives the run's progress. Implementations must be safe for
// concurrent use: articles finish on many goroutines.
type Progress interface {
	// Start announces how many links the run will report, as soon as the
	// run begins.
	Start(total int)
	// Stage reports where the stages stand, whenever a count changes
	// (often: implementations throttle what they draw).
	Stage(s Stages)
	// Notice says something once about the whole run (Google cannot be
	// reached, say).
	Notice(msg string)
	// Done reports one finished link.
	Done(ev Event)
	// Finish is called once, after the last Done.
	Finish()
}

// Stages is where a run stands: links are resolved (those on Google News),
// fetched from their publishers, and stored, all at the same time.
type Stages struct {
	Total    int // links the run reports (Start's total)
	Google   int // Google News links among them
	Resolved int // Google News links answered (from the store, the id, the cache or Google), or given up
	// GoogleLeft is the expected time Google still needs at the
	// configured spacing (resolver.Resolver.ExpectedTime), as of At.
	GoogleLeft time.Duration
	At         time.Time
	Fetching   int // articles queued for their host or being fetched and stored
	Waiting    int // of Fetching, those still in their host's queue behind another page of the host
	Stored     int // links done: stored, already archived, merged or failed
}

// String is the stages in one line, GoogleLeft counted down to now.
func (s Stages) String() string {
	line := ""
	// Under --no-google most Google News links are answered at once (from
	// the id, the cache or the store) and GoogleLeft is 0: no time is
	// shown.
	if s.Google > 0 {
		line = fmt.Sprintf("resolving %d/%d", s.Resolved, s.Google)
		if s.Resolved < s.Google {
			if left := s.GoogleLeft - time.Since(s.At); left > 0 {
				line += fmt.Sprintf(" (~%s left at the Google spacing)", roughly(left))
			}
		}
		line += ", "
	}
	line += fmt.Sprintf("fetching %d", s.Fetching-s.Waiting)
	if s.Waiting > 0 {
		line += fmt.Sprintf(" (%d more waiting for their host's turn)", s.Waiting)
	}
	return line + fmt.Sprintf(", stored %d/%d", s.Stored, s.Total)
}

// roughly rounds an estimate to what is worth reading: tenths of a second
// below 10 s, seconds above.
func roughly(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// tracker keeps the run's Stages and reports every change.
type tracker struct {
	mu  sync.Mutex
	s   Stages
	p   Progress
	eta func(ids int) time.Duration
}

func newTracker(p Progress, eta func(int) time.Duration) *tracker {
	return &tracker{p: p, eta: eta}
}

// update changes the stages under the lock and reports them.
func (t *tracker) update(f func(*Stages)) {
	t.mu.Lock()
	f(&t.s)
	// Until the resolver says which ids need Google, every unanswered
	// Google News link might: an upper bound that settles within
	// milliseconds as the ids and the cache are read.
	t.s.GoogleLeft, t.s.At = t.eta(t.s.Google-t.s.Resolved), time.Now()
	s := t.s
	t.p.Stage(s) // under the lock: a later state is never drawn before an earlier one
	t.mu.Unlock()
}

// NewProgress returns the progress display for mode: "bar" (a live bar, for
// terminals), "plain" (one line per article, for logs and pipes) or "none".
func NewProgress(mode string, w io.Writer) (Progress, error) {
	switch mode {
	case "bar":
		return &barProgress{w: w}, nil
	case "plain":
		return &plainProgress{w: w}, nil
	case "none":
		return noProgress{}, nil
	}
	return nil, fmt.Errorf("progress mode %q: want auto, bar, plain or none", mode)
}

type noProgress struct{}

func (noProgress) Start(int)     {}
func (noProgress) Stage(Stages)  {}
func (noProgress) Notice(string) {}
func (noProgress) Done(Event)    {}
func (noProgress) Finish()       {}

// plainStageEvery is how often plain mode repeats the stages line while
// they change.
const plainStageEvery = 5 * time.Second

// plainProgress prints one line per article, and the stages when the run
// starts, every plainStageEvery while they change and when resolving is
// over: greppable and stable.
type plainProgress struct {
	mu        sync.Mutex
	w         io.Writer
	total     int
	n         int
	lastStage time.Time // zero: none printed yet
	last      Stages
	resolved  bool // the line saying resolving is over was printed
}

func (p *plainProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

func (p *plainProgress) Stage(s Stages) {
	p.mu.Lock()
	defer p.mu.Unlock()
	done := s.Google > 0 && s.Resolved == s.Google
	switch {
	case p.lastStage.IsZero() && s.Total > 0, done && !p.resolved,
		time.Since(p.lastStage) >= plainStageEvery && s != p.last:
	default:
		return
	}
	p.resolved = p.resolved || done
	p.lastStage, p.last = time.Now(), s
	fmt.Fprintln(p.w, "linkarc: "+s.String())
}

func (p *plainProgress) Notice(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, "linkarc: "+msg)
}

func (p *plainProgress) Done(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	status := ev.Status
	if ev.Unchanged {
		status = "cached"
	}
	line := fmt.Sprintf("[%d/%d] %-7s %s", p.n, p.total, status, ev.Slug)
	if ev.URL != "" {
		line += " " + ev.URL
	}
	if ev.Status == "duplicate" {
		// Printed when the link is planned, which may be before the
		// article it leads to is archived.
		if ev.Pending {
			line += " (another link to this article; archived once, its own line follows)"
		} else {
			line += " (another link to this article, archived once above)"
		}
	}
	if ev.Reason != "" {
		// Plain lines go to logs and pipes: the whole message, never cut.
		line += " (" + string(ev.Reason)
		if d := detail(ev); d != "" {
			line += ": " + d
		}
		line += ")"
	}
	fmt.Fprintln(p.w, line)
}

// detail says why an article is not ok, for people: the error, or, when
// the error only names the reason again ("the page is not the article:
// paywall_stub"), the reason's meaning (record.Reason.Meaning, the phrase
// the viewer shows too).
func detail(ev Event) string {
	if ev.Error == "" || strings.HasSuffix(ev.Error, string(ev.Reason)) {
		if m := ev.Reason.Meaning(); m != "" {
			return m
		}
	}
	return ev.Error
}

// quotedURL is a URL as net/http quotes it in its errors.
var quotedURL = regexp.MustCompile(`"(https?://[^"/]+)[^"]*"`)

// shortError is an error message as the terminal's bar prints it: URLs
// that net/http quotes cut to their scheme and host, and at most 200 bytes,
// cut between words. Plain lines, the report and meta.json keep the whole
// message.
func shortError(msg string) string {
	return textnorm.ShortenWords(quotedURL.ReplaceAllString(msg, `"$1/…"`), 200)
}

func (p *plainProgress) Finish() {}

// barProgress draws a live bar of the links done, described by the stages
// and redrawn every second (the Google estimate counts down); failures
// are printed above it, since a user watching a terminal wants to see
// what went wrong as it happens.
type barProgress struct {
	mu     sync.Mutex
	w      io.Writer
	bar    *progressbar.ProgressBar
	stages Stages
	done   int
	stop   chan struct{}
}

func (p *barProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(Stages{Total: total}.String()),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	p.bar.RenderBlank()
	p.stop = make(chan struct{})
	go p.tick(p.stop)
}

// tick redraws the bar every second until Finish.
func (p *barProgress) tick(stop chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.redraw()
			p.mu.Unlock()
		}
	}
}

// redraw describes the bar by the stages and draws it (p.mu held).
func (p *barProgress) redraw() {
	if p.bar == nil {
		return
	}
	p.bar.Describe(p.stages.String())
	if p.done == 0 {
		p.bar.RenderBlank()
	} else {
		p.bar.Add(0)
	}
}

func (p *barProgress) Stage(s Stages) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stages = s
	p.redraw()
}

func (p *barProgress) Notice(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, "linkarc: "+msg)
	p.redraw()
}

func (p *barProgress) Done(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return
	}
	if ev.Status != "ok" && ev.Status != "duplicate" {
		p.bar.Clear()
		fmt.Fprintf(p.w, "%-7s %s %s (%s: %s)\n", ev.Status, ev.Slug, ev.URL, ev.Reason, shortError(detail(ev)))
	}
	p.done++
	p.bar.Describe(p.stages.String())
	p.bar.Add(1)
}

func (p *barProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	if p.bar != nil {
		p.bar.Finish()
	}
}
