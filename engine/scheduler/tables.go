package scheduler

import (
	"fmt"
	"math"
	"math/big"
	"sort"
)

// This file reproduces the numeric building blocks diffusers uses (torch float32 tensors and
// numpy float64/float32 arrays) closely enough that the schedules match bit for bit in the
// common cases: torch.linspace (float32, fused multiply-add), torch.cumprod (float64
// accumulator), numpy linspace/arange/interp/round (float64, round half to even).

// fma32 returns a*b+c rounded once to float32, like the fused multiply-add torch's CPU linspace
// kernel is compiled to.
func fma32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// torchLinspace32 is torch.linspace(start, end, n, dtype=torch.float32) on the CPU.
func torchLinspace32(start, end float32, n int) []float32 {
	out := make([]float32, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(n-1)
	half := n / 2
	for i := range out {
		if i < half {
			out[i] = fma32(step, float32(i), start)
		} else {
			out[i] = fma32(-step, float32(n-1-i), end)
		}
	}
	return out
}

// npLinspace is numpy.linspace(start, stop, n) in float64 (endpoint included).
func npLinspace(start, stop float64, n int) []float64 {
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	div := n - 1
	if div == 0 {
		out[0] = start
		return out
	}
	step := (stop - start) / float64(div)
	for i := range out {
		out[i] = float64(i)*step + start
	}
	out[n-1] = stop
	return out
}

// npArange is numpy.arange(start, stop, step) for float64 arguments.
func npArange(start, stop, step float64) []float64 {
	n := int(math.Ceil((stop - start) / step))
	if n <= 0 {
		return nil
	}
	out := make([]float64, n)
	out[0] = start
	if n > 1 {
		second := start + step
		delta := second - start
		out[1] = second
		for i := 2; i < n; i++ {
			out[i] = start + float64(i)*delta
		}
	}
	return out
}

// roundEven is numpy's round / Python 3's round: half to even.
func roundEven(x float64) float64 { return math.RoundToEven(x) }

// npInterp is numpy.interp(x, arange(len(fp)), fp) computed in float64.
func npInterp(x float64, fp []float32) float64 {
	n := len(fp)
	switch {
	case math.IsNaN(x):
		return x
	case x <= 0:
		return float64(fp[0])
	case x >= float64(n-1):
		return float64(fp[n-1])
	}
	j := int(math.Floor(x))
	if x == float64(j) {
		return float64(fp[j])
	}
	slope := (float64(fp[j+1]) - float64(fp[j])) / 1.0
	return slope*(x-float64(j)) + float64(fp[j])
}

// cumprod32 is torch.cumprod on a float32 tensor: float64 running product, each output
// rounded to float32.
func cumprod32(a []float32) []float32 {
	out := make([]float32, len(a))
	acc := 1.0
	for i, v := range a {
		acc *= float64(v)
		out[i] = float32(acc)
	}
	return out
}

func sqrt32(x float32) float32  { return float32(math.Sqrt(float64(x))) }
func log32(x float32) float32   { return float32(math.Log(float64(x))) }
func exp32(x float32) float32   { return float32(math.Exp(float64(x))) }
func expm132(x float32) float32 { return float32(math.Expm1(float64(x))) }

// betasForAlphaBar is diffusers' betas_for_alpha_bar (float64 maths, float32 result).
func betasForAlphaBar(n int, transform string) []float32 {
	var alphaBar func(t float64) float64
	switch transform {
	case "exp":
		alphaBar = func(t float64) float64 { return math.Exp(t * -12.0) }
	default: // cosine
		alphaBar = func(t float64) float64 {
			c := math.Cos((t + 0.008) / 1.008 * math.Pi / 2)
			return c * c
		}
	}
	out := make([]float32, n)
	for i := range out {
		t1 := float64(i) / float64(n)
		t2 := float64(i+1) / float64(n)
		out[i] = float32(math.Min(1-alphaBar(t2)/alphaBar(t1), 0.999))
	}
	return out
}

// rescaleZeroTerminalSNR is diffusers' rescale_zero_terminal_snr on float32 betas.
func rescaleZeroTerminalSNR(betas []float32) []float32 {
	n := len(betas)
	alphas := make([]float32, n)
	for i, b := range betas {
		alphas[i] = 1 - b
	}
	ac := cumprod32(alphas)
	s := make([]float32, n)
	for i, v := range ac {
		s[i] = sqrt32(v)
	}
	s0, sT := s[0], s[n-1]
	scale := s0 / (s0 - sT)
	for i := range s {
		s[i] -= sT
		s[i] = float32(s[i] * scale)
	}
	bar := make([]float32, n)
	for i, v := range s {
		bar[i] = float32(v * v)
	}
	out := make([]float32, n)
	out[0] = 1 - bar[0]
	for i := 1; i < n; i++ {
		out[i] = 1 - bar[i]/bar[i-1]
	}
	return out
}

// trainTables holds the per-train-timestep tables every scheduler derives from its betas.
type trainTables struct {
	alphasCumprod []float32 // torch.cumprod(1 - betas), float32
	sigmas        []float32 // ((1 - ac) / ac) ** 0.5, float32, ascending in t
	logSigmas     []float32 // np.log(sigmas), float32
}

// buildTables computes betas → alphas_cumprod → sigma table for the resolved parameters.
// zsnrFloor applies diffusers' `alphas_cumprod[-1] = 2**-24` after zero-SNR rescaling (all
// schedulers here except DDIM do that).
func buildTables(p *params, zsnrFloor bool) (trainTables, error) {
	var betas []float32
	T := p.numTrain
	switch {
	case len(p.trainedBetas) > 0:
		betas = make([]float32, len(p.trainedBetas))
		for i, b := range p.trainedBetas {
			betas[i] = float32(b)
		}
		if len(betas) != T {
			return trainTables{}, fmt.Errorf("trained_betas: %d values, want num_train_timesteps = %d", len(betas), T)
		}
	case p.betaSchedule == "linear":
		betas = torchLinspace32(float32(p.betaStart), float32(p.betaEnd), T)
	case p.betaSchedule == "scaled_linear":
		betas = torchLinspace32(float32(math.Sqrt(p.betaStart)), float32(math.Sqrt(p.betaEnd)), T)
		for i, b := range betas {
			betas[i] = float32(b * b)
		}
	case p.betaSchedule == "squaredcos_cap_v2":
		betas = betasForAlphaBar(T, "cosine")
	case p.betaSchedule == "exp":
		betas = betasForAlphaBar(T, "exp")
	default:
		return trainTables{}, fmt.Errorf("beta_schedule %q is not supported by %s", p.betaSchedule, p.class)
	}
	if p.rescaleZeroSNR {
		betas = rescaleZeroTerminalSNR(betas)
	}
	alphas := make([]float32, T)
	for i, b := range betas {
		alphas[i] = 1 - b
	}
	ac := cumprod32(alphas)
	if p.rescaleZeroSNR && zsnrFloor {
		ac[T-1] = 1.0 / (1 << 24)
	}
	tt := trainTables{alphasCumprod: ac, sigmas: make([]float32, T), logSigmas: make([]float32, T)}
	for i, a := range ac {
		tt.sigmas[i] = sqrt32((1 - a) / a)
		tt.logSigmas[i] = log32(tt.sigmas[i])
	}
	return tt, nil
}

// sigmaToT is diffusers' _sigma_to_t: fractional train timestep of sigma by linear
// interpolation in log-sigma (float64, with the float32 table as numpy sees it).
func sigmaToT(sigma float64, logSigmas []float32) float64 {
	logSigma := math.Log(math.Max(sigma, 1e-10))
	n := len(logSigmas)
	// low = last index with logSigma - logSigmas[k] >= 0 (0 if none), clipped to n-2.
	low := sort.Search(n, func(k int) bool { return logSigma-float64(logSigmas[k]) < 0 }) - 1
	if low < 0 {
		low = 0
	}
	if low > n-2 {
		low = n - 2
	}
	high := low + 1
	lo, hi := logSigmas[low], logSigmas[high]
	w := (float64(lo) - logSigma) / float64(lo-hi)
	w = math.Min(math.Max(w, 0), 1)
	return (1-w)*float64(low) + w*float64(high)
}

// karrasSigmas is diffusers' _convert_to_karras (float64).
func karrasSigmas(sigmaMin, sigmaMax float64, n int) []float64 {
	const rho = 7.0
	ramp := npLinspace(0, 1, n)
	minInv := math.Pow(sigmaMin, 1/rho)
	maxInv := math.Pow(sigmaMax, 1/rho)
	out := make([]float64, n)
	for i, r := range ramp {
		out[i] = math.Pow(maxInv+r*(minInv-maxInv), rho)
	}
	return out
}

// exponentialSigmas is diffusers' _convert_to_exponential (float64).
func exponentialSigmas(sigmaMin, sigmaMax float64, n int) []float64 {
	ls := npLinspace(math.Log(sigmaMax), math.Log(sigmaMin), n)
	for i, v := range ls {
		ls[i] = math.Exp(v)
	}
	return ls
}

// spacingKTimesteps returns the Euler/Heun/DDIM family's timesteps (float64 values of what
// diffusers stores) for the given spacing: linspace(0, T-1, N), leading arange(N)*(T//N)+offset,
// trailing round(arange(T, 0, -T/N)) - 1, all in descending order. roundLinspace rounds the
// linspace variant to integers (DDIM); the Euler family keeps float32 values.
func spacingKTimesteps(p *params, n int, roundLinspace bool) ([]float64, error) {
	T := p.numTrain
	var ts []float64
	switch p.spacing {
	case "linspace":
		ls := npLinspace(0, float64(T-1), n)
		ts = make([]float64, n)
		for i := range ls {
			v := ls[n-1-i]
			if roundLinspace {
				v = roundEven(v)
			} else {
				v = float64(float32(v))
			}
			ts[i] = v
		}
	case "leading":
		ratio := T / n
		ts = make([]float64, n)
		for i := range ts {
			ts[i] = float64((n-1-i)*ratio + p.stepsOffset)
		}
	case "trailing":
		ar := npArange(float64(T), 0, -float64(T)/float64(n))
		ts = make([]float64, len(ar))
		for i, v := range ar {
			ts[i] = roundEven(v) - 1
		}
	default:
		return nil, fmt.Errorf("timestep_spacing %q is not supported (want leading, linspace or trailing)", p.spacing)
	}
	return ts, nil
}

// spacingMultistep returns DPM-Solver / UniPC timesteps (integers, descending): they space
// N+1 points and drop the last one. last is the largest usable train timestep + 1 (T unless
// DPM-Solver's lambda_min_clipped cuts it).
func spacingMultistep(p *params, n, last int) ([]float64, error) {
	T := p.numTrain
	var ts []float64
	switch p.spacing {
	case "linspace":
		ls := npLinspace(0, float64(last-1), n+1)
		ts = make([]float64, n)
		for i := range ts {
			ts[i] = roundEven(ls[n-i])
		}
	case "leading":
		ratio := last / (n + 1)
		ts = make([]float64, n)
		for i := range ts {
			ts[i] = float64((n-i)*ratio + p.stepsOffset)
		}
	case "trailing":
		ar := npArange(float64(last), 0, -float64(T)/float64(n))
		ts = make([]float64, len(ar))
		for i, v := range ar {
			ts[i] = roundEven(v) - 1
		}
	default:
		return nil, fmt.Errorf("timestep_spacing %q is not supported (want leading, linspace or trailing)", p.spacing)
	}
	return ts, nil
}

// f32to64 widens a float32 slice.
func f32to64(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}
