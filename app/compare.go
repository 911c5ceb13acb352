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

// CompareRequest is one prompt run by SDXL and by Janus-Pro, stored as one
// gallery group. The GUI queues it as one Studio job; the CLI runs it
// directly; both end in Compare.
type CompareRequest struct {
	// SDXL and Janus are each model's settings. The prompt, negative prompt
	// and seed of SDXL are used for every side; a seed of -1 is drawn once.
	SDXL  Request `json:"sdxl"`
	Janus Request `json:"janus"`
	// Hybrid adds a third side, "Janus draft → SDXL refine" (see Refine), at
	// HybridStrength (default DefaultHybridStrength). The group is then of
	// kind hybrid.
	Hybrid         bool    `json:"hybrid,omitempty"`
	HybridStrength float64 `json:"hybrid_strength,omitempty"`
	// Critic, when set, asks whether each image shows the prompt and for a
	// caption, and stores the answers with the generation (the library must
	// then be a CaptionStore). CriticModel names it in the stored answers.
	Critic      Describer `json:"-"`
	CriticModel string    `json:"critic_model,omitempty"`
	// AppVersion is recorded with every generation.
	AppVersion string `json:"-"`
	// Together runs the SDXL and Janus sides at the same time instead of one
	// after the other (see FitsTogether). Peak memory is then the pair's.
	Together bool `json:"together,omitempty"`
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

// CompareProgress reports a running compare: which side and how far. Saved
// is set once, when that side's row has been stored.
type CompareProgress struct {
	Side     string
	Index    int // of the side
	Sides    int
	Progress Progress
	Saved    *gallery.Generation
}

// Prepare checks a compare and fills in what both sides share: the prompt,
// the negative prompt, one seed (drawn here when -1), the model kinds, one
// Janus image, no SDXL init image, and the hybrid strength. Studio.Compare
// calls it to refuse a bad compare before queueing it; Compare calls it
// again (it is idempotent).
func (req CompareRequest) Prepare() (CompareRequest, error) {
	prompt := strings.TrimSpace(req.SDXL.Prompt)
	if prompt == "" {
		return req, errors.New("compare: the prompt is empty; give the text to draw")
	}
	if req.SDXL.ModelDir == "" {
		return req, errors.New("compare: no SDXL model folder given")
	}
	if req.Janus.ModelDir == "" {
		return req, errors.New("compare: no Janus-Pro model folder given")
	}
	if req.HybridStrength == 0 {
		req.HybridStrength = DefaultHybridStrength
	}
	if req.Hybrid && !(req.HybridStrength > 0 && req.HybridStrength <= 1) {
		return req, fmt.Errorf("compare: hybrid strength %g: expected a value in (0, 1]", req.HybridStrength)
	}
	req.SDXL = withSeed(req.SDXL)
	sdxl, janus := &req.SDXL, &req.Janus
	sdxl.Model, janus.Model = ModelSDXL, ModelJanus
	sdxl.Prompt = prompt
	janus.Prompt, janus.Negative, janus.Seed = prompt, sdxl.Negative, sdxl.Seed
	janus.Images = 1
	sdxl.InitImage, sdxl.Strength = "", 0
	return req, nil
}

// Compare runs req's SDXL and Janus sides (and the hybrid side when asked)
// through eng, one after the other or (Together) the first two at once, and
// stores them in lib as one group, in that order (group index 0, 1, 2), each
// side recorded exactly as Generate records a single run. A side that fails
// is stored as a failed row and the others still run; the error then names
// every failure. Compare is what both the CLI and the GUI's queue call.
func Compare(ctx context.Context, eng Engine, lib Library, req CompareRequest, progress func(CompareProgress)) (CompareResult, error) {
	if eng == nil || lib == nil {
		return CompareResult{}, errors.New("compare: no engine or library")
	}
	req, err := req.Prepare()
	if err != nil {
		return CompareResult{}, err
	}
	var critics CaptionStore
	if req.Critic != nil {
		cs, ok := lib.(CaptionStore)
		if !ok {
			return CompareResult{}, errors.New("compare: the library cannot store critic answers")
		}
		critics = cs
	}
	prompt := req.SDXL.Prompt
	kind, sides := gallery.GroupCompare, 2
	params := map[string]any{"prompt": prompt, "seed": req.SDXL.Seed}
	if req.Hybrid {
		kind, sides = gallery.GroupHybrid, 3
		params["strength"] = req.HybridStrength
	}
	g, err := lib.NewGroup(ctx, kind, shorten(prompt, 80), params)
	if err != nil {
		return CompareResult{}, fmt.Errorf("compare: create the group in the library: %w", err)
	}
	out := CompareResult{Group: g}
	var errs []error
	reporter := func(i int, label string) func(Progress) {
		return func(p Progress) {
			if progress != nil {
				progress(CompareProgress{Side: label, Index: i, Sides: sides, Progress: p})
			}
		}
	}
	// run generates one side; finish stores it (and asks the critic). They
	// are separate so two sides can generate at once and still be stored in
	// order.
	run := func(i int, side *CompareSide) {
		side.Result, side.Err = safeGenerate(ctx, eng, side.Request, reporter(i, side.Label))
	}
	finish := func(side CompareSide, extra map[string]any) {
		i, label := len(out.Sides), side.Label
		gen, err := record(ctx, side.Request, side.Result, side.Err, RecordOptions{Library: lib, AppVersion: req.AppVersion,
			GroupID: g.ID, GroupIndex: i, Params: extra})
		side.Err = err
		if len(gen.Generations) > 0 {
			side.Generation = gen.Generations[0]
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		} else {
			side.Image = side.Result.Images[0]
			if req.Critic != nil && ctx.Err() == nil {
				v, err := Critique(ctx, req.Critic, critics, side.Generation.ID, side.Image, prompt, req.CriticModel)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", label, err))
				} else {
					side.Critic = &v
					side.Generation.Captions = append(side.Generation.Captions,
						gallery.Caption{Kind: CaptionKindAlignment, Question: v.Question, Answer: v.Answer, Model: req.CriticModel},
						gallery.Caption{Kind: CaptionKindDescribe, Question: CaptionQuestion, Answer: v.Caption, Model: req.CriticModel})
				}
			}
		}
		if progress != nil && side.Generation.ID != 0 {
			saved := side.Generation
			progress(CompareProgress{Side: label, Index: i, Sides: sides, Saved: &saved})
		}
		out.Sides = append(out.Sides, side)
	}
	a := CompareSide{Label: SideSDXL, Request: req.SDXL}
	b := CompareSide{Label: SideJanus, Request: req.Janus}
	if req.Together {
		together := map[string]any{"ran_together": true}
		var wg sync.WaitGroup
		wg.Go(func() { run(0, &a) })
		wg.Go(func() { run(1, &b) })
		wg.Wait()
		finish(a, together)
		finish(b, together)
	} else {
		run(0, &a)
		finish(a, nil)
		if ctx.Err() == nil {
			run(1, &b)
			finish(b, nil)
		}
	}
	if req.Hybrid && ctx.Err() == nil && len(out.Sides) == 2 {
		draft := out.Sides[1]
		h := CompareSide{Label: SideHybrid, Request: req.SDXL}
		if draft.Image == nil {
			h.Err = errors.New("no Janus draft to refine (the Janus run failed)")
		} else {
			h.Request, h.Result, h.Err = refineDraft(ctx, eng, draft.Image, req.SDXL, req.HybridStrength, reporter(2, h.Label))
		}
		finish(h, hybridParams(draft.Generation, req.HybridStrength))
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("compare stopped: %w", err))
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("compare: %w", errors.Join(errs...))
	}
	return out, nil
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
