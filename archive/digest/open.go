package digest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/linkarc/linkarc/internal/weburl"
	"github.com/linkarc/linkarc/storage/record"
)

// The kinds of *InputError, for errors.Is.
var (
	ErrNoInput     = errors.New("no input named")
	ErrMissing     = errors.New("no such file or folder")
	ErrUnreadable  = errors.New("cannot be read")
	ErrEmptyFolder = errors.New("the folder is empty")
	ErrNoDigests   = errors.New("the folder holds no digests")
	ErrBadArgument = errors.New("not a path, an http(s) URL or -")
)

// InputError is a command-line argument that names nothing linkarc can
// archive: a path that does not exist or cannot be read, an empty folder,
// a folder without digest files, a URL that is not http(s), "-" twice.
// It is the user's to fix before anything runs: the CLI maps it to a
// usage error (exit status 2). Its Error() names the argument.
type InputError struct {
	Arg    string // the argument as given
	Reason string // what is wrong and, where it helps, what to write instead
	Kind   error  // one of the Err… values above
	Err    error  // the underlying error (from the file system), if any
}

// Error implements error: "ARG: REASON".
func (e *InputError) Error() string {
	if e.Arg == "" {
		return e.Reason
	}
	return e.Arg + ": " + e.Reason
}

// Unwrap returns the kind and the underlying error.
func (e *InputError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Options configures Open.
type Options struct {
	// Stdin is what the argument "-" reads (at most MaxSize bytes). Nil
	// makes "-" an *InputError.
	Stdin io.Reader
	// Now dates the digests named after the command line and standard
	// input ("command line 2026-01-04"), in its own zone. Zero means
	// time.Now().
	Now time.Time
}

// Batch is what the command line named, read and parsed.
type Batch struct {
	// Digests to archive, in argument order (a folder's files sorted).
	// Their slugs are unique within one input; two inputs may still
	// claim one slug, which the pipeline tells apart by Path.
	Digests []*Digest
	// Errors are the inputs that could not be used, each an *Error (file
	// and reason). The batch goes on without them.
	Errors []error
	// Feeds are feed URLs named on the command line. The pipeline fetches
	// each through its polite fetcher (robots.txt, host spacing, size cap)
	// and hands the answer to AddFeed.
	Feeds []FeedURL
}

// FeedURL is a feed named by URL, to be fetched.
type FeedURL struct {
	Arg string // as given ("feed:https://…", "news.google.com/topics/…")
	URL string // the absolute http(s) URL to fetch
}

// AddFeed parses a fetched feed into the batch: its digest is added, or
// the fetch error or parse error recorded as an *Error naming the URL.
func (b *Batch) AddFeed(f FeedURL, body []byte, fetchErr error) {
	if fetchErr != nil {
		b.Errors = append(b.Errors, &Error{Path: f.URL, Reason: "fetch: " + fetchErr.Error(), Err: fetchErr})
		return
	}
	d, err := ParseFeed(f.URL, body)
	if err != nil {
		b.Errors = append(b.Errors, asError(f.URL, err))
		return
	}
	b.Digests = append(b.Digests, d)
}

// Open reads what `linkarc archive` is given. Each argument is, in this
// order:
//
//   - "-": standard input, read once, its kind detected by content;
//   - an http(s) URL, or one written without scheme where that is
//     unambiguous ("www.…", "news.google.com/…", "host.tld/path") and no
//     file of that name exists, or a bare Google News id: an article to
//     archive now. All of them make one digest (KindArguments). A URL
//     that names a feed — "feed:" before it, a news.google.com /rss/…
//     feed or topic or search page, a path ending .rss, .xml, .atom or
//     .rdf or in /feed, /rss or /atom, a feeds.* host — is a feed, left
//     in Batch.Feeds for the pipeline to fetch;
//   - a folder: every digest file under it (see Find), each read with
//     ReadInput;
//   - any other file (a pipe too): read with ReadInput.
//
// Problems the user must fix are found before anything is read and
// returned together (errors.Join) as *InputErrors: no argument, a path
// that does not exist (a host name gets a hint to write its URL) or cannot
// be read, an empty folder, a folder without digest files, a URL that is
// not http(s), "-" twice or without Options.Stdin. Everything else — a
// file that is not a digest, a broken feed, an unreadable subfolder —
// is an *Error in Batch.Errors, and the other inputs are read.
func Open(args []string, opt Options) (*Batch, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if len(args) == 0 {
		return nil, &InputError{Reason: "name at least one digest folder, file, URL, or - for standard input", Kind: ErrNoInput}
	}
	var (
		srcs  []source
		probs []error
		stdin bool
	)
	for _, arg := range args {
		s, err := classify(arg)
		if err == nil && s.kind == srcStdin {
			switch {
			case opt.Stdin == nil:
				err = &InputError{Arg: arg, Reason: "standard input is not available", Kind: ErrBadArgument}
			case stdin:
				err = &InputError{Arg: arg, Reason: "standard input named twice", Kind: ErrBadArgument}
			}
			stdin = true
		}
		if err != nil {
			probs = append(probs, err)
			continue
		}
		srcs = append(srcs, s)
	}
	if len(probs) > 0 {
		return nil, errors.Join(probs...)
	}

	b := &Batch{}
	add := func(name string, ds []*Digest, err error) {
		if err != nil {
			b.Errors = append(b.Errors, asError(name, err))
			return
		}
		b.Digests = append(b.Digests, ds...)
	}
	var urls []link
	urlsAt := -1 // where the command-line digest goes among the others
	for _, s := range srcs {
		switch s.kind {
		case srcFile:
			ds, err := ReadInput(s.path)
			add(s.path, ds, err)
		case srcDir:
			b.Errors = append(b.Errors, s.findErrs...)
			for _, p := range s.files {
				ds, err := ReadInput(p)
				add(p, ds, err)
			}
		case srcStdin:
			data, err := io.ReadAll(io.LimitReader(opt.Stdin, MaxSize+1))
			if err != nil {
				add(stdinName, nil, &Error{Path: stdinName, Reason: "read: " + err.Error(), Err: err})
				continue
			}
			ds, err := parseInput(stdinName, data, opt.Now)
			add(stdinName, ds, err)
		case srcArticle:
			if urlsAt < 0 {
				urlsAt = len(b.Digests)
			}
			urls = append(urls, link{href: s.url})
		case srcFeed:
			b.Feeds = append(b.Feeds, FeedURL{Arg: s.arg, URL: s.url})
		}
	}
	if len(urls) > 0 {
		d := argumentsDigest(urls, opt.Now)
		b.Digests = append(b.Digests[:urlsAt], append([]*Digest{d}, b.Digests[urlsAt:]...)...)
	}
	return b, nil
}

// argumentsDigest is the digest of the URLs given as arguments.
func argumentsDigest(urls []link, now time.Time) *Digest {
	d := &Digest{Kind: KindArguments}
	seen := map[string]int{}
	for _, l := range urls {
		d.add(l, seen)
	}
	d.FrontMatter = record.FrontMatter{Title: "command line " + day(now), Date: day(now)}
	d.Slug = "command-line-" + itemsHash(d.Items)
	return d
}

type sourceKind int

const (
	srcFile sourceKind = iota
	srcDir
	srcStdin
	srcArticle
	srcFeed
)

// source is one classified argument.
type source struct {
	kind     sourceKind
	arg      string
	path     string   // srcFile
	files    []string // srcDir: what Find found
	findErrs []error  // srcDir: what Find could not read
	url      string   // srcArticle, srcFeed
}

// classify decides what one argument names (see Open).
func classify(arg string) (source, error) {
	bad := func(kind error, err error, format string, a ...any) (source, error) {
		return source{}, &InputError{Arg: arg, Reason: fmt.Sprintf(format, a...), Kind: kind, Err: err}
	}
	switch {
	case arg == stdinName:
		return source{kind: srcStdin, arg: arg}, nil
	case strings.TrimSpace(arg) == "":
		return bad(ErrBadArgument, nil, "an empty argument: name a digest folder, file, URL, or - for standard input")
	case strings.Contains(arg, "://") || hasPrefixFold(arg, "feed:"):
		return urlSource(arg)
	}
	info, err := os.Stat(arg)
	switch {
	case err == nil && info.IsDir():
		files, errs := Find([]string{arg})
		if len(files) > 0 {
			return source{kind: srcDir, arg: arg, files: files, findErrs: errs}, nil
		}
		entries, rerr := os.ReadDir(arg)
		switch {
		case rerr != nil:
			return bad(ErrUnreadable, rerr, "cannot read the folder: %s", pathErrReason(rerr))
		case len(entries) == 0:
			return bad(ErrEmptyFolder, nil, "the folder is empty")
		}
		return bad(ErrNoDigests, nil, "the folder holds no digests: no %s file in it or below it (hidden files and folders are skipped)",
			strings.Join(digestExts, ", "))
	case err == nil:
		return source{kind: srcFile, arg: arg, path: arg}, nil
	case errors.Is(err, fs.ErrNotExist) || isNotDir(err):
		if s, ok := schemelessSource(arg); ok {
			return s, nil
		}
		if weburl.IsHostName(arg) {
			return bad(ErrMissing, err, "no such file or folder; to archive a web page, give its URL: https://%s/", strings.TrimSuffix(arg, "."))
		}
		return bad(ErrMissing, err, "no such file or folder")
	}
	return bad(ErrUnreadable, err, "cannot read: %s", pathErrReason(err))
}

// schemelessSource takes an argument that is not a file as a URL without
// scheme, where that is unambiguous, or as a bare Google News id.
func schemelessSource(arg string) (source, bool) {
	if gnewsIDRE.MatchString(arg) {
		return source{kind: srcArticle, arg: arg, url: "https://news.google.com/rss/articles/" + arg}, true
	}
	if ls := weburl.FindLinks(arg); len(ls) == 1 && ls[0].Start == 0 && ls[0].End == len(arg) && ls[0].NoScheme {
		s, err := urlSource(ls[0].URL)
		s.arg = arg
		return s, err == nil
	}
	return source{}, false
}

// urlSource classifies an argument written as a URL.
func urlSource(arg string) (source, error) {
	raw, forcedFeed := strings.TrimSpace(arg), false
	if hasPrefixFold(raw, "feed:") {
		forcedFeed, raw = true, raw[len("feed:"):]
		if strings.HasPrefix(raw, "//") {
			raw = "https:" + raw
		}
	}
	raw = lowerSchemeHost(raw)
	if reason := hrefProblem(raw); reason != "" {
		return source{}, &InputError{Arg: arg, Reason: reason, Kind: ErrBadArgument}
	}
	u, _ := url.Parse(raw)
	if feed, ok := feedURL(u); ok || forcedFeed {
		if ok {
			raw = feed
		}
		return source{kind: srcFeed, arg: arg, url: raw}, nil
	}
	return source{kind: srcArticle, arg: arg, url: raw}, nil
}

// feedURL says whether u names a feed rather than an article, and returns
// the feed's URL: Google News topic, search and headline pages become
// the RSS feeds of the same (the pages are a script application; their
// feeds list the same articles).
func feedURL(u *url.URL) (string, bool) {
	host := strings.TrimSuffix(u.Hostname(), ".")
	p := strings.ToLower(u.Path)
	if host == "news.google.com" {
		switch {
		case p == "/rss" || p == "/rss/":
			return u.String(), true
		case strings.HasPrefix(p, "/rss/topics/"), strings.HasPrefix(p, "/rss/search"),
			strings.HasPrefix(p, "/rss/headlines/"), strings.HasPrefix(p, "/rss/stories/"):
			return u.String(), true
		case strings.HasPrefix(p, "/topics/"), strings.HasPrefix(p, "/search"),
			strings.HasPrefix(p, "/headlines/"), strings.HasPrefix(p, "/stories/"), p == "/home", p == "" || p == "/":
			if p == "/home" || p == "" || p == "/" {
				u.Path = ""
			}
			f := *u
			f.Path = "/rss" + u.Path
			f.RawPath = ""
			return f.String(), true
		}
		return "", false
	}
	switch path.Ext(p) {
	case ".rss", ".xml", ".atom", ".rdf":
		return u.String(), true
	}
	switch path.Base(strings.TrimSuffix(p, "/")) {
	case "feed", "rss", "atom", "feeds":
		return u.String(), true
	}
	q := u.Query()
	if q.Has("feed") || strings.EqualFold(q.Get("format"), "rss") || strings.EqualFold(q.Get("format"), "atom") {
		return u.String(), true
	}
	if strings.HasPrefix(host, "feeds.") || strings.HasPrefix(host, "rss.") {
		return u.String(), true
	}
	return "", false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isNotDir reports a path through a file ("a.md/x"): as missing as can be.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
