package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// healthcheckTimeout bounds the whole check: a container's health probe
// must answer well within its own interval.
const healthcheckTimeout = 5 * time.Second

// runHealthcheck is `linkarc healthcheck URL`: exit 0 when URL answers 200.
// Container images without curl use it for their health checks.
func runHealthcheck(ctx context.Context, args []string, io stdio) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		healthcheckHelp(io.out)
		return exitOK
	}
	if len(args) != 1 {
		fmt.Fprintln(io.err, "linkarc healthcheck: name one URL, e.g. linkarc healthcheck http://localhost:8080/healthz")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	// Only an http(s) URL with a host can be checked; anything else is
	// the caller's mistake (exit 2), not an unhealthy server (exit 1).
	if u, err := url.Parse(args[0]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(io.err, "linkarc healthcheck: %q is not an http or https URL, e.g. http://localhost:8080/healthz\n", args[0])
		return exitUsage
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc healthcheck:", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(io.err, "linkarc healthcheck:", err)
		return exitSomeFailed
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(io.err, "linkarc healthcheck: %s answered %s\n", args[0], resp.Status)
		return exitSomeFailed
	}
	return exitOK
}

func healthcheckHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: linkarc healthcheck URL\n\n"+
		"Exits 0 when URL answers 200 within %s, 1 otherwise, 2 for a malformed URL. For container health\n"+
		"checks in images without curl: linkarc healthcheck http://localhost:8080/healthz\n", healthcheckTimeout)
}
