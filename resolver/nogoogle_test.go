package resolver

import (
	"strings"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
	"github.com/linkarc/linkarc/storage/record"
)

// Issue 12: Options.NoGoogle never contacts Google. Ids only Google can
// resolve are google_disabled with a hint; old ids, cache hits and other
// links still resolve.
func TestNoGoogle(t *testing.T) {
	f := newFake(t, gnewstest.Options{})
	pub := newPublisher(t)
	links, urls := mint(f, nil, 3, "ng")
	cache := NewMemoryCache()
	if err := cache.Put(bg(), parseInput(links[0]).id, urls[0]); err != nil {
		t.Fatal(err)
	}
	old := gnewstest.ArticleURL(gnewstest.EncodeOldID("https://old.example/a", ""))
	r := newTestResolver(t, f, func(o *Options) {
		o.NoGoogle, o.Cache = true, cache
		o.AllowPrivate = true
	})
	res := r.Resolve(bg(), []string{links[0], links[1], old, pub.URL + "/story", "news.google.com/read/" + parseInput(links[2]).id})
	wantURL(t, res[0], urls[0], MethodCache)
	wantKind(t, res[1], record.ReasonGoogleDisabled)
	wantURL(t, res[2], "https://old.example/a", MethodOffline)
	wantURL(t, res[3], pub.URL+"/story", MethodRedirect)
	wantKind(t, res[4], record.ReasonGoogleDisabled)
	if msg := res[1].Err.Message; !strings.Contains(msg, "--no-google") || !strings.Contains(msg, "run without") {
		t.Errorf("message %q lacks the hint", msg)
	}
	if n := f.Total(); n != 0 {
		t.Errorf("%d requests reached Google", n)
	}
	if r.RateLimited() {
		t.Error("NoGoogle is not rate limiting")
	}
}
