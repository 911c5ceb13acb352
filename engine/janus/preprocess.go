package janus

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"diptych/engine/imagefile"
)

// rgb is an 8-bit RGB image, row-major.
type rgb struct {
	w, h int
	pix  []uint8
}

// toRGB converts any image to 8-bit RGB the way PIL's convert("RGB") does
// for the common modes: alpha is dropped (not composited), grey is spread.
func toRGB(img image.Image) rgb {
	b := img.Bounds()
	out := rgb{w: b.Dx(), h: b.Dy(), pix: make([]uint8, 3*b.Dx()*b.Dy())}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out.pix[i], out.pix[i+1], out.pix[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
	return out
}

// Pillow's fixed-point resampling (Resample.c), reproduced for BICUBIC.
const precisionBits = 32 - 8 - 2

func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// coeffs computes Pillow's per-output-pixel source window and integer
// weights for resizing inSize to outSize with the bicubic filter.
func coeffs(inSize, outSize int) (bounds []int, ksize int, kk []int32) {
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1.0)
	support := 2.0 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*outSize)
	kk = make([]int32, outSize*ksize)
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = bicubic((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				kk[xx*ksize+x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				kk[xx*ksize+x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return bounds, ksize, kk
}

func clip8(v int64) uint8 {
	v >>= precisionBits
	return uint8(min(max(v, 0), 255))
}

// resizeBicubic resizes like PIL's Image.resize((w, h), BICUBIC): a
// horizontal pass into 8-bit rows, then a vertical pass.
func resizeBicubic(src rgb, w, h int) rgb {
	cur := src
	if w != src.w {
		bounds, ksize, kk := coeffs(src.w, w)
		tmp := rgb{w: w, h: src.h, pix: make([]uint8, 3*w*src.h)}
		for y := 0; y < src.h; y++ {
			row := src.pix[3*y*src.w:]
			for xx := 0; xx < w; xx++ {
				xmin, n := bounds[2*xx], bounds[2*xx+1]
				k := kk[xx*ksize:]
				for c := 0; c < 3; c++ {
					ss := int64(1) << (precisionBits - 1)
					for x := 0; x < n; x++ {
						ss += int64(row[3*(x+xmin)+c]) * int64(k[x])
					}
					tmp.pix[3*(y*w+xx)+c] = clip8(ss)
				}
			}
		}
		cur = tmp
	}
	if h != cur.h {
		bounds, ksize, kk := coeffs(cur.h, h)
		out := rgb{w: cur.w, h: h, pix: make([]uint8, 3*cur.w*h)}
		for yy := 0; yy < h; yy++ {
			ymin, n := bounds[2*yy], bounds[2*yy+1]
			k := kk[yy*ksize:]
			for x := 0; x < cur.w; x++ {
				for c := 0; c < 3; c++ {
					ss := int64(1) << (precisionBits - 1)
					for y := 0; y < n; y++ {
						ss += int64(cur.pix[3*((y+ymin)*cur.w+x)+c]) * int64(k[y])
					}
					out.pix[3*(yy*cur.w+x)+c] = clip8(ss)
				}
			}
		}
		cur = out
	}
	return cur
}

// preprocess is the reference VLMImageProcessor: resize the long side to
// size (bicubic, the short side truncated and at least MinSize), pad to a
// centred square with the background colour, rescale, normalise; returns
// CHW float32 [3,size,size].
func (c modelConfig) preprocess(img image.Image, size int) ([]float32, error) {
	b := img.Bounds()
	if err := imagefile.CheckSize(b.Dx(), b.Dy()); err != nil {
		return nil, err
	}
	src := toRGB(img)
	longSide := max(src.w, src.h)
	h := max(int(float64(src.h)/float64(longSide)*float64(size)), c.MinSize)
	w := max(int(float64(src.w)/float64(longSide)*float64(size)), c.MinSize)
	r := resizeBicubic(src, w, h)
	side := max(w, h)
	x0, y0 := 0, 0
	if w > h {
		y0 = (w - h) / 2
	} else {
		x0 = (h - w) / 2
	}
	if side != size {
		return nil, fmt.Errorf("internal: padded image is %d, want %d", side, size)
	}
	var lut [3][256]float32
	for ch := 0; ch < 3; ch++ {
		for v := 0; v < 256; v++ {
			x := float32(float64(v) * c.Rescale)
			if c.Normalize {
				x = (x - float32(c.Mean[ch])) / float32(c.Std[ch])
			}
			lut[ch][v] = x
		}
	}
	plane := size * size
	out := make([]float32, 3*plane)
	for ch := 0; ch < 3; ch++ {
		bg := lut[ch][c.Background[ch]]
		for i := 0; i < plane; i++ {
			out[ch*plane+i] = bg
		}
	}
	for y := 0; y < r.h; y++ {
		for x := 0; x < r.w; x++ {
			o := (y+y0)*size + x + x0
			for ch := 0; ch < 3; ch++ {
				out[ch*plane+o] = lut[ch][r.pix[3*(y*r.w+x)+ch]]
			}
		}
	}
	return out, nil
}
