package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/disintegration/imaging"
)

// DefaultHybridStrength is how much of the Janus draft SDXL redraws when no
// strength is given: half the denoising schedule keeps Janus's composition
// and lets SDXL add detail.
const DefaultHybridStrength = 0.5

// Hybrid runs "Janus draft → SDXL refine" with plain SDXL beside it: the
// Janus image (384² for Janus-Pro) is upscaled with Lanczos to SDXL's size and
// refined by SDXL image-to-image at strength. The three images (plain SDXL,
// the Janus draft, the refined one) are stored as one hybrid group in that
// order. It is Compare with Hybrid set.
func Hybrid(ctx context.Context, eng Engine, lib Library, sdxl, janus Request, strength float64,
	progress func(CompareProgress)) (CompareResult, error) {
	return Compare(ctx, eng, lib, CompareRequest{SDXL: sdxl, Janus: janus, Hybrid: true, HybridStrength: strength}, progress)
}

// UpscaleLanczos resizes img to w×h with a Lanczos filter (a no-op copy when
// it already has that size).
func UpscaleLanczos(img image.Image, w, h int) *image.NRGBA {
	return imaging.Resize(img, w, h, imaging.Lanczos)
}

// refineDraft upscales the draft side's image to req's size and runs SDXL
// image-to-image on it. req is updated to what was run; its InitImage is
// cleared again afterwards, since the upscaled file is temporary (the
// stored draft is the Janus side of the group).
func refineDraft(ctx context.Context, eng Engine, draft *CompareSide, req *Request, strength float64,
	progress func(Progress)) (Result, error) {
	if draft.Image == nil {
		return Result{}, errors.New("no Janus draft to refine (the Janus run failed)")
	}
	w, h := req.Width, req.Height
	if w == 0 {
		w = 1024
	}
	if h == 0 {
		h = 1024
	}
	req.Width, req.Height, req.Strength = w, h, strength
	up := UpscaleLanczos(draft.Image, w, h)
	f, err := os.CreateTemp("", "diptych-draft-*.png")
	if err != nil {
		return Result{}, fmt.Errorf("write the upscaled draft: %w", err)
	}
	defer os.Remove(f.Name())
	if err := png.Encode(f, up); err != nil {
		f.Close()
		return Result{}, fmt.Errorf("write the upscaled draft %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return Result{}, fmt.Errorf("write the upscaled draft %s: %w", f.Name(), err)
	}
	run := *req
	run.InitImage = f.Name()
	res, err := eng.Generate(ctx, run, progress)
	return res, err
}

// draftPath is the library path of a draft's image, or "" when unsaved.
func draftPath(d *CompareSide) string {
	if d.Generation.Image != nil {
		return d.Generation.Image.Path
	}
	return ""
}
