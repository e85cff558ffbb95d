package gnewstest

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// noRedirect is a cookieless client that shows every hop.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func post(t *testing.T, s *Server, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.NewsURL()+"/_/DotsSplashUi/data/batchexecute", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// freq builds an f.req form body from envelopes.
func freq(envs ...[]any) string {
	b, _ := json.Marshal([][][]any{envs})
	return url.Values{"f.req": {string(b)}}.Encode()
}

func inner(id string, ts any, sg string) string {
	b, _ := json.Marshal([]any{"garturlreq", json.RawMessage(`[["X","X",["X","X"],null,null,1,1,"US:en",null,1,null,null,null,null,null,0,1],"X","X",1,[1,1,1],1,1,null,0,0,null,0]`), id, ts, sg})
	return string(b)
}

// pair fetches an article page and returns its ts and sg.
func pair(t *testing.T, s *Server, id string) (int64, string) {
	t.Helper()
	_, page := get(t, noRedirect, s.NewsURL()+"/rss/articles/"+id+"?hl=en-US&gl=US&ceid=US:en")
	var ts int64
	var sg string
	i := strings.LastIndex(page, `data-n-a-ts="`) // the first ones are decoys

	if i < 0 {
		t.Fatalf("no pair in page")
	}
	if _, err := fmt.Sscanf(page[i:], `data-n-a-ts="%d" data-n-a-sg="`, &ts); err != nil {
		t.Fatal(err)
	}
	j := strings.LastIndex(page, `data-n-a-sg="`)
	sg = page[j+len(`data-n-a-sg="`):]
	sg = sg[:strings.IndexByte(sg, '"')]
	return ts, sg
}

// Spec §7 case 14: the fake validates requests like Google.
func TestBatchValidation(t *testing.T) {
	now := time.Unix(1790181872, 0)
	clock := func() time.Time { return now }
	s := start(t, Options{Now: clock, TTL: time.Hour, Framing: FramingA})
	id := s.NewID("https://publisher.example/a?x=1&y=2")
	unknown := EncodeNewID("AU_yqLunknownunknownunknown")
	ts, sg := pair(t, s, id)
	if ts != now.Unix() || len(sg) != 28 || sg[0] != 'A' {
		t.Fatalf("pair = %d %q", ts, sg)
	}
	form := "application/x-www-form-urlencoded;charset=UTF-8"
	er := `["er",null,null,null,null,400,null,null,null,3]`
	tests := []struct {
		name, ct, body string
		status         int
		contains       string
	}{
		{"valid", form, freq([]any{"Fbv4je", inner(id, ts, sg), nil, "generic"}), 200,
			`"[\"garturlres\",\"https://publisher.example/a?x\\u003d1\\u0026y\\u003d2\",1]",null,null,null,"generic"]`},
		{"text/plain", "text/plain", freq([]any{"Fbv4je", inner(id, ts, sg), nil, "generic"}), 400, er},
		{"two levels", form, func() string {
			b, _ := json.Marshal([][]any{{"Fbv4je", inner(id, ts, sg), nil, "generic"}})
			return url.Values{"f.req": {string(b)}}.Encode()
		}(), 400, er},
		{"not JSON", form, "f.req=%5B%5B%5B", 400, er},
		{"empty body", form, "", 400, er},
		{"unknown rpc", form, freq([]any{"XXXXXX", inner(id, ts, sg), nil, "generic"}), 400, er},
		{"inner not a string", form, freq([]any{"Fbv4je", json.RawMessage(inner(id, ts, sg)), nil, "generic"}), 400, er},
		{"ts as a string", form, freq([]any{"Fbv4je", inner(id, fmt.Sprint(ts), sg), nil, "generic"}), 200, `[3],"generic"]`},
		{"wrong sg", form, freq([]any{"Fbv4je", inner(id, ts, "A"+sg[1:27]+"x"), nil, "generic"}), 200, `[3],"generic"]`},
		{"sg of another ts", form, freq([]any{"Fbv4je", inner(id, ts+1, sg), nil, "generic"}), 200, `[3],"generic"]`},
		{"unknown id", form, freq([]any{"Fbv4je", inner(unknown, ts, s.Sign(unknown, ts)), nil, "7"}), 200, `[3],"7"]`},
		{"no signature (2024 request)", form, freq([]any{"Fbv4je", `["garturlreq",[],"` + id + `"]`, nil, "generic"}), 200, `[3],"generic"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, s, tt.ct, tt.body)
			if status != tt.status || !strings.HasPrefix(body, ")]}'\n\n") || !strings.Contains(body, tt.contains) {
				t.Fatalf("status %d body %s\nwant %d containing %s", status, body, tt.status, tt.contains)
			}
		})
	}
	// Expiry: the same signature an hour and a second later.
	now = now.Add(time.Hour + time.Second)
	if _, body := post(t, s, form, freq([]any{"Fbv4je", inner(id, ts, sg), nil, "generic"})); !strings.Contains(body, `[3],"generic"]`) {
		t.Errorf("expired signature accepted: %s", body)
	}
}

// Framing B is byte-exact with the spec sample (§5.5), lengths included.
func TestFrameBMatchesSpec(t *testing.T) {
	want := ")]}'\n\n123\n" + `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://publisher.example.org/2026/09/23/another-story/\",1]",null,null,null,"2"]]` +
		"\n153\n" + `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://www.example-news.com/world/story-123?utm_source\\u003dgoogle\\u0026id\\u003d9\",1]",null,null,null,"1"]]` +
		"\n56\n" + `[["di",41],["af.httprm",41,"-2764313937442103421",27]]` + "\n25\n" + `[["e",4,null,null,373]]` + "\n"
	got := frameB([][]string{
		{okRow("https://publisher.example.org/2026/09/23/another-story/", "2")},
		{okRow("https://www.example-news.com/world/story-123?utm_source=google&id=9", "1")},
		{`["di",41]`, `["af.httprm",41,"-2764313937442103421",27]`},
	})
	if got != want {
		t.Fatalf("frameB =\n%q\nwant\n%q", got, want)
	}
	// The captured 400 answer is 139 bytes with its random field.
	if b := transportErrorBody("-7338016033765615300"); !strings.HasSuffix(b, fmt.Sprintf(`[["e",4,null,null,%d]]`+"\n", len(b))) {
		t.Errorf("transport error trailer does not count the body: %q", b)
	}
}

// Rows come back shuffled, in either framing, B also without rt=c.
func TestBatchShuffleAndFraming(t *testing.T) {
	for _, tc := range []struct {
		framing Framing
		query   string
		wantB   bool
	}{{FramingAuto, "", false}, {FramingAuto, "?rt=c", true}, {FramingB, "", true}, {FramingA, "?rt=c", false}} {
		s := start(t, Options{Framing: tc.framing, Seed: 1})
		var envs [][]any
		for i := range 8 {
			id := s.NewID(fmt.Sprintf("https://p.example/%d", i))
			ts, sg := pair(t, s, id)
			envs = append(envs, []any{"Fbv4je", inner(id, ts, sg), nil, fmt.Sprint(i + 1)})
		}
		resp, err := http.Post(s.NewsURL()+"/_/DotsSplashUi/data/batchexecute"+tc.query, "application/x-www-form-urlencoded", strings.NewReader(freq(envs...)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		isB := strings.HasPrefix(body, ")]}'\n\n") && body[6] >= '0' && body[6] <= '9'
		if isB != tc.wantB {
			t.Errorf("framing %v %q: framing B = %v, want %v: %.80q", tc.framing, tc.query, isB, tc.wantB, body)
		}
		order := ""
		for i := 0; ; {
			j := strings.Index(body[i:], `https://p.example/`)
			if j < 0 {
				break
			}
			order += body[i+j+18 : i+j+19]
			i += j + 19
		}
		if len(order) != 8 || order == "01234567" {
			t.Errorf("rows in order %q, want all 8 shuffled", order)
		}
		if got := s.Count(KindBatchexecute); got != 1 {
			t.Errorf("batchexecute count = %d", got)
		}
	}
}

// Spec §3.2 and §7 cases 6, 9, 10, 12 from the server's side.
func TestStepOneBehaviours(t *testing.T) {
	s := start(t, Options{Consent: true})
	id := s.NewID("https://p.example/x")
	base := s.NewsURL() + "/rss/articles/" + id

	// Locale 302 on a bare URL, same host.
	resp, _ := get(t, noRedirect, base+"?oc=5")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Host != "" && loc.Host != strings.TrimPrefix(s.NewsURL(), "http://") || loc.Query().Get("ceid") != "US:en" || loc.Query().Get("oc") != "5" {
		t.Fatalf("bare URL: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Consent: cookieless client comes back with 303 and gets the page.
	loc0 := base + "?hl=en-US&gl=US&ceid=US:en"
	resp, _ = get(t, noRedirect, loc0)
	if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), s.ConsentURL()+"/ml?") || !strings.Contains(resp.Header.Get("Set-Cookie"), "SOCS=") {
		t.Fatalf("consent redirect: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Set-Cookie"))
	}
	resp, _ = get(t, noRedirect, resp.Header.Get("Location"))
	if resp.StatusCode != 303 {
		t.Fatalf("cookieless consent: %d", resp.StatusCode)
	}
	resp, page := get(t, noRedirect, resp.Header.Get("Location"))
	if resp.StatusCode != 200 || !strings.Contains(page, `data-n-a-sg="`) {
		t.Fatalf("after consent: %d %.200s", resp.StatusCode, page)
	}
	// A client with a cookie jar replays SOCS and is stuck at the wall.
	jar, _ := cookiejar.New(nil)
	resp, page = get(t, &http.Client{Jar: jar}, loc0)
	if !strings.Contains(page, "Before you continue") || strings.Contains(page, "data-n-a-sg") {
		t.Fatalf("jar client: %d %.200s", resp.StatusCode, page)
	}
	sawCookie := false
	for _, r := range s.Requests() {
		if r.Kind == KindConsent && strings.Contains(r.Cookie, "SOCS=") {
			sawCookie = true
		}
	}
	if !sawCookie {
		t.Error("the jar client's SOCS cookie was not seen by the consent host")
	}

	// /articles/ and /read/ 302 to /sorry; the sorry page is a captcha.
	for _, p := range []string{"/articles/", "/read/"} {
		resp, _ := get(t, noRedirect, s.NewsURL()+p+id+"?hl=en-US&gl=US&ceid=US:en")
		if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), s.GoogleURL()+"/sorry/index?continue=") {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	_, page = get(t, noRedirect, s.GoogleURL()+"/sorry/index?continue=x")
	if !strings.Contains(page, "captcha-form") || s.Count(KindSorry) != 1 || s.Count(KindLegacy) != 2 {
		t.Errorf("sorry page or counts wrong: sorry %d legacy %d", s.Count(KindSorry), s.Count(KindLegacy))
	}
}

func TestRateLimitAndInterstitialAndGzip(t *testing.T) {
	s := start(t, Options{RateLimitAfter: 2, InterstitialUA: []string{"HeadlessThing"}, PagePadding: 600 << 10})
	id := s.NewID("https://p.example/x")
	u := s.NewsURL() + "/rss/articles/" + id + "?hl=en-US&gl=US&ceid=US:en"

	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(zr)
	resp.Body.Close()
	if len(page) < 600<<10 || !strings.Contains(string(page), "data-n-a-sg") {
		t.Fatalf("padded page: %d bytes", len(page))
	}

	req, _ = http.NewRequest("GET", u, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 HeadlessThing/1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(b), "data-n-a-sg") {
		t.Fatalf("interstitial: %d has signature: %v", resp.StatusCode, strings.Contains(string(b), "data-n-a-sg"))
	}

	resp, body := get(t, noRedirect, u) // third GET: over budget
	if resp.StatusCode != 429 || !strings.Contains(body, "Too Many Requests") {
		t.Fatalf("third GET: %d", resp.StatusCode)
	}
	if s.Count(KindArticle) != 3 {
		t.Errorf("article count %d, want 3", s.Count(KindArticle))
	}
}

func TestRecordingServedVerbatim(t *testing.T) {
	rec, err := LoadRecording("../../testdata/google-news")
	if err != nil {
		t.Fatal(err)
	}
	if rec.TS != 1790181872 || rec.SG != "Ae5Wzi-zTr7BmTsy16W2E8ubaTXt" || !strings.HasPrefix(rec.PublisherURL, "https://www.reuters.com/world/middle-east/") {
		t.Fatalf("recording = %d %q %q", rec.TS, rec.SG, rec.PublisherURL)
	}
	s := start(t, Options{Recording: rec})
	_, page := get(t, noRedirect, s.NewsURL()+"/rss/articles/"+rec.ID+"?hl=en-US&gl=US&ceid=US:en")
	if page != string(rec.Page) {
		t.Fatal("recorded page not served verbatim")
	}
	status, body := post(t, s, "application/x-www-form-urlencoded", freq([]any{"Fbv4je", inner(rec.ID, rec.TS, rec.SG), nil, "generic"}))
	if status != 200 || body != string(rec.Response) {
		t.Fatalf("recorded triple: %d %q", status, body)
	}
	_, body = post(t, s, "application/x-www-form-urlencoded", freq([]any{"Fbv4je", inner(rec.ID, rec.TS, "Ae5Wzi-zTr7BmTsy16W2E8ubaTXx"), nil, "generic"}))
	if !strings.Contains(body, `[3],"generic"]`) {
		t.Fatalf("tampered recorded triple accepted: %q", body)
	}
}

func TestIDEncoders(t *testing.T) {
	// The huksley example from the spec, rebuilt from its parts.
	got := EncodeOldID("https://techcrunch.com/2022/10/27/new-york-post-hacked-offensive-tweets/", "")
	if want := "CBMiSGh0dHBzOi8vdGVjaGNydW5jaC5jb20vMjAyMi8xMC8yNy9uZXcteW9yay1wb3N0LWhhY2tlZC1vZmZlbnNpdmUtdHdlZXRzLw"; got != want {
		t.Errorf("EncodeOldID = %s\nwant %s", got, want)
	}
	got = EncodeOldID("https://www.bbc.com/news/articles/cjjjnxdv188o", "https://www.bbc.com/news/articles/cjjjnxdv188o.amp")
	if want := "CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9jampqbnhkdjE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA"; got != want {
		t.Errorf("EncodeOldID with AMP = %s\nwant %s", got, want)
	}
	got = EncodeNewID("AU_yqLNFS1oBZUBx1IMVoXlW5iGAdN4J671Qx1lMq-MCbHbyE0DT_EX9ZdBxdlZu25yXoV1s-kx6Qc5UIyK8K6QSLbs-3w")
	if !strings.HasPrefix("CBMiXkFVX3lxTE5GUzFvQlpVQngxSU1Wb1hsVzVpR0FkTjRKNjcxUXgxbE1xLU1DYkhieUUwRFRfRVg5WmRCeGRsWnUyNXlYb1Yxcy1reDZRYzVVSXlLOEs2UVNMYnMtM3fSAWNB", got[:len(got)-2]) {
		t.Errorf("EncodeNewID = %s", got)
	}
	s := start(t, Options{})
	a, b := s.NewArticle("https://p.example/1"), s.NewArticle("https://p.example/1")
	if a == b || !strings.HasPrefix(a, "https://news.google.com/rss/articles/CBMi") || !strings.HasSuffix(a, "?oc=5") {
		t.Errorf("NewArticle = %s, %s", a, b)
	}
}
