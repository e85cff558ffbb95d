package thumbnail

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/usage"
)

// pngChunk is one PNG chunk: length, type, data, CRC (PNG §5.3).
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// pngBomb is a valid PNG of w×h pixels of zeros at the given bit depth and
// colour type: a few hundred kilobytes that decode to w·h·bytes-per-pixel.
// With rows 0 it stops after the header (IHDR, no pixel data).
func pngBomb(t *testing.T, w, h int, depth, colorType byte, interlace byte, rows int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9], ihdr[12] = depth, colorType, interlace
	b.Write(pngChunk("IHDR", ihdr))
	if rows > 0 {
		bpp := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[colorType] * int(depth) / 8
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
		row := make([]byte, 1+w*bpp)
		for range rows {
			zw.Write(row)
		}
		zw.Close()
		b.Write(pngChunk("IDAT", z.Bytes()))
	}
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

// jpegBomb is a small baseline JPEG whose frame header is rewritten to
// claim w×h pixels; progressive makes it a progressive frame (SOF2) whose
// first scan is a valid DC scan, so that a decoder allocates the whole
// image and its coefficients before it finds the data short.
func jpegBomb(t *testing.T, w, h int, progressive bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	j := b.Bytes()
	sof := bytes.Index(j, []byte{0xff, 0xc0})
	sos := bytes.Index(j, []byte{0xff, 0xda})
	if sof < 0 || sos < 0 {
		t.Fatal("no SOF0 or SOS in the encoded JPEG")
	}
	binary.BigEndian.PutUint16(j[sof+5:], uint16(h))
	binary.BigEndian.PutUint16(j[sof+7:], uint16(w))
	if progressive {
		j[sof+1] = 0xc2
		n := int(j[sos+4])       // components in the scan
		j[sos+5+2*n+1] = 0       // spectral selection end: a DC scan
		return j[:sos+5+2*n+3+8] // the scan header and a few bytes of data
	}
	return j
}

// webpBomb is a lossless WebP header (VP8L) claiming w×h pixels.
func webpBomb(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	payload := []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0, 0, 0, 0}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+len(payload)))
	b.WriteString("WEBPVP8L")
	binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	return b.Bytes()
}

// animatedGIF is a GIF of n frames of w×h.
func animatedGIF(t *testing.T, w, h, n int) []byte {
	t.Helper()
	g := &gif.GIF{}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		f.Pix[i%len(f.Pix)] = byte(i)
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 1)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gifHeader is a GIF whose logical screen is w×h, with one 1×1 frame.
func gifHeader(t *testing.T, w, h int) []byte {
	b := animatedGIF(t, 1, 1, 1)
	binary.LittleEndian.PutUint16(b[6:], uint16(w))
	binary.LittleEndian.PutUint16(b[8:], uint16(h))
	return b
}

// TestMakeHostileImages: what a publisher can put behind an og:image —
// decompression bombs of every format (header-only or real, over
// MaxPixels or under it but over MaxDecodeBytes), thousands of frames,
// truncated and corrupt images, other content under an image type, SVG,
// AVIF — ends in a thumbnail or ErrNotImage, never a panic, within a
// bound of time and of allocation well under what the bomb would cost.
func TestMakeHostileImages(t *testing.T) {
	good := pngOf(300, 200)
	var goodJPEG bytes.Buffer
	jpeg.Encode(&goodJPEG, image.NewGray(image.Rect(0, 0, 640, 480)), nil)
	tests := []struct {
		name, ctype string
		body        []byte
		ok          bool // a thumbnail is made
	}{
		{"png header 65535x65535", "image/png", pngBomb(t, 65535, 65535, 8, 6, 0, 0), false},
		{"png header 100000x100000", "image/png", pngBomb(t, 100_000, 100_000, 8, 2, 0, 0), false},
		{"png header 2^31-1 wide", "image/png", pngBomb(t, 1<<31-1, 1, 8, 2, 0, 0), false},
		// 4000×4000 16-bit RGBA: 16 Mpx (under MaxPixels), 128 MiB decoded.
		{"png 16-bit bomb under MaxPixels", "image/png", pngBomb(t, 4000, 4000, 16, 6, 0, 4000), false},
		// 7000×7000 RGBA: 49 Mpx, 196 MiB decoded.
		{"png rgba bomb under MaxPixels", "image/png", pngBomb(t, 7000, 7000, 8, 6, 0, 7000), false},
		{"png interlaced header", "image/png", pngBomb(t, 5000, 5000, 8, 6, 1, 0), false},
		{"png gray 2000x2000 made", "image/png", pngBomb(t, 2000, 2000, 8, 0, 0, 2000), true},
		{"jpeg header 65535x65535", "image/jpeg", jpegBomb(t, 65535, 65535, false), false},
		{"jpeg baseline 7000x7000", "image/jpeg", jpegBomb(t, 7000, 7000, false), false},
		{"jpeg progressive 6000x6000", "image/jpeg", jpegBomb(t, 6000, 6000, true), false},
		{"jpeg progressive 2000x1500 truncated", "image/jpeg", jpegBomb(t, 2000, 1500, true), false},
		{"gif screen 65535x65535", "image/gif", gifHeader(t, 65535, 65535), false},
		{"gif screen 7000x7000", "image/gif", gifHeader(t, 7000, 7000), false},
		{"gif 3000 frames", "image/gif", animatedGIF(t, 64, 64, 3000), true},
		{"webp header 16384x16384", "image/webp", webpBomb(16384, 16384), false},
		{"webp header 7000x7000", "image/webp", webpBomb(7000, 7000), false},
		{"avif", "image/avif", append([]byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"), make([]byte, 64)...), false},
		{"svg with a script", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`), false},
		{"svg as image/png", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), false},
		{"html as image/png", "image/png", []byte("<!doctype html><html><body>not an image</body></html>"), false},
		{"png as image/gif", "image/gif", good, false},
		{"empty", "image/png", nil, false},
		{"png signature only", "image/png", good[:8], false},
		{"png half", "image/png", good[:len(good)/2], false},
		{"png corrupt data", "image/png", corrupt(good), false},
		{"jpeg half", "image/jpeg", goodJPEG.Bytes()[:goodJPEG.Len()/2], false},
		{"jpeg made", "image/jpeg", goodJPEG.Bytes(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				out []byte
				err error
			)
			u := usage.Measure(func() { out, err = Make(tc.body, tc.ctype) })
			alloc := u.Allocated
			t.Logf("%v (%v of CPU), allocated %d KiB, err %v", u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), alloc>>10, err)
			if tc.ok {
				if err != nil {
					t.Fatalf("no thumbnail: %v", err)
				}
				if err := Check(out); err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, ErrNotImage) {
				t.Fatalf("err %v, want ErrNotImage", err)
			}
			if alloc > MaxDecodeBytes+(16<<20) {
				t.Errorf("allocated %d MiB, over MaxDecodeBytes (%d MiB) and 16 MiB", alloc>>20, MaxDecodeBytes>>20)
			}
			if u.CPU > 3*time.Second {
				t.Errorf("took %v of CPU", u.CPU)
			}
		})
	}
}

// corrupt flips bytes in the middle of an image's data.
func corrupt(b []byte) []byte {
	c := bytes.Clone(b)
	for i := len(c) / 3; i < len(c)/3+64 && i < len(c); i++ {
		c[i] ^= 0x5a
	}
	return c
}

// TestDecodeCost: the estimate follows the decoder's image types.
func TestDecodeCost(t *testing.T) {
	cfg := func(m color.Model) image.Config { return image.Config{ColorModel: m, Width: 1000, Height: 1000} }
	const px = 1_000_000
	for _, tc := range []struct {
		name string
		body []byte
		cfg  image.Config
		want int64
	}{
		{"png rgba", pngBomb(t, 1, 1, 8, 6, 0, 0), cfg(color.NRGBAModel), 4 * px},
		{"png rgba64 interlaced", pngBomb(t, 1, 1, 16, 6, 1, 0), cfg(color.NRGBA64Model), 16 * px},
		{"png gray", pngBomb(t, 1, 1, 8, 0, 0, 0), cfg(color.GrayModel), px},
		{"jpeg baseline ycbcr", jpegBomb(t, 1, 1, false), cfg(color.YCbCrModel), 7 * px},
		{"jpeg progressive ycbcr", jpegBomb(t, 1, 1, true), cfg(color.YCbCrModel), 19 * px},
		{"jpeg baseline gray", jpegBomb(t, 1, 1, false), cfg(color.GrayModel), px},
		{"not an image", []byte("hello"), cfg(color.GrayModel), -1},
	} {
		if got := DecodeCost(tc.body, tc.cfg); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
