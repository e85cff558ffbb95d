// Package fuzzcheck holds the resource assertions linkarc's fuzz targets
// share: a parser fed hostile input must not allocate out of proportion to
// it (a declared length believed, a quadratic blow-up).
package fuzzcheck

import (
	"runtime/metrics"
	"testing"
)

// heapAllocs is the runtime metric of cumulative heap allocation.
const heapAllocs = "/gc/heap/allocs:bytes"

// Slack absorbs the metric's granularity: small allocations are counted a
// span at a time per P, so a reading can be off by up to a span for each
// size class in use.
const Slack = 4 << 20

// HeapAllocs returns the bytes allocated on the heap, by every goroutine,
// while f ran. A fuzz worker runs one input at a time, so under `go test
// -fuzz` (and for a fuzz target's seeds) the count is essentially f's own.
func HeapAllocs(f func()) uint64 {
	s := []metrics.Sample{{Name: heapAllocs}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// MaxAlloc runs f and fails t if it allocated more than limit bytes (plus
// Slack).
func MaxAlloc(t testing.TB, limit uint64, what string, f func()) {
	t.Helper()
	if n := HeapAllocs(f); n > limit+Slack {
		t.Fatalf("%s allocated %d bytes, more than the bound of %d (+%d slack)", what, n, limit, Slack)
	}
}
