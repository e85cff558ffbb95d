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
			if got := Choose(Parse(tc.srcset), tc.sizes, tc.src, Desktop); got != tc.want {
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
