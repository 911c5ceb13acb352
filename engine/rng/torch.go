// Package rng reproduces PyTorch's CPU random number generator bit for bit, so
// that seeded latents and sampling decisions match what diffusers and the
// Janus reference scripts produce with torch.Generator().manual_seed(seed).
//
// What is reproduced (torch 2.x, x86-64 CPU):
//   - the mt19937 engine and its seeding from a uint64 seed (only the low 32
//     bits reach the engine, so seeds s and s+2^32 give the same stream);
//   - torch.rand for float32 and float64;
//   - torch.randn for float32, both the scalar path torch takes for tensors of
//     fewer than 16 elements (double-precision Box-Muller with a cached
//     second value) and the vectorised normal_fill path for 16 or more
//     elements as compiled for CPUs with AVX2 (which AVX-512 CPUs also use);
//   - torch.randn for float16 and bfloat16 (RandnFloat16Into, RandnBFloat16Into);
//   - torch.multinomial(probs, 1) on the CPU (exponential race, argmax).
//
// Only the element count of a tensor matters, never its shape: torch fills a
// contiguous tensor in memory order, so torch.randn(1, 4, 128, 128) equals
// Randn(65536) laid out in row-major order.
//
// Torch builds without AVX2 (ARM, old x86) run a scalar float32 kernel on the
// C library's logf/sinf/cosf for tensors of 16 or more elements; their output
// differs from the AVX2 one (mostly in the last bits) and is not reproduced.
// The scalar path uses Go's math.Log1p/Sin/Cos where torch uses glibc's; the
// two can differ in the last bit of a float64, which changes the float32
// result only with probability around 2^-29 per value.
package rng

import "math"

// Generator is a torch CPU generator (torch.Generator() after manual_seed).
// It is not safe for concurrent use.
type Generator struct {
	mt   mt19937
	seed uint64

	// Second Box-Muller value cached by at::normal_distribution<double>,
	// consumed by the next scalar-path normal draw.
	nextNormal    float64
	hasNextNormal bool
}

// NewTorch returns a generator in the state torch.Generator().manual_seed(seed)
// leaves it in.
func NewTorch(seed uint64) *Generator {
	g := &Generator{}
	g.Seed(seed)
	return g
}

// Seed resets g as manual_seed(seed) does, dropping any cached normal value.
func (g *Generator) Seed(seed uint64) {
	g.seed = seed
	g.mt.seed(seed)
	g.hasNextNormal = false
	g.nextNormal = 0
}

// InitialSeed returns the seed g was last seeded with (torch's initial_seed).
func (g *Generator) InitialSeed() uint64 { return g.seed }

// Uint32 returns the next raw 32-bit engine output (CPUGeneratorImpl::random).
func (g *Generator) Uint32() uint32 { return g.mt.uint32() }

// Uint64 returns two engine outputs joined, the first in the high half
// (CPUGeneratorImpl::random64).
func (g *Generator) Uint64() uint64 {
	hi := g.mt.uint32()
	lo := g.mt.uint32()
	return uint64(hi)<<32 | uint64(lo)
}

// Float32 returns one element of torch.rand(n, dtype=torch.float32): the low
// 24 bits of one engine output scaled into [0, 1).
func (g *Generator) Float32() float32 {
	return float32(g.mt.uint32()&(1<<24-1)) * (1.0 / (1 << 24))
}

// Uniform returns one element of torch.rand(n, dtype=torch.float64): the low
// 53 bits of Uint64 scaled into [0, 1).
func (g *Generator) Uniform() float64 {
	return float64(g.Uint64()&(1<<53-1)) * (1.0 / (1 << 53))
}

// RandInto fills dst as torch.rand(len(dst), generator=g) does (float32).
func (g *Generator) RandInto(dst []float32) {
	for i := range dst {
		dst[i] = g.Float32()
	}
}

// Randn returns torch.randn(n, generator=g, dtype=torch.float32) for any
// shape with n elements, advancing g exactly as torch does; successive calls
// continue the stream like successive torch.randn calls.
func (g *Generator) Randn(n int) []float32 {
	if n <= 0 {
		return []float32{}
	}
	out := make([]float32, n)
	g.RandnInto(out)
	return out
}

// RandnInto fills dst as torch.randn(len(dst), generator=g) would.
func (g *Generator) RandnInto(dst []float32) {
	n := len(dst)
	if n < 16 {
		for i := range dst {
			dst[i] = float32(g.normalDouble())
		}
		return
	}
	g.RandInto(dst)
	for i := 0; i+16 <= n; i += 16 {
		normalFill16(dst[i : i+16])
	}
	if n%16 != 0 {
		// torch redraws 16 fresh uniforms for the last 16 slots.
		tail := dst[n-16:]
		g.RandInto(tail)
		normalFill16(tail)
	}
}

// normalDouble is at::normal_distribution<double>(0, 1) on the CPU generator:
// Box-Muller on two double uniforms, caching the sine branch for the next call.
func (g *Generator) normalDouble() float64 {
	if g.hasNextNormal {
		g.hasNextNormal = false
		return g.nextNormal
	}
	u1 := g.Uniform()
	u2 := g.Uniform()
	r := math.Sqrt(-2 * math.Log1p(-u2))
	theta := 2 * math.Pi * u1
	g.nextNormal = r * math.Sin(theta)
	g.hasNextNormal = true
	return r * math.Cos(theta)
}
