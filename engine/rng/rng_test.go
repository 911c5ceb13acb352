package rng

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
)

// refCall is one torch call recorded by tools/ref_torch_randn.py.
type refCall struct {
	Op      string   `json:"op"`
	N       int      `json:"n"`
	Bits    []string `json:"bits"`
	Bits64  []string `json:"bits64"`
	SHA256  string   `json:"sha256"`
	First   []string `json:"first"`
	Last    []string `json:"last"`
	Stride  int      `json:"stride"`
	Strided []string `json:"strided"`
	Sum     float64  `json:"sum"`
}

type refDoc struct {
	TorchVersion string `json:"torch_version"`
	Cases        []struct {
		Name  string    `json:"name"`
		Seed  uint64    `json:"seed"`
		Calls []refCall `json:"calls"`
	} `json:"cases"`
	Multinomial []struct {
		Seed         uint64   `json:"seed"`
		N            int      `json:"n"`
		Probs        string   `json:"probs_f32le_b64"`
		Draws        []int    `json:"draws"`
		Exponential  []string `json:"exponential"`
		ExponentialN int      `json:"exponential_n"`
	} `json:"multinomial"`
}

func loadRef(t *testing.T) *refDoc {
	t.Helper()
	const path = "testdata/torch_randn.json"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (regenerate with tools/ref_torch_randn.py)", path, err)
	}
	var d refDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(d.Cases) == 0 {
		t.Fatalf("%s has no cases", path)
	}
	return &d
}

func parseBits32(t *testing.T, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return uint32(v)
}

// compareBits reports the first few mismatches between got and the hex
// bit patterns want (offset is the index of want[0] in got's frame).
func compareBits(t *testing.T, label string, got []float32, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, want %d", label, len(got), len(want))
		return
	}
	bad := 0
	for i, w := range want {
		wb := parseBits32(t, w)
		if gb := math.Float32bits(got[i]); gb != wb {
			if bad < 5 {
				t.Errorf("%s[%d] = %v (%08x), want %v (%08x)", label, i, got[i], gb, math.Float32frombits(wb), wb)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d values differ", label, bad, len(want))
	}
}

func checkCall(t *testing.T, label string, got []float32, c refCall) {
	t.Helper()
	if c.Bits != nil {
		compareBits(t, label, got, c.Bits)
		return
	}
	if len(got) != c.N {
		t.Fatalf("%s: got %d values, want %d", label, len(got), c.N)
	}
	compareBits(t, label+" first", got[:len(c.First)], c.First)
	compareBits(t, label+" last", got[len(got)-len(c.Last):], c.Last)
	var strided []float32
	for i := 0; i < len(got); i += c.Stride {
		strided = append(strided, got[i])
	}
	compareBits(t, label+" strided", strided, c.Strided)
	buf := make([]byte, 4*len(got))
	var sum float64
	for i, v := range got {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		sum += float64(v)
	}
	h := sha256.Sum256(buf)
	if hex.EncodeToString(h[:]) != c.SHA256 {
		t.Errorf("%s: sha256 of all %d values differs from torch's", label, len(got))
	}
	if math.Abs(sum-c.Sum) > 1e-6*math.Abs(c.Sum)+1e-6 {
		t.Errorf("%s: sum = %v, want %v", label, sum, c.Sum)
	}
}

func TestMatchesTorch(t *testing.T) {
	d := loadRef(t)
	for _, tc := range d.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			g := NewTorch(tc.Seed)
			for i, c := range tc.Calls {
				label := fmt.Sprintf("call %d %s(%d)", i, c.Op, c.N)
				switch c.Op {
				case "randn":
					checkCall(t, label, g.Randn(c.N), c)
				case "rand":
					got := make([]float32, c.N)
					g.RandInto(got)
					checkCall(t, label, got, c)
				case "rand64":
					for j, w := range c.Bits64 {
						wb, err := strconv.ParseUint(w, 16, 64)
						if err != nil {
							t.Fatalf("bad hex %q", w)
						}
						if got := g.Uniform(); math.Float64bits(got) != wb {
							t.Errorf("%s[%d] = %v, want %v", label, j, got, math.Float64frombits(wb))
						}
					}
				default:
					t.Fatalf("unknown op %q", c.Op)
				}
			}
		})
	}
}

func TestMultinomialMatchesTorch(t *testing.T) {
	d := loadRef(t)
	if len(d.Multinomial) == 0 {
		t.Fatal("no multinomial cases")
	}
	for _, mc := range d.Multinomial {
		raw, err := base64.StdEncoding.DecodeString(mc.Probs)
		if err != nil || len(raw) != 4*mc.N {
			t.Fatalf("seed %d: bad probs (%d bytes, err %v)", mc.Seed, len(raw), err)
		}
		probs := make([]float32, mc.N)
		for i := range probs {
			probs[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		g := NewTorch(mc.Seed)
		for i, want := range mc.Draws {
			got, err := g.Multinomial(probs)
			if err != nil {
				t.Fatalf("seed %d draw %d: %v", mc.Seed, i, err)
			}
			if got != want {
				t.Errorf("seed %d draw %d = %d, want %d", mc.Seed, i, got, want)
			}
		}
		ex := make([]float32, mc.ExponentialN)
		NewTorch(mc.Seed).ExponentialInto(ex)
		compareBits(t, fmt.Sprintf("seed %d exponential", mc.Seed), ex, mc.Exponential)
	}
}

func TestMultinomialErrors(t *testing.T) {
	g := NewTorch(3)
	for _, probs := range [][]float32{nil, {0, 0}, {1, -1}, {float32(math.NaN())}, {float32(math.Inf(1))}} {
		if _, err := g.Multinomial(probs); err == nil {
			t.Errorf("Multinomial(%v): want an error", probs)
		}
	}
	// Invalid input must not advance the stream.
	if got, want := g.Uint32(), NewTorch(3).Uint32(); got != want {
		t.Errorf("stream advanced by rejected input: %d != %d", got, want)
	}
}

func TestSeedResets(t *testing.T) {
	g := NewTorch(5)
	a := g.Randn(1) // leaves a cached normal
	g.Seed(5)
	b := g.Randn(1)
	if a[0] != b[0] {
		t.Errorf("after Seed: %v, want %v (cache must be cleared)", b[0], a[0])
	}
	if g.InitialSeed() != 5 {
		t.Errorf("InitialSeed = %d", g.InitialSeed())
	}
	if len(g.Randn(0)) != 0 {
		t.Error("Randn(0) should be empty")
	}
}

func BenchmarkRandn(b *testing.B) {
	g := NewTorch(0)
	dst := make([]float32, 1*4*128*128)
	b.SetBytes(int64(4 * len(dst)))
	for b.Loop() {
		g.RandnInto(dst)
	}
}

func TestReducedPrecisionMatchesTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_randn.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Reduced []struct {
			Seed  uint64   `json:"seed"`
			N     int      `json:"n"`
			DType string   `json:"dtype"`
			Bits  []string `json:"bits"`
			After []string `json:"after"`
		} `json:"reduced"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Reduced) == 0 {
		t.Fatal("no float16/bfloat16 cases")
	}
	for _, c := range d.Reduced {
		g := NewTorch(c.Seed)
		got := make([]uint16, c.N)
		switch c.DType {
		case "float16":
			g.RandnFloat16Into(got)
		case "bfloat16":
			g.RandnBFloat16Into(got)
		default:
			t.Fatalf("unknown dtype %q", c.DType)
		}
		for i, w := range c.Bits {
			wb, err := strconv.ParseUint(w, 16, 16)
			if err != nil {
				t.Fatal(err)
			}
			if got[i] != uint16(wb) {
				t.Errorf("seed %d %s randn(%d)[%d] = %04x, want %s", c.Seed, c.DType, c.N, i, got[i], w)
				break
			}
		}
		compareBits(t, fmt.Sprintf("seed %d %s randn(%d) then randn(3)", c.Seed, c.DType, c.N), g.Randn(3), c.After)
	}
}

func TestFloat16Rounding(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0},
		{5.960464477539063e-08, 0x0001}, {1 + 1.0/2048, 0x3c00}, {1 + 3.0/2048, 0x3c02},
		{float32(math.Inf(-1)), 0xfc00},
	} {
		if got := float16Bits(c.in); got != c.want {
			t.Errorf("float16Bits(%v) = %04x, want %04x", c.in, got, c.want)
		}
	}
	if got := bfloat16Bits(1 + 1.0/256); got != 0x3f80 {
		t.Errorf("bfloat16Bits tie = %04x, want 3f80", got)
	}
}
