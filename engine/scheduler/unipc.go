package scheduler

import (
	"fmt"
	"slices"
)

// UniPC is diffusers' UniPCMultistepScheduler (predictor-corrector, bh1/bh2, orders 1-3,
// predict_x0 or noise prediction). solver_p is not supported.
type UniPC struct {
	core
	outputs    [][]float32 // converted model outputs, oldest first (len solver_order)
	lowerNum   int
	lastSample []float32
	thisOrder  int
}

func newUniPC(name string, p params) (*UniPC, error) {
	if err := predictionCheck(classUniPC, p.prediction, "epsilon", "v_prediction", "sample"); err != nil {
		return nil, err
	}
	switch p.solverType {
	case "bh1", "bh2":
	case "midpoint", "heun", "logrho":
		p.solverType = "bh2"
	default:
		return nil, fmt.Errorf("solver_type %q is not supported by %s", p.solverType, classUniPC)
	}
	c, err := newCore(name, p, true)
	if err != nil {
		return nil, err
	}
	return &UniPC{core: c}, nil
}

// SetTimesteps implements Scheduler.
func (s *UniPC) SetTimesteps(n int) error {
	if err := s.checkSteps(n); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	ts, err := spacingMultistep(&s.p, n, s.p.numTrain)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	ts, sigmas := multistepSigmas(&s.p, &s.tt, ts, n, classUniPC)
	s.timesteps, s.sigmas = ts, sigmas
	s.steps, s.ready, s.next = len(ts), true, 0
	s.resetState()
	return nil
}

func (s *UniPC) resetState() {
	s.outputs = make([][]float32, s.p.order)
	s.lowerNum, s.lastSample, s.thisOrder = 0, nil, 0
}

// Order implements Scheduler.
func (s *UniPC) Order() int { return 1 }

// SetBeginIndex implements Scheduler.
func (s *UniPC) SetBeginIndex(i int) { s.next = i; s.resetState() }

// ScaleModelInput implements Scheduler (identity).
func (s *UniPC) ScaleModelInput(sample []float32, i int) { s.mustIndex(i, "ScaleModelInput") }

func (s *UniPC) convert(modelOutput, sample []float32, i int) []float32 {
	return convertModelOutput(modelOutput, sample, s.sigmas[i], s.p.prediction, s.p.predictX0)
}

// Step implements Scheduler.
func (s *UniPC) Step(modelOutput, sample []float32, i int, _ NoiseSource) ([]float32, error) {
	cont, err := s.checkStep(modelOutput, sample, i)
	if err != nil {
		return nil, err
	}
	if !cont {
		s.resetState()
	}
	useCorrector := i > 0 && !slices.Contains(s.p.disableCorrector, i-1) && s.lastSample != nil
	m := s.convert(modelOutput, sample, i)
	if useCorrector {
		sample = s.corrector(m, sample, i)
	}
	copy(s.outputs, s.outputs[1:])
	s.outputs[len(s.outputs)-1] = m

	order := s.p.order
	if s.p.lowerOrderFinal {
		order = min(order, len(s.timesteps)-i)
	}
	s.thisOrder = min(order, s.lowerNum+1)
	s.lastSample = append(s.lastSample[:0:0], sample...)
	prev := s.predictor(sample, i, s.thisOrder)
	if s.lowerNum < s.p.order {
		s.lowerNum++
	}
	return prev, nil
}

// coeffs returns h, hh = ±h, h_phi_1, B_h and the rhs b of the UniPC linear system.
func (s *UniPC) coeffs(lt, ls0 float32, order int) (h, hPhi1, bh float32, b []float32) {
	h = lt - ls0
	hh := h
	if s.p.predictX0 {
		hh = -h
	}
	hPhi1 = expm132(hh)
	hPhiK := hPhi1/hh - 1
	fact := float32(1)
	if s.p.solverType == "bh1" {
		bh = hh
	} else {
		bh = expm132(hh)
	}
	for k := 1; k <= order; k++ {
		b = append(b, float32(hPhiK*fact)/bh)
		fact *= float32(k + 1)
		hPhiK = hPhiK/hh - float32(1/float64(fact))
	}
	return h, hPhi1, bh, b
}

func (s *UniPC) lambdaAt(k int) (alpha, sigmaT, lambda float32) {
	a, st := alphaSigma(s.sigmas[k])
	return a, st, lambdaOf(a, st)
}

// predictor is multistep_uni_p_bh_update.
func (s *UniPC) predictor(x []float32, i, order int) []float32 {
	at, st, lt := s.lambdaAt(i + 1)
	as0, ss0, ls0 := s.lambdaAt(i)
	k := len(s.outputs)
	m0 := s.outputs[k-1]
	h := lt - ls0
	var rks []float32
	var d1s [][]float32
	for q := 1; q < order; q++ {
		_, _, lsi := s.lambdaAt(i - q)
		rk := (lsi - ls0) / h
		rks = append(rks, rk)
		mi := s.outputs[k-1-q]
		d := make([]float32, len(x))
		for j := range d {
			d[j] = (mi[j] - m0[j]) / rk
		}
		d1s = append(d1s, d)
	}
	rks = append(rks, 1)
	_, hPhi1, bh, b := s.coeffs(lt, ls0, order)
	var rhos []float32
	if len(d1s) > 0 {
		if order == 2 {
			rhos = []float32{0.5}
		} else {
			rhos = solve32(vandermonde(rks[:len(rks)-1], order-1), b[:order-1])
		}
	}
	out := make([]float32, len(x))
	var ca, cm, cr float32
	if s.p.predictX0 {
		ca, cm, cr = st/ss0, float32(at*hPhi1), float32(at*bh)
	} else {
		ca, cm, cr = at/as0, float32(st*hPhi1), float32(st*bh)
	}
	for j := range out {
		v := float32(ca*x[j]) - float32(cm*m0[j])
		if len(d1s) > 0 {
			var res float32
			for q, d := range d1s {
				res += float32(rhos[q] * d[j])
			}
			v -= float32(cr * res)
		}
		out[j] = v
	}
	return out
}

// corrector is multistep_uni_c_bh_update; m is the current converted output, x the sample.
func (s *UniPC) corrector(mt, xt []float32, i int) []float32 {
	order := s.thisOrder
	at, st, lt := s.lambdaAt(i)
	as0, ss0, ls0 := s.lambdaAt(i - 1)
	k := len(s.outputs)
	m0 := s.outputs[k-1]
	x := s.lastSample
	h := lt - ls0
	var rks []float32
	var d1s [][]float32
	for q := 1; q < order; q++ {
		_, _, lsi := s.lambdaAt(i - (q + 1))
		rk := (lsi - ls0) / h
		rks = append(rks, rk)
		mi := s.outputs[k-1-q]
		d := make([]float32, len(xt))
		for j := range d {
			d[j] = (mi[j] - m0[j]) / rk
		}
		d1s = append(d1s, d)
	}
	rks = append(rks, 1)
	_, hPhi1, bh, b := s.coeffs(lt, ls0, order)
	var rhos []float32
	if order == 1 {
		rhos = []float32{0.5}
	} else {
		rhos = solve32(vandermonde(rks, order), b)
	}
	var ca, cm, cr float32
	if s.p.predictX0 {
		ca, cm, cr = st/ss0, float32(at*hPhi1), float32(at*bh)
	} else {
		ca, cm, cr = at/as0, float32(st*hPhi1), float32(st*bh)
	}
	rl := rhos[len(rhos)-1]
	out := make([]float32, len(xt))
	for j := range out {
		v := float32(ca*x[j]) - float32(cm*m0[j])
		var corr float32
		for q, d := range d1s {
			corr += float32(rhos[q] * d[j])
		}
		d1t := mt[j] - m0[j]
		out[j] = v - float32(cr*(corr+float32(rl*d1t)))
	}
	return out
}

// vandermonde builds R with R[p][q] = rks[q]^p for p < n (torch.stack of torch.pow(rks, p)).
func vandermonde(rks []float32, n int) [][]float32 {
	R := make([][]float32, n)
	for p := range R {
		R[p] = make([]float32, n)
		for q := 0; q < n; q++ {
			v := float32(1)
			for e := 0; e < p; e++ {
				v *= rks[q]
			}
			R[p][q] = v
		}
	}
	return R
}

// solve32 solves A x = b by Gaussian elimination with partial pivoting in float32 (LAPACK
// sgesv, which torch.linalg.solve calls, does the same for these 2x2 / 3x3 systems).
func solve32(A [][]float32, b []float32) []float32 {
	n := len(b)
	M := make([][]float32, n)
	for i := range M {
		M[i] = append(append([]float32(nil), A[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if abs32(M[r][c]) > abs32(M[p][c]) {
				p = r
			}
		}
		M[c], M[p] = M[p], M[c]
		for r := c + 1; r < n; r++ {
			f := M[r][c] / M[c][c]
			for q := c; q <= n; q++ {
				M[r][q] -= float32(f * M[c][q])
			}
		}
	}
	x := make([]float32, n)
	for r := n - 1; r >= 0; r-- {
		v := M[r][n]
		for q := r + 1; q < n; q++ {
			v -= float32(M[r][q] * x[q])
		}
		x[r] = v / M[r][r]
	}
	return x
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// AddNoise implements Scheduler: alpha(σ)·original + σ·alpha(σ)·noise with σ = Sigmas()[i].
func (s *UniPC) AddNoise(original, noise []float32, i int) []float32 {
	s.mustIndex(i, "AddNoise")
	return vpAddNoise(original, noise, s.sigmas[i])
}
