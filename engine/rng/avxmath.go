package rng

import "math"

// This file re-implements, one float32 operation at a time, the Cephes-style
// log and sincos polynomials ("avx_mathfun", after Julien Pommier's
// sse_mathfun) that PyTorch's AVX2 normal_fill kernel evaluates. PyTorch's
// x86 wheels are built by GCC with FMA enabled and floating-point contraction
// on, so every multiply whose only use is an add or subtract became one fused
// multiply-add; fma32 reproduces those single roundings, and every other
// product is converted to float32 explicitly so the Go compiler can neither
// fuse nor skip a rounding. (Checked bit for bit against torch 2.x on 16M
// values, including inputs where only the fused form matches.)

// f32 rounds a float64 constant to float32 the way a C float initialiser does
// (decimal -> double -> float).
func f32(x float64) float32 { return float32(x) }

var (
	cephesSQRTHF = f32(0.707106781186547524)
	cephesLogP   = [9]float32{
		f32(7.0376836292e-2), f32(-1.1514610310e-1), f32(1.1676998740e-1),
		f32(-1.2420140846e-1), f32(+1.4249322787e-1), f32(-1.6668057665e-1),
		f32(+2.0000714765e-1), f32(-2.4999993993e-1), f32(+3.3333331174e-1),
	}
	cephesLogQ1 = f32(-2.12194440e-4)
	cephesLogQ2 = f32(0.693359375)

	minusDP1   = f32(-0.78515625)
	minusDP2   = f32(-2.4187564849853515625e-4)
	minusDP3   = f32(-3.77489497744594108e-8)
	sincofP0   = f32(-1.9515295891e-4)
	sincofP1   = f32(8.3321608736e-3)
	sincofP2   = f32(-1.6666654611e-1)
	coscofP0   = f32(2.443315711809948e-005)
	coscofP1   = f32(-1.388731625493765e-003)
	coscofP2   = f32(4.166664568298827e-002)
	cephesFOPI = f32(1.27323954473516) // 4/pi

	twoPi32 = f32(2 * math.Pi)
)

func mul(a, b float32) float32 { return float32(a * b) }

// fma32 returns a*b+c rounded once to float32. The product is exact in
// float64; the sum is rounded to odd in float64 (TwoSum plus a sticky bit),
// which makes the final conversion to float32 a correct single rounding.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	q := float64(c)
	s := p + q
	bv := s - p
	err := (p - (s - bv)) + (q - bv)
	if err != 0 {
		if bits := math.Float64bits(s); bits&1 == 0 {
			if (err > 0) == (s > 0) {
				bits++ // away from zero, towards the exact sum
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// logAVX is log256_ps for one lane, valid for positive normal inputs (the
// kernel only feeds it 1-u with u in [0,1)).
func logAVX(x float32) float32 {
	if x <= 0 {
		return float32(math.NaN())
	}
	const minNormPos = 0x00800000
	bits := math.Float32bits(x)
	if bits < minNormPos { // max(x, smallest normal)
		bits = minNormPos
	}
	exp := int32(bits>>23) - 0x7f
	x = math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5)) // mantissa in [0.5, 1)
	e := float32(exp) + 1

	var tmp float32
	less := x < cephesSQRTHF
	if less {
		tmp = x
	}
	x = x - 1
	if less {
		e = e - 1
	} else {
		e = e - 0
	}
	x = x + tmp

	z := mul(x, x)
	y := cephesLogP[0]
	for _, p := range cephesLogP[1:] {
		y = fma32(y, x, p)
	}
	y = mul(y, x)
	y = fma32(y, z, mul(e, cephesLogQ1)) // y*z + e*q1, the first product fused
	y = y - mul(z, 0.5)                  // exact product
	x = x + y
	x = fma32(e, cephesLogQ2, x)
	return x
}

// sincosAVX is sincos256_ps for one lane.
func sincosAVX(x float32) (sin, cos float32) {
	signSin := math.Float32bits(x) & 0x80000000
	x = math.Float32frombits(math.Float32bits(x) &^ 0x80000000)

	j := int32(mul(x, cephesFOPI)) // truncation, as cvttps
	j = (j + 1) &^ 1
	y := float32(j)

	swapSin := uint32(j&4) << 29
	polyMask := j&2 == 0
	signCos := uint32(^(j-2)&4) << 29
	signSin ^= swapSin

	// Extended precision modular arithmetic.
	x = fma32(y, minusDP1, x)
	x = fma32(y, minusDP2, x)
	x = fma32(y, minusDP3, x)

	z := mul(x, x)
	c := coscofP0
	c = fma32(c, z, coscofP1)
	c = fma32(c, z, coscofP2)
	c = mul(c, z)
	c = fma32(c, z, -mul(z, 0.5)) // c*z - z/2 (z/2 is exact)
	c = c + 1

	s := sincofP0
	s = fma32(s, z, sincofP1)
	s = fma32(s, z, sincofP2)
	s = mul(s, z)
	s = fma32(s, x, x)

	// Select: sin takes s where polyMask, else c; cos takes the other.
	var sinPart1, sinPart2 float32 // ysin1 (from c), ysin2 (from s)
	if polyMask {
		sinPart2 = s
	} else {
		sinPart1 = c
	}
	s = s - sinPart2
	c = c - sinPart1
	sinV := sinPart1 + sinPart2
	cosV := c + s
	sin = math.Float32frombits(math.Float32bits(sinV) ^ signSin)
	cos = math.Float32frombits(math.Float32bits(cosV) ^ signCos)
	return sin, cos
}

// normalFill16 applies the Box-Muller transform of normal_fill_16_AVX2 to 16
// uniforms in place (mean 0, std 1): lanes 0-7 give the cosine branch, lanes
// 8-15 the sine branch.
func normalFill16(d []float32) {
	_ = d[15]
	for j := 0; j < 8; j++ {
		u1 := 1 - d[j]
		u2 := d[j+8]
		radius := float32(math.Sqrt(float64(mul(-2, logAVX(u1)))))
		theta := mul(twoPi32, u2)
		s, c := sincosAVX(theta)
		// fmadd(n, std=1, mean=0): n*1+0 is exact except that -0 becomes +0.
		d[j] = mul(radius, c) + 0
		d[j+8] = mul(radius, s) + 0
	}
}
