// Package thumbnail makes the small JPEG the viewer shows for an article's
// lead image, from the image's bytes as the capture received them, and
// checks one before it is served.
//
// The publisher's bytes are never passed on: the image is decoded (JPEG,
// PNG, GIF or WebP, and only as the type the response declared it to be
// when it declared one), scaled to fit a MaxSide × MaxSide box, and
// re-encoded as a baseline JPEG on white. Decoding is bounded by the
// image's header before a pixel is decoded: at most MaxPixels pixels, and
// at most MaxDecodeBytes of memory as the decoder will allocate it for
// that header (DecodeCost: a progressive JPEG costs its coefficients
// besides its pixels, a 16-bit PNG eight bytes a pixel), so a
// decompression bomb is refused without being decoded. Only the first
// frame of an animated GIF is decoded.
package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"mime"
	"net/http"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Bounds.
const (
	// MaxSide is the longest side of a thumbnail, in pixels: twice the
	// 96-px box the viewer shows it in, for high-density screens.
	MaxSide = 192
	// MaxPixels bounds the images decoded.
	MaxPixels = 50_000_000
	// MaxDecodeBytes bounds the memory one decode may take, as DecodeCost
	// estimates it from the image's header: 64 MiB is a 9-megapixel
	// baseline JPEG, a 3.5-megapixel progressive one or a 16-megapixel
	// 8-bit PNG, larger than any lead image the viewer needs for a
	// 192-pixel thumbnail. Thumbnails are made in the archiver's own
	// process, under its memory ceiling.
	MaxDecodeBytes = 64 << 20
	// MaxBytes bounds a thumbnail Check accepts.
	MaxBytes = 256 << 10
	// Quality is the JPEG quality of thumbnails.
	Quality = 82
)

// ErrNotImage is returned (wrapped) for bytes that are not an image of a
// known type, or not of the type declared.
var ErrNotImage = errors.New("not an image of a type the viewer shows")

type format struct {
	mime   string
	decode func([]byte) (image.Image, error)
	config func([]byte) (image.Config, error)
}

var formats = map[string]format{
	"jpeg": {"image/jpeg", func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) },
		func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }},
	"png": {"image/png", func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) },
		func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }},
	"gif": {"image/gif", func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) },
		func(b []byte) (image.Config, error) { return gif.DecodeConfig(bytes.NewReader(b)) }},
	"webp": {"image/webp", func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) },
		func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) }},
}

// sniff names the format of body by its signature.
func sniff(body []byte) string {
	switch {
	case bytes.HasPrefix(body, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(body, []byte("GIF87a")), bytes.HasPrefix(body, []byte("GIF89a")):
		return "gif"
	case len(body) >= 12 && bytes.Equal(body[:4], []byte("RIFF")) && bytes.Equal(body[8:12], []byte("WEBP")):
		return "webp"
	}
	return ""
}

// Make returns the thumbnail of an image received with the Content-Type
// contentType ("" when none was given).
func Make(body []byte, contentType string) ([]byte, error) {
	name := sniff(body)
	f, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("%w (%s)", ErrNotImage, http.DetectContentType(body))
	}
	if declared, _, err := mime.ParseMediaType(contentType); err == nil && declared != "application/octet-stream" && declared != "binary/octet-stream" {
		if declared != f.mime && !(declared == "image/jpg" && name == "jpeg") {
			return nil, fmt.Errorf("%w: declared %s, the bytes are %s", ErrNotImage, declared, f.mime)
		}
	}
	cfg, err := f.config(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d pixels (at most %d)", ErrNotImage, cfg.Width, cfg.Height, MaxPixels)
	}
	if cost := DecodeCost(body, cfg); cost > MaxDecodeBytes {
		return nil, fmt.Errorf("%w: %d×%d pixels would take %d MiB to decode (at most %d MiB)",
			ErrNotImage, cfg.Width, cfg.Height, cost>>20, MaxDecodeBytes>>20)
	}
	src, err := f.decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > MaxSide || h > MaxSide {
		if w >= h {
			w, h = MaxSide, max(1, h*MaxSide/b.Dx())
		} else {
			w, h = max(1, w*MaxSide/b.Dy()), MaxSide
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, fmt.Errorf("thumbnail: encode: %w", err)
	}
	return out.Bytes(), nil
}

// DecodeCost estimates, from its header, the bytes the standard decoders
// (image/jpeg, image/png, image/gif, golang.org/x/image/webp) allocate to
// decode the image body of configuration cfg, at worst: its pixels at
// the bytes per pixel of the image type it decodes to, plus a JPEG's
// conversion to RGBA or CMYK and a progressive JPEG's coefficients (256
// bytes per 8×8 block and component), twice the pixels of an interlaced
// PNG (its passes), and a lossless WebP's ARGB buffer. It is -1 for
// bytes of no known format.
func DecodeCost(body []byte, cfg image.Config) int64 {
	px := int64(max(cfg.Width, 0)) * int64(max(cfg.Height, 0))
	switch sniff(body) {
	case "jpeg":
		comps := int64(3)
		switch cfg.ColorModel {
		case color.GrayModel:
			comps = 1
		case color.CMYKModel:
			comps = 4
		}
		perPixel := comps
		if comps > 1 {
			perPixel += 4 // converted to RGBA (Adobe RGB) or CMYK
		}
		if progressiveJPEG(body) {
			perPixel += 4 * comps
		}
		return px * perPixel
	case "png":
		perPixel := int64(4)
		switch cfg.ColorModel {
		case color.GrayModel:
			perPixel = 1
		case color.Gray16Model:
			perPixel = 2
		case color.RGBA64Model, color.NRGBA64Model:
			perPixel = 8
		default:
			if _, ok := cfg.ColorModel.(color.Palette); ok {
				perPixel = 1
			}
		}
		if len(body) > 28 && body[28] != 0 { // IHDR interlace method: Adam7
			perPixel *= 2
		}
		return px * perPixel
	case "gif":
		return px * 2 // the first frame and its LZW output
	case "webp":
		return px * 8 // lossless: NRGBA and the decoder's ARGB words
	}
	return -1
}

// progressiveJPEG reports whether a JPEG's frame header (SOFn, ITU T.81
// §B.2.2) is progressive, walking its marker segments from the start;
// true when no frame header is found (the costlier guess).
func progressiveJPEG(b []byte) bool {
	i := 2 // after SOI
	for i+1 < len(b) {
		if b[i] != 0xff {
			return true
		}
		m := b[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0x01 || m >= 0xd0 && m <= 0xd9: // no length
			i += 2
			continue
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce
		case m == 0xda: // start of scan before any frame header
			return true
		}
		if i+3 >= len(b) {
			return true
		}
		i += 2 + (int(b[i+2])<<8 | int(b[i+3]))
	}
	return true
}

// Check reports whether b is a thumbnail as Make makes them: a JPEG of at
// most MaxBytes whose sides are at most MaxSide. The viewer serves nothing
// else as one.
func Check(b []byte) error {
	if len(b) > MaxBytes {
		return fmt.Errorf("%w: %d bytes", ErrNotImage, len(b))
	}
	if sniff(b) != "jpeg" {
		return fmt.Errorf("%w: not a JPEG", ErrNotImage)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide {
		return fmt.Errorf("%w: %d×%d", ErrNotImage, cfg.Width, cfg.Height)
	}
	return nil
}
