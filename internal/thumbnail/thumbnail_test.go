package thumbnail

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func TestMake(t *testing.T) {
	big := pngOf(800, 400)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		w, h        int
		err         bool
	}{
		{"landscape scaled", "image/png", big, MaxSide, MaxSide / 2, false},
		{"portrait scaled", "image/png", pngOf(100, 400), 48, MaxSide, false},
		{"small kept", "", pngOf(40, 30), 40, 30, false},
		{"octet-stream sniffed", "application/octet-stream", pngOf(10, 10), 10, 10, false},
		{"declared type differs", "image/jpeg", big, 0, 0, true},
		{"html as image", "image/png", []byte("<html><script>x</script>"), 0, 0, true},
		{"svg refused", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 0, 0, true},
		{"truncated", "image/png", big[:100], 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Make(tc.body, tc.ctype)
			if tc.err {
				if !errors.Is(err, ErrNotImage) {
					t.Fatalf("err %v, want ErrNotImage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(out); err != nil {
				t.Fatal(err)
			}
			cfg, _ := jpeg.DecodeConfig(bytes.NewReader(out))
			if cfg.Width != tc.w || cfg.Height != tc.h {
				t.Errorf("%d×%d, want %d×%d", cfg.Width, cfg.Height, tc.w, tc.h)
			}
		})
	}
}

// TestMakeBomb: an image whose header claims more than MaxPixels is
// refused before its pixels are decoded.
func TestMakeBomb(t *testing.T) {
	b := pngOf(10, 10)
	// Rewrite the IHDR width and height (bytes 16..23) to 60000×60000; the
	// CRC no longer matches, which DecodeConfig does not check.
	copy(b[16:24], []byte{0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60})
	if _, err := Make(b, "image/png"); !errors.Is(err, ErrNotImage) {
		t.Fatalf("err %v", err)
	}
	if err := Check(pngOf(10, 10)); err == nil {
		t.Error("Check accepts a PNG")
	}
}
