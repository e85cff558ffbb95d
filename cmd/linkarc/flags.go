package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	goio "io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkarc/linkarc/archive/extract"
	"github.com/linkarc/linkarc/archive/stored"
	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/internal/tempdir"
	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/resolver"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Flags are registered in groups, and each subcommand registers only the
// groups it uses, so a flag means the same thing wherever it exists and a
// flag a subcommand would ignore is a usage error there ("flag provided but
// not defined"). Every default is the owning package's Default… constant.
// Precedence: flag, then environment variable, then default.

// config is what the flags and the environment say.
type config struct {
	name     string // the subcommand, for messages
	synopsis string // what `linkarc help NAME` prints after "Usage: linkarc "

	store    string // storeFlags
	logLevel string // storeFlags

	// networkFlags
	timeout      time.Duration
	userAgent    string
	allowPrivate bool

	// googleFlags
	gnewsBase     string
	gnewsInterval time.Duration
	hl, gl, ceid  string
	noGoogle      bool
	shorteners    string // comma-separated extra shortener hosts

	env       envReader
	envErrs   []error      // environment values that did not parse
	checks    []func(*num) // the "0 means" checks of the numeric flags, run after parsing
	io        stdio
	parsing   bool // fs.Parse is running: the flag package's own usage calls are silenced
	flagsOnly func(*flag.FlagSet)
}

// newFlagSet creates a subcommand's empty flag set. synopsis is what
// follows "linkarc " in its usage line, optionally followed by a blank line
// and a description.
//
// The flag package's own messages are not shown: parse words every flag
// error itself (the flag, what it accepts, where to read more), and prints
// the whole help only when it is asked for, on stdout.
func newFlagSet(name, synopsis string, io stdio) (*flag.FlagSet, *config) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(goio.Discard)
	c := &config{name: name, synopsis: synopsis, io: io, flagsOnly: io.flagsOnly}
	// Commands call fs.Usage after an argument error: a pointer to the help,
	// not the whole of it.
	fs.Usage = func() {
		if !c.parsing {
			fmt.Fprintf(io.err, "Run 'linkarc help %s' for its usage and flags.\n", name)
		}
	}
	c.env = envReader{getenv: io.getenv, errs: &c.envErrs, used: map[string]string{}}
	return fs, c
}

// writeHelp prints the command's usage, description and flags to w.
func (c *config) writeHelp(fs *flag.FlagSet, w goio.Writer) {
	fmt.Fprintf(w, "Usage: linkarc %s\n\nFlags (before or after the arguments; after a bare --, all are arguments):\n", c.synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(goio.Discard)
}

// storeFlags registers where the archive is and how much to log: every
// subcommand that opens a store has them.
func (c *config) storeFlags(fs *flag.FlagSet) {
	def, err := defaultStore(c.env.getenv)
	if err != nil {
		def = "" // reported if no --store or LINKARC_STORE is given
	}
	fs.StringVar(&c.store, "store", c.env.str("LINKARC_STORE", def),
		"where the archive lives: a directory, or s3://BUCKET[/PREFIX] (endpoint from AWS_ENDPOINT_URL); default $XDG_DATA_HOME/linkarc, or ~/.local/share/linkarc (env LINKARC_STORE)")
	fs.StringVar(&c.logLevel, "log-level", c.env.str("LINKARC_LOG_LEVEL", "warn"), "debug, info, warn or error (env LINKARC_LOG_LEVEL)")
	oneOf(c, "log-level", &c.logLevel)
}

// networkFlags registers what every request to the web shares.
func (c *config) networkFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.timeout, "timeout", c.env.dur("LINKARC_TIMEOUT", resolver.DefaultTimeout),
		"timeout for one HTTP request, body included (env LINKARC_TIMEOUT)")
	positive(c, "timeout", &c.timeout)
	fs.StringVar(&c.userAgent, "user-agent", c.env.str("LINKARC_USER_AGENT", buildinfo.UserAgent()),
		"User-Agent sent with every request (env LINKARC_USER_AGENT)")
	fs.BoolVar(&c.allowPrivate, "allow-private", c.env.boolean("LINKARC_ALLOW_PRIVATE", false),
		"allow requests to loopback and private addresses; off by default because links come from untrusted feeds (env LINKARC_ALLOW_PRIVATE=1)")
}

// googleFlags registers how Google News is asked, and which links are
// short links.
func (c *config) googleFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.gnewsBase, "gnews-base", c.env.str("LINKARC_GNEWS_BASE", resolver.DefaultGNewsBase),
		"base URL of Google News; point it at a proxy or a test server (env LINKARC_GNEWS_BASE)")
	fs.DurationVar(&c.gnewsInterval, "gnews-interval", c.env.dur("LINKARC_GNEWS_INTERVAL", resolver.DefaultInterval),
		"minimum spacing between any two requests to Google News (signature GETs, their redirects and batchexecute POSTs alike), "+
			"counted from the end of the previous one to the moment the next is sent; 0 means none (env LINKARC_GNEWS_INTERVAL)")
	noneIfZero(c, "gnews-interval", &c.gnewsInterval)
	fs.BoolVar(&c.noGoogle, "no-google", c.env.boolean("LINKARC_NO_GOOGLE", false),
		"never contact Google: links only Google can resolve fail with google_disabled; old ids, cached links and other links still resolve (env LINKARC_NO_GOOGLE=1)")
	fs.StringVar(&c.shorteners, "shortener", c.env.str("LINKARC_SHORTENERS", ""),
		"more URL shortener hosts, comma-separated (e.g. lnk.example.com): their links are resolved to the publisher URL they name before it is fetched, "+
			"as t.co, bit.ly and the other well-known shorteners are (env LINKARC_SHORTENERS)")
	fs.StringVar(&c.hl, "hl", c.env.str("LINKARC_HL", resolver.DefaultHL), "Google News UI language when the link has none (env LINKARC_HL)")
	fs.StringVar(&c.gl, "gl", c.env.str("LINKARC_GL", resolver.DefaultGL), "Google News country when the link has none (env LINKARC_GL)")
	fs.StringVar(&c.ceid, "ceid", c.env.str("LINKARC_CEID", resolver.DefaultCEID), "Google News edition when the link has none (env LINKARC_CEID)")
}

// googleHostIntervals spaces the fetcher's requests to Google News (feed
// URLs on news.google.com, or on the --gnews-base host) by
// --gnews-interval, as the resolver spaces its own.
func (c *config) googleHostIntervals() map[string]time.Duration {
	m := map[string]time.Duration{weburl.HostOf(resolver.DefaultGNewsBase): c.gnewsInterval}
	if h := weburl.HostOf(c.gnewsBase); h != "" {
		m[h] = c.gnewsInterval
	}
	return m
}

// parse parses args and reports configuration errors; a non-nil error means
// exit status exitUsage (the message has been printed), except flag.ErrHelp:
// the help was asked for and printed on stdout (exit status 0), or, with
// stdio.flagsOnly set, the flag set was handed over instead of parsing.
func (c *config) parse(fs *flag.FlagSet, args []string, w goio.Writer) error {
	if c.flagsOnly != nil {
		c.flagsOnly(fs)
		return flag.ErrHelp
	}
	c.parsing = true
	err := parseInterspersed(fs, args)
	c.parsing = false
	if errors.Is(err, flag.ErrHelp) {
		c.writeHelp(fs, c.io.out)
		return err
	}
	if err != nil {
		fmt.Fprintf(w, "linkarc %s: %s\n", c.name, flagError(c.name, fs, err))
		fmt.Fprintf(w, "Run 'linkarc help %s' for its flags.\n", c.name)
		return err
	}
	errs := c.envErrs
	n := num{set: map[string]bool{}, env: c.env.used}
	fs.Visit(func(f *flag.Flag) { n.set[f.Name] = true })
	for _, check := range c.checks {
		check(&n)
	}
	errs = append(errs, n.errs...)
	if len(errs) > 0 {
		// One line per error, each saying which command it is of.
		for _, e := range errs {
			fmt.Fprintf(w, "linkarc %s: %v\n", c.name, e)
		}
		fmt.Fprintf(w, "Run 'linkarc help %s' for its flags.\n", c.name)
		return errors.Join(errs...)
	}
	return nil
}

// parseInterspersed parses args as fs.Parse does, but takes flags
// anywhere before a bare "--", as git does: "archive digests --dry-run"
// is a dry run of digests, and "archive -- --dry-run" archives the file
// named --dry-run. The flag package stops at the first argument that is
// not a flag, so each such argument is set aside and parsing goes on
// after it; at the end fs.Args() holds them all, in order.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; endsWithTerminator(fs, consumed) {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	// Parsing "--" and the positional arguments sets no flag and leaves
	// exactly them in fs.Args().
	return fs.Parse(append([]string{"--"}, positional...))
}

// endsWithTerminator reports whether the flag package, having consumed
// the flags in consumed, stopped at a bare "--" rather than taking a "--"
// as the value of a flag ("--user-agent --"): it walks the flags as the
// flag package does.
func endsWithTerminator(fs *flag.FlagSet, consumed []string) bool {
	for i := 0; i < len(consumed); i++ {
		arg := consumed[i]
		if arg == "--" {
			return true
		}
		name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		i++ // its value
	}
	return false
}

// The "0 means" convention of every numeric flag: on the command line 0
// means none where none makes sense (spacing, retries, redirects, the
// store's retry budget) and is a usage error where it does not (timeouts,
// concurrency, sizes); a negative value is always a usage error. The
// packages' option structs say "none" with a negative value, since their
// zero value means "the default": noneIfZero and positive are the one
// mapping from the first convention to the second, applied in place after
// parsing.

// num collects the violations of the convention. A value is named as the
// user gave it: the flag when it was on the command line, else the
// environment variable it came from.
type num struct {
	errs []error
	set  map[string]bool   // flags given on the command line
	env  map[string]string // environment variables read -> their values
}

// fail records that flag name's value breaks the rule what ("must not be
// negative"), naming the value as the user gave it: `-name must ...` for
// the command line, `LINKARC_NAME="-1s": must ...` for the environment.
func (n *num) fail(name, what string) {
	if !n.set[name] {
		v := envName(name)
		if val, ok := n.env[v]; ok {
			n.errs = append(n.errs, fmt.Errorf("%s=%q: %s", v, val, what))
			return
		}
	}
	n.errs = append(n.errs, fmt.Errorf("-%s %s", name, what))
}

// failValue is fail for a value that is not one the flag accepts: it is
// quoted, `-name "v": what` or `LINKARC_NAME="v": what`.
func (n *num) failValue(name, value, what string) {
	if !n.set[name] {
		v := envName(name)
		if val, ok := n.env[v]; ok {
			n.errs = append(n.errs, fmt.Errorf("%s=%q: %s", v, val, what))
			return
		}
	}
	n.errs = append(n.errs, fmt.Errorf("-%s %q: %s", name, value, what))
}

// oneOf registers a flag whose value must be one of the words valueFlags
// lists for it (its completions): anything else is a usage error naming
// the flag or its environment variable, like every other flag error.
func oneOf(c *config, name string, v *string) {
	words := strings.Fields(valueFlags[name].complete)
	c.checks = append(c.checks, func(n *num) {
		if lower := strings.ToLower(*v); slices.Contains(words, lower) {
			*v = lower
		} else {
			n.failValue(name, *v, "want "+valueFlags[name].form)
		}
	})
}

// envName is the environment variable of flag name: LINKARC_ and the name
// in upper case with "_" for "-" (every numeric flag has one).
func envName(name string) string {
	return "LINKARC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// noneIfZero registers a flag whose 0 means none: it becomes -1.
func noneIfZero[T int | int64 | time.Duration](c *config, name string, v *T) {
	c.checks = append(c.checks, func(n *num) { *v = toOption(n, name, *v, true) })
}

// positive registers a flag that must be greater than 0.
func positive[T int | int64 | time.Duration](c *config, name string, v *T) {
	c.checks = append(c.checks, func(n *num) { *v = toOption(n, name, *v, false) })
}

// toOption maps a flag value to the option value: negative refused; 0
// refused, or -1 ("none") when zeroIsNone; the rest as is.
func toOption[T int | int64 | time.Duration](n *num, name string, v T, zeroIsNone bool) T {
	switch {
	case v < 0:
		n.fail(name, "must not be negative")
	case v == 0 && zeroIsNone:
		return -1
	case v == 0:
		n.fail(name, "must be greater than 0")
	}
	return v
}

// defaultStore is where the archive lives unless --store or LINKARC_STORE
// says otherwise: $XDG_DATA_HOME/linkarc, or ~/.local/share/linkarc when
// XDG_DATA_HOME is unset (or, as the XDG Base Directory specification asks,
// not an absolute path). archive and serve find the same archive from any
// folder, and no run writes into the source tree it is started from.
func defaultStore(getenv func(string) string) (string, error) {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "linkarc"), nil
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "share", "linkarc"), nil
	}
	return "", errors.New("no default store: neither XDG_DATA_HOME nor HOME is set; give --store or LINKARC_STORE")
}

// storeSpec is the store to open: --store, LINKARC_STORE or the default.
func (c *config) storeSpec() (string, error) {
	if c.store != "" {
		return c.store, nil
	}
	return defaultStore(c.env.getenv)
}

// logger builds the slog logger the packages log to.
func (c *config) logger(w goio.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.logLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// openStore opens the configured store, taking S3 settings from the
// environment the way the AWS tools do; retry (storage.RetryOptions, zero
// for the defaults) says how failing S3 calls are retried, logged to logger.
// A directory or bucket that does not exist is created.
func (c *config) openStore(ctx context.Context, getenv func(string) string, retry storage.RetryOptions, logger *slog.Logger) (storage.Store, error) {
	return c.open(ctx, getenv, retry, logger, storage.Open)
}

// openExistingStore is openStore for commands that only read an archive:
// a store that does not exist is an error saying so, not created.
func (c *config) openExistingStore(ctx context.Context, getenv func(string) string, retry storage.RetryOptions, logger *slog.Logger) (storage.Store, error) {
	return c.open(ctx, getenv, retry, logger, storage.OpenExisting)
}

func (c *config) open(ctx context.Context, getenv func(string) string, retry storage.RetryOptions, logger *slog.Logger,
	open func(context.Context, string, storage.S3Config) (storage.Store, error)) (storage.Store, error) {
	spec, err := c.storeSpec()
	if err != nil {
		return nil, err
	}
	s3 := storage.S3ConfigFromEnv(getenv)
	s3.Retry = retry
	s3.Retry.Logger = logger
	st, err := open(ctx, spec, s3)
	if err != nil {
		return nil, storeError(err, spec, getenv)
	}
	return st, nil
}

// storeError adds to a failure to open a store what the user can do about
// it: for a store that does not exist, how to name the right one; for
// credentials S3 refused, which were used (the access key id and where it
// was read from, never the secret) and how to set others.
func storeError(err error, spec string, getenv func(string) string) error {
	switch {
	case errors.Is(err, storage.ErrNoStore):
		return fmt.Errorf("no archive: %w.\n"+
			"Name an existing archive with --store or LINKARC_STORE, or create one with 'linkarc archive --store %s DIR'", err, spec)
	case errors.Is(err, storage.ErrAccessDenied):
		return fmt.Errorf("%w\n%s", err, credentialsHint(getenv))
	}
	return err
}

// credentialsHint says which S3 credentials linkarc used and how to set
// them. linkarc reads credentials from the environment only
// (storage.S3ConfigFromEnv).
func credentialsHint(getenv func(string) string) string {
	id := strings.TrimSpace(getenv("AWS_ACCESS_KEY_ID"))
	var used string
	if id == "" {
		used = "No access key id was set (AWS_ACCESS_KEY_ID is empty), so the request was anonymous."
	} else {
		used = fmt.Sprintf("The access key id used was %q, from the environment variable AWS_ACCESS_KEY_ID", id)
		switch {
		case strings.TrimSpace(getenv("AWS_SECRET_ACCESS_KEY")) == "":
			used += "; AWS_SECRET_ACCESS_KEY is empty."
		case strings.TrimSpace(getenv("AWS_SESSION_TOKEN")) != "":
			used += ", with the secret in AWS_SECRET_ACCESS_KEY and a session token in AWS_SESSION_TOKEN."
		default:
			used += ", with the secret in AWS_SECRET_ACCESS_KEY."
		}
	}
	if p := strings.TrimSpace(getenv("AWS_PROFILE")); p != "" {
		used += fmt.Sprintf(" AWS_PROFILE=%s is set, but linkarc does not read profiles or ~/.aws files.", p)
	}
	return used + "\nSet AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) " +
		"to a key that may read and write the bucket; for MinIO, an access key made with 'mc admin user svcacct add' or the console."
}

// resolverOptions configures a resolver from the network and Google
// flags, with its cache in store (when not nil) so that every machine
// sharing the store shares the cache.
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
		NoGoogle:     c.noGoogle,
		Logger:       logger,
	}
	for _, h := range strings.Split(c.shorteners, ",") {
		if h = strings.TrimSpace(h); h != "" {
			opts.ShortenerHosts = append(opts.ShortenerHosts, h)
		}
	}
	if store != nil {
		opts.Cache = resolver.NewStoreCache(store)
	}
	return opts
}

// openTempDir gives the command its own directory for temporary files
// (package internal/tempdir), once the directories of killed runs are
// removed. closeDir removes it: defer it first, so that it runs last.
func openTempDir(logger *slog.Logger) (dir string, closeDir func(), err error) {
	d, err := tempdir.Open(tempdir.Options{Logger: logger})
	if err != nil {
		return "", nil, err
	}
	return d.Path(), func() {
		if err := d.Close(); err != nil {
			logger.Warn("temporary files left behind; the next run removes them", "err", err)
		}
	}, nil
}

// envReader reads defaults from the environment, collecting parse errors
// so that a bad value is reported as a configuration error, not ignored.
type envReader struct {
	getenv func(string) string
	errs   *[]error
	used   map[string]string // variables read with a value, for messages
}

// get reads one variable, remembering it when set.
func (e envReader) get(name string) string {
	v := e.getenv(name)
	if v != "" && e.used != nil {
		e.used[name] = v
	}
	return v
}

func (e envReader) str(name, def string) string {
	if v := e.get(name); v != "" {
		return v
	}
	return def
}

func (e envReader) dur(name string, def time.Duration) time.Duration {
	v := e.get(name)
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
	v := strings.TrimSpace(e.get(name))
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
	v := e.get(name)
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
	v := e.get(name)
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

// errNegativeSize is parseSize's error for a size below 0.
var errNegativeSize = errors.New("must not be negative")

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
	if err != nil {
		return 0, errors.New("not a size like 16MiB or 1048576")
	}
	if n < 0 {
		return 0, errNegativeSize
	}
	return n * mult, nil
}

// extractFlags registers the budget of one page's extraction, for the
// commands that extract (archive, reextract) in a pool of worker processes.
func (c *config) extractFlags(fs *flag.FlagSet) (timeout *time.Duration, memory *int64) {
	timeout = fs.Duration("extract-timeout", c.env.dur("LINKARC_EXTRACT_TIMEOUT", extract.DefaultTimeout),
		"time one page's extraction may take; a page over it is extracted again from its first 512 KiB, or failed as too_complex (env LINKARC_EXTRACT_TIMEOUT)")
	positive(c, "extract-timeout", timeout)
	mem := c.env.size("LINKARC_EXTRACT_MEMORY", extract.DefaultMemory)
	memory = &mem
	fs.Var(sizeFlag{memory}, "extract-memory",
		"memory of one extraction worker process, e.g. 512MiB; a page over it is handled as over --extract-timeout (env LINKARC_EXTRACT_MEMORY)")
	positive(c, "extract-memory", memory)
	return timeout, memory
}

// extractPool starts the pool of extraction worker processes (this
// executable in worker mode, see worker.go), each page under the budget of
// --extract-timeout and --extract-memory, so that no page can take the run
// down (issue 10).
func (c *config) extractPool(ctx context.Context, workers int, timeout time.Duration, memory int64, logger *slog.Logger) (*extract.Pool, error) {
	argv, err := workerArgv()
	if err != nil {
		return nil, fmt.Errorf("extraction workers: %w", err)
	}
	var env []string
	if c.env.getenv("GOGC") == "" {
		env = []string{"GOGC=50"} // go-trafilatura's tables: see archive.go
	}
	return extract.NewPool(ctx, extract.PoolOptions{Workers: workers, Timeout: timeout, Memory: memory, Command: argv, Env: env, Logger: logger}), nil
}

// filterFlags registers the selection of the commands that work on what is
// stored (export, reextract): which digests, tag, dates and status.
func (c *config) filterFlags(fs *flag.FlagSet) *filterFlagValues {
	v := &filterFlagValues{}
	fs.Var(&v.digests, "digest", "only the digest `SLUG` (its slug, or its front matter's slug); repeat, or separate with commas, for several")
	fs.StringVar(&v.tag, "tag", "", "only digests with the tag `TAG` (a front-matter category or tag, or an item's own), and their articles it applies to")
	fs.Var(dateFlag{&v.from}, "from", "only digests dated `DATE` (YYYY-MM-DD) or later: their front matter's date, else when archived")
	fs.Var(dateFlag{&v.to}, "to", "only digests dated `DATE` (YYYY-MM-DD) or earlier")
	fs.StringVar(&v.status, "status", "", "only articles whose current capture has the `STATUS` ok, blocked or failed")
	return v
}

// filterFlagValues are what filterFlags parsed.
type filterFlagValues struct {
	digests  listFlag
	tag      string
	from, to time.Time
	status   string
}

// filter is the stored.Filter the flags ask for.
func (v *filterFlagValues) filter() (stored.Filter, error) {
	f := stored.Filter{Digests: v.digests, Tag: strings.TrimSpace(v.tag), From: v.from, To: v.to, Status: strings.ToLower(strings.TrimSpace(v.status))}
	switch {
	case f.Status != "" && f.Status != record.StatusOK && f.Status != record.StatusBlocked && f.Status != record.StatusFailed:
		return f, fmt.Errorf("-status %q: want ok, blocked or failed", v.status)
	case !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From):
		return f, fmt.Errorf("-to %s is before -from %s", f.To.Format(time.DateOnly), f.From.Format(time.DateOnly))
	}
	return f, f.Validate()
}

// listFlag is a repeatable flag whose values may also be separated by
// commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// dateFlag is a flag.Value for a day, YYYY-MM-DD, in UTC.
type dateFlag struct{ t *time.Time }

func (d dateFlag) String() string {
	if d.t == nil || d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

func (d dateFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return errors.New("not a date like 2024-03-31")
	}
	*d.t = t
	return nil
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
