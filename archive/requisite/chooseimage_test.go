package requisite

import "testing"

// TestChooseImage: an <img>'s src is a 1x candidate beside a srcset of
// densities without one, as in browsers; never beside width descriptors,
// never a data: placeholder.
func TestChooseImage(t *testing.T) {
	for _, tc := range []struct{ srcset, sizes, src, want string }{
		{"b.jpg 2x", "", "a.jpg", "a.jpg"},
		{"b.jpg 2x, c.jpg 1.5x", "", "a.jpg", "a.jpg"},
		{"b.jpg 1x, c.jpg 2x", "", "a.jpg", "b.jpg"},
		{"b.jpg 640w, c.jpg 1600w", "", "a.jpg", "c.jpg"},
		{"b.jpg 2x", "", "data:image/gif;base64,R0lG", "b.jpg"},
		{"", "", "a.jpg", ""},
	} {
		if got := ChooseImage(tc.srcset, tc.sizes, tc.src); got != tc.want {
			t.Errorf("ChooseImage(%q, %q, %q) = %q, want %q", tc.srcset, tc.sizes, tc.src, got, tc.want)
		}
	}
	if got := ImageURL(map[string]string{"src": "a.jpg", "srcset": "b.jpg 2x"}); got != "a.jpg" {
		t.Errorf("ImageURL = %q, want the src", got)
	}
}
