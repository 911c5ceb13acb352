package rng

import (
	"fmt"
	"math"
)

// exponentialDouble is at::exponential_distribution<double>(1) on the CPU:
// -log(1-u) for a double uniform u.
func (g *Generator) exponentialDouble() float64 {
	u := g.Uniform()
	return -1.0 * math.Log(1-u)
}

// ExponentialInto fills dst as torch.empty(len(dst)).exponential_(1,
// generator=g) does for float32 tensors (one double draw per element, then
// rounded to float32).
func (g *Generator) ExponentialInto(dst []float32) {
	for i := range dst {
		dst[i] = float32(g.exponentialDouble())
	}
}

// Multinomial draws one index from the unnormalised weights probs exactly as
// torch.multinomial(probs, 1, generator=g) does on the CPU for a 1-D float32
// tensor: q ~ Exp(1) for every element (consuming len(probs) double draws),
// then the first index of the largest probs[i]/q[i]. probs must be
// non-empty, finite, non-negative and not all zero; otherwise an error is
// returned and g is not advanced, as torch raises before drawing.
func (g *Generator) Multinomial(probs []float32) (int, error) {
	if len(probs) == 0 {
		return 0, fmt.Errorf("multinomial: empty probability vector")
	}
	var sum float64
	for i, p := range probs {
		if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) || p < 0 {
			return 0, fmt.Errorf("multinomial: probs[%d] = %v, want a finite value >= 0", i, p)
		}
		sum += float64(p)
	}
	if sum == 0 {
		return 0, fmt.Errorf("multinomial: all %d probabilities are zero", len(probs))
	}
	best := -1
	var bestV float32
	for i, p := range probs {
		q := float32(g.exponentialDouble())
		v := p / q
		switch {
		case best >= 0 && math.IsNaN(float64(bestV)):
			// argmax keeps the first NaN; keep drawing to advance g.
		case best < 0 || math.IsNaN(float64(v)) || v > bestV:
			best, bestV = i, v
		}
	}
	return best, nil
}
