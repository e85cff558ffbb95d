package main

import (
	"context"
	"fmt"
)

// PLACEHOLDER: replaced by the real subcommand in this session.
func runServe(ctx context.Context, args []string, io stdio) int {
	fmt.Fprintln(io.err, "linkarc serve: not built yet")
	return exitUsage
}
