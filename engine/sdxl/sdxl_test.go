package sdxl

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diptych/engine/ort"
	"diptych/engine/ort/orttest"
)

const fixtureRoot = "../../testdata/sdxl"

func testRuntime(t testing.TB) *ort.Runtime { return orttest.Runtime(t) }

func loadFixture(t testing.TB, name string) *Pipeline {
	t.Helper()
	p, err := Load(filepath.Join(fixtureRoot, name), Options{Runtime: testRuntime(t), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestGenerateRunsAndIsDeterministic(t *testing.T) {
	p := loadFixture(t, "base")
	req := Request{Prompt: "a red fox in the snow", Width: 64, Height: 64, Steps: 3, Seed: 7, PreviewEvery: 1}
	var steps, previews int
	res, err := p.Generate(context.Background(), req, func(pr Progress) {
		steps++
		if pr.Preview != nil {
			previews++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image == nil || res.Image.Bounds() != image.Rect(0, 0, 64, 64) {
		t.Fatalf("image bounds %v", res.Image)
	}
	if steps != 3 || previews != 3 {
		t.Fatalf("progress calls %d, previews %d; want 3 and 3", steps, previews)
	}
	again, err := p.Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Image.Pix) != string(res.Image.Pix) {
		t.Fatal("same seed gave a different image")
	}
	req.Seed = 8
	other, _ := p.Generate(context.Background(), req, nil)
	if string(other.Image.Pix) == string(res.Image.Pix) {
		t.Fatal("a different seed gave the same image")
	}
	if len(res.Timings) < 3 || res.ModelTime <= 0 || res.PeakRSSMB <= 0 {
		t.Fatalf("timings %v model %v peak %d", res.Timings, res.ModelTime, res.PeakRSSMB)
	}
}

func TestCancelStopsWithinAStep(t *testing.T) {
	p := loadFixture(t, "base")
	ctx, cancel := context.WithCancel(context.Background())
	var seen int
	_, err := p.Generate(ctx, Request{Prompt: "x", Width: 64, Height: 64, Steps: 50}, func(pr Progress) {
		seen = pr.Step
		if pr.Step == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || seen != 2 {
		t.Fatalf("err %v after step %d; want context.Canceled after step 2", err, seen)
	}
}

func TestBadRequests(t *testing.T) {
	p := loadFixture(t, "base")
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Width: 60, Height: 64}, "width 60 is not allowed"},
		{Request{Width: 64, Height: 8}, "height 8 is not allowed"},
		{Request{Width: 64, Height: 64, Steps: -1}, "steps -1"},
		{Request{Width: 64, Height: 64, Steps: 5000}, "steps 5000"},
		{Request{Width: 64, Height: 64, Scheduler: "lms"}, `unknown scheduler "lms"`},
		{Request{Width: 64, Height: 64, InitImage: image.NewRGBA(image.Rect(0, 0, 64, 64)), Strength: 1.5}, "strength 1.5"},
		{Request{Width: 64, Height: 64, InitImage: image.NewRGBA(image.Rect(0, 0, 64, 64)), Strength: -0.1}, "strength -0.1"},
		{Request{Width: 64, Height: 64, DenoisingEnd: 1.2}, "denoising end"},
		{Request{Width: 64, Height: 64, GuidanceRescale: 2}, "guidance rescale"},
		{Request{Width: 64, Height: 64, InitLatents: make([]float32, 3)}, "init latents have 3 values"},
	}
	for _, c := range cases {
		_, err := p.Generate(context.Background(), c.req, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.req, err, c.want)
		}
	}
}

func TestLongPromptWarns(t *testing.T) {
	p := loadFixture(t, "base")
	res, err := p.Generate(context.Background(), Request{Prompt: strings.Repeat("a very long prompt ", 30),
		Width: 64, Height: 64, Steps: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "truncated") {
		t.Fatalf("warnings = %v", res.Warnings)
	}
}

func TestLoadRejectsOtherFolders(t *testing.T) {
	rt := testRuntime(t)
	for _, dir := range []string{"../../testdata/janus/tiny", t.TempDir()} {
		_, err := Load(dir, Options{Runtime: rt})
		if err == nil || !strings.Contains(err.Error(), "expected") {
			t.Errorf("%s: err = %v, want one that lists what was expected", dir, err)
		}
	}
	// A half-downloaded folder: the UNet is missing.
	half := t.TempDir()
	copyTree(t, filepath.Join(fixtureRoot, "base"), half)
	os.RemoveAll(filepath.Join(half, "unet"))
	_, err := Load(half, Options{Runtime: rt})
	if err == nil || !strings.Contains(err.Error(), "unet") {
		t.Fatalf("half folder: %v", err)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNaNNamesTheComponent(t *testing.T) {
	p := loadFixture(t, "base")
	lat := make([]float32, 4*8*8)
	for i := range lat {
		lat[i] = float32(math.NaN())
	}
	_, err := p.Generate(context.Background(), Request{Prompt: "x", Width: 64, Height: 64, Steps: 4,
		InitLatents: lat, Strength: 1}, nil)
	if !errors.Is(err, ErrNaN) || !strings.Contains(err.Error(), "unet at step") {
		t.Fatalf("err = %v, want a NaN error naming the unet", err)
	}
}

func TestMismatchedComponents(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join(fixtureRoot, "base"), dir)
	// The refiner's UNet cross-attends to text_encoder_2 only: a narrower width.
	os.RemoveAll(filepath.Join(dir, "unet"))
	copyTree(t, filepath.Join(fixtureRoot, "refiner", "unet"), filepath.Join(dir, "unet"))
	_, err := Load(dir, Options{Runtime: rt})
	if err == nil || !strings.Contains(err.Error(), "mismatched components: unet expects encoder_hidden_states of width 10") {
		t.Fatalf("mismatched unet: %v", err)
	}
}

func TestLowMemoryFreesComponents(t *testing.T) {
	rt := testRuntime(t)
	p, err := Load(filepath.Join(fixtureRoot, "base"), Options{Runtime: rt, Threads: 1, LowMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req := Request{Prompt: "x", Width: 64, Height: 64, Steps: 2, Seed: 1}
	low, err := p.Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.sessions) != 1 || p.sessions["vae_decoder"] == nil {
		t.Fatalf("loaded after a low-memory run: %v, want only vae_decoder", keys(p.sessions))
	}
	// The UNet's creation is its own stage, the step times the steps alone.
	var stages []string
	for _, st := range low.Timings {
		stages = append(stages, st.Stage)
	}
	if strings.Join(stages, ",") != "text_encoders,unet_load,denoise,vae_decoder" || len(low.StepTimes) != 2 {
		t.Fatalf("stages %v, %d step times (want 2)", stages, len(low.StepTimes))
	}
	// Handing latents to a refiner frees the UNet too, so the refiner's
	// does not load beside it.
	lr := req
	lr.OutputLatents = true
	if _, err := p.Generate(context.Background(), lr, nil); err != nil {
		t.Fatal(err)
	}
	if _, loaded := p.sessions["unet"]; loaded {
		t.Fatal("the UNet is still loaded after a low-memory run that output latents")
	}
	if p.unetBatch != 1 {
		t.Fatalf("low-memory UNet batch %d, want the CFG rows one at a time", p.unetBatch)
	}
	np := loadFixture(t, "base")
	normal, err := np.Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if np.unetBatch != 2 {
		t.Fatalf("normal UNet batch %d, want the CFG batch of two", np.unetBatch)
	}
	// Same arithmetic per row; kernels may block a batch of one
	// differently, so allow float rounding, not a different image.
	if d := maxRelDiff(low.Latents, normal.Latents); d > 1e-5 {
		t.Fatalf("low-memory latents differ by %.2e (relative), want ≤ 1e-5", d)
	}
	for i := range low.Image.Pix {
		if d := int(low.Image.Pix[i]) - int(normal.Image.Pix[i]); d > 1 || d < -1 {
			t.Fatalf("low-memory mode changed pixel byte %d: %d vs %d", i, low.Image.Pix[i], normal.Image.Pix[i])
		}
	}
}

func maxRelDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPlacementIsTheUNets: a run reports the UNet's placement, not whichever
// session Go's map iteration yields first. Here the UNet fell back to the
// CPU while the other components run on CUDA, which the old map-order
// answer reported four times out of five.
func TestPlacementIsTheUNets(t *testing.T) {
	cuda := ort.Placement{Requested: ort.Device{Kind: "auto"}, Provider: ort.ProviderCUDA}
	unet := ort.Placement{Requested: ort.Device{Kind: "auto"}, Provider: ort.ProviderCPU, Fallback: "cuda: out of memory"}
	p := &Pipeline{opts: Options{Placement: cuda}, sessions: map[string]*ort.Session{}, placed: map[string]ort.Placement{
		"text_encoder": cuda, "text_encoder_2": cuda, "unet": unet, "vae_decoder": cuda, "vae_encoder": cuda,
	}}
	for name, pl := range p.placed {
		p.sessions[name] = &ort.Session{Placement: pl} // never run or closed
	}
	for i := 0; i < 100; i++ {
		if got := p.Placement(); got != unet {
			t.Fatalf("call %d: Placement() = %v, want the UNet's %v", i, got, unet)
		}
	}

	te2 := ort.Placement{Provider: ort.ProviderCUDA, DeviceID: 1}
	for _, c := range []struct {
		name   string
		placed map[string]ort.Placement
		want   ort.Placement
	}{
		{"nothing loaded yet", map[string]ort.Placement{}, cuda},
		{"failed before the UNet", map[string]ort.Placement{"text_encoder": unet, "text_encoder_2": te2}, te2},
		{"only the VAE", map[string]ort.Placement{"vae_decoder": unet}, unet},
		{"unknown components by name", map[string]ort.Placement{"z": cuda, "a": unet}, unet},
	} {
		for i := 0; i < 20; i++ {
			if got := runPlacement(c.placed, cuda); got != c.want {
				t.Fatalf("%s: runPlacement = %v, want %v", c.name, got, c.want)
			}
		}
	}
}

// TestLowMemoryReportsTheUNet: low-memory mode frees the UNet before
// decoding, yet the result still reports where the UNet ran.
func TestLowMemoryReportsTheUNet(t *testing.T) {
	p, err := Load(filepath.Join(fixtureRoot, "base"), Options{Runtime: testRuntime(t), Threads: 1, LowMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res, err := p.Generate(context.Background(), Request{Prompt: "x", Width: 64, Height: 64, Steps: 1, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, loaded := p.sessions["unet"]; loaded {
		t.Fatal("the UNet is still loaded in low-memory mode")
	}
	if u, ok := p.placed["unet"]; !ok || res.Placement != u || res.Placement.Provider != ort.ProviderCPU {
		t.Fatalf("result placement %v, UNet placement %v (recorded %v)", res.Placement, u, ok)
	}
}
