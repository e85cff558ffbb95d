package srcset

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Candidate
	}{
		{"a.jpg", []Candidate{{URL: "a.jpg"}}},
		{"a.jpg 1x, b.jpg 2x", []Candidate{{URL: "a.jpg", Density: 1}, {URL: "b.jpg", Density: 2}}},
		{" a.jpg 320w,b.jpg 640w , c.jpg 1280w", []Candidate{{URL: "a.jpg", Width: 320}, {URL: "b.jpg", Width: 640}, {URL: "c.jpg", Width: 1280}}},
		{"a,b.jpg 1x,c.jpg,", []Candidate{{URL: "a,b.jpg", Density: 1}, {URL: "c.jpg"}}},
		{"img.php?w=1,2 100w", []Candidate{{URL: "img.php?w=1,2", Width: 100}}},
		{"a.jpg 10q, b.jpg -1w, c.jpg 2x 3x, d.jpg 400w 300h", []Candidate{{URL: "d.jpg", Width: 400}}},
		{"", nil},
	} {
		if got := Parse(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		name, srcset, sizes, src, want string
	}{
		{"widths, full viewport", "s.jpg 320w, m.jpg 800w, l.jpg 1600w, xl.jpg 2400w", "", "", "l.jpg"},
		{"widths, exact", "s.jpg 640w, m.jpg 1280w, l.jpg 1920w", "", "", "m.jpg"},
		{"widths, sizes px", "s.jpg 320w, m.jpg 800w, l.jpg 1600w", "600px", "", "m.jpg"},
		{"widths, sizes condition", "s.jpg 320w, m.jpg 800w, l.jpg 1600w", "(max-width: 600px) 100vw, (min-width: 1000px) 300px, 50vw", "", "s.jpg"},
		{"widths, sizes vw", "s.jpg 320w, m.jpg 700w, l.jpg 1600w", "50vw", "", "m.jpg"},
		{"widths, calc is the viewport", "s.jpg 320w, m.jpg 1300w", "calc(100vw - 2em)", "", "m.jpg"},
		{"all too small: the largest", "s.jpg 100w, m.jpg 200w", "", "", "m.jpg"},
		{"densities", "a.jpg 1x, b.jpg 2x", "", "", "a.jpg"},
		{"src is 1x", "b.jpg 2x", "", "a.jpg", "a.jpg"},
		{"src is no candidate beside widths", "s.jpg 640w, l.jpg 1600w", "100vw", "a.jpg", "l.jpg"},
		{"only 2x", "b.jpg 2x, c.jpg 3x", "", "", "b.jpg"},
		{"nothing", "", "", "", ""},
		{"src only", "", "", "a.jpg", "a.jpg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Choose(Parse(tc.srcset), tc.sizes, Image{}, tc.src, Desktop); got != tc.want {
				t.Errorf("Choose = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMediaMatches(t *testing.T) {
	for q, want := range map[string]bool{
		"":                                       true,
		"(min-width: 1024px)":                    true,
		"(min-width: 1400px)":                    false,
		"(max-width: 767px)":                     false,
		"screen and (min-width: 60em)":           true,
		"(max-width: 600px), (min-width: 900px)": true,
		"print":                                  false,
		"(orientation: portrait)":                false,
		"(prefers-color-scheme: dark)":           false,
	} {
		if got := MediaMatches(q, Desktop); got != want {
			t.Errorf("MediaMatches(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestSlotWidthAuto: sizes="auto" as Chromium 148 reads it (each case
// checked in it: a lazy img of width="300" with 200w, 400w and 1600w
// candidates loads the 400w one, the same img not lazy the 1600w one
// whatever follows auto).
func TestSlotWidthAuto(t *testing.T) {
	lazy300 := Image{Lazy: true, Width: 300}
	lazyNoWidth := Image{Lazy: true}
	eager300 := Image{Width: 300}
	for _, tc := range []struct {
		name, sizes string
		img         Image
		want        float64
		pick        string // of "s.jpg 200w, m.jpg 400w, l.jpg 1600w"
	}{
		{"lazy with a width: the width", "auto", lazy300, 300, "m.jpg"},
		{"lazy with a width, fallback unused", "auto, 50vw", lazy300, 300, "m.jpg"},
		{"case and spacing", " AUTO ,50vw", lazy300, 300, "m.jpg"},
		{"lazy without a width: the fallback", "auto, (min-width: 2000px) 10px, 150px", lazyNoWidth, 150, "s.jpg"},
		{"lazy without a width: every auto stands aside", "auto, auto, 50vw", lazyNoWidth, 640, "l.jpg"},
		{"lazy without a width or fallback: 100vw", "auto", lazyNoWidth, 1280, "l.jpg"},
		{"not lazy: 100vw, not the fallback", "auto, 150px", eager300, 1280, "l.jpg"},
		{"not lazy, auto alone", "auto", eager300, 1280, "l.jpg"},
		{"an entry before auto matches first", "(min-width: 1000px) 150px, auto", lazy300, 150, "s.jpg"},
		{"an entry before auto does not match", "(min-width: 5000px) 10px, auto", lazy300, 300, "m.jpg"},
		{"auto behind a condition is invalid", "(min-width: 1px) auto, 160px", lazy300, 160, "s.jpg"},
		{"no auto", "(min-width: 1000px) 50vw, 100vw", lazy300, 640, "l.jpg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SlotWidth(tc.sizes, tc.img, Desktop); got != tc.want {
				t.Errorf("SlotWidth(%q, %+v) = %v, want %v", tc.sizes, tc.img, got, tc.want)
			}
			if pick := Choose(Parse("s.jpg 200w, m.jpg 400w, l.jpg 1600w"), tc.sizes, tc.img, "", Desktop); pick != tc.pick {
				t.Errorf("chose %q, want %q", pick, tc.pick)
			}
		})
	}
}

func TestHasAuto(t *testing.T) {
	for sizes, want := range map[string]bool{
		"auto": true, " AUTO , 50vw": true, "(min-width: 1px) 10px, auto": true,
		"(min-width: 1px) auto, 50vw": false, "autoplay": false, "50vw": false, "": false,
	} {
		if got := HasAuto(sizes); got != want {
			t.Errorf("HasAuto(%q) = %v, want %v", sizes, got, want)
		}
	}
}

func TestImageOf(t *testing.T) {
	for _, tc := range []struct {
		loading, style, width string
		want                  Image
	}{
		{"lazy", "", "300", Image{Lazy: true, Width: 300}},
		{"LAZY", "", " 300px", Image{Lazy: true, Width: 300}},
		{"eager", "", "300.5", Image{Width: 300.5}},
		{" lazy", "", "", Image{}}, // an enumerated attribute's keyword is not trimmed
		{"lazy", "width: 500px", "300", Image{Lazy: true, Width: 500}},
		{"lazy", "max-width: 100%; width: 20em !important", "300", Image{Lazy: true, Width: 320}},
		{"lazy", "width: 500px; width: 50%", "300", Image{Lazy: true, Width: 300}}, // the last declaration is no length
		{"lazy", "width: 25vw", "", Image{Lazy: true, Width: 320}},
		{"lazy", "", "50%", Image{Lazy: true}},
		{"lazy", "", "0", Image{Lazy: true}},
		{"lazy", "", "px", Image{Lazy: true}},
	} {
		if got := ImageOf(tc.loading, tc.style, tc.width, Desktop); got != tc.want {
			t.Errorf("ImageOf(%q, %q, %q) = %+v, want %+v", tc.loading, tc.style, tc.width, got, tc.want)
		}
	}
}

func TestSizeContained(t *testing.T) {
	for sizes, want := range map[string]bool{
		"auto": true, "AUTO": true, "auto, 50vw": true, "Auto,50vw": true,
		" auto": false, "auto , 50vw": false, "50vw, auto": false, "autoplay": false, "": false,
	} {
		if got := SizeContained(sizes); got != want {
			t.Errorf("SizeContained(%q) = %v, want %v", sizes, got, want)
		}
	}
}
