// Package imagefile is Diptych's one way to read an image a person gives it
// (an init image, an image to caption, a file dropped on the window, a
// history thumbnail): PNG, JPEG, GIF, BMP or WebP, its size checked from the
// header before the pixels are decoded, every error naming the file and what
// was expected.
package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decoders for Load
	_ "image/jpeg" // decoders for Load
	_ "image/png"  // decoders for Load
	"io"
	"os"

	_ "golang.org/x/image/bmp"  // decoders for Load
	_ "golang.org/x/image/webp" // decoders for Load
)

// Limits on input images.
const (
	// MinSide is the smallest width or height accepted.
	MinSide = 8
	// MaxSide is the largest width or height accepted.
	MaxSide = 16384
	// MaxPixels bounds width×height: 64 megapixels (decoding needs 4 bytes
	// a pixel, so 256 MB at most).
	MaxPixels = 64_000_000
)

// ErrBadImage marks an image that cannot be used.
var ErrBadImage = errors.New("bad image")

// Load reads and decodes the image file at path.
func Load(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	img, err := Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	return img, nil
}

// Decode decodes an image from r (see Load).
func Decode(r io.ReadSeeker) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decode it as PNG, JPEG, GIF, BMP or WebP: %v", ErrBadImage, err)
	}
	if err := CheckSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%w: the %s data is damaged: %v", ErrBadImage, format, err)
	}
	return img, nil
}

// CheckSize refuses images too small or too large to use.
func CheckSize(w, h int) error {
	switch {
	case w < MinSide || h < MinSide:
		return fmt.Errorf("%w: %d×%d is too small; both sides must be at least %d pixels", ErrBadImage, w, h, MinSide)
	case w > MaxSide || h > MaxSide || int64(w)*int64(h) > MaxPixels:
		return fmt.Errorf("%w: %d×%d is too large; at most %d pixels a side and %d megapixels", ErrBadImage, w, h,
			MaxSide, MaxPixels/1_000_000)
	}
	return nil
}
