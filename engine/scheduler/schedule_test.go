package scheduler

import (
	"math"
	"testing"
)

// Expected values in this file come from /work/shared/docs/sdxl-onnx.md §3.7, §3.8, §4 and §5
// (diffusers tests and an independent float32 numpy re-implementation).

func mustNew(t *testing.T, name string, cfg Config, steps int) Scheduler {
	t.Helper()
	s, err := New(name, cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	if err := s.SetTimesteps(steps); err != nil {
		t.Fatalf("%s.SetTimesteps(%d): %v", name, steps, err)
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSDXLTrainTables(t *testing.T) {
	s := mustNew(t, "euler", SDXLConfig(), 10).(*Euler)
	ac, sig := s.tt.alphasCumprod, s.tt.sigmas
	if !near(float64(ac[0]), 0.99915, 1e-7) || !near(float64(ac[999]), 0.004660095, 1e-9) {
		t.Errorf("alphas_cumprod[0], [999] = %v, %v; want 0.99915, 0.004660095", ac[0], ac[999])
	}
	if !near(float64(sig[0]), 0.029167533, 1e-8) || !near(float64(sig[999]), 14.614647, 1e-5) {
		t.Errorf("train sigmas [0], [999] = %v, %v; want 0.029167533, 14.614647", sig[0], sig[999])
	}
}

// checkStride checks a descending arithmetic schedule.
func checkStride(t *testing.T, label string, ts []float64, n int, first, last, stride float64) {
	t.Helper()
	if len(ts) != n {
		t.Fatalf("%s: %d timesteps, want %d", label, len(ts), n)
	}
	if ts[0] != first || ts[n-1] != last {
		t.Errorf("%s: first/last = %v/%v, want %v/%v", label, ts[0], ts[n-1], first, last)
	}
	for i := 1; i < n; i++ {
		if ts[i-1]-ts[i] != stride {
			t.Errorf("%s: ts[%d]-ts[%d] = %v, want %v", label, i-1, i, ts[i-1]-ts[i], stride)
			break
		}
	}
}

func TestSDXLEulerLeading(t *testing.T) {
	for _, c := range []struct {
		n                   int
		first, last, stride float64
	}{{30, 958, 1, 33}, {50, 981, 1, 20}, {40, 976, 1, 25}, {25, 961, 1, 40}} {
		for _, name := range []string{"euler", "euler_a"} {
			s := mustNew(t, name, SDXLConfig(), c.n)
			checkStride(t, name, s.Timesteps(), c.n, c.first, c.last, c.stride)
			sig := s.Sigmas()
			if len(sig) != c.n+1 || sig[c.n] != 0 {
				t.Errorf("%s N=%d: sigmas len %d, last %v; want %d ending in 0", name, c.n, len(sig), sig[len(sig)-1], c.n+1)
			}
			want := math.Sqrt(sig[0]*sig[0] + 1)
			if !near(s.InitNoiseSigma(), want, 1e-5) {
				t.Errorf("%s N=%d: init_noise_sigma %v, want sqrt(sigma0²+1) = %v", name, c.n, s.InitNoiseSigma(), want)
			}
		}
	}
	s := mustNew(t, "euler", SDXLConfig(), 30)
	if !near(s.InitNoiseSigma(), 11.5203, 1e-4) {
		t.Errorf("SDXL 30-step init_noise_sigma = %v, want 11.5203", s.InitNoiseSigma())
	}
}

func TestSDXLMultistepLeading(t *testing.T) {
	for _, name := range []string{"dpmpp_2m", "unipc"} {
		s := mustNew(t, name, SDXLConfig(), 25)
		checkStride(t, name, s.Timesteps(), 25, 951, 39, 38)
		if s.InitNoiseSigma() != 1 {
			t.Errorf("%s: init_noise_sigma %v, want 1", name, s.InitNoiseSigma())
		}
	}
	d := mustNew(t, "ddim", SDXLConfig(), 30)
	checkStride(t, "ddim", d.Timesteps(), 30, 958, 1, 33)
	if d.Sigmas() != nil || d.InitNoiseSigma() != 1 {
		t.Errorf("ddim: sigmas %v, init %v; want nil, 1", d.Sigmas(), d.InitNoiseSigma())
	}
}

func TestEulerAncestralFirstStepSDXL(t *testing.T) {
	s := mustNew(t, "euler_a", SDXLConfig(), 30)
	sig := s.Sigmas()
	if !near(sig[0], 11.476851, 2e-5) || !near(sig[1], 9.543586, 2e-5) {
		t.Fatalf("sigmas[0:2] = %v, %v; want 11.476851, 9.543586", sig[0], sig[1])
	}
	// eps = 0, x = 0: x0 = 0 and the step is pure noise: prev = noise * sigma_up.
	x := []float32{0}
	prev, err := s.Step([]float32{0}, x, 0, constNoise(1))
	if err != nil {
		t.Fatal(err)
	}
	if !near(float64(prev[0]), 5.300970, 2e-5) {
		t.Errorf("sigma_up = %v, want 5.300970", prev[0])
	}
	// eps = 1, x = 0, zero noise: x0 = -sigma, d = 1, prev = sigma_down - sigma.
	s.SetBeginIndex(0)
	prev, err = s.Step([]float32{1}, x, 0, constNoise(0))
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(prev[0]) + sig[0]; !near(got, 7.935978, 2e-5) {
		t.Errorf("sigma_down = %v, want 7.935978", got)
	}
}

type constNoise float32

func (c constNoise) Randn(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(c)
	}
	return out
}

func TestHeunSDXL5(t *testing.T) {
	s := mustNew(t, "heun", SDXLConfig(), 5)
	wantTS := []float64{801, 601, 601, 401, 401, 201, 201, 1, 1}
	wantSig := []float64{5.13443, 2.29285, 2.29285, 1.16822, 1.16822, 0.57405, 0.57405, 0.04131, 0.04131, 0}
	ts, sig := s.Timesteps(), s.Sigmas()
	if len(ts) != len(wantTS) || len(sig) != len(wantSig) {
		t.Fatalf("heun N=5: %d timesteps, %d sigmas; want %d, %d", len(ts), len(sig), len(wantTS), len(wantSig))
	}
	for i := range wantTS {
		if ts[i] != wantTS[i] {
			t.Errorf("timesteps[%d] = %v, want %v", i, ts[i], wantTS[i])
		}
	}
	for i := range wantSig {
		if !near(sig[i], wantSig[i], 6e-6) {
			t.Errorf("sigmas[%d] = %v, want %v", i, sig[i], wantSig[i])
		}
	}
	if s.Order() != 2 {
		t.Errorf("heun order %d, want 2", s.Order())
	}
}

func TestDPMKarrasSDXL25(t *testing.T) {
	s := mustNew(t, "dpmpp_2m_karras", SDXLConfig(), 25)
	ts, sig := s.Timesteps(), s.Sigmas()
	if len(ts) != 25 {
		t.Fatalf("%d timesteps, want 25", len(ts))
	}
	for i, w := range map[int]float64{0: 999, 1: 970, 2: 938, 22: 4, 23: 1, 24: 0} {
		if ts[i] != w {
			t.Errorf("timesteps[%d] = %v, want %v", i, ts[i], w)
		}
	}
	if !near(sig[0], 14.614647, 2e-5) || !near(sig[1], 12.283042, 2e-5) || !near(sig[24], 0.029168, 1e-6) || sig[25] != 0 {
		t.Errorf("sigmas[0,1,24,25] = %v %v %v %v; want 14.614647 12.283042 0.029168 0", sig[0], sig[1], sig[24], sig[25])
	}
}

func TestDDIMUpstreamSchedule(t *testing.T) {
	cfg := testCfg(ddimTestCfg, "steps_offset", 1)
	s := mustNew(t, "ddim", cfg, 5)
	want := []float64{801, 601, 401, 201, 1}
	for i, w := range want {
		if s.Timesteps()[i] != w {
			t.Fatalf("timesteps = %v, want %v", s.Timesteps(), want)
		}
	}
	d := mustNew(t, "ddim", testCfg(ddimTestCfg), 10).(*DDIM)
	for _, c := range []struct {
		t, prev int
		want    float64
	}{{0, 0, 0}, {420, 400, 0.14771}, {980, 960, 0.32460}, {487, 486, 0.00979}, {999, 998, 0.02}} {
		if got := float64(d.variance(c.t, c.prev)); !near(got, c.want, 1e-5) {
			t.Errorf("_get_variance(%d, %d) = %v, want %v", c.t, c.prev, got, c.want)
		}
	}
}

func TestRefinerHandOff(t *testing.T) {
	// §3.7: 40 Euler steps, denoising_end = denoising_start = 0.8 → base 32 steps (976…201),
	// refiner 8 steps (176…1) starting at index 32.
	s := mustNew(t, "euler", SDXLConfig(), 40)
	ts := s.Timesteps()
	end, err := DenoisingEndIndex(ts, 0.8, s.NumTrainTimesteps())
	if err != nil {
		t.Fatal(err)
	}
	begin, err := DenoisingStartIndex(ts, 0.8, s.NumTrainTimesteps(), s.Order())
	if err != nil {
		t.Fatal(err)
	}
	if end != 32 || begin != 32 || ts[0] != 976 || ts[31] != 201 || ts[32] != 176 || ts[39] != 1 {
		t.Errorf("end %d begin %d ts[0,31,32,39] = %v %v %v %v; want 32 32 976 201 176 1", end, begin, ts[0], ts[31], ts[32], ts[39])
	}
	// Heun: 79 expanded timesteps [t0, t1, t1, ..., t39, t39]; t32..t39 (< 200) give 16
	// entries, even → 17, so the refiner starts at 79-17 = 62, the second copy of t31 = 201.
	h := mustNew(t, "heun", SDXLConfig(), 40)
	hts := h.Timesteps()
	hb, _ := DenoisingStartIndex(hts, 0.8, 1000, 2)
	if len(hts) != 79 || hb != 62 || hts[hb] != 201 || hts[hb-1] != 201 {
		t.Errorf("heun: len %d begin %d ts[begin] %v; want 79, 62, 201", len(hts), hb, hts[hb])
	}
	// Even count gets +1: timesteps 3,3 < cutoff → n=2 → 3.
	if b, _ := DenoisingStartIndex([]float64{900, 500, 500, 3, 3}, 0.8, 1000, 2); b != 2 {
		t.Errorf("order-2 even count: begin %d, want 2", b)
	}
	if b, _ := DenoisingStartIndex([]float64{900, 500, 500, 3, 3}, 0.8, 1000, 1); b != 3 {
		t.Errorf("order-1: begin %d, want 3", b)
	}
	for _, bad := range []float64{0, 1, -0.1, 1.5, math.NaN()} {
		if _, err := DenoisingStartIndex(ts, bad, 1000, 1); err == nil {
			t.Errorf("DenoisingStartIndex(frac=%v) accepted", bad)
		}
		if _, err := DenoisingEndIndex(ts, bad, 1000); err == nil {
			t.Errorf("DenoisingEndIndex(frac=%v) accepted", bad)
		}
	}
}

func TestStrengthStartIndex(t *testing.T) {
	// §3.8: defaults N=50, strength 0.3 → 15 steps.
	b, n, err := StrengthStartIndex(50, 0.3, 1)
	if err != nil || b != 35 || n != 15 {
		t.Errorf("StrengthStartIndex(50, 0.3, 1) = %d, %d, %v; want 35, 15", b, n, err)
	}
	b, n, _ = StrengthStartIndex(50, 0.3, 2)
	if b != 70 || n != 15 {
		t.Errorf("order 2: %d, %d; want 70, 15", b, n)
	}
	b, n, _ = StrengthStartIndex(30, 1.0, 1)
	if b != 0 || n != 30 {
		t.Errorf("strength 1: %d, %d; want 0, 30", b, n)
	}
	if _, _, err := StrengthStartIndex(30, 1.2, 1); err == nil {
		t.Error("strength 1.2 accepted")
	}
}

func TestDescribe(t *testing.T) {
	ts, sig, init, err := Describe("euler", 30, SDXLConfig())
	if err != nil || len(ts) != 30 || ts[0] != 958 || len(sig) != 31 || !near(init, 11.5203, 1e-4) {
		t.Errorf("Describe(euler, 30) = %v..., %d sigmas, %v, %v", ts[:1], len(sig), init, err)
	}
	_, sig, _, err = Describe("ddim", 30, SDXLConfig())
	if err != nil || sig != nil {
		t.Errorf("Describe(ddim) sigmas %v err %v; want nil, nil", sig, err)
	}
	if _, _, _, err := Describe("euler", 0, SDXLConfig()); err == nil {
		t.Error("Describe with 0 steps accepted")
	}
	if _, _, _, err := Describe("k_lms", 30, SDXLConfig()); err == nil {
		t.Error("Describe(k_lms) accepted")
	}
}
