package scheduler

import "fmt"

// Euler is diffusers' EulerDiscreteScheduler (SDXL's default) or, with ancestral set,
// EulerAncestralDiscreteScheduler. Sampling churn (s_churn) is not exposed: the pipelines never
// pass it, so gamma is always 0.
type Euler struct {
	core
	ancestral bool
}

func newEuler(name string, p params, ancestral bool) (*Euler, error) {
	class := classEuler
	allowed := []string{"epsilon", "v_prediction", "sample"}
	if ancestral {
		class = classEulerA
		allowed = []string{"epsilon", "v_prediction"}
		// EulerAncestralDiscreteScheduler has none of these options.
		p.karras, p.exponential, p.finalSigmas, p.timestepType = false, false, "zero", "discrete"
		p.sigmaMin, p.sigmaMax = nil, nil
	}
	if err := predictionCheck(class, p.prediction, allowed...); err != nil {
		return nil, err
	}
	if p.karras && p.exponential {
		return nil, fmt.Errorf("only one of use_karras_sigmas and use_exponential_sigmas can be true")
	}
	c, err := newCore(name, p, true)
	if err != nil {
		return nil, err
	}
	return &Euler{core: c, ancestral: ancestral}, nil
}

// kSchedule computes the Euler/Heun family schedule: timesteps (float64 holding diffusers'
// values before the final float32 cast) and sigmas (float64 before the float32 cast, without
// the final entry).
func kSchedule(p *params, tt *trainTables, n int) (ts, sig []float64, err error) {
	ts, err = spacingKTimesteps(p, n, false)
	if err != nil {
		return nil, nil, err
	}
	sig = make([]float64, len(ts))
	for i, t := range ts {
		sig[i] = npInterp(t, tt.sigmas)
	}
	if p.karras || p.exponential {
		smin, smax := sig[len(sig)-1], sig[0]
		if p.sigmaMin != nil {
			smin = *p.sigmaMin
		}
		if p.sigmaMax != nil {
			smax = *p.sigmaMax
		}
		if p.karras {
			sig = karrasSigmas(smin, smax, n)
		} else {
			sig = exponentialSigmas(smin, smax, n)
		}
		ts = make([]float64, len(sig))
		for i, s := range sig {
			ts[i] = sigmaToT(s, tt.logSigmas)
		}
	}
	return ts, sig, nil
}

// kInitSigma is init_noise_sigma of the Euler family: max sigma, or sqrt(max²+1) for "leading".
func kInitSigma(spacing string, sigmas []float32) float32 {
	var m float32
	for _, s := range sigmas {
		if s > m {
			m = s
		}
	}
	if spacing == "linspace" || spacing == "trailing" {
		return m
	}
	return sqrt32(float32(m*m) + 1)
}

// SetTimesteps implements Scheduler.
func (s *Euler) SetTimesteps(n int) error {
	if err := s.checkSteps(n); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	ts, sig, err := kSchedule(&s.p, &s.tt, n)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	final := float32(0)
	if s.p.finalSigmas == "sigma_min" {
		final = s.tt.sigmas[0]
	}
	s.sigmas = make([]float32, len(sig)+1)
	for i, v := range sig {
		s.sigmas[i] = float32(v)
	}
	s.sigmas[len(sig)] = final
	s.timesteps = make([]float64, len(ts))
	for i, t := range ts {
		if s.p.timestepType == "continuous" && s.p.prediction == "v_prediction" {
			s.timesteps[i] = float64(float32(0.25 * log32(s.sigmas[i])))
		} else {
			s.timesteps[i] = float64(float32(t))
		}
	}
	s.initSigma = kInitSigma(s.p.spacing, s.sigmas)
	s.steps, s.ready, s.next = n, true, 0
	return nil
}

// Order implements Scheduler.
func (s *Euler) Order() int { return 1 }

// SetBeginIndex implements Scheduler.
func (s *Euler) SetBeginIndex(i int) { s.next = i }

// ScaleModelInput implements Scheduler: sample /= sqrt(sigma²+1).
func (s *Euler) ScaleModelInput(sample []float32, i int) {
	s.mustIndex(i, "ScaleModelInput")
	kScale(sample, s.sigmas[i])
}

func kScale(sample []float32, sigma float32) {
	d := sqrt32(float32(sigma*sigma) + 1)
	for j, v := range sample {
		sample[j] = v / d
	}
}

// kPredX0 computes pred_original_sample of the Euler family for sigma (the value used in the
// formula: sigma_hat for epsilon, sigma for v-prediction).
func kPredX0(pred string, modelOutput, sample []float32, sigma float32) []float32 {
	x0 := make([]float32, len(sample))
	switch pred {
	case "epsilon":
		for j, m := range modelOutput {
			x0[j] = sample[j] - float32(sigma*m)
		}
	case "v_prediction":
		s2 := float32(sigma*sigma) + 1
		c1 := -sigma / sqrt32(s2)
		for j, m := range modelOutput {
			x0[j] = float32(m*c1) + sample[j]/s2
		}
	default: // sample
		copy(x0, modelOutput)
	}
	return x0
}

// Step implements Scheduler.
func (s *Euler) Step(modelOutput, sample []float32, i int, noise NoiseSource) ([]float32, error) {
	if _, err := s.checkStep(modelOutput, sample, i); err != nil {
		return nil, err
	}
	sigma, next := s.sigmas[i], s.sigmas[i+1]
	x0 := kPredX0(s.p.prediction, modelOutput, sample, sigma)
	prev := make([]float32, len(sample))
	if !s.ancestral {
		dt := next - sigma
		for j, x := range sample {
			d := (x - x0[j]) / sigma
			prev[j] = x + float32(d*dt)
		}
		return prev, nil
	}
	sf2, st2 := float32(sigma*sigma), float32(next*next)
	up := sqrt32(float32(st2*(sf2-st2)) / sf2)
	down := sqrt32(st2 - float32(up*up))
	dt := down - sigma
	for j, x := range sample {
		d := (x - x0[j]) / sigma
		prev[j] = x + float32(d*dt)
	}
	z, err := drawNoise(s.name, noise, len(sample))
	if err != nil {
		return nil, err
	}
	for j, v := range z {
		prev[j] += float32(v * up)
	}
	return prev, nil
}

// AddNoise implements Scheduler: original + noise*sigma[i].
func (s *Euler) AddNoise(original, noise []float32, i int) []float32 {
	s.mustIndex(i, "AddNoise")
	return kAddNoise(original, noise, s.sigmas[i])
}

func kAddNoise(original, noise []float32, sigma float32) []float32 {
	if len(original) != len(noise) {
		panic(fmt.Sprintf("scheduler: AddNoise with %d original values and %d noise values", len(original), len(noise)))
	}
	out := make([]float32, len(original))
	for j, x := range original {
		out[j] = x + float32(noise[j]*sigma)
	}
	return out
}
