package scheduler

import (
	"math"
	"testing"

	"diptych/engine/rng"
)

var _ NoiseSource = (*rng.Generator)(nil)

// TestEulerAncestralTorchRNG reproduces diffusers' test_scheduler_euler_ancestral.py full loops,
// which draw their noise from torch.manual_seed(0): engine/rng's generator plugs in as the
// NoiseSource and Step draws randn(model_output.shape) once per step, in diffusers' order.
func TestEulerAncestralTorchRNG(t *testing.T) {
	for _, c := range []struct {
		label     string
		cfg       Config
		tStart    int
		sum, mean float64
	}{
		{"no_noise", testCfg(eulerTestCfg), -1, 152.3192, 0.1983},
		{"v_prediction", testCfg(eulerTestCfg, "prediction_type", "v_prediction"), -1, 108.4439, 0.1412},
		{"with_noise", testCfg(eulerTestCfg), 8, 56163.0508, 73.1290},
	} {
		t.Run(c.label, func(t *testing.T) {
			s := mustNew(t, "euler_a", c.cfg, 10)
			g := rng.NewTorch(0)
			x := dummySampleDeter(false)
			scale(x, float32(s.InitNoiseSigma()))
			begin := 0
			if c.tStart >= 0 {
				begin = c.tStart * s.Order()
				x = s.AddNoise(x, dummySampleDeter(true), begin)
			}
			ts := s.Timesteps()
			var err error
			for i := begin; i < len(ts); i++ {
				s.ScaleModelInput(x, i)
				if x, err = s.Step(dummyModel(x, ts[i]), x, i, g); err != nil {
					t.Fatal(err)
				}
			}
			sum := 0.0
			for _, v := range x {
				sum += math.Abs(float64(v))
			}
			mean := sum / float64(len(x))
			if math.Abs(sum-c.sum) >= 1e-2 || math.Abs(mean-c.mean) >= 1e-3 {
				t.Errorf("sum, mean = %.4f, %.4f; want %.4f, %.4f", sum, mean, c.sum, c.mean)
			}
		})
	}
}
