package fuzzcheck

import "testing"

var sink []byte

func TestHeapAllocs(t *testing.T) {
	for _, size := range []int{8 << 20, 32 << 20} {
		n := HeapAllocs(func() { sink = make([]byte, size) })
		if n < uint64(size) || n > uint64(size)+Slack {
			t.Errorf("allocating %d bytes measured as %d", size, n)
		}
	}
	if n := HeapAllocs(func() {}); n > Slack {
		t.Errorf("doing nothing measured as %d bytes", n)
	}
	sink = nil
}

func TestMaxAllocPasses(t *testing.T) {
	MaxAlloc(t, 1<<20, "a 1 MiB allocation", func() { sink = make([]byte, 1<<20) })
	sink = nil
}
