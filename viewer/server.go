// Package viewer is linkarc's read-only web viewer: it serves the digests and
// articles of an archive (any storage.Store) as HTML pages and a JSON API,
// with a search index over titles, publishers and article text.
//
// Archived pages are hostile input. The viewer renders its own pages with
// html/template and a strict Content-Security-Policy, shows extracted
// article HTML only after sanitizing it, and serves raw snapshots only with
// a CSP sandbox that disables scripts, forms, pop-ups, navigation of the
// viewer and every network request (see SECURITY.md).
package viewer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/sync/semaphore"

	"github.com/linkarc/linkarc/storage"
)

// Defaults of Options, used for zero fields, and of `linkarc serve`.
const (
	DefaultRefreshInterval = time.Minute
	DefaultStoreTimeout    = 10 * time.Second
	DefaultPageSize        = 25
	// DefaultAddr is where `linkarc serve` listens unless told otherwise:
	// this machine only.
	DefaultAddr = "127.0.0.1:8080"
)

// Options configures a Server, in the manner of minio-go's option structs.
// Store is required; the zero value of every other field is a sensible
// default.
type Options struct {
	// Store is the archive to serve. The viewer only reads it.
	Store storage.Store

	// Logger receives request errors, refresh progress and recovered panics.
	// Nil discards them.
	Logger *slog.Logger

	// IndexDir keeps the search index on disk, so that a restart reindexes
	// only what changed. "" keeps it in memory (rebuilt at every start).
	// One directory serves one store; give each viewer its own.
	IndexDir string

	// RefreshInterval is how often the digest list and the search index are
	// brought up to date with the store. Default DefaultRefreshInterval.
	RefreshInterval time.Duration

	// StoreTimeout bounds the store reads of one request, so that a hung
	// store gives a 503 instead of a hung page. Default DefaultStoreTimeout.
	StoreTimeout time.Duration

	// PageSize is the number of digests per home page and the default page
	// size of the API and search. Default DefaultPageSize.
	PageSize int

	// AllowedHosts, when not empty, lists the Host header values (names or
	// addresses, without port) the viewer answers; other requests get 421.
	// This defeats DNS rebinding: a web page that makes its own host name
	// resolve to 127.0.0.1 still cannot read a loopback viewer.
	AllowedHosts []string
}

// Server is the viewer: an http.Handler plus the background work that keeps
// its digest list and search index current. Create it with New, serve it
// with Serve (or mount it as a handler and call Run), and Close it.
type Server struct {
	opts     Options
	store    storage.Store
	log      *slog.Logger
	catalog  *catalog
	index    *searchIndex
	pages    *pageRenderer
	static   *staticFiles
	policy   *bluemonday.Policy
	handler  http.Handler
	allowed  map[string]bool
	searches chan struct{}       // slots for searches running at once
	rewrites *semaphore.Weighted // bytes of snapshots being rewritten at once
	bufs     sync.Pool           // *bytes.Buffer for rendering
	closeOne sync.Once
}

// New creates a viewer for opts.Store. It opens (or creates) the search
// index but reads nothing from the store yet: Run and Serve do that in the
// background, and the first request for the digest list loads it on demand.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("viewer: Options.Store is nil")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = DefaultStoreTimeout
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	pages, err := newPageRenderer()
	if err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	static, err := newStaticFiles()
	if err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	pages.cssPath = static.path("style.css")
	pages.iconPath = static.path("icon.svg")
	cat := newCatalog(opts.Store, opts.Logger)
	ix, err := openSearchIndex(opts.IndexDir, opts.Store, opts.Logger, func(ctx context.Context) (map[string][]string, error) {
		d, err := cat.index(ctx)
		return d.articleTags, err
	})
	if err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	s := &Server{
		opts:    opts,
		store:   opts.Store,
		log:     opts.Logger,
		catalog: cat,
		index:   ix,
		pages:   pages,
		static:  static,
		policy:  readablePolicy(),
		// A search is pure CPU: more at once than there are cores only
		// makes every one of them slower. The rest wait their turn.
		searches: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
		rewrites: semaphore.NewWeighted(rewriteBudget),
	}
	if len(opts.AllowedHosts) > 0 {
		s.allowed = map[string]bool{}
		for _, h := range opts.AllowedHosts {
			s.allowed[normalizeHost(h)] = true
		}
	}
	static.notFound = s.notFound
	s.handler = s.middleware(s.routes())
	return s, nil
}

// ServeHTTP serves the viewer's pages, API and static files.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Refresh brings the digest list and the search index up to date with the
// store once, synchronously.
func (s *Server) Refresh(ctx context.Context) error {
	return errors.Join(s.catalog.refresh(ctx), s.index.refresh(ctx))
}

// Run keeps the digest list and the search index current until ctx is
// done, refreshing every Options.RefreshInterval. Refresh failures (a store
// outage) are logged and retried at the next tick; serving goes on from
// what is already loaded. Run returns when ctx is done.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	loop := func(name string, refresh func(context.Context) error) {
		defer wg.Done()
		t := time.NewTicker(s.opts.RefreshInterval)
		defer t.Stop()
		for {
			if err := refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("viewer: refresh failed; serving what is loaded", "what", name, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	wg.Add(2)
	// Separate loops: a long first indexing must not delay the digest list.
	go loop("digests", s.catalog.refresh)
	go loop("search index", s.index.refresh)
	wg.Wait()
}

// Serve serves the viewer on ln until ctx is done, with Run keeping it
// current, then shuts down gracefully: requests in flight get up to
// shutdownGrace to finish. It returns nil after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a raw snapshot may be large
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	ran := make(chan struct{})
	go func() { defer close(ran); s.Run(runCtx) }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopRun()
		<-ran
		return fmt.Errorf("viewer: serve: %w", err)
	case <-ctx.Done():
	}
	stopRun()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	<-ran
	if err != nil {
		return fmt.Errorf("viewer: shutdown: %w", err)
	}
	return nil
}

// shutdownGrace is how long in-flight requests may run after a shutdown
// signal.
const shutdownGrace = 10 * time.Second

// IndexStats reports the state of the search index.
func (s *Server) IndexStats() IndexStats { return s.index.Stats() }

// Close releases the search index. Call it after Serve or Run returned.
func (s *Server) Close() error {
	var err error
	s.closeOne.Do(func() { err = s.index.Close() })
	return err
}
