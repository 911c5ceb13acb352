package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../testdata/runtime"

func TestReadModelInfo(t *testing.T) {
	info, err := ReadModelInfo(filepath.Join(fixtures, "mixed.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, x := range append(info.Inputs, info.Outputs...) {
		got = append(got, x.String())
	}
	want := []string{"x float16[batch,4]", "n int64[batch,1]", "y float16[batch,4]", "s float32[batch]"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("interface = %q, want %q", got, want)
	}
	if info.Opsets[""] != 17 || info.ProducerName != "diptych-fixtures" || info.Metadata["diptych_fixture"] != "mixed" {
		t.Fatalf("model fields wrong: %+v", info)
	}

	ext, err := ReadModelInfo(filepath.Join(fixtures, "extdata.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ext.Inputs) != 1 || ext.Inputs[0].Name != "x" {
		t.Fatalf("initializers must not be listed as inputs: %v", ext.Inputs)
	}
	if len(ext.ExternalData) != 1 || ext.ExternalData[0] != "extdata.onnx_data" {
		t.Fatalf("external data = %v", ext.ExternalData)
	}
}

func TestReadModelInfoBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile(filepath.Join(fixtures, "mixed.onnx"))
	cases := map[string][]byte{
		"truncated.onnx": good[:len(good)/2],
		"text.onnx":      []byte("this is not a model\n"),
		"png.onnx":       []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		"empty.onnx":     nil,
	}
	for name, data := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		_, err := ReadModelInfo(p)
		if err == nil || !errors.Is(err, ErrNotONNX) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want ErrNotONNX naming the file", name, err)
		}
	}
	_, err := ReadModelInfo(filepath.Join(dir, "missing.onnx"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestFloat16RoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if f != f { // NaN stays NaN
			if g := F16ToF32(F32ToF16(f)); g == g {
				t.Fatalf("NaN %#x lost", h)
			}
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("half %#04x -> %v -> %#04x", h, f, back)
		}
	}
	cases := map[float32]uint16{
		1: 0x3c00, -2: 0xc000, 65504: 0x7bff, 65520: 0x7c00, 1e-8: 0, 5.960464477539063e-08: 0x0001,
		float32(math.Inf(-1)): 0xfc00, 1.0009765625: 0x3c01, 1.00048828125: 0x3c00, // tie rounds to even
		1.00146484375: 0x3c02, // tie rounds up to even
	}
	for f, want := range cases {
		if got := F32ToF16(f); got != want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", f, got, want)
		}
	}
}

func BenchmarkDecodeF16(b *testing.B) {
	src := make([]byte, 2*4*128*128)
	dst := make([]float32, 4*128*128)
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		DecodeF16(dst, src)
	}
}

func BenchmarkEncodeF16(b *testing.B) {
	src := make([]float32, 4*128*128)
	for i := range src {
		src[i] = float32(i) / 1000
	}
	dst := make([]byte, 2*len(src))
	b.SetBytes(int64(len(dst)))
	for i := 0; i < b.N; i++ {
		EncodeF16(dst, src)
	}
}

func TestBFloat16(t *testing.T) {
	cases := map[float32]uint16{
		1: 0x3f80, -2: 0xc000, 3.140625: 0x4049, float32(math.Inf(1)): 0x7f80,
		1.00390625: 0x3f80, // tie (exactly half an ulp) rounds to even
		1.01171875: 0x3f82, // tie rounds up to even
		1.0078125:  0x3f81, // exact
	}
	for f, want := range cases {
		if got := F32ToBF16(f); got != want {
			t.Errorf("F32ToBF16(%v) = %#04x, want %#04x", f, got, want)
		}
		if back := BF16ToF32(want); F32ToBF16(back) != want {
			t.Errorf("bfloat16 %#04x does not round-trip: %v", want, back)
		}
	}
	if nan := BF16ToF32(F32ToBF16(float32(math.NaN()))); nan == nan {
		t.Error("NaN lost")
	}
	src := []float32{1, -2, 3.140625, 0.5}
	b := make([]byte, 2*len(src))
	EncodeBF16(b, src)
	got := make([]float32, len(src))
	DecodeBF16(got, b)
	for i := range src {
		if got[i] != src[i] {
			t.Fatalf("bfloat16 round trip = %v, want %v", got, src)
		}
	}
}
