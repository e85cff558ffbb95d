package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// runResolve is `linkarc resolve`: flags and wiring; the work is
// resolver.Resolve.
//
// Output keeps one stdout line per input, in input order: the publisher URL,
// or an empty line when the input failed (the reason goes to stderr), so
// `paste` and `while read` pipelines stay aligned. --json prints one JSON
// object per input instead.
func runResolve(ctx context.Context, args []string, io stdio) int {
	fs, cfg := newFlagSet("resolve", "resolve [flags] [URL...|-]\n\n"+
		"Prints the publisher URL of each Google News link (or t.co/bit.ly/feed-proxy link), one line per\n"+
		"input in input order; a failed input prints an empty line and its reason on stderr, and a blank\n"+
		"input line a blank line (--json: a line with the note \"blank line\"). With no URL,\n"+
		"or '-', reads one URL per line from stdin. An input may lack its https:// (news.google.com/read/…) or\n"+
		"be share text holding one link (\"Title - Source (https://…)\"); what was ignored is noted on stderr.\n"+
		"Exit status: 0 all resolved, 1 some failed, 2 usage or configuration error, 3 Google rate-limited the\n"+
		"run (re-run later: resolved links are cached).", io)
	cfg.storeFlags(fs)
	cfg.networkFlags(fs)
	cfg.googleFlags(fs)
	jsonOut := fs.Bool("json", false,
		`print JSON Lines {"input","url","method","error","error_kind","note"} (+ "chain" for generic redirects) instead of bare URLs`)
	noCache := fs.Bool("no-cache", false,
		"neither read nor write the resolution cache in --store (every new-format link then costs Google requests)")
	if err := cfg.parse(fs, args, io.err); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		if f, ok := io.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			// Nothing would happen until the user typed: say so.
			fmt.Fprintln(io.err, "linkarc resolve: reading links from standard input, one per line; end with Ctrl-D (or name links as arguments: linkarc help resolve)")
		}
	}
	inputs, err := resolveInputs(fs.Args(), io.in)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc resolve:", err)
		return exitUsage
	}
	if len(inputs) == 0 {
		return exitOK
	}
	logger, err := cfg.logger(io.err)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc resolve:", err)
		return exitUsage
	}

	opts := cfg.resolverOptions(nil, logger)
	if *noCache {
		opts.Cache = resolver.NewMemoryCache()
	} else {
		store, err := cfg.openStore(ctx, io.getenv, storage.RetryOptions{}, logger)
		if err != nil {
			fmt.Fprintf(io.err, "linkarc resolve: %v (pass --no-cache to resolve without a store)\n", err)
			return exitUsage
		}
		opts.Cache = resolver.NewStoreCache(store)
	}
	res, err := resolver.New(opts)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc resolve:", err)
		return exitUsage
	}

	// Each result is printed as soon as it is known: --json lines as they
	// come (each carries its input's index), text lines in input order as
	// far as the results allow, so the output stays aligned with the input.
	// A blank line is an input too, answered by a blank line (a JSON line
	// with the note "blank line"), so that the output stays aligned; only
	// the others go to the resolver.
	p := &resolvePrinter{out: bufio.NewWriter(io.out), errw: io.err, json: *jsonOut,
		pending: map[int]resolver.Result{}}
	var links []string
	for i, in := range inputs {
		if in == "" {
			p.print(i, resolver.Result{Note: blankNote})
			continue
		}
		links = append(links, in)
		p.index = append(p.index, i)
	}
	res.Stream(ctx, links, resolver.Sink{Result: p.result})
	failed, limited, results := p.failed, p.limited, links
	if p.werr != nil {
		fmt.Fprintln(io.err, "linkarc resolve: writing output:", p.werr)
		return exitSomeFailed
	}

	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(io.err, "linkarc resolve: interrupted; %d of %s %s not resolved\n", failed, textnorm.Count(len(results), "input", "inputs"), textnorm.Plural(failed, "was", "were"))
		return exitInterrupted
	case res.RateLimited():
		spec, _ := cfg.storeSpec()
		resume := "re-run the same command later (Google's lockout often lasts an hour): links already resolved are cached in " + spec + ", so it resumes where this run stopped"
		if *noCache {
			resume = "re-run later; without --no-cache, resolved links would be cached and a re-run would resume where this run stopped"
		}
		fmt.Fprintf(io.err, "linkarc resolve: Google News rate-limited this run; %d of %s %s left unresolved (error_kind rate_limited). No further requests were sent to Google. To continue, %s.\n",
			limited, textnorm.Count(len(results), "input", "inputs"), textnorm.Plural(limited, "is", "are"), resume)
		return exitRateLimited
	case failed > 0:
		fmt.Fprintf(io.err, "linkarc resolve: %d of %s failed\n", failed, textnorm.Count(len(results), "input", "inputs"))
		return exitSomeFailed
	}
	return exitOK
}

// resolvePrinter prints results as resolver.Stream hands them on.
type resolvePrinter struct {
	out     *bufio.Writer
	errw    io.Writer
	json    bool
	index   []int                   // the input index of each link resolved (inputs without the blank lines)
	next    int                     // text mode: the next input index to print
	pending map[int]resolver.Result // text mode: results waiting for an earlier one
	failed  int
	limited int
	unreach bool // the unreachable notice was printed
	werr    error
}

func (p *resolvePrinter) result(i int, r resolver.Result) {
	if r.Note != "" {
		fmt.Fprintf(p.errw, "linkarc resolve: %s: note: %s\n", r.Input, r.Note)
	}
	if r.Err != nil {
		p.failed++
		var ue *resolver.UnreachableError
		switch {
		case r.Err.Kind == record.ReasonRateLimited:
			p.limited++
		case errors.As(r.Err, &ue):
			// Said once for all, with what to check.
			if !p.unreach {
				p.unreach = true
				fmt.Fprintf(p.errw, "linkarc resolve: %s; the links that need Google are left unresolved\n", ue.Error())
			}
		case r.Err.Kind != record.ReasonCanceled:
			fmt.Fprintf(p.errw, "linkarc resolve: %s: %s [%s]\n", r.Input, r.Err.Short(), r.Err.Kind)
		}
	}
	p.print(p.index[i], r)
}

// blankNote is the note of a blank input line in --json output.
const blankNote = "blank line: nothing to resolve"

// print writes the output line of input i: at once with --json, else in
// input order.
func (p *resolvePrinter) print(i int, r resolver.Result) {
	if p.json {
		writeJSONResult(p.out, i, r)
	} else {
		p.pending[i] = r
		for {
			r, ok := p.pending[p.next]
			if !ok {
				break
			}
			delete(p.pending, p.next)
			p.next++
			fmt.Fprintln(p.out, r.URL)
		}
	}
	if err := p.out.Flush(); err != nil && p.werr == nil {
		p.werr = err
	}
}

// resolveInputs gathers the inputs: the arguments, where "-" (or no
// argument at all) stands for the lines of stdin, trimmed. A blank line is
// an empty input, kept so that output lines match input lines.
func resolveInputs(args []string, stdin io.Reader) ([]string, error) {
	if len(args) == 0 {
		args = []string{"-"}
	}
	var inputs []string
	readStdin := false
	for _, a := range args {
		if a != "-" {
			inputs = append(inputs, a)
			continue
		}
		if readStdin {
			continue // stdin can only be read once
		}
		readStdin = true
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			inputs = append(inputs, strings.TrimSpace(sc.Text()))
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
	}
	return inputs, nil
}

// jsonResult is one line of --json output. Every key but chain is always
// present (empty when it does not apply), so consumers need no null checks.
type jsonResult struct {
	Index     int           `json:"index"` // the input's position, from 0: lines come as results are known
	Input     string        `json:"input"`
	URL       string        `json:"url"`
	Method    string        `json:"method"`
	Error     string        `json:"error"`
	ErrorKind record.Reason `json:"error_kind"`
	Note      string        `json:"note"` // what was ignored or assumed in the input; "" when nothing
	Chain     []string      `json:"chain,omitempty"`
}

func writeJSONResult(w io.Writer, i int, r resolver.Result) {
	j := jsonResult{Index: i, Input: r.Input, URL: r.URL, Method: r.Method, Note: r.Note, Chain: r.Chain}
	if r.Err != nil {
		j.Error, j.ErrorKind = r.Err.Error(), r.Err.Kind
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(j) // write errors surface at Flush
}
