package archive

import (
	"fmt"
	"io"
	"sync"
	"time"

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
	Took      time.Duration
}

// Progress receives the run's progress. Implementations must be safe for
// concurrent use: articles finish on many goroutines.
type Progress interface {
	// Start announces how many articles the run will report.
	Start(total int)
	// Done reports one finished article.
	Done(ev Event)
	// Finish is called once, after the last Done.
	Finish()
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

func (noProgress) Start(int)  {}
func (noProgress) Done(Event) {}
func (noProgress) Finish()    {}

// plainProgress prints one line per article: greppable and stable.
type plainProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
}

func (p *plainProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
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
	if ev.Reason != "" {
		line += " (" + string(ev.Reason)
		if ev.Error != "" {
			line += ": " + ev.Error
		}
		line += ")"
	}
	fmt.Fprintln(p.w, line)
}

func (p *plainProgress) Finish() {}

// barProgress draws a live bar; failures are still printed above it, since a
// user watching a terminal wants to see what went wrong as it happens.
type barProgress struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("archiving"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("articles"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Done(ev Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return
	}
	if ev.Status != "ok" {
		p.bar.Clear()
		fmt.Fprintf(p.w, "%-7s %s %s (%s: %s)\n", ev.Status, ev.Slug, ev.URL, ev.Reason, ev.Error)
	}
	p.bar.Add(1)
}

func (p *barProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}
