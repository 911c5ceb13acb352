package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeBadInput(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("hello, not an image"), "cannot decode"},
		{"empty", nil, "cannot decode"},
		{"huge", pngHeader(40000, 30000), "too large"},
		{"tiny", pngHeader(1, 1), "1×1 is too small"},
		{"truncated", pngHeader(64, 64), "damaged"},
	}
	for _, c := range cases {
		_, err := Decode(bytes.NewReader(c.data))
		if !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrBadImage mentioning %q", c.name, err, c.want)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "broken.jpg")
	os.WriteFile(path, []byte("\xff\xd8\xff\xe0 broken"), 0o644)
	if _, err := Load(path); !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), path) {
		t.Errorf("broken jpeg: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: %v", err)
	}
}

// pngHeader returns the signature and IHDR chunk of a w×h RGB PNG: enough
// for image.DecodeConfig, without pixel data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.png")
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 16, 8)))
	os.WriteFile(ok, buf.Bytes(), 0o644)
	img, err := Load(ok)
	if err != nil || img.Bounds().Dx() != 16 || img.Bounds().Dy() != 8 {
		t.Fatalf("a 16×8 PNG: %v %v", img, err)
	}
	for _, c := range []struct {
		w, h uint32
		want string
	}{{8001, 8000, "too large"}, {16385, 10, "too large"}, {7, 100, "too small"}} {
		path := filepath.Join(dir, "big.png")
		os.WriteFile(path, pngHeader(c.w, c.h), 0o644)
		if _, err := Load(path); !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%d×%d: %v, want ErrBadImage naming %s and saying %q", c.w, c.h, err, path, c.want)
		}
	}
	if err := CheckSize(8000, 8000); err != nil {
		t.Errorf("8000×8000 is exactly 64 MP: %v", err)
	}
}
