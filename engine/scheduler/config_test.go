package scheduler

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sdxlJSON is stabilityai/stable-diffusion-xl-base-1.0's scheduler/scheduler_config.json.
const sdxlJSON = `{
  "_class_name": "EulerDiscreteScheduler",
  "_diffusers_version": "0.19.0.dev0",
  "beta_end": 0.012,
  "beta_schedule": "scaled_linear",
  "beta_start": 0.00085,
  "clip_sample": false,
  "interpolation_type": "linear",
  "num_train_timesteps": 1000,
  "prediction_type": "epsilon",
  "sample_max_value": 1.0,
  "set_alpha_to_one": false,
  "skip_prk_steps": true,
  "steps_offset": 1,
  "timestep_spacing": "leading",
  "trained_betas": null,
  "use_karras_sigmas": false
}`

func TestParseSDXLConfig(t *testing.T) {
	c, err := ParseConfig([]byte(sdxlJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, SDXLConfig()) {
		t.Errorf("parsed SDXL config differs from SDXLConfig():\n%+v\n%+v", c, SDXLConfig())
	}
	if DefaultName(c) != "euler" {
		t.Errorf("DefaultName = %q, want euler", DefaultName(c))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "scheduler_config.json")
	if err := os.WriteFile(path, []byte(sdxlJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := LoadConfig(path)
	if err != nil || !reflect.DeepEqual(c2, c) {
		t.Errorf("LoadConfig: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("LoadConfig(missing) error %v, want one naming the file", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, c := range []struct{ json, want []string }{
		{[]string{`{"beta_schedule": "cosine"}`}, []string{"beta_schedule", `"cosine"`, "scaled_linear"}},
		{[]string{`{"prediction_type": "eps"}`}, []string{"prediction_type", `"eps"`, "v_prediction"}},
		{[]string{`{"timestep_spacing": "uniform"}`}, []string{"timestep_spacing", `"uniform"`}},
		{[]string{`{"final_sigmas_type": "min"}`}, []string{"final_sigmas_type", `"min"`}},
		{[]string{`{"num_train_timesteps": "1000"}`}, []string{"num_train_timesteps", "integer"}},
		{[]string{`{"num_train_timesteps": 10.5}`}, []string{"num_train_timesteps", "integer"}},
		{[]string{`{"beta_start": true}`}, []string{"beta_start", "number"}},
		{[]string{`{"use_karras_sigmas": "yes"}`}, []string{"use_karras_sigmas", "true or false"}},
		{[]string{`{"solver_order": 4}`}, []string{"solver_order", "4"}},
		{[]string{`{"beta_end": 1.5}`}, []string{"beta_end", "1.5"}},
		{[]string{`{"trained_betas": "x"}`}, []string{"trained_betas"}},
		{[]string{`[1, 2]`}, []string{"parse scheduler config"}},
	} {
		_, err := ParseConfig([]byte(c.json[0]))
		if err == nil {
			t.Errorf("ParseConfig(%s) accepted", c.json[0])
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseConfig(%s) error %q does not mention %s", c.json[0], err, w)
			}
		}
	}
}

func TestParseConfigLenient(t *testing.T) {
	c, err := ParseConfig([]byte(`{"foo": [1, {"bar": NaN}], "lambda_min_clipped": -Infinity, "sigma_max": null,
		"disable_corrector": [1, 2], "_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true,
		"note": "Infinity inside a string"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.LambdaMinClipped == nil || !math.IsInf(*c.LambdaMinClipped, -1) {
		t.Errorf("lambda_min_clipped = %v, want -Inf", c.LambdaMinClipped)
	}
	if c.SigmaMax != nil || !reflect.DeepEqual(c.DisableCorrector, []int{1, 2}) {
		t.Errorf("sigma_max %v disable_corrector %v", c.SigmaMax, c.DisableCorrector)
	}
	if DefaultName(c) != "dpmpp_2m_karras" {
		t.Errorf("DefaultName = %q, want dpmpp_2m_karras", DefaultName(c))
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New("k_lms", SDXLConfig())
	if err == nil {
		t.Fatal("New(k_lms) accepted")
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %s", err, n)
		}
	}
	if len(Names()) != 7 {
		t.Errorf("Names() = %v, want 7 names", Names())
	}
	bad := SDXLConfig()
	bad.Thresholding = Ptr(true)
	if _, err := New("dpmpp_2m", bad); err == nil || !strings.Contains(err.Error(), "thresholding") {
		t.Errorf("thresholding: %v", err)
	}
	// Euler ignores thresholding (EulerDiscreteScheduler has no such option), as diffusers does.
	if _, err := New("euler", bad); err != nil {
		t.Errorf("euler with thresholding key: %v", err)
	}
	bad = SDXLConfig()
	bad.PredictionType = Ptr("sample")
	if _, err := New("euler_a", bad); err == nil || !strings.Contains(err.Error(), "sample") {
		t.Errorf("euler_a sample prediction: %v", err)
	}
	bad = SDXLConfig()
	bad.BetaSchedule = Ptr("bogus")
	if _, err := New("euler", bad); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("bogus beta_schedule: %v", err)
	}
	bad = SDXLConfig()
	bad.AlgorithmType = Ptr("dpmsolver")
	if _, err := New("dpmpp_2m", bad); err == nil || !strings.Contains(err.Error(), "sigma_min") {
		t.Errorf("dpmsolver with final zero: %v", err)
	}
	bad = SDXLConfig()
	bad.TrainedBetas = []float64{0.1, 0.2}
	if _, err := New("euler", bad); err == nil || !strings.Contains(err.Error(), "trained_betas") {
		t.Errorf("short trained_betas: %v", err)
	}
}

// TestClassDefaults checks that absent keys take each class's own constructor default, as
// diffusers' from_config does: the same empty config gives Euler "linspace" but DDIM "leading".
func TestClassDefaults(t *testing.T) {
	e := mustNew(t, "euler", Config{}, 10)
	if ts := e.Timesteps(); ts[0] != 999 || ts[9] != 0 {
		t.Errorf("euler default spacing: %v, want linspace 999..0", ts)
	}
	d := mustNew(t, "ddim", Config{}, 10)
	if ts := d.Timesteps(); ts[0] != 900 || ts[9] != 0 {
		t.Errorf("ddim default spacing: %v, want leading 900..0", ts)
	}
	h := mustNew(t, "heun", Config{}, 10).(*Heun)
	if !near(float64(h.tt.alphasCumprod[0]), 1-0.00085, 1e-7) {
		t.Errorf("heun default beta_start: alphas_cumprod[0] = %v, want 0.99915", h.tt.alphasCumprod[0])
	}
}

func TestStepErrors(t *testing.T) {
	s, err := New("euler_a", SDXLConfig())
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2}
	if _, err := s.Step(x, x, 0, constNoise(0)); err == nil {
		t.Error("Step before SetTimesteps accepted")
	}
	if err := s.SetTimesteps(4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step(x, x, 4, constNoise(0)); err == nil {
		t.Error("Step past the schedule accepted")
	}
	if _, err := s.Step(x, x[:1], 0, constNoise(0)); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := s.Step(x, x, 0, nil); err == nil || !strings.Contains(err.Error(), "NoiseSource") {
		t.Errorf("nil noise for euler_a: %v", err)
	}
	if _, err := s.Step(x, x, 0, shortNoise{}); err == nil {
		t.Error("short noise accepted")
	}
	if err := s.SetTimesteps(1001); err == nil {
		t.Error("more steps than train timesteps accepted")
	}
	defer func() {
		if recover() == nil {
			t.Error("AddNoise with a bad index did not panic")
		}
	}()
	s.AddNoise(x, x, 99)
}

type shortNoise struct{}

func (shortNoise) Randn(n int) []float32 { return make([]float32, n-1) }

// countingNoise counts Randn calls and checks their size.
type countingNoise struct {
	calls, n int
	t        *testing.T
}

func (c *countingNoise) Randn(n int) []float32 {
	if n != c.n {
		c.t.Errorf("Randn(%d), want Randn(%d)", n, c.n)
	}
	c.calls++
	return constNoise(0.5).Randn(n)
}

// TestNoiseCallOrder: diffusers draws randn_tensor(model_output.shape) once per step for
// Euler ancestral (also on the last step) and SDE DPM-Solver, and never for the others.
func TestNoiseCallOrder(t *testing.T) {
	sde := SDXLConfig()
	sde.AlgorithmType = Ptr("sde-dpmsolver++")
	for _, c := range []struct {
		name, label string
		cfg         Config
		calls       int
	}{
		{"euler_a", "", SDXLConfig(), 6}, {"dpmpp_2m", "sde-dpmsolver++", sde, 6}, {"euler", "", SDXLConfig(), 0},
		{"heun", "", SDXLConfig(), 0}, {"ddim", "", SDXLConfig(), 0}, {"dpmpp_2m", "", SDXLConfig(), 0},
		{"unipc", "", SDXLConfig(), 0},
	} {
		s := mustNew(t, c.name, c.cfg, 6)
		noise := &countingNoise{n: 8, t: t}
		x := constNoise(0.3).Randn(8)
		var err error
		for i := range s.Timesteps() {
			if x, err = s.Step(constNoise(0.1).Randn(8), x, i, noise); err != nil {
				t.Fatal(err)
			}
		}
		if noise.calls != c.calls {
			t.Errorf("%s %s: %d Randn calls, want %d", c.name, c.label, noise.calls, c.calls)
		}
	}
}

// TestRestartResetsState: a second run over the same scheduler (index back to 0, or an explicit
// SetBeginIndex) gives the same result as the first: multistep history is dropped.
func TestRestartResetsState(t *testing.T) {
	for _, name := range Names() {
		s := mustNew(t, name, SDXLConfig(), 8)
		run := func() []float32 {
			x := dummySampleDeter(false)
			scale(x, float32(s.InitNoiseSigma()))
			ts := s.Timesteps()
			var err error
			for i := range ts {
				xin := append([]float32(nil), x...)
				s.ScaleModelInput(xin, i)
				if x, err = s.Step(dummyModel(xin, ts[i]), x, i, &fakeNoise{}); err != nil {
					t.Fatal(err)
				}
			}
			return x
		}
		a := run()
		b := run()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: second run differs from the first", name)
		}
	}
}

func TestScaleModelInput(t *testing.T) {
	s := mustNew(t, "euler", SDXLConfig(), 30)
	sig := s.Sigmas()[3]
	x := []float32{2, -4}
	s.ScaleModelInput(x, 3)
	d := math.Sqrt(sig*sig + 1)
	if !near(float64(x[0]), 2/d, 1e-6) || !near(float64(x[1]), -4/d, 1e-6) {
		t.Errorf("scaled %v, want %v", x, []float64{2 / d, -4 / d})
	}
	for _, name := range []string{"ddim", "dpmpp_2m", "unipc"} {
		s := mustNew(t, name, SDXLConfig(), 30)
		x := []float32{2, -4}
		s.ScaleModelInput(x, 3)
		if x[0] != 2 || x[1] != -4 {
			t.Errorf("%s: ScaleModelInput changed the sample: %v", name, x)
		}
	}
}
