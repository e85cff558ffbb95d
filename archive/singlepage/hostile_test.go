package singlepage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/hostile"
	"github.com/linkarc/linkarc/internal/usage"
)

// hostileHeapCeiling bounds the heap one Build of an 8 MiB hostile page
// may take (usage.Measure): what a page costs the pipeline's process,
// where pages are built outside the extraction's worker budget.
const hostileHeapCeiling = 128 << 20

// hostileCPUCeiling bounds the CPU time of one such Build: "a few
// seconds", in CPU time so that a loaded machine cannot fail it.
const hostileCPUCeiling = 10 * time.Second

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
			var (
				st  Stats
				err error
			)
			u := usage.Measure(func() { _, st, err = Build(context.Background(), pageURL, []Source{src}, Options{}) })
			grew := u.Heap
			t.Logf("%v (%v of CPU), heap +%d MiB, %d bytes built, err %v", u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), grew>>20, st.Bytes, err)
			if err != nil && !errors.Is(err, ErrPageTooComplex) {
				t.Errorf("Build: %v", err)
			}
			if grew > hostileHeapCeiling {
				t.Errorf("heap grew by %d MiB, over %d MiB", grew>>20, hostileHeapCeiling>>20)
			}
			if u.CPU > hostileCPUCeiling {
				t.Errorf("took %v of CPU, over %v", u.CPU, hostileCPUCeiling)
			}
			if (p.Name == "formatting-bomb" || p.Name == "formatting-bomb-attrs") && !errors.Is(err, ErrPageTooComplex) {
				t.Errorf("a formatting bomb was parsed")
			}
		})
	}
}
