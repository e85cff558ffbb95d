package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/viewer"
)

// indexInMemory is the --index-dir value that keeps the search index in
// memory.
const indexInMemory = "memory"

// runServe is `linkarc serve`: the read-only web viewer over the store.
func runServe(ctx context.Context, args []string, io stdio) int {
	fs, c := newFlagSet("serve", "serve [flags]", io)
	c.storeFlags(fs)
	e := c.env
	addr := fs.String("addr", e.str("LINKARC_ADDR", viewer.DefaultAddr),
		"address to listen on; the default answers this machine only. Port 0 picks a free port (env LINKARC_ADDR)")
	indexDir := fs.String("index-dir", e.str("LINKARC_INDEX_DIR", ""),
		"directory for the search index, or \"memory\"; default: a directory per store under the user cache directory (env LINKARC_INDEX_DIR)")
	refresh := fs.Duration("refresh-interval", e.dur("LINKARC_REFRESH_INTERVAL", viewer.DefaultRefreshInterval),
		"how often new and changed digests and articles are picked up from the store (env LINKARC_REFRESH_INTERVAL)")
	positive(c, "refresh-interval", refresh)
	hosts := fs.String("allowed-hosts", e.str("LINKARC_ALLOWED_HOSTS", ""),
		"comma-separated host names the viewer answers to (defeats DNS rebinding); default: the loopback names when --addr is loopback, any otherwise (env LINKARC_ALLOWED_HOSTS)")
	if err := c.parse(fs, args, io.err); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.err, "linkarc serve: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return exitUsage
	}
	log, err := c.logger(io.err)
	if err != nil {
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitUsage
	}
	spec, err := c.storeSpec()
	if err != nil {
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitUsage
	}
	// The viewer only reads: a store that does not exist is a mistake to
	// report, not an empty archive to create and serve.
	store, err := c.openExistingStore(ctx, io.getenv, storage.RetryOptions{}, log)
	if err != nil {
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitUsage
	}
	dir, err := resolveIndexDir(*indexDir, spec, io.getenv)
	if err != nil {
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitUsage
	}
	defer ln.Close()
	tcp, _ := ln.Addr().(*net.TCPAddr)
	loopback := tcp != nil && tcp.IP.IsLoopback()
	allowed := splitList(*hosts)
	if len(allowed) == 0 && loopback {
		allowed = []string{"localhost", "127.0.0.1", "::1", tcp.IP.String()}
	}

	srv, err := viewer.New(viewer.Options{
		Store:           store,
		Logger:          log,
		IndexDir:        dir,
		RefreshInterval: *refresh,
		AllowedHosts:    allowed,
	})
	if err != nil {
		if dir != "" && (errors.Is(err, iofs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
			// The archive is only read, but the search index is written.
			err = fmt.Errorf("%w: pass --index-dir DIR on a writable disk, or --index-dir %s to keep the index in memory", err, indexInMemory)
		}
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitUsage
	}
	defer srv.Close()

	fmt.Fprintf(io.out, "linkarc serve: serving %s at %s\n", spec, serveURL(tcp))
	if !loopback {
		// The host as given (a wildcard listener reports [::]), with the
		// port bound when --addr asked for port 0.
		where := *addr
		if host, _, err := net.SplitHostPort(*addr); err == nil && tcp != nil {
			where = net.JoinHostPort(host, fmt.Sprint(tcp.Port))
		}
		fmt.Fprintln(io.err, "linkarc serve: warning: listening beyond this machine; anyone who can reach",
			where, "can read the archive (the viewer has no login)")
	}
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(io.err, "linkarc serve: %v\n", err)
		return exitSomeFailed
	}
	// Stopped by SIGINT/SIGTERM after a graceful shutdown: the normal way
	// for a server to end.
	fmt.Fprintln(io.out, "linkarc serve: stopped")
	return exitOK
}

// serveURL is the URL to print for the listening address; an unspecified
// address (0.0.0.0, ::) is shown as localhost, which reaches it.
func serveURL(a *net.TCPAddr) string {
	if a == nil {
		return "(unknown address)"
	}
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(a.Port)) + "/"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// resolveIndexDir turns --index-dir into the viewer's IndexDir: "memory"
// gives "" (in memory), "" gives a directory under the user cache directory
// named after the store, so that two stores never share an index.
func resolveIndexDir(flagValue, storeSpec string, getenv func(string) string) (string, error) {
	switch flagValue {
	case indexInMemory:
		return "", nil
	case "":
	default:
		return flagValue, nil
	}
	cache := getenv("XDG_CACHE_HOME")
	if cache == "" {
		var err error
		if cache, err = os.UserCacheDir(); err != nil {
			return "", fmt.Errorf("no user cache directory for the search index (set --index-dir): %w", err)
		}
	}
	id := storeSpec
	if !strings.HasPrefix(storeSpec, "s3://") {
		if abs, err := filepath.Abs(storeSpec); err == nil {
			id = abs
		}
	} else {
		id += "|" + getenv("AWS_ENDPOINT_URL")
	}
	sum := sha256.Sum256([]byte(id))
	name := strings.Trim(unsafeName.ReplaceAllString(filepath.Base(strings.TrimPrefix(storeSpec, "s3://")), "-"), "-")
	if name == "" {
		name = "store"
	}
	return filepath.Join(cache, "linkarc", "index", name+"-"+hex.EncodeToString(sum[:6])), nil
}

// unsafeName matches what may not appear in the readable part of an index
// directory name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
