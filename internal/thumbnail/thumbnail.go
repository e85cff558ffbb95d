// Package thumbnail makes the small JPEG the viewer shows for an article's
// lead image, from the image's bytes as the capture received them, and
// checks one before it is served.
//
// The publisher's bytes are never passed on: the image is decoded (JPEG,
// PNG, GIF or WebP, and only as the type the response declared it to be
// when it declared one), scaled to fit a MaxSide × MaxSide box, and
// re-encoded as a baseline JPEG on white. Decoding is bounded by the
// image's header before a pixel is decoded: at most MaxPixels pixels
// (about 200 MiB of RGBA at worst), so a decompression bomb is refused
// without being decoded.
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
