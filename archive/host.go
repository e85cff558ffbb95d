package archive

import (
	"context"
	"sync"
)

// hostPool works articles one host at a time per queue and many hosts in
// parallel. Each host gets a queue and, while it has work, one goroutine, so
// a slow or throttled host never holds up the others, and the number of
// goroutines grows with the number of hosts, not of articles. A semaphore
// bounds how many fetches are in flight at once (memory: each holds a page).
type hostPool struct {
	ctx     context.Context
	process func(context.Context, *article)
	sem     chan struct{}

	mu     sync.Mutex
	queues map[string]*hostQueue
	wg     sync.WaitGroup
}

type hostQueue struct {
	items   []*article
	running bool
}

func newHostPool(ctx context.Context, inFlight int, process func(context.Context, *article)) *hostPool {
	return &hostPool{ctx: ctx, process: process, sem: make(chan struct{}, inFlight), queues: map[string]*hostQueue{}}
}

// enqueue adds an article to its host's queue, starting the host's worker
// if it is idle.
func (p *hostPool) enqueue(a *article) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queues[a.host]
	if q == nil {
		q = &hostQueue{}
		p.queues[a.host] = q
	}
	q.items = append(q.items, a)
	if !q.running {
		q.running = true
		p.wg.Add(1)
		go p.work(q)
	}
}

// work drains one host's queue, then exits; enqueue restarts it on new work.
func (p *hostPool) work(q *hostQueue) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		if len(q.items) == 0 || p.ctx.Err() != nil {
			q.items = nil
			q.running = false
			p.mu.Unlock()
			return
		}
		a := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		p.mu.Unlock()

		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			continue
		}
		p.process(p.ctx, a)
		<-p.sem
	}
}

// wait blocks until every queue is drained (or abandoned after ctx ends).
// Call it only after the last enqueue.
func (p *hostPool) wait() { p.wg.Wait() }
