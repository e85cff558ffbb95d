package archive

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/archive/fetch"
	"github.com/linkarc/linkarc/resolver"
)

// noResolver stands in for the resolver of a batch without Google links.
type noResolver struct{}

func (noResolver) Stream(context.Context, []string, resolver.Sink) {
	panic("no link of this batch needs the resolver")
}
func (noResolver) Classify(_ context.Context, links []string) []resolver.Classified {
	return make([]resolver.Classified, len(links))
}
func (noResolver) ExpectedTime(int) time.Duration { return 0 }
func (noResolver) RateLimited() bool              { return false }
func (noResolver) IsShortLink(string) bool        { return false }

// overlapFetcher records whether two fetches were ever in flight at once.
// The first fetch waits a while for a second to start, so that two queues
// would show; one queue passes without waiting on the scheduler.
type overlapFetcher struct {
	mu       sync.Mutex
	inFlight int
	overlap  bool
	started  chan struct{}
	calls    int
}

func (f *overlapFetcher) Fetch(ctx context.Context, url string) (*fetch.Capture, error) {
	f.mu.Lock()
	f.inFlight++
	f.calls++
	first := f.calls == 1
	if f.inFlight > 1 {
		f.overlap = true
		close(f.started)
	}
	f.mu.Unlock()
	if first {
		select {
		case <-f.started:
		case <-time.After(300 * time.Millisecond):
		}
	}
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
	return nil, &fetch.Error{URL: url, Reason: "http_404", Err: errors.New("not here")}
}

// TestOneHostQueuePerHost: links spelling one host differently
// ("Example.com.", "example.com", "EXAMPLE.COM") are one publisher host:
// one queue, worked one article at a time, and one line of the report.
func TestOneHostQueuePerHost(t *testing.T) {
	dir := t.TempDir()
	items := []archivetest.DigestItem{
		{Title: "First", Publisher: "P", Link: "https://Example.com./a"},
		{Title: "Second", Publisher: "P", Link: "https://example.com/b"},
		{Title: "Third", Publisher: "P", Link: "https://EXAMPLE.COM/c"},
	}
	if _, err := archivetest.WriteDigest(dir, "d.md", "Spellings", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}
	f := &overlapFetcher{started: make(chan struct{})}
	a, err := New(Options{Store: localStore(t), Resolver: noResolver{}, Fetcher: f, HostConcurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls != len(items) || f.overlap {
		t.Errorf("%d fetches, overlapping %v; want %d, one at a time", f.calls, f.overlap, len(items))
	}
	if len(rep.ByHost) != 1 || rep.ByHost["example.com"]["failed"] != len(items) {
		t.Errorf("report by host %v, want the %d articles under example.com", rep.ByHost, len(items))
	}
}
