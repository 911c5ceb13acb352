package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"
	"time"

	"diptych/engine/models"
	"diptych/gallery"
)

// CompareRequest is one prompt run by SDXL and by Janus-Pro, one after the
// other, stored as one gallery group.
type CompareRequest struct {
	// SDXL and Janus are each model's settings. The prompt, negative prompt
	// and seed of SDXL are used for every side; a seed of -1 is drawn once.
	SDXL  Request
	Janus Request
	// Hybrid adds a third side, "Janus draft → SDXL refine": the Janus
	// image upscaled (Lanczos) to SDXL's size and run through SDXL
	// image-to-image at HybridStrength (default 0.5). The group is then of
	// kind hybrid.
	Hybrid         bool
	HybridStrength float64
	// Critic, when set, asks whether each image shows the prompt and for a
	// caption, and stores the answers with the generation (the library must
	// then be a CaptionStore). CriticModel names it in the stored answers.
	Critic      Describer
	CriticModel string
	// AppVersion is recorded with every generation.
	AppVersion string
	// Together runs the SDXL and Janus sides at the same time instead of one
	// after the other (see FitsTogether). Peak memory is then the pair's.
	Together bool
}

// Side labels of a compare.
const (
	SideSDXL   = "SDXL"
	SideJanus  = "Janus-Pro"
	SideHybrid = "Janus -> SDXL"
)

// CompareSide is one run of a compare.
type CompareSide struct {
	Label   string
	Request Request
	Result  Result
	// Generation is the saved row (ID set), with any critic captions; its
	// Status is failed when Err is set.
	Generation gallery.Generation
	Image      image.Image // nil when the run failed
	Err        error
	Critic     *CriticVerdict
}

// CompareResult is a finished compare.
type CompareResult struct {
	Group gallery.Group
	Sides []CompareSide
}

// CompareProgress reports a running compare: which side and how far.
type CompareProgress struct {
	Side     string
	Index    int // of the side
	Sides    int
	Progress Progress
}

// Compare runs req's SDXL and Janus sides (and the hybrid side when asked)
// through eng, one after the other or (Together) the first two at once, and
// stores them in lib as one group, in
// that order (group index 0, 1, 2). A side that fails is stored as a failed
// row and the others still run; the error then names every failure.
// Compare is what both the CLI and the GUI call.
func Compare(ctx context.Context, eng Engine, lib Library, req CompareRequest, progress func(CompareProgress)) (CompareResult, error) {
	if eng == nil || lib == nil {
		return CompareResult{}, errors.New("compare: no engine or library")
	}
	prompt := strings.TrimSpace(req.SDXL.Prompt)
	if prompt == "" {
		return CompareResult{}, errors.New("compare: the prompt is empty; give the text to draw")
	}
	if req.SDXL.ModelDir == "" {
		return CompareResult{}, errors.New("compare: no SDXL model folder given")
	}
	if req.Janus.ModelDir == "" {
		return CompareResult{}, errors.New("compare: no Janus-Pro model folder given")
	}
	strength := req.HybridStrength
	if strength == 0 {
		strength = DefaultHybridStrength
	}
	if req.Hybrid && !(strength > 0 && strength <= 1) {
		return CompareResult{}, fmt.Errorf("compare: hybrid strength %g: expected a value in (0, 1]", strength)
	}
	var critics CaptionStore
	if req.Critic != nil {
		cs, ok := lib.(CaptionStore)
		if !ok {
			return CompareResult{}, errors.New("compare: the library cannot store critic answers")
		}
		critics = cs
	}
	if req.SDXL.Seed < 0 {
		req.SDXL.Seed = RandomSeed()
	}
	sdxl, janus := req.SDXL, req.Janus
	sdxl.Model, janus.Model = ModelSDXL, ModelJanus
	sdxl.Prompt = prompt
	janus.Prompt, janus.Negative, janus.Seed = prompt, sdxl.Negative, sdxl.Seed
	janus.Images = 1
	sdxl.InitImage, sdxl.Strength = "", 0

	kind, sides := gallery.GroupCompare, 2
	params := map[string]any{"prompt": prompt, "seed": sdxl.Seed}
	if req.Hybrid {
		kind, sides = gallery.GroupHybrid, 3
		params["strength"] = strength
	}
	g, err := lib.NewGroup(ctx, kind, shorten(prompt, 80), params)
	if err != nil {
		return CompareResult{}, fmt.Errorf("compare: create the group in the library: %w", err)
	}
	out := CompareResult{Group: g}
	var errs []error
	// generate runs one side; finish stores it (and asks the critic). They are
	// separate so two sides can generate at once and still be stored in order.
	generate := func(i int, side *CompareSide, draft *CompareSide) {
		report := func(p Progress) {
			if progress != nil {
				progress(CompareProgress{Side: side.Label, Index: i, Sides: sides, Progress: p})
			}
		}
		if draft != nil {
			side.Result, side.Err = refineDraft(ctx, eng, draft, &side.Request, strength, report)
		} else {
			side.Result, side.Err = eng.Generate(ctx, side.Request, report)
		}
		if side.Err == nil && len(side.Result.Images) == 0 {
			side.Err = errors.New("the engine returned no image")
		}
		if side.Err == nil {
			side.Image = side.Result.Images[0]
		}
	}
	finish := func(side CompareSide, draft *CompareSide) {
		i, label := len(out.Sides), side.Label
		side.Generation = groupGeneration(side.Request, side.Result, side.Image, g.ID, i, req.AppVersion)
		if req.Together && draft == nil {
			side.Generation.Params["ran_together"] = true
		}
		if draft != nil {
			side.Generation.Params["init_image"] = fmt.Sprintf("janus draft #%d (%s)", draft.Generation.ID, draftPath(draft))
			side.Generation.Params["hybrid_draft_id"] = draft.Generation.ID
			side.Generation.Params["init_resize"] = "lanczos"
			side.Generation.Params["strength"] = side.Request.Strength
		}
		if side.Err != nil {
			side.Generation.Status, side.Generation.Error = gallery.StatusFailed, side.Err.Error()
		}
		saved, serr := lib.Save(context.WithoutCancel(ctx), gallery.SaveRequest{Generation: side.Generation, Image: side.Image})
		if serr != nil {
			errs = append(errs, fmt.Errorf("%s: save to the library: %w", label, serr))
		} else {
			side.Generation = saved
		}
		if side.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, side.Err))
		} else if req.Critic != nil && serr == nil && ctx.Err() == nil {
			v, err := Critique(ctx, req.Critic, critics, saved.ID, side.Image, prompt, req.CriticModel)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", label, err))
			} else {
				side.Critic = &v
				side.Generation.Captions = append(side.Generation.Captions,
					gallery.Caption{Kind: CaptionKindAlignment, Question: v.Question, Answer: v.Answer, Model: req.CriticModel},
					gallery.Caption{Kind: CaptionKindDescribe, Question: CaptionQuestion, Answer: v.Caption, Model: req.CriticModel})
			}
		}
		out.Sides = append(out.Sides, side)
	}
	a := CompareSide{Label: SideSDXL, Request: sdxl}
	b := CompareSide{Label: SideJanus, Request: janus}
	if req.Together {
		var wg sync.WaitGroup
		wg.Go(func() { generate(0, &a, nil) })
		wg.Go(func() { generate(1, &b, nil) })
		wg.Wait()
		finish(a, nil)
		finish(b, nil)
	} else {
		generate(0, &a, nil)
		finish(a, nil)
		if ctx.Err() == nil {
			generate(1, &b, nil)
			finish(b, nil)
		}
	}
	if req.Hybrid && ctx.Err() == nil && len(out.Sides) == 2 {
		h := CompareSide{Label: SideHybrid, Request: sdxl}
		generate(2, &h, &out.Sides[1])
		finish(h, &out.Sides[1])
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("compare stopped: %w", err))
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("compare: %w", errors.Join(errs...))
	}
	return out, nil
}

// groupGeneration describes one run of a group for the gallery: Record plus
// the group position and the whole request (for "use these settings").
func groupGeneration(req Request, res Result, img image.Image, groupID int64, index int, version string) gallery.Generation {
	g := generationOf(req, res, &Job{GroupID: groupID, GroupIndex: index}, img, version)
	delete(g.Params, "job_id")
	return g
}

// Sheet draws the compare side by side: each picture with its model,
// settings, time, peak memory and critic answers under it.
func (r CompareResult) Sheet() *image.RGBA {
	var panels []Panel
	prompt := ""
	for _, s := range r.Sides {
		panels = append(panels, SidePanel(s.Label, s.Generation, s.Image))
		if prompt == "" {
			prompt = s.Request.Prompt
		}
	}
	title := fmt.Sprintf("%q  (seed %d)", prompt, seedOf(r.Sides))
	return RenderSheet(panels, SheetOptions{Title: title})
}

func seedOf(sides []CompareSide) int64 {
	for _, s := range sides {
		if s.Result.Seed != 0 {
			return s.Result.Seed
		}
	}
	if len(sides) > 0 {
		return sides[0].Request.Seed
	}
	return 0
}

// SidePanel is a picture with the lines the compare view prints under it,
// all taken from the saved generation (so a stored pair draws the same way).
func SidePanel(label string, g gallery.Generation, img image.Image) Panel {
	return Panel{Image: img, Lines: GenerationLines(label, g), Failed: g.Status == gallery.StatusFailed}
}

// GenerationLines describes a generation in a few short lines: label and
// model; settings; time and peak memory; device; critic answers; the error
// of a failed run.
func GenerationLines(label string, g gallery.Generation) []string {
	head := label
	if g.Model != "" {
		head += ": " + g.Model
	}
	lines := []string{head}
	var set []string
	if g.Width > 0 {
		set = append(set, fmt.Sprintf("%dx%d", g.Width, g.Height))
	}
	switch g.Engine {
	case string(ModelJanus):
		set = append(set, fmt.Sprintf("cfg %g", g.Guidance))
		if g.Temperature != 0 {
			set = append(set, fmt.Sprintf("temp %g", g.Temperature))
		}
	default:
		if g.Steps > 0 {
			set = append(set, fmt.Sprintf("%d steps", g.Steps))
		}
		if g.Scheduler != "" {
			set = append(set, g.Scheduler)
		}
		set = append(set, fmt.Sprintf("cfg %g", g.Guidance))
		if s, ok := paramFloat(g.Params, "strength"); ok {
			set = append(set, fmt.Sprintf("strength %g", s))
		}
	}
	set = append(set, fmt.Sprintf("seed %d", g.Seed))
	lines = append(lines, strings.Join(set, ", "))
	mem := fmt.Sprintf("peak %d MB RSS", g.PeakMemoryBytes>>20)
	if gpu, ok := paramFloat(g.Params, "peak_gpu_mb"); ok && gpu > 0 {
		mem += fmt.Sprintf(", %.0f MB GPU", gpu)
	}
	if total, ok := stageTime(g.Timings, "total"); ok {
		lines = append(lines, fmt.Sprintf("%.2f s, %s", total.Seconds(), mem))
	} else {
		lines = append(lines, mem)
	}
	if g.Device != "" {
		dev := g.Device
		if g.ExecutionProvider != "" {
			dev += " (" + g.ExecutionProvider
			if g.Precision != "" {
				dev += ", " + g.Precision
			}
			dev += ")"
		}
		lines = append(lines, dev)
	}
	for _, c := range g.Captions {
		switch c.Kind {
		case CaptionKindAlignment:
			lines = append(lines, fmt.Sprintf("critic: %s (%s)", ParseYesNo(c.Answer), shorten(c.Answer, 40)))
		case CaptionKindDescribe:
			lines = append(lines, "caption: "+shorten(c.Answer, 160))
		}
	}
	if g.Status == gallery.StatusFailed && g.Error != "" {
		lines = append(lines, "failed: "+shorten(g.Error, 200))
	}
	return lines
}

func stageTime(ts []gallery.StageTiming, stage string) (time.Duration, bool) {
	for _, t := range ts {
		if t.Stage == stage {
			return t.Duration, true
		}
	}
	return 0, false
}

// paramFloat reads a number from Params, whether it came from Go (int64,
// float64) or from JSON (float64).
func paramFloat(p map[string]any, key string) (float64, bool) {
	switch v := p[key].(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}

// FindModelDir returns the first folder of the given kind among dirs and
// their subfolders (how the CLI finds "the installed model").
func FindModelDir(dirs []string, kind models.Kind) (string, error) {
	for _, m := range findModels(dirs) {
		if m.Problem == "" && m.Kind == kind {
			return m.Dir, nil
		}
	}
	return "", fmt.Errorf("no %s model found in %s; install one with `diptych models pull` or name its folder",
		kind, strings.Join(dirs, ", "))
}

// CheckModelDir checks that dir holds a model of the given kind, naming the
// folder and what it holds otherwise.
func CheckModelDir(dir string, kind models.Kind) error {
	l, err := models.Detect(dir)
	if err != nil {
		return fmt.Errorf("model folder %s: %w", dir, err)
	}
	if l.Kind != kind {
		return fmt.Errorf("model folder %s holds a %s model, expected %s", dir, l.Kind, kind)
	}
	return nil
}
