package srcset

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/usage"
)

// TestHostileAttributes: srcset, sizes and media attributes of 8 MiB built
// to hurt (a million candidates, one candidate with a million descriptors,
// a million commas or " and "s) are read in one pass, allocating a small
// multiple of the attribute at most; overflowing or malformed descriptors
// are dropped as browsers drop them.
func TestHostileAttributes(t *testing.T) {
	const size = 8 << 20
	fill := func(unit string) string { return strings.Repeat(unit, size/len(unit)) }
	var million strings.Builder
	for i := 0; million.Len() < size; i++ {
		fmt.Fprintf(&million, "/i/%d.jpg %dw, ", i, 100+i)
	}
	tests := []struct {
		name, srcset, sizes, media string
	}{
		{"a million candidates", million.String(), "", ""},
		{"a million invalid candidates", fill("a.jpg 1q, "), "", ""},
		{"one candidate, a million descriptors", "a.jpg " + fill("1x "), "", ""},
		{"one candidate, one huge descriptor", "a.jpg " + fill("9"), "", ""},
		{"one huge url", fill("a"), "", ""},
		{"a million open parentheses", "a.jpg " + fill("("), "", ""},
		{"sizes of a million commas", "a.jpg 100w", fill(","), ""},
		{"sizes of a million entries", "a.jpg 100w", fill("(min-width: 1px) 10px, "), ""},
		{"sizes of a million parentheses", "a.jpg 100w", fill("("), ""},
		{"sizes of a million autos", "a.jpg 100w", fill("auto, "), ""},
		{"sizes of a million conditional autos", "a.jpg 100w", fill("(min-width: 1px) auto, "), ""},
		{"sizes of a million entries, then auto", "a.jpg 100w", fill("(min-width: 9999px) 10px, ") + "auto", ""},
		{"media of a million commas", "", "", fill(",")},
		{"media of a million ands", "", "", "(min-width: 1px)" + fill(" and (min-width: 1px)")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			u := usage.Measure(func() {
				got = Choose(Parse(tc.srcset), tc.sizes, Image{}, "fallback.jpg", Desktop)
				for _, img := range []Image{{Lazy: true}, {Lazy: true, Width: 300}} {
					SlotWidth(tc.sizes, img, Desktop)
				}
				HasAuto(tc.sizes)
				ImageOf("lazy", tc.sizes, tc.media, Desktop)
				MediaMatches(tc.media, Desktop)
			})
			alloc := u.Allocated
			t.Logf("chose %.40q, %v (%v of CPU), allocated %d KiB", got, u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), alloc>>10)
			if limit := uint64(3 * size); alloc > limit {
				t.Errorf("allocated %d MiB for an attribute of %d MiB", alloc>>20, size>>20)
			}
			if u.CPU > 2*time.Second {
				t.Errorf("took %v of CPU", u.CPU)
			}
		})
	}
}

// TestHostileDescriptors: descriptors that overflow, are not numbers as
// HTML reads them, or are zero are dropped with their candidate.
func TestHostileDescriptors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the URLs kept
	}{
		{"a 99999999999999999999999w, b 100w", "b"},
		{"a 1e400x, b 2x", "b"},
		{"a 1e-400x, b 2x", "b"},
		{"a NaNx, b 2x", "b"},
		{"a nanx, b infx, c Infinityx, d 2x", "d"},
		{"a 0x1p4x, b 2x", "b"},
		{"a 0x, b 0w, c -0x, d 2x", "d"},
		{"a 1_0w, b 1e3w, c 10.5w, d 100w", "d"},
		{"a 100h, b 2x", "b"},
		{"a 1x 2x 3x, b 2x", "b"},
		{"a 100w 100w, b 2x", "b"},
		{"a 9223372036854775807w, b 100w", "a b"},
		{"a 1.5x, b .5x, c 5.x", "a b"},
	} {
		var urls []string
		for _, c := range Parse(tc.in) {
			urls = append(urls, c.URL)
		}
		if got := strings.Join(urls, " "); got != tc.want {
			t.Errorf("Parse(%q) kept %q, want %q", tc.in, got, tc.want)
		}
	}
	// An overflowing width still chooses sanely.
	if got := Choose(Parse("a 9223372036854775807w, b 1300w"), "", Image{}, "", Desktop); got != "b" {
		t.Errorf("chose %q, want b", got)
	}
}
