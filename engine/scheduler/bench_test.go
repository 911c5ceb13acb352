package scheduler

import "testing"

// BenchmarkStep times one Step per scheduler on an SDXL latent of 1x4x128x128 (25-step schedule,
// cycling through it).
func BenchmarkStep(b *testing.B) {
	const n = 1 * 4 * 128 * 128
	sample := make([]float32, n)
	eps := make([]float32, n)
	for i := range sample {
		sample[i] = float32(i%97)/50 - 1
		eps[i] = float32(i%89)/45 - 1
	}
	sde := SDXLConfig()
	sde.AlgorithmType = Ptr("sde-dpmsolver++")
	cases := []struct {
		label, name string
		cfg         Config
	}{}
	for _, name := range Names() {
		cases = append(cases, struct {
			label, name string
			cfg         Config
		}{name, name, SDXLConfig()})
	}
	cases = append(cases, struct {
		label, name string
		cfg         Config
	}{"dpmpp_2m_sde", "dpmpp_2m", sde})
	for _, c := range cases {
		b.Run(c.label, func(b *testing.B) {
			s, err := New(c.name, c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.SetTimesteps(25); err != nil {
				b.Fatal(err)
			}
			steps := len(s.Timesteps())
			noise := constNoise(0.25)
			b.SetBytes(n * 4)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Step(eps, sample, i%steps, noise); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
