package scheduler

import (
	"encoding/json"
	"math"
	"testing"
)

// Fixtures of diffusers' tests/schedulers/test_schedulers.py (SchedulerCommonTest).

// dummySampleDeter is dummy_sample_deter: shape (4,3,8,8), element [b,c,h,w] =
// (c*256 + h*32 + w*4 + b) / 768; reversed gives dummy_noise_deter.
func dummySampleDeter(reversed bool) []float32 {
	const n = 4 * 3 * 8 * 8
	out := make([]float32, 0, n)
	for b := 0; b < 4; b++ {
		for c := 0; c < 3; c++ {
			for h := 0; h < 8; h++ {
				for w := 0; w < 8; w++ {
					v := c*256 + h*32 + w*4 + b
					if reversed {
						v = n - 1 - v
					}
					out = append(out, float32(v)/float32(n))
				}
			}
		}
	}
	return out
}

// dummyModel is sample * t / (t + 1) in float32.
func dummyModel(x []float32, t float64) []float32 {
	tf := float32(t)
	out := make([]float32, len(x))
	for j, v := range x {
		out[j] = float32(v*tf) / (tf + 1)
	}
	return out
}

// upstreamLoop runs diffusers' full-loop test shapes with N=10. style "ve" (Euler/Heun tests):
// x = dummy*init_noise_sigma; x = scale(x); x = step(model(x), x). style "vp": x = dummy;
// x = step(model(x), x). tStart >= 0 adds dummy_noise_deter at index tStart*order first.
func upstreamLoop(t *testing.T, name string, cfg Config, style string, tStart int) (sum, mean float64) {
	t.Helper()
	s, err := New(name, cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	if err := s.SetTimesteps(10); err != nil {
		t.Fatal(err)
	}
	x := dummySampleDeter(false)
	if style == "ve" {
		scale(x, float32(s.InitNoiseSigma()))
	}
	begin := 0
	if tStart >= 0 {
		begin = tStart * s.Order()
		x = s.AddNoise(x, dummySampleDeter(true), begin)
	}
	ts := s.Timesteps()
	for i := begin; i < len(ts); i++ {
		if style == "ve" {
			s.ScaleModelInput(x, i)
		}
		x, err = s.Step(dummyModel(x, ts[i]), x, i, nil)
		if err != nil {
			t.Fatalf("Step(%d): %v", i, err)
		}
	}
	for _, v := range x {
		sum += math.Abs(float64(v))
	}
	return sum, sum / float64(len(x))
}

func testCfg(base map[string]any, extra ...any) Config {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		panic(err)
	}
	return c
}

var (
	eulerTestCfg = map[string]any{"num_train_timesteps": 1100, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}
	ddimTestCfg  = map[string]any{"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "clip_sample": true}
	dpmTestCfg   = map[string]any{"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
		"solver_order": 2, "prediction_type": "epsilon", "thresholding": false, "sample_max_value": 1.0,
		"algorithm_type": "dpmsolver++", "solver_type": "midpoint", "lower_order_final": false, "final_sigmas_type": "sigma_min"}
	unipcTestCfg = map[string]any{"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
		"solver_order": 2, "solver_type": "bh2", "final_sigmas_type": "sigma_min"}
)

// TestUpstreamFullLoops reproduces the expected numbers of diffusers' scheduler tests
// (test_scheduler_{euler,heun,ddim,dpm_multi,unipc}.py) that need no torch RNG, with their
// tolerances (1e-2 on sum(|x|), 1e-3 on mean(|x|)).
func TestUpstreamFullLoops(t *testing.T) {
	const none = -1
	cases := []struct {
		label, name string
		cfg         Config
		style       string
		tStart      int
		sum, mean   float64 // sum < 0: the upstream test checks only the mean
	}{
		{"euler", "euler", testCfg(eulerTestCfg), "ve", none, 10.0807, 0.0131},
		{"euler karras", "euler", testCfg(eulerTestCfg, "use_karras_sigmas", true), "ve", none, 124.52299499511719, 0.16213932633399963},
		{"euler with_noise", "euler", testCfg(eulerTestCfg), "ve", 8, 57062.9297, 74.3007},
		{"euler v_prediction", "euler", testCfg(eulerTestCfg, "prediction_type", "v_prediction"), "ve", none, 0.0002, 2.2676e-06},
		{"heun", "heun", testCfg(eulerTestCfg), "ve", none, 0.1233, 0.0002},
		{"heun karras", "heun", testCfg(eulerTestCfg, "use_karras_sigmas", true), "ve", none, 0.00015, 1.9869554535034695e-07},
		{"heun with_noise", "heun", testCfg(eulerTestCfg), "ve", 8, 75074.8906, 97.7538},
		{"heun v_prediction", "heun", testCfg(eulerTestCfg, "prediction_type", "v_prediction"), "ve", none, 4.6934e-07, 6.1112e-10},
		{"ddim", "ddim", testCfg(ddimTestCfg), "vp", none, 172.0067, 0.223967},
		{"ddim v_prediction", "ddim", testCfg(ddimTestCfg, "prediction_type", "v_prediction"), "vp", none, 52.5302, 0.0684},
		{"ddim set_alpha_to_one", "ddim", testCfg(ddimTestCfg, "beta_start", 0.01, "set_alpha_to_one", true), "vp", none, 149.8295, 0.1951},
		{"ddim no set_alpha_to_one", "ddim", testCfg(ddimTestCfg, "beta_start", 0.01, "set_alpha_to_one", false), "vp", none, 149.0784, 0.1941},
		{"ddim with_noise", "ddim", testCfg(ddimTestCfg), "vp", 8, 354.5418, 0.4616},
		{"dpm", "dpmpp_2m", testCfg(dpmTestCfg), "vp", none, -1, 0.3301},
		{"dpm with_noise", "dpmpp_2m", testCfg(dpmTestCfg), "vp", 5, 318.4111, 0.4146},
		{"dpm v_prediction", "dpmpp_2m", testCfg(dpmTestCfg, "prediction_type", "v_prediction"), "vp", none, -1, 0.2251},
		{"dpm v_prediction karras", "dpmpp_2m_karras", testCfg(dpmTestCfg, "prediction_type", "v_prediction"), "vp", none, -1, 0.2096},
		{"unipc", "unipc", testCfg(unipcTestCfg), "vp", none, -1, 0.2464},
		{"unipc karras", "unipc", testCfg(unipcTestCfg, "use_karras_sigmas", true), "vp", none, -1, 0.2925},
		{"unipc v_prediction", "unipc", testCfg(unipcTestCfg, "prediction_type", "v_prediction"), "vp", none, -1, 0.1014},
		{"unipc v_prediction karras", "unipc", testCfg(unipcTestCfg, "prediction_type", "v_prediction", "use_karras_sigmas", true), "vp", none, -1, 0.1966},
		{"unipc with_noise", "unipc", testCfg(unipcTestCfg), "vp", 8, 315.5757, 0.4109},
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			sum, mean := upstreamLoop(t, c.name, c.cfg, c.style, c.tStart)
			if c.sum >= 0 && math.Abs(sum-c.sum) >= 1e-2 {
				t.Errorf("sum(|x|) = %.6f, want %.6f ± 1e-2", sum, c.sum)
			}
			if math.Abs(mean-c.mean) >= 1e-3 {
				t.Errorf("mean(|x|) = %.6g, want %.6g ± 1e-3", mean, c.mean)
			}
		})
	}
}

// TestUpstreamRecomputed compares the same loops with the sums diffusers 0.39 produced in
// tools/ref_schedulers.py, at a relative 1e-5.
func TestUpstreamRecomputed(t *testing.T) {
	r := loadRef(t)
	names := map[string]string{classEuler: "euler", classHeun: "heun", classDDIM: "ddim", classDPM: "dpmpp_2m", classUniPC: "unipc"}
	if len(r.Upstream) < 20 {
		t.Fatalf("reference has %d upstream loops, want >= 20", len(r.Upstream))
	}
	for _, u := range r.Upstream {
		t.Run(u.Name, func(t *testing.T) {
			cfg, err := ParseConfig(u.Config)
			if err != nil {
				t.Fatal(err)
			}
			tStart := -1
			if u.TStart != nil {
				tStart = *u.TStart
			}
			sum, mean := upstreamLoop(t, names[u.Class], cfg, u.Style, tStart)
			if !closeRel(sum, u.Sum, 1e-5, 1e-9) || !closeRel(mean, u.Mean, 1e-5, 1e-12) {
				t.Errorf("sum, mean = %.9g, %.9g; diffusers %s: %.9g, %.9g", sum, mean, r.DiffusersVersion, u.Sum, u.Mean)
			}
		})
	}
}
