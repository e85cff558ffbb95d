package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
)

// config is the configuration every subcommand shares, so that one set of
// flags and environment variables means the same thing everywhere.
// Precedence: flag, then environment variable, then default.
type config struct {
	store         string
	gnewsBase     string
	gnewsInterval time.Duration
	timeout       time.Duration
	userAgent     string
	hl, gl, ceid  string
	allowPrivate  bool
	logLevel      string

	envErrs []error // environment values that did not parse
}

// newFlagSet creates a subcommand's flag set with the shared flags registered.
func newFlagSet(name, synopsis string, io stdio) (*flag.FlagSet, *config) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintf(io.err, "Usage: linkarc %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	c := &config{}
	e := envReader{getenv: io.getenv, errs: &c.envErrs}
	fs.StringVar(&c.store, "store", e.str("LINKARC_STORE", "./archive"),
		"where the archive lives: a directory, or s3://BUCKET[/PREFIX] (endpoint from AWS_ENDPOINT_URL) (env LINKARC_STORE)")
	fs.StringVar(&c.gnewsBase, "gnews-base", e.str("LINKARC_GNEWS_BASE", "https://news.google.com"),
		"base URL of Google News; point it at a proxy or a test server (env LINKARC_GNEWS_BASE)")
	fs.DurationVar(&c.gnewsInterval, "gnews-interval", e.dur("LINKARC_GNEWS_INTERVAL", 2*time.Second),
		"minimum spacing between Google News signature-page requests (env LINKARC_GNEWS_INTERVAL)")
	fs.DurationVar(&c.timeout, "timeout", e.dur("LINKARC_TIMEOUT", 30*time.Second),
		"timeout for one HTTP request, body included (env LINKARC_TIMEOUT)")
	fs.StringVar(&c.userAgent, "user-agent", e.str("LINKARC_USER_AGENT", buildinfo.UserAgent()),
		"User-Agent sent with every request (env LINKARC_USER_AGENT)")
	fs.StringVar(&c.hl, "hl", e.str("LINKARC_HL", "en-US"), "Google News UI language when the link has none (env LINKARC_HL)")
	fs.StringVar(&c.gl, "gl", e.str("LINKARC_GL", "US"), "Google News country when the link has none (env LINKARC_GL)")
	fs.StringVar(&c.ceid, "ceid", e.str("LINKARC_CEID", "US:en"), "Google News edition when the link has none (env LINKARC_CEID)")
	fs.BoolVar(&c.allowPrivate, "allow-private", e.boolean("LINKARC_ALLOW_PRIVATE", false),
		"allow requests to loopback and private addresses; off by default because links come from untrusted feeds (env LINKARC_ALLOW_PRIVATE=1)")
	fs.StringVar(&c.logLevel, "log-level", e.str("LINKARC_LOG_LEVEL", "warn"), "debug, info, warn or error (env LINKARC_LOG_LEVEL)")
	return fs, c
}

// parse parses args and reports configuration errors; a non-nil error means
// exit status exitUsage (the message has been printed unless it is flag.ErrHelp).
func (c *config) parse(fs *flag.FlagSet, args []string, w io.Writer) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(c.envErrs) > 0 {
		err := errors.Join(c.envErrs...)
		fmt.Fprintf(w, "linkarc %s: %v\n", fs.Name(), err)
		return err
	}
	if c.gnewsInterval < 0 || c.timeout <= 0 {
		err := errors.New("-gnews-interval must be >= 0 and -timeout > 0")
		fmt.Fprintf(w, "linkarc %s: %v\n", fs.Name(), err)
		return err
	}
	return nil
}

// logger builds the slog logger the packages log to.
func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.logLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// openStore opens the configured store, taking S3 settings from the
// environment the way the AWS tools do. S3 retries are logged to logger.
func (c *config) openStore(ctx context.Context, getenv func(string) string, logger *slog.Logger) (storage.Store, error) {
	s3 := storage.S3ConfigFromEnv(getenv)
	s3.Retry.Logger = logger
	return storage.Open(ctx, c.store, s3)
}

// resolverOptions configures a resolver from the shared flags, with its
// cache in store (when not nil) so that every machine sharing the store
// shares the cache.
func (c *config) resolverOptions(store storage.Store, logger *slog.Logger) resolver.Options {
	opts := resolver.Options{
		GNewsBase:    c.gnewsBase,
		Interval:     c.gnewsInterval,
		Timeout:      c.timeout,
		UserAgent:    c.userAgent,
		HL:           c.hl,
		GL:           c.gl,
		CEID:         c.ceid,
		AllowPrivate: c.allowPrivate,
		Logger:       logger,
	}
	if c.gnewsInterval == 0 {
		opts.Interval = -1 // --gnews-interval 0 means no spacing; the resolver's zero value means its default
	}
	if store != nil {
		opts.Cache = resolver.NewStoreCache(store)
	}
	return opts
}

// envReader reads defaults from the environment, collecting parse errors
// so that a bad value is reported as a configuration error, not ignored.
type envReader struct {
	getenv func(string) string
	errs   *[]error
}

func (e envReader) str(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

func (e envReader) dur(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		*e.errs = append(*e.errs, fmt.Errorf("%s=%q: not a duration like 1s or 500ms", name, v))
		return def
	}
	return d
}

func (e envReader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		*e.errs = append(*e.errs, fmt.Errorf("%s=%q: want 1, 0, true or false", name, v))
		return def
	}
	return b
}

func (e envReader) integer(name string, def int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		*e.errs = append(*e.errs, fmt.Errorf("%s=%q: not a whole number", name, v))
		return def
	}
	return n
}

func (e envReader) size(name string, def int64) int64 {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := parseSize(v)
	if err != nil {
		*e.errs = append(*e.errs, fmt.Errorf("%s=%q: %v", name, v, err))
		return def
	}
	return n
}

// parseSize reads sizes like 16MiB, 512KiB, 1GB or a plain byte count.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a size like 16MiB or 1048576")
	}
	return n * mult, nil
}

// sizeFlag is a flag.Value for byte sizes.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	switch {
	case f.n == nil:
		return "0"
	case *f.n > 0 && *f.n%(1<<30) == 0:
		return strconv.FormatInt(*f.n>>30, 10) + "GiB"
	case *f.n > 0 && *f.n%(1<<20) == 0:
		return strconv.FormatInt(*f.n>>20, 10) + "MiB"
	case *f.n > 0 && *f.n%(1<<10) == 0:
		return strconv.FormatInt(*f.n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}
