package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/disintegration/imaging"

	"diptych/gallery"
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

// DraftLibrary is what Refine reads the draft from; *gallery.Store has it.
type DraftLibrary interface {
	Library
	Get(ctx context.Context, id int64) (gallery.Generation, error)
	Path(rel string) string
	SetGroupKind(ctx context.Context, id int64, kind gallery.GroupKind, params map[string]any) error
}

// RefineRequest refines a stored Janus image with SDXL: the hybrid's third
// side, asked for after the fact ("Send Janus image to SDXL refine").
type RefineRequest struct {
	DraftID  int64   `json:"draft_id"` // the Janus generation
	SDXL     Request `json:"sdxl"`     // the SDXL settings (size, steps, …); prompt and seed default to the draft's
	Strength float64 `json:"strength,omitempty"`
}

// Refine runs SDXL image-to-image on a stored Janus draft exactly as the
// hybrid side of Compare does (same upscale, same default strength, same
// recorded parameters) and stores it in the draft's group at index 2, which
// then becomes a hybrid group. A draft outside any group gets a new hybrid
// group holding it.
func Refine(ctx context.Context, eng Engine, lib DraftLibrary, req RefineRequest, appVersion string,
	progress func(Progress)) (Generated, error) {
	if eng == nil || lib == nil {
		return Generated{}, errors.New("refine: no engine or library")
	}
	if req.Strength == 0 {
		req.Strength = DefaultHybridStrength
	}
	if !(req.Strength > 0 && req.Strength <= 1) {
		return Generated{}, fmt.Errorf("refine: strength %g: expected a value in (0, 1]", req.Strength)
	}
	draft, err := lib.Get(ctx, req.DraftID)
	if err != nil {
		return Generated{}, fmt.Errorf("refine: the Janus draft #%d: %w", req.DraftID, err)
	}
	if draft.Image == nil {
		return Generated{}, fmt.Errorf("refine: generation #%d has no image to refine", draft.ID)
	}
	img, err := LoadImage(lib.Path(draft.Image.Path))
	if err != nil {
		return Generated{}, fmt.Errorf("refine: %w", err)
	}
	sdxl := req.SDXL
	sdxl.Model = ModelSDXL
	if sdxl.Prompt == "" {
		sdxl.Prompt, sdxl.Negative = draft.Prompt, draft.NegativePrompt
	}
	if sdxl.Seed <= 0 {
		sdxl.Seed = int64(draft.Seed)
	}
	params := map[string]any{"strength": req.Strength}
	group := draft.GroupID
	if group == 0 {
		g, err := lib.NewGroup(ctx, gallery.GroupHybrid, shorten(sdxl.Prompt, 80), map[string]any{"prompt": sdxl.Prompt, "seed": sdxl.Seed, "strength": req.Strength})
		if err != nil {
			return Generated{}, fmt.Errorf("refine: create the group in the library: %w", err)
		}
		group = g.ID
	} else if err := lib.SetGroupKind(ctx, group, gallery.GroupHybrid, params); err != nil {
		return Generated{}, fmt.Errorf("refine: mark group %d as hybrid: %w", group, err)
	}
	run, res, err := refineDraft(ctx, eng, img, sdxl, req.Strength, progress)
	return record(ctx, run, res, err, RecordOptions{Library: lib, AppVersion: appVersion, GroupID: group, GroupIndex: 2,
		Params: hybridParams(draft, req.Strength)})
}

// hybridParams are what a refined draft records about its draft.
func hybridParams(draft gallery.Generation, strength float64) map[string]any {
	path := ""
	if draft.Image != nil {
		path = draft.Image.Path
	}
	return map[string]any{
		"init_image":      fmt.Sprintf("janus draft #%d (%s)", draft.ID, path),
		"hybrid_draft_id": draft.ID,
		"init_resize":     "lanczos",
		"strength":        strength,
	}
}

// UpscaleLanczos resizes img to w×h with a Lanczos filter (a no-op copy when
// it already has that size).
func UpscaleLanczos(img image.Image, w, h int) *image.NRGBA {
	return imaging.Resize(img, w, h, imaging.Lanczos)
}

// refineDraft upscales the draft image to req's size (1024² when unset) and
// runs SDXL image-to-image on it at strength. It returns the request as run,
// less its init image: the upscaled file is temporary (the stored draft is
// the Janus generation).
func refineDraft(ctx context.Context, eng Engine, draft image.Image, req Request, strength float64,
	progress func(Progress)) (Request, Result, error) {
	if req.Width == 0 {
		req.Width = 1024
	}
	if req.Height == 0 {
		req.Height = 1024
	}
	req.Strength, req.InitImage = strength, ""
	up := UpscaleLanczos(draft, req.Width, req.Height)
	f, err := os.CreateTemp("", "diptych-draft-*.png")
	if err != nil {
		return req, Result{}, fmt.Errorf("write the upscaled draft: %w", err)
	}
	defer os.Remove(f.Name())
	if err := png.Encode(f, up); err != nil {
		f.Close()
		return req, Result{}, fmt.Errorf("write the upscaled draft %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return req, Result{}, fmt.Errorf("write the upscaled draft %s: %w", f.Name(), err)
	}
	run := req
	run.InitImage = f.Name()
	res, err := safeGenerate(ctx, eng, run, progress)
	return req, res, err
}
