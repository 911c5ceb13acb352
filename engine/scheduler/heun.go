package scheduler

import "fmt"

// Heun is diffusers' HeunDiscreteScheduler (second order, order 2). Its schedule is expanded:
// for N steps, Timesteps has 2N-1 entries [t0, t1, t1, ..., t(N-1), t(N-1)] and Sigmas 2N
// entries [s0, s1, s1, ..., s(N-1), s(N-1), 0]; every entry is one model call.
type Heun struct {
	core
	// state of a pending second-order half step (diffusers' prev_derivative, dt, sample).
	pending   bool
	prevDeriv []float32
	dt        float32
	saved     []float32
}

func newHeun(name string, p params) (*Heun, error) {
	if err := predictionCheck(classHeun, p.prediction, "epsilon", "v_prediction", "sample"); err != nil {
		return nil, err
	}
	if p.karras && p.exponential {
		return nil, fmt.Errorf("only one of use_karras_sigmas and use_exponential_sigmas can be true")
	}
	// HeunDiscreteScheduler has no final_sigmas_type, timestep_type or zero-SNR rescaling.
	p.finalSigmas, p.timestepType, p.rescaleZeroSNR = "zero", "discrete", false
	c, err := newCore(name, p, false)
	if err != nil {
		return nil, err
	}
	return &Heun{core: c}, nil
}

// SetTimesteps implements Scheduler.
func (s *Heun) SetTimesteps(n int) error {
	if err := s.checkSteps(n); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	ts, sig, err := kSchedule(&s.p, &s.tt, n)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	base := make([]float32, len(sig)+1)
	for i, v := range sig {
		base[i] = float32(v)
	}
	// sigmas = cat(base[:1], base[1:-1].repeat_interleave(2), base[-1:])
	s.sigmas = []float32{base[0]}
	for _, v := range base[1 : len(base)-1] {
		s.sigmas = append(s.sigmas, v, v)
	}
	s.sigmas = append(s.sigmas, base[len(base)-1])
	// timesteps = cat(ts[:1], ts[1:].repeat_interleave(2)), as float32
	s.timesteps = []float64{float64(float32(ts[0]))}
	for _, t := range ts[1:] {
		v := float64(float32(t))
		s.timesteps = append(s.timesteps, v, v)
	}
	s.initSigma = kInitSigma(s.p.spacing, s.sigmas)
	s.steps, s.ready, s.next = n, true, 0
	s.reset()
	return nil
}

func (s *Heun) reset() { s.pending, s.prevDeriv, s.saved = false, nil, nil }

// Order implements Scheduler.
func (s *Heun) Order() int { return 2 }

// SetBeginIndex implements Scheduler.
func (s *Heun) SetBeginIndex(i int) { s.next = i; s.reset() }

// ScaleModelInput implements Scheduler: sample /= sqrt(sigmas[i]²+1).
func (s *Heun) ScaleModelInput(sample []float32, i int) {
	s.mustIndex(i, "ScaleModelInput")
	kScale(sample, s.sigmas[i])
}

// Step implements Scheduler. A first-order call (no pending half step) takes an Euler step and
// remembers its derivative; the following call averages the derivatives (Heun correction).
func (s *Heun) Step(modelOutput, sample []float32, i int, _ NoiseSource) ([]float32, error) {
	cont, err := s.checkStep(modelOutput, sample, i)
	if err != nil {
		return nil, err
	}
	if !cont {
		s.reset()
	}
	first := !s.pending
	var sigma, next float32
	if first {
		sigma, next = s.sigmas[i], s.sigmas[i+1]
	} else {
		sigma, next = s.sigmas[i-1], s.sigmas[i]
	}
	sigmaIn := next
	if first {
		sigmaIn = sigma
	}
	x0 := kPredX0(s.p.prediction, modelOutput, sample, sigmaIn)
	if s.p.clipSample {
		r := float32(s.p.clipRange)
		for j, v := range x0 {
			x0[j] = min(max(v, -r), r)
		}
	}
	prev := make([]float32, len(sample))
	if first {
		d := make([]float32, len(sample))
		dt := next - sigma
		for j, x := range sample {
			d[j] = (x - x0[j]) / sigma
			prev[j] = x + float32(d[j]*dt)
		}
		s.pending, s.prevDeriv, s.dt = true, d, dt
		s.saved = append([]float32(nil), sample...)
		return prev, nil
	}
	if len(s.saved) != len(sample) {
		return nil, fmt.Errorf("%s: sample has %d values, the first half step had %d", s.name, len(sample), len(s.saved))
	}
	for j, x := range sample {
		d2 := (x - x0[j]) / next
		d := (s.prevDeriv[j] + d2) / 2
		prev[j] = s.saved[j] + float32(d*s.dt)
	}
	s.reset()
	return prev, nil
}

// AddNoise implements Scheduler: original + noise*sigmas[i] (expanded index).
func (s *Heun) AddNoise(original, noise []float32, i int) []float32 {
	s.mustIndex(i, "AddNoise")
	return kAddNoise(original, noise, s.sigmas[i])
}
