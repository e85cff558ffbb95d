// Command linkarc archives folders of news digests: it resolves Google News
// links to publisher URLs, fetches and extracts the articles politely, stores
// them in a local directory or S3, and serves them in a read-only viewer.
//
// This package holds flags and wiring only, one file per subcommand
// (archive.go, resolve.go, serve.go, export.go, reextract.go, dedupe.go,
// healthcheck.go, completion.go, and worker.go for the hidden one
// extraction workers run), the table of commands and the help (main.go),
// and the flag groups they share (flags.go); every behaviour, and every
// default, lives in the archive, resolver, storage and viewer packages.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/linkarc/linkarc/internal/buildinfo"
)

// Exit statuses shared by every subcommand (documented in the README).
const (
	exitOK          = 0 // everything asked for was done
	exitSomeFailed  = 1 // some inputs failed; the rest were done
	exitUsage       = 2 // bad flags, arguments or configuration
	exitRateLimited = 3 // Google rate-limited us; a re-run resumes
	exitInterrupted = 130
)

// command is one subcommand: the table below is the one list that
// dispatch, help, the usage text and the completion scripts are made from.
type command struct {
	name    string
	args    string // what follows the name in a synopsis
	summary string // one line, for the list of commands
	run     func(ctx context.Context, args []string, io stdio) int
	// help prints the command's help to w, for commands without a flag set
	// (the others print theirs through their flag set: see config.parse).
	help func(w io.Writer)
	// positional says what the command's arguments are, for completion:
	// "files" (paths), "commands" (a command name), a list of words, or
	// "" for none a shell can complete.
	positional string
}

// commands is the table of subcommands, in the order the usage lists them.
func commands() []command {
	return []command{
		{name: "archive", args: "[flags] DIR|FILE|URL|-...", summary: "archive every article linked from digests, feeds, bookmarks or URLs",
			run: runArchive, positional: "files"},
		{name: "resolve", args: "[flags] [URL...|-]", summary: "print the publisher URL of each link",
			run: runResolve},
		{name: "serve", args: "[flags]", summary: "browse the archive in a web viewer",
			run: runServe},
		{name: "export", args: "--format digests|jsonl|site|wacz --out PATH [flags]", summary: "write the archive, or part of it, as digests, JSON Lines, a static site or a WACZ",
			run: runExport},
		{name: "reextract", args: "[flags]", summary: "rebuild readable text, metadata and verdicts of stored captures, without a request",
			run: runReextract},
		{name: "dedupe", args: "[--dry-run] [flags]", summary: "merge the articles that hold one publisher URL (archived twice by older versions)",
			run: runDedupe},
		{name: "healthcheck", args: "URL", summary: "exit 0 if URL answers 200 (for container health checks)",
			run: runHealthcheck, help: healthcheckHelp},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script",
			run: runCompletion, help: completionHelp, positional: "bash zsh fish"},
		{name: "version", args: "", summary: "print the version and the revision it was built from",
			run: runVersion, help: versionHelp},
		{name: "help", args: "[COMMAND]", summary: "print this list, or the help of a command",
			run: runHelp, help: helpHelp, positional: "commands"},
	}
}

// lookup finds a command by name.
func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// writeUsage prints the list of commands.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "linkarc: archive news digests and resolve Google News links.\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  linkarc %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'linkarc help COMMAND' (or 'linkarc COMMAND -help') for the flags of a command.\n"+
		"Flags may come before or after the inputs; every argument after a bare -- is an input, even one\n"+
		"spelled like a flag (linkarc archive -- --odd-name.md).\n"+
		"Every flag can also be set by the environment variable named in its help.\n")
}

// stdio bundles what a subcommand may touch of the process, so that tests
// can run subcommands in-process.
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
	// flagsOnly, when set, receives the command's flag set instead of the
	// command running: the command registers its flags and returns at once
	// (how help and the completion scripts learn every command's flags).
	flagsOnly func(*flag.FlagSet)
}

func main() {
	// An extraction worker started by `linkarc archive` serves its jobs
	// first thing: before signal handling, flags or the environment.
	if isWorker(os.Args) {
		serveWorker() // never returns
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handling: a second
		// Ctrl-C ends the process at once if the orderly stop hangs.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv}))
}

// run dispatches to a subcommand and returns the process exit status.
func run(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 {
		writeUsage(io.err)
		return exitUsage
	}
	switch args[0] {
	case "-version", "--version":
		return runVersion(ctx, args[1:], io)
	case "-h", "-help", "--help":
		return runHelp(ctx, args[1:], io)
	}
	c, ok := lookup(args[0])
	if !ok {
		msg := fmt.Sprintf("linkarc: unknown command %q", args[0])
		if s := closest(args[0], commandNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		fmt.Fprintf(io.err, "%s\nRun 'linkarc help' for the list of commands.\n", msg)
		return exitUsage
	}
	return c.run(ctx, args[1:], io)
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

// runHelp is `linkarc help [COMMAND]`: the list of commands, or one
// command's help, on stdout.
func runHelp(ctx context.Context, args []string, io stdio) int {
	switch len(args) {
	case 0:
		writeUsage(io.out)
		return exitOK
	case 1:
	default:
		fmt.Fprintln(io.err, "linkarc help: name one command, e.g. 'linkarc help archive'")
		return exitUsage
	}
	c, ok := lookup(args[0])
	if !ok {
		msg := fmt.Sprintf("linkarc help: unknown command %q", args[0])
		if s := closest(args[0], commandNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		fmt.Fprintf(io.err, "%s; the commands are %s\n", msg, strings.Join(commandNames(), ", "))
		return exitUsage
	}
	if c.help != nil {
		c.help(io.out)
		return exitOK
	}
	// A command with flags prints its help as -help asks for it.
	return c.run(ctx, []string{"-help"}, io)
}

func helpHelp(w io.Writer) {
	fmt.Fprint(w, "Usage: linkarc help [COMMAND]\n\nPrints the list of commands, or the usage and flags of COMMAND.\n")
}

// runVersion is `linkarc version`: the module version on the first line
// (what scripts read), then the revision and the toolchain.
func runVersion(_ context.Context, args []string, io stdio) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			versionHelp(io.out)
			return exitOK
		}
		fmt.Fprintf(io.err, "linkarc version: takes no arguments (got %q)\n", args)
		return exitUsage
	}
	writeVersion(io.out, buildinfo.Read())
	return exitOK
}

// writeVersion prints what Info says, e.g.
//
//	linkarc v0.0.0-20260102030405-0123456789ab+dirty
//	revision 0123456789abcdef0123456789abcdef01234567 (2026-01-02T03:04:05Z), with uncommitted changes
//	built with go1.26.8 for linux/amd64
func writeVersion(w io.Writer, in buildinfo.Info) {
	fmt.Fprintln(w, "linkarc", in.Version())
	switch {
	case in.Revision != "":
		line := "revision " + in.Revision
		if !in.Time.IsZero() {
			line += " (" + in.Time.UTC().Format("2006-01-02T15:04:05Z") + ")"
		}
		if in.Modified {
			line += ", with uncommitted changes"
		}
		fmt.Fprintln(w, line)
	case in.Module == "":
		fmt.Fprintln(w, "revision unknown: built without version control information (go build -buildvcs=false, or outside a git checkout)")
	}
	fmt.Fprintf(w, "built with %s for %s\n", in.Go, in.Platform)
}

func versionHelp(w io.Writer) {
	fmt.Fprint(w, "Usage: linkarc version\n\n"+
		"Prints the version linkarc was built as: the module version (a release tag, or a pseudo-version\n"+
		"naming the commit, \"+dirty\" for uncommitted changes), the VCS revision and its time, and the Go\n"+
		"toolchain. The first line is \"linkarc VERSION\".\n")
}
