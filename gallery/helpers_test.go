package gallery

import (
	"context"
	"image"
	"image/color"
	"testing"
	"time"
)

// testImage is a small gradient whose pixels depend on seed, so different
// seeds give different files.
func testImage(w, h int, seed uint64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x*255/w + int(seed)), uint8(y * 255 / h), uint8(seed * 37), 255})
		}
	}
	return img
}

// fakeGeneration is a plausible SDXL run.
func fakeGeneration(prompt string, seed uint64) Generation {
	return Generation{
		Engine: "sdxl", Model: "sdxl-base-1.0", ModelHash: "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6ffb2000fd3c1",
		Prompt: prompt, NegativePrompt: "blurry", Seed: seed, Steps: 30, Scheduler: "dpmpp_2m_karras",
		Width: 64, Height: 48, Guidance: 7, RNG: "cpu",
		Device: "NVIDIA H100", ExecutionProvider: "CUDA", Precision: "fp16",
		Timings:         []StageTiming{{"text_encoder", 40 * time.Millisecond}, {"unet", 2 * time.Second}, {"vae_decode", 300 * time.Millisecond}},
		PeakMemoryBytes: 9 << 30, AppVersion: "0.1.0",
	}
}

// openTest opens a fresh library in a temporary folder with a controllable
// clock.
func openTest(t testing.TB) (*Store, *fakeClock) {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	clk := &fakeClock{t: time.Date(2025, 3, 14, 15, 9, 26, 0, time.Local)}
	s.now = clk.now
	return s, clk
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func saveTest(t testing.TB, s *Store, prompt string, seed uint64) Generation {
	t.Helper()
	g := fakeGeneration(prompt, seed)
	out, err := s.Save(context.Background(), SaveRequest{Generation: g, Image: testImage(g.Width, g.Height, seed)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
