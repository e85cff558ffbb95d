// Package gnewstest runs a fake Google News on loopback that speaks the real
// protocol of docs/google-news-protocol.md (§7), for the tests of package
// resolver and of the archive pipeline.
//
// It is three httptest servers standing in for news.google.com,
// consent.google.com and www.google.com. The news server serves article
// pages carrying HMAC signatures it validates statelessly on batchexecute
// POSTs, shuffles answer rows, speaks both answer framings, gzips, and can
// be made to misbehave the ways Google does: locale and consent redirects,
// JS interstitials, 429s and /sorry after a budget of GETs, error rows,
// missing and conflicting rows, stalled responses. Every request is logged,
// so tests assert exact request counts.
package gnewstest

import (
	"cmp"
	"compress/gzip"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is a well-behaved Google News.
type Options struct {
	// Key signs the sg values; a random key is used when nil.
	Key []byte
	// TTL is how long a signature is accepted (default 1h).
	TTL time.Duration
	// Now is the server's clock (default time.Now).
	Now func() time.Time
	// Framing of batchexecute answers (default FramingAuto).
	Framing Framing
	// Seed makes the row shuffling reproducible.
	Seed uint64
	// RateLimitAfter, when positive, answers 429 to every article GET after
	// that many.
	RateLimitAfter int
	// SorryAfter, when positive, redirects every article GET after that many
	// to www.google.com/sorry/index.
	SorryAfter int
	// CaptchaAfter, when positive, answers every article GET after that
	// many with Google's "unusual traffic" CAPTCHA page and status 200, as
	// a client or proxy that follows the redirect to /sorry receives it.
	CaptchaAfter int
	// CaptchaStatus is the status the CAPTCHA page is answered with
	// (default 200; Google also sends it with 403 or 503).
	CaptchaStatus int
	// CaptchaLang is the language of that page: "" or "en" (with the
	// English sentence), or "de", "fr", "ja" (markup and translated text
	// only). See CaptchaPage.
	CaptchaLang string
	// Consent sends article GETs through the EU consent redirect first.
	Consent bool
	// ConsentWall makes the consent host always answer with the "Before you
	// continue" page, even to cookieless clients.
	ConsentWall bool
	// InterstitialUA lists User-Agent substrings that get the JS
	// interstitial (a page without signature) instead of the article page.
	InterstitialUA []string
	// PagePadding adds inert bytes to article pages (real ones are ~600 KB).
	PagePadding int
	// NoGzip never compresses, even when the client asks for gzip.
	NoGzip bool
	// Recording, when set, is served for its id (see LoadRecording).
	Recording *Recording
}

// Article is what the fake knows about one id.
type Article struct {
	// PublisherURL is what batchexecute answers for the id.
	PublisherURL string

	// Step-1 behaviour.
	Interstitial bool   // answer the JS interstitial (no signature)
	RedirectTo   string // answer 302 to this absolute URL
	RedirectLoop bool   // answer 302 to the same URL, forever
	Hops         int    // answer this many same-host 302s before the page
	Stall        Stall  // never finish the answer
	// PageID is the id the page's signature element names in data-n-a-id
	// (and its c-wiz data-p), when not the id asked for; the pair is still
	// signed for the id asked for.
	PageID string
	// OtherSignatures puts one signature element for each of these ids,
	// signed for them, before the page's own.
	OtherSignatures []string

	// Step-2 behaviour.
	RPCError    int    // answer an error row with this code ([3] is INVALID_ARGUMENT)
	OmitRow     bool   // leave the id out of the answer
	ConflictURL string // add a second row, same tag, with this URL
}

// Stall selects how an answer hangs (for timeout tests). A stalled handler
// returns when the client goes away or the server closes.
type Stall int

const (
	StallNone    Stall = iota
	StallHeaders       // send nothing at all
	StallBody          // send headers and part of the page, then nothing
)

// Kind classifies logged requests.
type Kind string

const (
	KindArticle      Kind = "article"      // GET /rss/articles/{id}
	KindLegacy       Kind = "legacy"       // GET /articles/{id}, /read/{id}, /__i/rss/rd/articles/{id}
	KindBatchexecute Kind = "batchexecute" // POST /_/DotsSplashUi/data/batchexecute
	KindConsent      Kind = "consent"      // consent host
	KindSorry        Kind = "sorry"        // www host /sorry/…
	KindOther        Kind = "other"
)

// Request is one logged request.
type Request struct {
	Time           time.Time // when the request arrived (wall clock)
	Kind           Kind
	Method         string
	Host           string // "news", "consent" or "www"
	Path, RawQuery string
	Cookie         string // the Cookie header; a cookieless client never sends one
	UserAgent      string
	AcceptEncoding string
	ContentType    string
	IDs            []string // ids a batchexecute POST carried, in request order
	Status         int      // status answered; 0 until the answer starts
}

// PostOverride replaces every batchexecute answer (for error-path tests).
type PostOverride struct {
	Status      int
	ContentType string
	Body        string
}

// Server is a running fake. Create it with NewServer and Close it.
type Server struct {
	news, consent, www *httptest.Server
	opts               Options
	key                []byte
	closing            chan struct{}
	closeOnce          sync.Once

	mu             sync.Mutex
	articles       map[string]*Article
	reqs           []Request
	articleGETs    int
	rateLimitAfter int
	sorryAfter     int
	override       *PostOverride
	inFlight, peak int
	rng            *mrand.Rand
	seq            int
	gen            int // bumped by ResetLog, so late answers do not touch a new log

	// gzips recycles compressors (each holds about a megabyte), so the
	// fake's own garbage does not dominate benchmarks of its clients.
	gzips sync.Pool
}

// NewServer starts a fake Google News on 127.0.0.1.
func NewServer(opts Options) *Server {
	if opts.TTL == 0 {
		opts.TTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key := opts.Key
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	s := &Server{
		opts:           opts,
		key:            key,
		closing:        make(chan struct{}),
		articles:       make(map[string]*Article),
		rateLimitAfter: opts.RateLimitAfter,
		sorryAfter:     opts.SorryAfter,
		rng:            mrand.New(mrand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
	}
	s.gzips.New = func() any { return gzip.NewWriter(io.Discard) }
	news := http.NewServeMux()
	news.HandleFunc("GET /rss/articles/{id}", s.handleArticle)
	news.HandleFunc("GET /articles/{id}", s.handleLegacy)
	news.HandleFunc("GET /read/{id}", s.handleLegacy)
	news.HandleFunc("GET /__i/rss/rd/articles/{id}", s.handleLegacy)
	news.HandleFunc("POST /_/DotsSplashUi/data/batchexecute", s.handleBatch)
	news.HandleFunc("/", handleOther)
	consent := http.NewServeMux()
	consent.HandleFunc("GET /m", s.handleConsent)
	consent.HandleFunc("GET /ml", s.handleConsent)
	consent.HandleFunc("/", handleOther)
	www := http.NewServeMux()
	www.HandleFunc("/sorry/", s.handleSorry)
	www.HandleFunc("/", handleOther)
	s.news = httptest.NewServer(s.track("news", news))
	s.consent = httptest.NewServer(s.track("consent", consent))
	s.www = httptest.NewServer(s.track("www", www))
	if opts.Recording != nil {
		s.articles[opts.Recording.ID] = &Article{PublisherURL: opts.Recording.PublisherURL}
	}
	return s
}

// Close releases stalled handlers and shuts the servers down.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.news.Close()
	s.consent.Close()
	s.www.Close()
}

// NewsURL is the base URL standing in for https://news.google.com.
func (s *Server) NewsURL() string { return s.news.URL }

// ConsentURL is the base URL standing in for https://consent.google.com.
func (s *Server) ConsentURL() string { return s.consent.URL }

// GoogleURL is the base URL standing in for https://www.google.com.
func (s *Server) GoogleURL() string { return s.www.URL }

// NewArticle mints a new-format id that resolves to publisherURL and
// returns its Google News link (https://news.google.com/rss/articles/<id>?oc=5).
func (s *Server) NewArticle(publisherURL string) string {
	return ArticleURL(s.NewID(publisherURL))
}

// NewID is NewArticle returning the bare id.
func (s *Server) NewID(publisherURL string) string {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	id := EncodeNewID(mintHandle(s.key, seq, publisherURL))
	s.Register(id, Article{PublisherURL: publisherURL})
	return id
}

// Register sets what the fake does for id (any id, e.g. a real one).
func (s *Server) Register(id string, a Article) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.articles[id] = &a
}

// SetRateLimitAfter changes RateLimitAfter; the count of article GETs
// served so far is kept.
func (s *Server) SetRateLimitAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimitAfter = n
}

// SetPostOverride replaces every batchexecute answer; nil restores them.
func (s *Server) SetPostOverride(o *PostOverride) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override = o
}

// Requests returns the log of every request served so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Count returns the number of logged requests of a kind.
func (s *Server) Count(k Kind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if r.Kind == k {
			n++
		}
	}
	return n
}

// Total returns the number of logged requests of every kind.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// MaxInFlight returns the largest number of requests the fake was serving
// at the same time.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// ResetLog forgets logged requests, the article-GET count behind
// RateLimitAfter and the in-flight peak; registered articles stay.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs, s.articleGETs, s.peak = nil, 0, 0
	s.gen++
}

// Sign returns the signature the fake issues for (id, ts).
func (s *Server) Sign(id string, ts int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s|%d", id, ts)
	// 20 bytes → 27 base64url characters; with the leading A, 28 like Google's.
	return "A" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:20])
}

// validSignature checks a POSTed triple: the recording's own triple, or a
// fresh signature of the fake's.
func (s *Server) validSignature(id string, ts int64, sg string) bool {
	if rec := s.opts.Recording; rec != nil && id == rec.ID && ts == rec.TS && sg == rec.SG {
		return true
	}
	now := s.opts.Now().Unix()
	if ts > now+60 || now-ts > int64(s.opts.TTL/time.Second) {
		return false
	}
	return hmac.Equal([]byte(sg), []byte(s.Sign(id, ts)))
}

// track logs requests, counts concurrency and gzips answers when asked.
func (s *Server) track(host string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		rw := &recorder{ResponseWriter: w, status: http.StatusOK, pool: &s.gzips}
		if !s.opts.NoGzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			rw.gzip = true
		}
		// The request is logged as it arrives, so counts include requests
		// still being answered (or abandoned by the client).
		s.mu.Lock()
		gen, idx := s.gen, len(s.reqs)
		s.reqs = append(s.reqs, Request{
			Time: time.Now(), Kind: classify(host, r), Method: r.Method, Host: host, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Cookie: r.Header.Get("Cookie"), UserAgent: r.UserAgent(), AcceptEncoding: r.Header.Get("Accept-Encoding"),
			ContentType: r.Header.Get("Content-Type"),
		})
		s.mu.Unlock()
		info := &requestInfo{s: s, gen: gen, idx: idx}
		rw.onHeader = func(status int) { info.update(func(q *Request) { q.Status = status }) }
		h.ServeHTTP(rw, r.WithContext(withInfo(r.Context(), info)))
		rw.finish()
	})
}

// classify names the kind of a request, for counting.
func classify(host string, r *http.Request) Kind {
	p := r.URL.Path
	switch {
	case host == "news" && r.Method == http.MethodGet && strings.HasPrefix(p, "/rss/articles/"):
		return KindArticle
	case host == "news" && r.Method == http.MethodGet && (strings.HasPrefix(p, "/articles/") || strings.HasPrefix(p, "/read/") || strings.HasPrefix(p, "/__i/rss/rd/articles/")):
		return KindLegacy
	case host == "news" && r.Method == http.MethodPost && p == "/_/DotsSplashUi/data/batchexecute":
		return KindBatchexecute
	case host == "consent" && (p == "/m" || p == "/ml"):
		return KindConsent
	case host == "www" && strings.HasPrefix(p, "/sorry/"):
		return KindSorry
	}
	return KindOther
}

func handleOther(w http.ResponseWriter, _ *http.Request) {
	writeHTML(w, http.StatusNotFound, notFoundPage)
}

// handleArticle is Step 1.
func (s *Server) handleArticle(w http.ResponseWriter, r *http.Request) {
	id := idFromPath(r.URL.Path)
	s.mu.Lock()
	s.articleGETs++
	n := s.articleGETs
	limit, sorry, captcha := s.rateLimitAfter, s.sorryAfter, s.opts.CaptchaAfter
	a := s.articles[id]
	s.mu.Unlock()
	self := s.absolute(s.news, r.URL)
	switch {
	case id == "":
		writeHTML(w, http.StatusNotFound, notFoundPage)
		return
	case limit > 0 && n > limit:
		writeHTML(w, http.StatusTooManyRequests, tooManyRequestsPage)
		return
	case sorry > 0 && n > sorry:
		s.redirectSorry(w, self)
		return
	case captcha > 0 && n > captcha:
		writeHTML(w, cmp.Or(s.opts.CaptchaStatus, http.StatusOK), CaptchaPage(s.opts.CaptchaLang, self.String()))
		return
	}
	q := r.URL.Query()
	if q.Get("hl") == "" || q.Get("gl") == "" || q.Get("ceid") == "" {
		// Google picks a locale for the caller's geography.
		redirect(w, http.StatusFound, withQuery(r.URL, "hl", "en-US", "gl", "US", "ceid", "US:en").String())
		return
	}
	if s.opts.Consent && q.Get("ucbcb") == "" {
		c := url.Values{"continue": {self.String()}, "gl": {"FR"}, "hl": {"en-US"}, "cm": {"2"}, "pc": {"n"}, "src": {"1"}}
		http.SetCookie(w, &http.Cookie{Name: "SOCS", Value: "CAESEwgDEgk0ODE3Nzk3MjQaAmVuIAEaBgiA_LyaBg", Path: "/", Expires: time.Now().Add(24 * time.Hour)})
		redirect(w, http.StatusFound, s.consent.URL+"/ml?"+c.Encode())
		return
	}
	if a == nil {
		a = &Article{}
	}
	switch {
	case a.Stall != StallNone:
		s.stall(w, r, a.Stall)
		return
	case a.RedirectLoop:
		redirect(w, http.StatusFound, self.String())
		return
	case a.RedirectTo != "":
		redirect(w, http.StatusFound, a.RedirectTo)
		return
	case a.Hops > 0:
		hop, _ := strconv.Atoi(q.Get("hop"))
		if hop < a.Hops {
			redirect(w, http.StatusFound, withQuery(r.URL, "hop", strconv.Itoa(hop+1)).String())
			return
		}
	}
	if a.Interstitial || s.interstitialUA(r.UserAgent()) {
		writeHTML(w, http.StatusOK, interstitialPage)
		return
	}
	if rec := s.opts.Recording; rec != nil && id == rec.ID {
		writeHTML(w, http.StatusOK, string(rec.Page))
		return
	}
	ts := s.opts.Now().Unix()
	if a.PageID == "" && len(a.OtherSignatures) == 0 {
		writeHTML(w, http.StatusOK, articlePage(id, ts, s.Sign(id, ts), s.opts.PagePadding))
		return
	}
	var others []signedElement
	for _, o := range a.OtherSignatures {
		others = append(others, signedElement{o, ts, s.Sign(o, ts)})
	}
	writeHTML(w, http.StatusOK, articlePageWith(cmp.Or(a.PageID, id), ts, s.Sign(id, ts), s.opts.PagePadding, others))
}

func (s *Server) interstitialUA(ua string) bool {
	for _, sub := range s.opts.InterstitialUA {
		if sub != "" && strings.Contains(ua, sub) {
			return true
		}
	}
	return false
}

// handleLegacy answers /articles/ and /read/ as Google did for non-browser
// clients in 2026: 302 to /sorry.
func (s *Server) handleLegacy(w http.ResponseWriter, r *http.Request) {
	s.redirectSorry(w, s.absolute(s.news, r.URL))
}

func (s *Server) redirectSorry(w http.ResponseWriter, original *url.URL) {
	q, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	v := url.Values{"continue": {original.String()}, "q": {"EgS" + q.Text(36)}}
	w.Header().Set("Server", "scaffolding on HTTPServer2")
	redirect(w, http.StatusFound, s.www.URL+"/sorry/index?"+v.Encode())
}

// handleConsent is consent.google.com/m and /ml: a client that does not
// send the SOCS cookie back is sent home with 303 (and a marker that lets
// the article through); one that does, or any client under ConsentWall,
// gets the "Before you continue" page.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	cont, err := url.Parse(r.URL.Query().Get("continue"))
	if err != nil || cont.Host == "" {
		writeHTML(w, http.StatusBadRequest, notFoundPage)
		return
	}
	if _, err := r.Cookie("SOCS"); err == nil || s.opts.ConsentWall {
		writeHTML(w, http.StatusOK, consentPage(cont.String()))
		return
	}
	redirect(w, http.StatusSeeOther, withQuery(cont, "ucbcb", "1").String())
}

func (s *Server) handleSorry(w http.ResponseWriter, r *http.Request) {
	writeHTML(w, http.StatusOK, CaptchaPage(s.opts.CaptchaLang, r.URL.Query().Get("continue")))
}

// handleBatch is Step 2.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	envs, err := parseBatchRequest(r, s.validSignature)
	ids := make([]string, len(envs))
	for i, env := range envs {
		ids[i] = env.id
	}
	infoOf(r).update(func(q *Request) { q.IDs = ids })
	s.mu.Lock()
	override := s.override
	s.mu.Unlock()
	if override != nil {
		w.Header().Set("Content-Type", override.ContentType)
		w.WriteHeader(override.Status)
		_, _ = w.Write([]byte(override.Body))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(transportErrorBody(s.randomInt())))
		return
	}
	if rec := s.opts.Recording; rec != nil && len(envs) == 1 && envs[0].valid && envs[0].id == rec.ID && envs[0].tag == "generic" && s.framing(r) == FramingA {
		_, _ = w.Write(rec.Response) // the real answer, byte for byte
		return
	}
	var rows []string
	s.mu.Lock()
	for _, env := range envs {
		a := s.articles[env.id]
		switch {
		case !env.valid || a == nil || a.PublisherURL == "":
			rows = append(rows, errRow(3, env.tag))
		case a.OmitRow:
		case a.RPCError != 0:
			rows = append(rows, errRow(a.RPCError, env.tag))
		default:
			rows = append(rows, okRow(a.PublisherURL, env.tag))
			if a.ConflictURL != "" {
				rows = append(rows, okRow(a.ConflictURL, env.tag))
			}
		}
	}
	s.rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	s.mu.Unlock()
	trailer := []string{`["di",` + strconv.Itoa(20+len(rows)) + `]`, `["af.httprm",19,` + marshal(s.randomInt()) + `,33]`}
	if s.framing(r) == FramingA {
		_, _ = w.Write([]byte(frameA(append(rows, trailer...))))
		return
	}
	chunks := make([][]string, 0, len(rows)+1)
	for _, row := range rows {
		chunks = append(chunks, []string{row})
	}
	_, _ = w.Write([]byte(frameB(append(chunks, trailer))))
}

func (s *Server) framing(r *http.Request) Framing {
	switch s.opts.Framing {
	case FramingA, FramingB:
		return s.opts.Framing
	}
	if r.URL.Query().Get("rt") == "c" {
		return FramingB
	}
	return FramingA
}

func (s *Server) randomInt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.rng.Int64()-1<<62, 10)
}

// stall hangs until the client gives up or the server closes.
func (s *Server) stall(w http.ResponseWriter, r *http.Request, how Stall) {
	if how == StallBody {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`<!doctype html><html lang="en-US"><head><title>Google News</title>`))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
}

// absolute rebuilds the full URL of a request to one of the servers.
func (s *Server) absolute(srv *httptest.Server, u *url.URL) *url.URL {
	base, _ := url.Parse(srv.URL)
	c := *u
	c.Scheme, c.Host = base.Scheme, base.Host
	return &c
}

func redirect(w http.ResponseWriter, status int, location string) {
	w.Header().Set("Location", location)
	writeHTML(w, status, movedPage(location))
}

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// recorder remembers the status and gzips the body when the client asked.
type recorder struct {
	http.ResponseWriter
	status      int
	onHeader    func(status int)
	gzip        bool
	pool        *sync.Pool
	zw          *gzip.Writer
	wroteHeader bool
}

func (rw *recorder) WriteHeader(status int) {
	if rw.wroteHeader {
		return
	}
	rw.wroteHeader, rw.status = true, status
	if rw.onHeader != nil {
		rw.onHeader(status)
	}
	if rw.gzip {
		h := rw.Header()
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		h.Del("Content-Length")
		rw.zw = rw.pool.Get().(*gzip.Writer)
		rw.zw.Reset(rw.ResponseWriter)
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *recorder) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.zw != nil {
		return rw.zw.Write(p)
	}
	return rw.ResponseWriter.Write(p)
}

func (rw *recorder) Flush() {
	if rw.zw != nil {
		_ = rw.zw.Flush()
	}
	if f, ok := rw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (rw *recorder) finish() {
	if rw.zw != nil {
		_ = rw.zw.Close()
		rw.pool.Put(rw.zw)
		rw.zw = nil
	}
}
