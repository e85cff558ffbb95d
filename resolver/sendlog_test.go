package resolver

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// sendLog records, on the client's side, when each Google request was
// written to its connection and when its answer was closed.
type sendLog struct {
	mu          sync.Mutex
	wrote, done []time.Time
	paths       []string
}

func (l *sendLog) transport() http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		i := l.add(req.URL.Path)
		ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
			l.mu.Lock()
			l.wrote[i] = time.Now()
			l.mu.Unlock()
		}})
		resp, err := http.DefaultTransport.RoundTrip(req.WithContext(ctx))
		if err != nil {
			l.mark(i)
			return nil, err
		}
		resp.Body = &closeHook{ReadCloser: resp.Body, onClose: func() { l.mark(i) }}
		return resp, nil
	})
}

func (l *sendLog) add(path string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wrote, l.done, l.paths = append(l.wrote, time.Time{}), append(l.done, time.Time{}), append(l.paths, path)
	return len(l.paths) - 1
}

func (l *sendLog) mark(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done[i].IsZero() {
		l.done[i] = time.Now()
	}
}

type closeHook struct {
	io.ReadCloser
	onClose func()
}

func (c *closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.onClose()
	return err
}

// Issue 12, tests that fail on a busy machine: Google spacing holds from
// what the client really did. Every Google request (signature GETs, their
// consent redirect hops, POSTs) is written to its connection at least
// Interval after the previous one's answer was over, so at least Interval
// after the previous one was sent: a late goroutine or a loaded machine can
// only make the gaps longer. The assertion reads the client's own send
// log, never the server's arrival times, and is a lower bound only; .ci/run
// runs it again under a CPU hog.
func TestIntervalFromClientSendLog(t *testing.T) {
	const interval = 30 * time.Millisecond
	f := newFake(t, gnewstest.Options{Consent: true})
	links, urls := mint(f, nil, 4, "log")
	var log sendLog
	r := newTestResolver(t, f, func(o *Options) {
		o.Interval = interval
		// Full batches only: under load a slow GET would otherwise make
		// the batch wait post one id alone, and the count below would
		// depend on the machine.
		o.BatchSize, o.BatchWait = 2, -1
		o.Transport = log.transport()
	})
	// Two callers at once: their Google work still goes one request at a
	// time, spaced.
	var wg sync.WaitGroup
	for _, half := range [][]int{{0, 1}, {2, 3}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := r.Resolve(bg(), []string{links[half[0]], links[half[1]]})
			for k, i := range half {
				wantURL(t, res[k], urls[i], MethodBatchexecute)
			}
		}()
	}
	wg.Wait()
	log.mu.Lock()
	defer log.mu.Unlock()
	// 4 ids × (article, consent, article) + 2 POSTs.
	if len(log.paths) != 14 {
		t.Fatalf("%d Google requests, want 14: %v", len(log.paths), log.paths)
	}
	for i := range log.paths {
		if log.wrote[i].IsZero() || log.done[i].IsZero() {
			t.Fatalf("request %d (%s): wrote %v done %v", i, log.paths[i], log.wrote[i], log.done[i])
		}
	}
	for i := 1; i < len(log.paths); i++ {
		if gap := log.wrote[i].Sub(log.done[i-1]); gap < interval {
			t.Errorf("request %d (%s) was sent %v after request %d's answer was over, want >= %v", i, log.paths[i], gap, i-1, interval)
		}
		if gap := log.wrote[i].Sub(log.wrote[i-1]); gap < interval {
			t.Errorf("request %d (%s) was sent %v after request %d, want >= %v", i, log.paths[i], gap, i-1, interval)
		}
	}
}
