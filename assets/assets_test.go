package assets

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestIconIsSquarePNG256(t *testing.T) {
	if Icon.Name() != "io.github.diptych.png" {
		t.Errorf("Icon.Name() = %q, want io.github.diptych.png", Icon.Name())
	}
	img, err := png.Decode(bytes.NewReader(Icon.Content()))
	if err != nil {
		t.Fatalf("decode embedded icon: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("embedded icon is %dx%d, want 256x256", b.Dx(), b.Dy())
	}
	checkCornersAndPanels(t, "embedded", img)
}

// TestRenderedSizes checks every PNG the .deb installs: decodable, the size
// its name says, transparent outside the rounded tile, opaque in the panels.
func TestRenderedSizes(t *testing.T) {
	for _, n := range []int{16, 22, 24, 32, 48, 64, 128, 256, 512} {
		name := filepath.Join("icons", fmt.Sprintf("icon-%d.png", n))
		f, err := os.Open(name)
		if err != nil {
			t.Fatalf("%s: %v (run tools/build_icons.sh)", name, err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != n || b.Dy() != n {
			t.Fatalf("%s is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), n, n)
		}
		checkCornersAndPanels(t, name, img)
	}
}

// checkCornersAndPanels asserts the drawing's layout: the corners lie outside
// the rounded tile (transparent), and the centres of the two panels are
// opaque, the left one warm (red > blue) and the right one cool (blue > red).
func checkCornersAndPanels(t *testing.T, name string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	n := b.Dx()
	if _, _, _, a := img.At(b.Min.X, b.Min.Y).RGBA(); a != 0 {
		t.Errorf("%s: top-left corner alpha %d, want 0 (transparent)", name, a)
	}
	// Panel centres in the 512 design: left x≈161, right x≈351, y≈170 (sky).
	at := func(x, y int) (r, g, bl, a uint32) { return img.At(b.Min.X+x*n/512, b.Min.Y+y*n/512).RGBA() }
	if r, _, bl, a := at(110, 150); a != 0xffff || r <= bl {
		t.Errorf("%s: left panel sky r=%d b=%d a=%d, want opaque and warm", name, r, bl, a)
	}
	if r, _, bl, a := at(400, 150); a != 0xffff || bl <= r {
		t.Errorf("%s: right panel sky r=%d b=%d a=%d, want opaque and cool", name, r, bl, a)
	}
}
