package sdxl

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"diptych/engine/rng"
)

// refCase is one entry of testdata/sdxl/refs/manifest.json, written by
// tools/sdxl/make_sdxl_refs.py from diffusers' PyTorch pipelines.
type refCase struct {
	Name            string   `json:"name"`
	Kind            string   `json:"kind"`
	Model           string   `json:"model"`
	Prompt          string   `json:"prompt"`
	Prompt2         *string  `json:"prompt_2"`
	Negative        *string  `json:"negative_prompt"`
	Negative2       *string  `json:"negative_prompt_2"`
	Width           int      `json:"width"`
	Height          int      `json:"height"`
	Steps           int      `json:"steps"`
	Scheduler       string   `json:"scheduler"`
	Guidance        float64  `json:"guidance_scale"`
	GuidanceRescale float64  `json:"guidance_rescale"`
	Seed            uint64   `json:"seed"`
	Strength        *float64 `json:"strength"`
	InitImage       *string  `json:"init_image"`
	DenoisingEnd    *float64 `json:"denoising_end"`
	Aesthetic       *float64 `json:"aesthetic_score"`
	NegAesthetic    *float64 `json:"negative_aesthetic_score"`
	DType           string   `json:"dtype"`
	Refiner         *struct {
		Model          string  `json:"model"`
		DenoisingStart float64 `json:"denoising_start"`
		Steps          int     `json:"steps"`
		Aesthetic      float64 `json:"aesthetic_score"`
		NegAesthetic   float64 `json:"negative_aesthetic_score"`
	} `json:"refiner"`
	Latents struct {
		File  string `json:"file"`
		Shape []int  `json:"shape"`
	} `json:"latents"`
	Image struct {
		File string `json:"file"`
	} `json:"image"`
}

func readRefs(t *testing.T) []refCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureRoot, "refs", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []refCase `json:"cases"`
	}
	// Python's json writes -Infinity for lambda_min_clipped; no field we read uses it.
	b = bytes.ReplaceAll(b, []byte("-Infinity"), []byte("null"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) < 10 {
		t.Fatalf("manifest has %d cases", len(m.Cases))
	}
	return m.Cases
}

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureRoot, "refs", name))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestParityWithDiffusers runs every reference case through the Go pipeline
// and compares final latents and the 8-bit image with diffusers' output.
func TestParityWithDiffusers(t *testing.T) {
	rt := testRuntime(t)
	pipes := map[string]*Pipeline{}
	pipe := func(name string) *Pipeline {
		if p, ok := pipes[name]; ok {
			return p
		}
		p, err := Load(filepath.Join(fixtureRoot, name), Options{Runtime: rt, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		pipes[name] = p
		return p
	}
	for _, c := range readRefs(t) {
		t.Run(c.Name, func(t *testing.T) {
			req := Request{Prompt: c.Prompt, Negative: c.Negative, Negative2: c.Negative2, Width: c.Width,
				Height: c.Height, Steps: c.Steps, Scheduler: c.Scheduler, Guidance: c.Guidance,
				GuidanceRescale: c.GuidanceRescale, Generator: rng.NewTorch(c.Seed)}
			if c.Prompt2 != nil {
				req.Prompt2 = *c.Prompt2
			}
			if c.Strength != nil {
				req.Strength = *c.Strength
			}
			if c.InitImage != nil {
				req.InitImage = readPNG(t, filepath.Join(fixtureRoot, "refs", *c.InitImage))
			}
			if c.Aesthetic != nil {
				req.AestheticScore = *c.Aesthetic
			}
			if c.NegAesthetic != nil {
				req.NegativeAestheticScore = *c.NegAesthetic
			}
			p := pipe(c.Model)
			if c.Refiner != nil {
				req.DenoisingEnd, req.OutputLatents = *c.DenoisingEnd, true
				base, err := p.Generate(context.Background(), req, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.InitLatents, req.DenoisingEnd, req.OutputLatents = base.Latents, 0, false
				req.DenoisingStart, req.Steps = c.Refiner.DenoisingStart, c.Refiner.Steps
				req.AestheticScore, req.NegativeAestheticScore = c.Refiner.Aesthetic, c.Refiner.NegAesthetic
				p = pipe(c.Refiner.Model)
			}
			res, err := p.Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			latTol, pxTol := 1e-3, 2
			if c.DType == "float16" {
				latTol, pxTol = 5e-2, 12 // the reference rounds latents to fp16 every step
			}
			want := readF32(t, c.Latents.File)
			dl := maxAbsDiff(res.Latents, want)
			if dl > latTol {
				t.Errorf("latents differ by %g (tolerance %g)", dl, latTol)
			}
			ref := readPNG(t, filepath.Join(fixtureRoot, "refs", c.Image.File))
			dp := maxPixelDiff(res.Image, ref)
			if dp > pxTol {
				t.Errorf("image differs by %d/255 (tolerance %d)", dp, pxTol)
			}
			t.Logf("max |Δlatent| %.2g, max |Δpixel| %d/255", dl, dp)
		})
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func maxPixelDiff(a *image.RGBA, b image.Image) int {
	if a == nil || a.Bounds() != b.Bounds() {
		return 255
	}
	d := 0
	bb := b.Bounds()
	for y := bb.Min.Y; y < bb.Max.Y; y++ {
		for x := bb.Min.X; x < bb.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				v := int(p[0]>>8) - int(p[1]>>8)
				if v < 0 {
					v = -v
				}
				d = max(d, v)
			}
		}
	}
	return d
}
