package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/linkarc/linkarc/internal/procpool"
	"github.com/linkarc/linkarc/storage/record"
)

// Result is a page's extraction and junk verdict, as the pipeline needs
// them.
type Result struct {
	Extraction
	// Junk is DetectJunk's verdict, "" when the page is the article.
	Junk record.Reason
	// Bounded says the page was over the budget of Extract and the text
	// comes from ExtractBounded.
	Bounded bool
}

// run extracts page with x (Extract or ExtractBounded) and judges it
// with DetectJunk: what InProcess and the workers of a Pool do with a
// page.
func run(page Page, x func([]byte, *url.URL) (*Extraction, error), bounded bool) (*Result, error) {
	u, err := url.Parse(page.FinalURL)
	if err != nil {
		u = nil
	}
	ex, err := x(page.Body, u)
	if err != nil {
		return nil, err
	}
	reason, _ := DetectJunk(page, ex)
	return &Result{Extraction: *ex, Junk: reason, Bounded: bounded}, nil
}

// InProcess extracts pages in the calling process, with no budget: a
// hostile page can take as long and as much memory as Extract needs (tens
// of seconds and gigabytes, see docs/extraction.md). It is for library
// users and tests that extract trusted pages or do not want processes;
// linkarc archive uses a Pool.
type InProcess struct{}

// Extract extracts and judges page: Extract, then DetectJunk. ctx is not
// consulted (extraction cannot be interrupted in process).
func (InProcess) Extract(_ context.Context, page Page) (*Result, error) {
	return run(page, Extract, false)
}

// Names of the jobs extraction workers serve (Handlers).
const (
	JobExtract = "extract"         // Run: Extract, then DetectJunk
	JobBounded = "extract-bounded" // the same with ExtractBounded
)

// Handlers are the jobs of an extraction worker: JobExtract and
// JobBounded. A program that starts a Pool serves them when it is started
// as a worker (procpool.ServeWorker(extract.Handlers())), before it does
// anything else.
func Handlers() procpool.Handlers {
	return procpool.Handlers{
		JobExtract: func(in []byte) ([]byte, error) { return serve(in, Extract, false) },
		JobBounded: func(in []byte) ([]byte, error) { return serve(in, ExtractBounded, true) },
	}
}

// The wire format of a job: the page's final URL, a newline, the URL
// asked for, a newline, the page.
// The answer is a wireResult as JSON: the handler never fails for a page
// (its errors are part of the answer, ErrTooComplex kept apart), so a
// procpool handler error means a broken worker, not a broken page.
type wireResult struct {
	Result     *Result `json:",omitempty"`
	Err        string  `json:",omitempty"`
	TooComplex bool    `json:",omitempty"`
}

// encodeJob is a job in that wire format, as two parts: the URLs, and
// the page itself, which (up to --max-body) is never copied to be sent.
func encodeJob(page Page, body []byte) [][]byte {
	head := make([]byte, 0, len(page.FinalURL)+len(page.URL)+2)
	head = append(head, page.FinalURL...)
	head = append(head, '\n')
	head = append(head, page.URL...)
	head = append(head, '\n')
	return [][]byte{head, body}
}

func serve(in []byte, x func([]byte, *url.URL) (*Extraction, error), bounded bool) ([]byte, error) {
	finalURL, rest, _ := bytes.Cut(in, []byte("\n"))
	asked, body, _ := bytes.Cut(rest, []byte("\n"))
	res, err := run(Page{Body: body, FinalURL: string(finalURL), URL: string(asked)}, x, bounded)
	w := wireResult{Result: res}
	if err != nil {
		w.Err, w.TooComplex = err.Error(), errors.Is(err, ErrTooComplex)
	}
	// Without HTML escaping: the readable HTML would grow up to sixfold.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeResult(out []byte) (*Result, error) {
	var w wireResult
	if err := json.Unmarshal(out, &w); err != nil {
		return nil, fmt.Errorf("extract: worker answer: %w", err)
	}
	switch {
	case w.TooComplex:
		return nil, &tooComplexError{w.Err}
	case w.Err != "":
		return nil, errors.New(w.Err)
	case w.Result == nil:
		return nil, errors.New("extract: worker answered nothing")
	}
	return w.Result, nil
}

// tooComplexError is ErrTooComplex with its detail, from a worker.
type tooComplexError struct{ detail string }

func (e *tooComplexError) Error() string { return e.detail }
func (e *tooComplexError) Unwrap() error { return ErrTooComplex }

// Defaults of PoolOptions (issue 10). A page of the benchmark takes
// 4-40 ms and at most ~100 MB in a worker whose baseline is ~90 MB (the
// date parser's tables); the hostile pages that need more take tens of
// seconds and gigabytes, so budgets far above real pages cost nothing.
const (
	DefaultTimeout = 20 * time.Second
	DefaultMemory  = 512 << 20 // bytes
)

// PoolOptions configure a Pool. The zero value of a field means its
// Default.
type PoolOptions struct {
	// Workers is the number of worker processes, hence of pages extracted
	// at once. Default runtime.GOMAXPROCS(0).
	Workers int
	// Timeout is each page's wall-clock budget, for Extract and again for
	// ExtractBounded. Default DefaultTimeout.
	Timeout time.Duration
	// Memory is each worker's memory budget in bytes (its whole RSS, the
	// worker's ~90 MB baseline included). Default DefaultMemory.
	Memory int64
	// Command starts a worker: a program that calls
	// procpool.ServeWorker(Handlers()) first thing (linkarc's is its
	// hidden worker subcommand). Default: this executable with no
	// arguments (see procpool.Options.Command).
	Command []string
	// Env is added to the workers' environment.
	Env []string
	// Logger gets a line for each page over its budget. Default: discard.
	Logger *slog.Logger
}

// Pool extracts pages in worker processes (internal/procpool), each page
// under a time and memory budget enforced from outside: no page can take
// the caller down, whatever it makes the extractors do. A page over the
// budget of Extract (killed for time or memory, or a crash of its worker)
// is extracted again by ExtractBounded with the same budget; when that
// fails too, Extract's error wraps ErrTooComplex. Its methods may be
// called from any number of goroutines.
type Pool struct {
	p   *procpool.Pool
	log *slog.Logger
}

// NewPool starts a pool; its workers start with the first pages and stop
// at Close or when ctx is done (a busy one is killed).
func NewPool(ctx context.Context, opts PoolOptions) *Pool {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Memory == 0 {
		opts.Memory = DefaultMemory
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pool{
		p: procpool.New(ctx, procpool.Options{
			Size:    opts.Workers,
			Timeout: opts.Timeout,
			Memory:  opts.Memory,
			Command: opts.Command,
			Env:     opts.Env,
			// A page is at most the fetcher's body cap (16 MiB by
			// default); the answer holds its text and readable HTML, each
			// at most a few times the page.
			MaxInput:  256 << 20,
			MaxOutput: 256 << 20,
		}),
		log: opts.Logger,
	}
}

// Extract extracts and judges page in a worker: Run, or the same with
// ExtractBounded when the page is over the budget of Extract. The error
// wraps ErrTooComplex when the bounded path failed too or refused the
// page; ctx's error when ctx ended first (the worker is killed); else it
// says why the page could not be extracted, or that no worker could be
// started.
func (p *Pool) Extract(ctx context.Context, page Page) (*Result, error) {
	res, err := p.do(ctx, JobExtract, page, page.Body)
	if err == nil || !procpool.OverBudget(err) {
		return res, err
	}
	p.log.Warn("extract: page over the extraction budget; trying the bounded extraction",
		"url", page.FinalURL, "bytes", len(page.Body), "err", err)
	first := err
	res, err = p.do(ctx, JobBounded, page, page.Body[:min(len(page.Body), BoundedPrefix)])
	switch {
	case err == nil:
		return res, nil
	case procpool.OverBudget(err):
		return nil, fmt.Errorf("extract: %w: the extraction was %s, the bounded extraction %s", ErrTooComplex, short(first), short(err))
	case errors.Is(err, ErrTooComplex):
		return nil, fmt.Errorf("%w; the full extraction was %s", err, short(first))
	}
	return nil, err
}

// do runs one job and decodes its answer.
func (p *Pool) do(ctx context.Context, job string, page Page, body []byte) (*Result, error) {
	r, err := p.p.Do(ctx, job, encodeJob(page, body)...)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		var pe *procpool.Error
		if errors.As(err, &pe) && pe.Kind == procpool.KindStart {
			return nil, fmt.Errorf("extract: no extraction worker: %w", err)
		}
		return nil, err
	}
	return decodeResult(r.Out)
}

// short is a budget error as a page's record shows it: what happened and
// after how long, without the pool's prefix.
func short(err error) string {
	var pe *procpool.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	s := pe.Kind.String()
	if pe.Elapsed > 0 {
		s += fmt.Sprintf(" after %.1fs", pe.Elapsed.Seconds())
	}
	if pe.Detail != "" {
		s += " (" + pe.Detail + ")"
	}
	return s
}

// Stats are the pool's counters (procpool.Stats).
func (p *Pool) Stats() procpool.Stats { return p.p.Stats() }

// Close stops the workers, killing busy ones, and waits for them.
func (p *Pool) Close() error { return p.p.Close() }
