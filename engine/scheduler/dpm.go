package scheduler

import (
	"fmt"
	"math"
)

// DPMSolverMultistep is diffusers' DPMSolverMultistepScheduler: "DPM++ 2M" with the defaults
// (algorithm_type dpmsolver++, solver_order 2, midpoint), "DPM++ 2M Karras" with
// use_karras_sigmas, SDE variants (sde-dpmsolver++, drawing noise every step) and orders 1-3.
type DPMSolverMultistep struct {
	core
	outputs  [][]float32 // converted model outputs, oldest first (len solver_order)
	lowerNum int         // diffusers' lower_order_nums
}

func newDPM(name string, p params) (*DPMSolverMultistep, error) {
	if err := predictionCheck(classDPM, p.prediction, "epsilon", "v_prediction", "sample"); err != nil {
		return nil, err
	}
	if p.karras && p.exponential {
		return nil, fmt.Errorf("only one of use_karras_sigmas and use_exponential_sigmas can be true")
	}
	switch p.algorithm {
	case "deis":
		p.algorithm = "dpmsolver++"
	case "dpmsolver++", "sde-dpmsolver++", "dpmsolver", "sde-dpmsolver":
	default:
		return nil, fmt.Errorf("algorithm_type %q is not supported by %s", p.algorithm, classDPM)
	}
	switch p.solverType {
	case "midpoint", "heun":
	case "logrho", "bh1", "bh2":
		p.solverType = "midpoint"
	default:
		return nil, fmt.Errorf("solver_type %q is not supported by %s", p.solverType, classDPM)
	}
	if (p.algorithm == "dpmsolver" || p.algorithm == "sde-dpmsolver") && p.finalSigmas == "zero" {
		return nil, fmt.Errorf("final_sigmas_type %q is not supported for algorithm_type %q; choose \"sigma_min\"", p.finalSigmas, p.algorithm)
	}
	if p.algorithm == "sde-dpmsolver" && p.order == 3 {
		return nil, fmt.Errorf("solver_order 3 is not implemented for algorithm_type \"sde-dpmsolver\" (diffusers has none)")
	}
	c, err := newCore(name, p, true)
	if err != nil {
		return nil, err
	}
	return &DPMSolverMultistep{core: c}, nil
}

// multistepSigmas computes the DPM-Solver/UniPC schedule for timesteps ts (integers):
// interpolated or Karras/exponential sigmas with rounded timesteps. finalMin is the
// "sigma_min" final sigma for the non-Karras branch.
func multistepSigmas(p *params, tt *trainTables, ts []float64, n int, class string) ([]float64, []float32) {
	T := len(tt.sigmas)
	var sig []float64
	final := float32(0)
	if p.karras || p.exponential {
		// in_sigmas = flip(train sigmas): sigma_max = sigma_tr[T-1], sigma_min = sigma_tr[0]
		smin, smax := float64(tt.sigmas[0]), float64(tt.sigmas[T-1])
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
		ts = ts[:0]
		for _, s := range sig {
			t := sigmaToT(s, tt.logSigmas)
			if p.karras && (class == classUniPC || p.betaSchedule != "squaredcos_cap_v2") {
				t = roundEven(t)
			}
			ts = append(ts, math.Trunc(t)) // astype(int64)
		}
		if p.finalSigmas == "sigma_min" {
			if class == classUniPC {
				final = float32(sig[len(sig)-1])
			} else {
				final = tt.sigmas[0]
			}
		}
	} else {
		sig = make([]float64, len(ts))
		for i, t := range ts {
			sig[i] = npInterp(t, tt.sigmas)
		}
		if p.finalSigmas == "sigma_min" {
			final = tt.sigmas[0]
		}
	}
	sigmas := make([]float32, len(sig)+1)
	for i, v := range sig {
		sigmas[i] = float32(v)
	}
	sigmas[len(sig)] = final
	return ts, sigmas
}

// SetTimesteps implements Scheduler.
func (s *DPMSolverMultistep) SetTimesteps(n int) error {
	if err := s.checkSteps(n); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	// clipped_idx = searchsorted(flip(lambda_t), lambda_min_clipped)
	T := s.p.numTrain
	clipped := 0
	if !math.IsInf(s.p.lambdaMinClipped, -1) {
		for k := 0; k < T; k++ {
			a := s.tt.alphasCumprod[T-1-k]
			lam := log32(sqrt32(a)) - log32(sqrt32(1-a))
			if float64(lam) >= s.p.lambdaMinClipped {
				break
			}
			clipped++
		}
	}
	ts, err := spacingMultistep(&s.p, n, T-clipped)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	ts, sigmas := multistepSigmas(&s.p, &s.tt, ts, n, classDPM)
	s.timesteps, s.sigmas = ts, sigmas
	s.steps, s.ready, s.next = len(ts), true, 0
	s.resetState()
	return nil
}

func (s *DPMSolverMultistep) resetState() {
	s.outputs = make([][]float32, s.p.order)
	s.lowerNum = 0
}

// Order implements Scheduler.
func (s *DPMSolverMultistep) Order() int { return 1 }

// SetBeginIndex implements Scheduler.
func (s *DPMSolverMultistep) SetBeginIndex(i int) { s.next = i; s.resetState() }

// ScaleModelInput implements Scheduler (identity).
func (s *DPMSolverMultistep) ScaleModelInput(sample []float32, i int) {
	s.mustIndex(i, "ScaleModelInput")
}

func (s *DPMSolverMultistep) convert(modelOutput, sample []float32, i int) []float32 {
	dataPrediction := s.p.algorithm == "dpmsolver++" || s.p.algorithm == "sde-dpmsolver++"
	return convertModelOutput(modelOutput, sample, s.sigmas[i], s.p.prediction, dataPrediction)
}

// convertModelOutput is the multistep solvers' convert_model_output: it turns
// the model's prediction at sigma into the data prediction x0 (dataPrediction,
// DPM-Solver++ and UniPC with predict_x0) or into the noise prediction ε.
func convertModelOutput(modelOutput, sample []float32, sigma float32, prediction string, dataPrediction bool) []float32 {
	alpha, sigmaT := alphaSigma(sigma)
	out := make([]float32, len(sample))
	if dataPrediction {
		switch prediction {
		case "epsilon":
			for j, m := range modelOutput {
				out[j] = (sample[j] - float32(sigmaT*m)) / alpha
			}
		case "sample":
			copy(out, modelOutput)
		case "v_prediction":
			for j, m := range modelOutput {
				out[j] = float32(alpha*sample[j]) - float32(sigmaT*m)
			}
		}
		return out
	}
	switch prediction {
	case "epsilon":
		copy(out, modelOutput)
	case "sample":
		for j, m := range modelOutput {
			out[j] = (sample[j] - float32(alpha*m)) / sigmaT
		}
	case "v_prediction":
		for j, m := range modelOutput {
			out[j] = float32(alpha*m) + float32(sigmaT*sample[j])
		}
	}
	return out
}

// Step implements Scheduler.
func (s *DPMSolverMultistep) Step(modelOutput, sample []float32, i int, noise NoiseSource) ([]float32, error) {
	cont, err := s.checkStep(modelOutput, sample, i)
	if err != nil {
		return nil, err
	}
	if !cont {
		s.resetState()
	}
	last := len(s.timesteps)
	lowerFinal := i == last-1 && (s.p.eulerAtFinal || (s.p.lowerOrderFinal && last < 15) || s.p.finalSigmas == "zero")
	lowerSecond := i == last-2 && s.p.lowerOrderFinal && last < 15

	m := s.convert(modelOutput, sample, i)
	copy(s.outputs, s.outputs[1:])
	s.outputs[len(s.outputs)-1] = m

	var z []float32
	sde := s.p.algorithm == "sde-dpmsolver++" || s.p.algorithm == "sde-dpmsolver"
	if sde {
		if z, err = drawNoise(s.name, noise, len(sample)); err != nil {
			return nil, err
		}
	}
	var prev []float32
	switch {
	case s.p.order == 1 || s.lowerNum < 1 || lowerFinal:
		prev = s.firstOrder(m, sample, z, i)
	case s.p.order == 2 || s.lowerNum < 2 || lowerSecond:
		prev = s.secondOrder(sample, z, i)
	default:
		prev = s.thirdOrder(sample, z, i)
	}
	if s.lowerNum < s.p.order {
		s.lowerNum++
	}
	return prev, nil
}

type dpmPoint struct{ alpha, sigma, lambda float32 }

func (s *DPMSolverMultistep) point(k int) dpmPoint {
	a, st := alphaSigma(s.sigmas[k])
	return dpmPoint{a, st, lambdaOf(a, st)}
}

func (s *DPMSolverMultistep) firstOrder(m, x, z []float32, i int) []float32 {
	t, s0 := s.point(i+1), s.point(i)
	h := t.lambda - s0.lambda
	out := make([]float32, len(x))
	switch s.p.algorithm {
	case "dpmsolver++":
		a := t.sigma / s0.sigma
		b := float32(t.alpha * (exp32(-h) - 1))
		for j := range out {
			out[j] = float32(a*x[j]) - float32(b*m[j])
		}
	case "dpmsolver":
		a := t.alpha / s0.alpha
		b := float32(t.sigma * (exp32(h) - 1))
		for j := range out {
			out[j] = float32(a*x[j]) - float32(b*m[j])
		}
	case "sde-dpmsolver++":
		a := float32(t.sigma/s0.sigma) * exp32(-h)
		b := float32(t.alpha * (1 - exp32(float32(-2.0*h))))
		c := float32(t.sigma * sqrt32(1-exp32(float32(-2*h))))
		for j := range out {
			out[j] = float32(a*x[j]) + float32(b*m[j]) + float32(c*z[j])
		}
	case "sde-dpmsolver":
		a := t.alpha / s0.alpha
		b := float32(2.0 * float32(t.sigma*(exp32(h)-1)))
		c := float32(t.sigma * sqrt32(exp32(float32(2*h))-1))
		for j := range out {
			out[j] = float32(a*x[j]) - float32(b*m[j]) + float32(c*z[j])
		}
	}
	return out
}

func (s *DPMSolverMultistep) secondOrder(x, z []float32, i int) []float32 {
	t, s0, s1 := s.point(i+1), s.point(i), s.point(i-1)
	m0, m1 := s.outputs[len(s.outputs)-1], s.outputs[len(s.outputs)-2]
	h, h0 := t.lambda-s0.lambda, s0.lambda-s1.lambda
	r0 := h0 / h
	inv := 1.0 / r0
	out := make([]float32, len(x))
	d1 := func(j int) float32 { return float32(inv * (m0[j] - m1[j])) }
	mid := s.p.solverType == "midpoint"
	switch s.p.algorithm {
	case "dpmsolver++":
		a := t.sigma / s0.sigma
		b := float32(t.alpha * (exp32(-h) - 1))
		var c float32
		if mid {
			c = float32(0.5 * b)
		} else {
			c = -float32(t.alpha * ((exp32(-h)-1)/h + 1))
		}
		for j := range out {
			out[j] = float32(a*x[j]) - float32(b*m0[j]) - float32(c*d1(j))
		}
	case "dpmsolver":
		a := t.alpha / s0.alpha
		b := float32(t.sigma * (exp32(h) - 1))
		var c float32
		if mid {
			c = float32(0.5 * b)
		} else {
			c = float32(t.sigma * ((exp32(h)-1)/h - 1))
		}
		for j := range out {
			out[j] = float32(a*x[j]) - float32(b*m0[j]) - float32(c*d1(j))
		}
	case "sde-dpmsolver++":
		e2 := exp32(float32(-2.0 * h))
		a := float32(t.sigma/s0.sigma) * exp32(-h)
		b := float32(t.alpha * (1 - e2))
		var c float32
		if mid {
			c = float32(0.5 * b)
		} else {
			c = float32(t.alpha * ((1-e2)/float32(-2.0*h) + 1))
		}
		n := float32(t.sigma * sqrt32(1-exp32(float32(-2*h))))
		for j := range out {
			out[j] = float32(a*x[j]) + float32(b*m0[j]) + float32(c*d1(j)) + float32(n*z[j])
		}
	case "sde-dpmsolver":
		a := t.alpha / s0.alpha
		b0 := float32(t.sigma * (exp32(h) - 1))
		b := float32(2.0 * b0)
		var c float32
		if mid {
			c = b0
		} else {
			c = float32(2.0 * float32(t.sigma*((exp32(h)-1)/h-1)))
		}
		n := float32(t.sigma * sqrt32(exp32(float32(2*h))-1))
		for j := range out {
			out[j] = float32(a*x[j]) - float32(b*m0[j]) - float32(c*d1(j)) + float32(n*z[j])
		}
	}
	return out
}

func (s *DPMSolverMultistep) thirdOrder(x, z []float32, i int) []float32 {
	t, s0, s1, s2 := s.point(i+1), s.point(i), s.point(i-1), s.point(i-2)
	k := len(s.outputs)
	m0, m1, m2 := s.outputs[k-1], s.outputs[k-2], s.outputs[k-3]
	h, h0, h1 := t.lambda-s0.lambda, s0.lambda-s1.lambda, s1.lambda-s2.lambda
	r0, r1 := h0/h, h1/h
	inv0, inv1 := 1.0/r0, 1.0/r1
	w1 := r0 / (r0 + r1)
	w2 := 1.0 / (r0 + r1)
	var a, c0, c1, c2, cn float32
	sign0, sign1, sign2 := float32(-1), float32(1), float32(-1)
	switch s.p.algorithm {
	case "dpmsolver++":
		e := exp32(-h)
		a = t.sigma / s0.sigma
		c0 = float32(t.alpha * (e - 1))
		c1 = float32(t.alpha * ((e-1)/h + 1))
		c2 = float32(t.alpha * (((e-1)+h)/float32(h*h) - 0.5))
	case "dpmsolver":
		e := exp32(h)
		a = t.alpha / s0.alpha
		c0 = float32(t.sigma * (e - 1))
		c1 = float32(t.sigma * ((e-1)/h - 1))
		c2 = float32(t.sigma * (((e-1)-h)/float32(h*h) - 0.5))
		sign1 = -1
	case "sde-dpmsolver++":
		e2 := exp32(float32(-2.0 * h))
		a = float32(t.sigma/s0.sigma) * exp32(-h)
		c0 = float32(t.alpha * (1 - e2))
		c1 = float32(t.alpha * ((1-e2)/float32(-2.0*h) + 1))
		h2 := float32(2.0 * h)
		c2 = float32(t.alpha * (((1-e2)-h2)/float32(h2*h2) - 0.5))
		sign0, sign2 = 1, 1
		cn = float32(t.sigma * sqrt32(1-exp32(float32(-2*h))))
	}
	out := make([]float32, len(x))
	for j := range out {
		d10 := float32(inv0 * (m0[j] - m1[j]))
		d11 := float32(inv1 * (m1[j] - m2[j]))
		d1 := d10 + float32(w1*(d10-d11))
		d2 := float32(w2 * (d10 - d11))
		v := float32(a*x[j]) + sign0*float32(c0*m0[j]) + sign1*float32(c1*d1) + sign2*float32(c2*d2)
		if cn != 0 {
			v += float32(cn * z[j])
		}
		out[j] = v
	}
	return out
}

// AddNoise implements Scheduler: alpha(σ)·original + σ·alpha(σ)·noise with σ = Sigmas()[i].
func (s *DPMSolverMultistep) AddNoise(original, noise []float32, i int) []float32 {
	s.mustIndex(i, "AddNoise")
	return vpAddNoise(original, noise, s.sigmas[i])
}

func vpAddNoise(original, noise []float32, sigma float32) []float32 {
	if len(original) != len(noise) {
		panic(fmt.Sprintf("scheduler: AddNoise with %d original values and %d noise values", len(original), len(noise)))
	}
	alpha, sigmaT := alphaSigma(sigma)
	out := make([]float32, len(original))
	for j, x := range original {
		out[j] = float32(alpha*x) + float32(sigmaT*noise[j])
	}
	return out
}
