package fetch

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestOneGatePerHost: spellings of one host name ("Example.com." and
// "example.com") share one politeness gate and one robots.txt, as they share
// one host queue in the pipeline (weburl.Host is the key of all three).
func TestOneGatePerHost(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("User-agent: *\nAllow: /\n")) })
	mux.HandleFunc("GET /", htmlHandler(testPage))
	pub := newPublisher(t, "127.0.0.1:0", mux)
	_, port, _ := net.SplitHostPort(pub.Listener.Addr().String())

	opts := testOptions()
	opts.IgnoreRobots = false
	opts.HostInterval = time.Millisecond
	// Every name is this publisher: the test is about keys, not DNS.
	opts.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, pub.Listener.Addr().String())
	}
	f := newTestFetcher(t, opts)
	for _, u := range []string{
		"http://Example.com.:" + port + "/a",
		"http://example.com:" + port + "/b",
		"http://EXAMPLE.COM:" + port + "/c#top",
	} {
		if _, err := f.Fetch(context.Background(), u); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	f.mu.Lock()
	gates := len(f.gates)
	f.mu.Unlock()
	if gates != 1 {
		t.Errorf("%d politeness gates for one host, want 1", gates)
	}
	if n := pub.hits("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times for one origin, want 1", n)
	}
}
