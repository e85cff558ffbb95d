package singlepage

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/hostile"
)

// hostileHeapCeiling bounds the heap one Build of an 8 MiB hostile page
// may take, sampled every 5 ms: what a page costs the pipeline's process,
// where pages are built outside the extraction's worker budget.
const hostileHeapCeiling = 128 << 20

// TestBuildHostilePages builds every hostile page shape (8 MiB, or 600
// levels deep): each is built or refused as too complex within a few
// seconds and hostileHeapCeiling of heap; the formatting bombs, whose
// parse would take gigabytes, are refused before they are parsed.
func TestBuildHostilePages(t *testing.T) {
	for _, p := range hostile.Pages() {
		t.Run(p.Name, func(t *testing.T) {
			n := 8 << 20
			if p.Unit == hostile.Depth {
				n = 600
			}
			src := writeWARC(t, "h.warc.gz", nil, []exchange{htmlPage(string(p.Gen(n)))})
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			start := time.Now()
			_, st, err := Build(context.Background(), pageURL, []Source{src}, Options{})
			close(stop)
			<-sampled
			grew := int64(peak.Load()) - int64(before.HeapInuse)
			t.Logf("%v, heap +%d MiB, %d bytes built, err %v", time.Since(start).Round(time.Millisecond), grew>>20, st.Bytes, err)
			if err != nil && !errors.Is(err, ErrPageTooComplex) {
				t.Errorf("Build: %v", err)
			}
			if grew > hostileHeapCeiling {
				t.Errorf("heap grew by %d MiB, over %d MiB", grew>>20, hostileHeapCeiling>>20)
			}
			if (p.Name == "formatting-bomb" || p.Name == "formatting-bomb-attrs") && !errors.Is(err, ErrPageTooComplex) {
				t.Errorf("a formatting bomb was parsed")
			}
		})
	}
}
