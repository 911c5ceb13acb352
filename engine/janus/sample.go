package janus

import (
	"fmt"
	"math"
	"sort"

	"diptych/engine/rng"
)

// sampler chooses one token from a row of logits. With greedy it takes the
// argmax; otherwise, as the reference and transformers' warpers do:
// logits/temperature, then top-k, then top-p (nucleus) filtering, softmax,
// and torch.multinomial(probs, 1) drawn with the torch-compatible generator.
type sampler struct {
	greedy      bool
	temperature float32
	topK        int
	topP        float32
	probs       []float32 // scratch
	order       []int
}

func (s *sampler) pick(logits []float32, g *rng.Generator) (int, error) {
	if s.greedy {
		return argmax(logits), nil
	}
	if cap(s.probs) < len(logits) {
		s.probs = make([]float32, len(logits))
	}
	x := s.probs[:len(logits)]
	for i, v := range logits {
		x[i] = v / s.temperature
	}
	negInf := float32(math.Inf(-1))
	if s.topK > 0 && s.topK < len(x) {
		kth := kthLargest(x, s.topK)
		for i, v := range x {
			if v < kth {
				x[i] = negInf
			}
		}
	}
	if s.topP > 0 && s.topP < 1 {
		s.nucleus(x)
	}
	softmax(x)
	id, err := g.Multinomial(x)
	if err != nil {
		return 0, fmt.Errorf("sample: %w", err)
	}
	return id, nil
}

// nucleus sets to -Inf the logits outside the smallest set whose
// probability reaches topP (transformers' TopPLogitsWarper: ascending sort,
// remove while the cumulative probability is <= 1-topP, keep at least one).
func (s *sampler) nucleus(x []float32) {
	if cap(s.order) < len(x) {
		s.order = make([]int, len(x))
	}
	order := s.order[:len(x)]
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return x[order[a]] < x[order[b]] })
	sorted := make([]float32, len(x))
	for i, j := range order {
		sorted[i] = x[j]
	}
	softmax(sorted)
	var cum float32
	for i, j := range order {
		cum += sorted[i]
		if cum <= 1-s.topP && i < len(order)-1 {
			x[j] = float32(math.Inf(-1))
		}
	}
}

// softmax normalises x in place (float32, max-subtracted).
func softmax(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}

// argmax returns the first index of the largest value.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// kthLargest returns the k-th largest value of x (1-based).
func kthLargest(x []float32, k int) float32 {
	c := append([]float32(nil), x...)
	sort.Slice(c, func(a, b int) bool { return c[a] > c[b] })
	return c[k-1]
}
