package scheduler

import "fmt"

// DDIM is diffusers' DDIMScheduler. Eta (default 0, the pipelines' default) is the amount of
// fresh noise per step; set it with SetEta. DDIM has no sigma table: Sigmas returns nil.
type DDIM struct {
	core
	eta        float32
	finalAlpha float32
}

func newDDIM(name string, p params) (*DDIM, error) {
	if err := predictionCheck(classDDIM, p.prediction, "epsilon", "v_prediction", "sample"); err != nil {
		return nil, err
	}
	c, err := newCore(name, p, false)
	if err != nil {
		return nil, err
	}
	s := &DDIM{core: c, finalAlpha: 1}
	if !p.setAlphaToOne {
		s.finalAlpha = c.tt.alphasCumprod[0]
	}
	return s, nil
}

// SetEta sets DDIM's eta (diffusers' step(eta=...)); eta > 0 makes Step draw noise.
func (s *DDIM) SetEta(eta float64) { s.eta = float32(eta) }

// SetTimesteps implements Scheduler.
func (s *DDIM) SetTimesteps(n int) error {
	if err := s.checkSteps(n); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	ts, err := spacingKTimesteps(&s.p, n, true)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	for _, t := range ts {
		if t < 0 || t >= float64(s.p.numTrain) {
			return fmt.Errorf("%s: timestep %v outside [0, %d) (check steps_offset)", s.name, t, s.p.numTrain)
		}
	}
	s.timesteps = ts
	s.steps, s.ready, s.next = n, true, 0
	return nil
}

// Order implements Scheduler.
func (s *DDIM) Order() int { return 1 }

// SetBeginIndex implements Scheduler (DDIM is stateless; kept for the interface).
func (s *DDIM) SetBeginIndex(i int) { s.next = i }

// ScaleModelInput implements Scheduler (identity).
func (s *DDIM) ScaleModelInput(sample []float32, i int) { s.mustIndex(i, "ScaleModelInput") }

// Step implements Scheduler. The previous timestep is t - T//N whatever the spacing, as in
// diffusers.
func (s *DDIM) Step(modelOutput, sample []float32, i int, noise NoiseSource) ([]float32, error) {
	if _, err := s.checkStep(modelOutput, sample, i); err != nil {
		return nil, err
	}
	t := int(s.timesteps[i])
	prevT := t - s.p.numTrain/s.steps
	a := s.tt.alphasCumprod[t]
	ap := s.finalAlpha
	if prevT >= 0 {
		ap = s.tt.alphasCumprod[prevT]
	}
	b := 1 - a
	sa, sb := sqrt32(a), sqrt32(b)
	n := len(sample)
	x0 := make([]float32, n)
	eps := make([]float32, n)
	switch s.p.prediction {
	case "epsilon":
		for j, m := range modelOutput {
			x0[j] = (sample[j] - float32(sb*m)) / sa
		}
		copy(eps, modelOutput)
	case "sample":
		copy(x0, modelOutput)
		for j, m := range modelOutput {
			eps[j] = (sample[j] - float32(sa*m)) / sb
		}
	case "v_prediction":
		for j, m := range modelOutput {
			x0[j] = float32(sa*sample[j]) - float32(sb*m)
			eps[j] = float32(sa*m) + float32(sb*sample[j])
		}
	}
	if s.p.clipSample {
		r := float32(s.p.clipRange)
		for j, v := range x0 {
			x0[j] = min(max(v, -r), r)
		}
	}
	variance := float32((1-ap)/b) * (1 - a/ap)
	std := float32(s.eta * sqrt32(variance))
	dirCoef := sqrt32(1 - ap - float32(std*std))
	sap := sqrt32(ap)
	prev := make([]float32, n)
	for j := range prev {
		prev[j] = float32(sap*x0[j]) + float32(dirCoef*eps[j])
	}
	if s.eta > 0 {
		z, err := drawNoise(s.name, noise, n)
		if err != nil {
			return nil, err
		}
		for j, v := range z {
			prev[j] += float32(std * v)
		}
	}
	return prev, nil
}

// AddNoise implements Scheduler: sqrt(ᾱ_t)·original + sqrt(1-ᾱ_t)·noise with t = Timesteps()[i].
func (s *DDIM) AddNoise(original, noise []float32, i int) []float32 {
	s.mustIndex(i, "AddNoise")
	if len(original) != len(noise) {
		panic(fmt.Sprintf("scheduler %s: AddNoise with %d original values and %d noise values", s.name, len(original), len(noise)))
	}
	a := s.tt.alphasCumprod[int(s.timesteps[i])]
	sa, sb := sqrt32(a), sqrt32(1-a)
	out := make([]float32, len(original))
	for j, x := range original {
		out[j] = float32(sa*x) + float32(sb*noise[j])
	}
	return out
}

// variance is diffusers' DDIMScheduler._get_variance(t, prevT).
func (s *DDIM) variance(t, prevT int) float32 {
	a := s.tt.alphasCumprod[t]
	ap := s.finalAlpha
	if prevT >= 0 {
		ap = s.tt.alphasCumprod[prevT]
	}
	return float32((1-ap)/(1-a)) * (1 - a/ap)
}
