package gnewstest

import (
	"context"
	"net/http"
)

// requestInfo lets a handler complete its request's log entry.
type requestInfo struct {
	s        *Server
	gen, idx int
}

// update changes the log entry, unless the log was reset since.
func (i *requestInfo) update(f func(*Request)) {
	if i.s == nil {
		return
	}
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	if i.s.gen == i.gen && i.idx < len(i.s.reqs) {
		f(&i.s.reqs[i.idx])
	}
}

type infoKey struct{}

func withInfo(ctx context.Context, i *requestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, i)
}

func infoOf(r *http.Request) *requestInfo {
	if i, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}
