package main

import (
	"os"

	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/internal/procpool"
)

// workerCommand is the hidden subcommand an extraction worker is started
// with: `linkarc archive` starts its pool of workers as
// `linkarc _extract-worker` (see extract.Pool), and main serves it before
// anything else, so a worker reads no flags, environment defaults or
// signals of its own. Run by hand it says it is not for people and exits
// with status 2.
const workerCommand = "_extract-worker"

// isWorker reports whether args (os.Args) start a worker.
func isWorker(args []string) bool { return len(args) > 1 && args[1] == workerCommand }

// serveWorker runs the extraction jobs the parent sends until it closes
// the pipe, and exits. It never returns.
func serveWorker() { procpool.ServeWorker(extract.Handlers()) }

// workerArgv is the command line of an extraction worker: this
// executable, in worker mode.
func workerArgv() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, workerCommand}, nil
}
