// Command linkarc archives folders of news digests: it resolves Google News
// links to publisher URLs, fetches and extracts the articles politely, stores
// them in a local directory or S3, and serves them in a read-only viewer.
//
// This package holds flags and wiring only, one file per subcommand
// (archive.go, resolve.go, serve.go, healthcheck.go, and worker.go for
// the hidden one extraction workers run) and the flag groups
// they share (flags.go); every behaviour, and every default, lives in the
// archive, resolver, storage and viewer packages.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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

const usage = `linkarc: archive news digests and resolve Google News links.

Usage:
  linkarc archive [flags] DIR|FILE...   archive every article linked from digest folders
  linkarc resolve [flags] [URL...|-]    print the publisher URL of each link
  linkarc serve   [flags]               browse the archive in a web viewer
  linkarc healthcheck URL               exit 0 if URL answers 200 (for container health checks)
  linkarc version                       print the version

Run 'linkarc COMMAND -help' for the flags of a command.
Every flag can also be set by the environment variable named in its help.
`

// stdio bundles what a subcommand may touch of the process, so that tests
// can run subcommands in-process.
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
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
		fmt.Fprint(io.err, usage)
		return exitUsage
	}
	switch args[0] {
	case "archive":
		return runArchive(ctx, args[1:], io)
	case "resolve":
		return runResolve(ctx, args[1:], io)
	case "serve":
		return runServe(ctx, args[1:], io)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], io)
	case "version", "-version", "--version":
		fmt.Fprintln(io.out, "linkarc", buildinfo.Version())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(io.out, usage)
		return exitOK
	default:
		fmt.Fprintf(io.err, "linkarc: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
