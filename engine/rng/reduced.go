package rng

import "math"

// RandnFloat16Into fills dst with the IEEE 754 binary16 bit patterns of
// torch.randn(len(dst), generator=g, dtype=torch.float16) on the CPU (what
// diffusers' randn_tensor draws for a float16 pipeline with a CPU generator).
//
// torch computes these in float32 and rounds to nearest even, but for 16 or
// more elements its reduced-precision kernel draws uniforms only for the
// whole blocks of 16 before redrawing the last 16, so the values and the
// stream position differ from converting a float32 Randn when len(dst) is
// not a multiple of 16.
func (g *Generator) RandnFloat16Into(dst []uint16) {
	g.randnReduced(dst, float16Bits)
}

// RandnBFloat16Into is RandnFloat16Into for dtype=torch.bfloat16.
func (g *Generator) RandnBFloat16Into(dst []uint16) {
	g.randnReduced(dst, bfloat16Bits)
}

func (g *Generator) randnReduced(dst []uint16, conv func(float32) uint16) {
	n := len(dst)
	tmp := make([]float32, n)
	if n < 16 {
		for i := range tmp {
			tmp[i] = float32(g.normalDouble())
		}
	} else {
		whole := n - n%16
		g.RandInto(tmp[:whole])
		for i := 0; i < whole; i += 16 {
			normalFill16(tmp[i : i+16])
		}
		if whole != n {
			tail := tmp[n-16:]
			g.RandInto(tail)
			normalFill16(tail)
		}
	}
	for i, v := range tmp {
		dst[i] = conv(v)
	}
}

// float16Bits rounds f to the nearest binary16 (ties to even), with
// overflow to infinity and gradual underflow.
func float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	man := b & 0x7fffff
	switch {
	case b&0x7f800000 == 0x7f800000: // Inf or NaN
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0: // subnormal half (or zero)
		if exp < -10 {
			return sign
		}
		man |= 0x800000
		shift := uint32(14 - exp)
		h := man >> shift
		rem := man & (1<<shift - 1)
		halfway := uint32(1) << (shift - 1)
		if rem > halfway || (rem == halfway && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to infinity: still correct
	}
	return sign | uint16(h)
}

// bfloat16Bits rounds f to the nearest bfloat16 (ties to even).
func bfloat16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
