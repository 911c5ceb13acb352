package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"

	"diptych/gallery"
)

// SweepPoint is one cell of a sweep: an image size and a step count.
type SweepPoint struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Steps  int `json:"steps"`
}

func (p SweepPoint) String() string { return fmt.Sprintf("%dx%d/%d", p.Width, p.Height, p.Steps) }

// Size is an image size.
type Size struct{ Width, Height int }

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Width, s.Height) }

// The classic SDXL demonstration: 256² at 20 steps, 512² at 50, 768² at 100.
var classicPairs = []SweepPoint{{256, 256, 20}, {512, 512, 50}, {768, 768, 100}}

// ClassicPairs returns the default sweep: 256:20, 512:50, 768:100.
func ClassicPairs() []SweepPoint { return append([]SweepPoint(nil), classicPairs...) }

// Limits of a sweep's sizes and steps.
const (
	maxSweepSide  = 4096
	maxSweepSteps = 1000
)

// ParseSizes reads "256,512,768" (square) or "832x1216,1024" sizes. Each
// side must be a multiple of 8 between 8 and 4096.
func ParseSizes(s string) ([]Size, error) {
	var out []Size
	for _, f := range splitList(s) {
		sz, err := parseSize(f)
		if err != nil {
			return nil, fmt.Errorf("sizes %q: %w", s, err)
		}
		out = append(out, sz)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sizes %q: expected a comma-separated list such as 256,512,768 or 832x1216", s)
	}
	return out, nil
}

func parseSize(f string) (Size, error) {
	w, h, square := f, f, true
	if i := strings.IndexAny(f, "x×"); i >= 0 {
		w, h, square = f[:i], strings.TrimPrefix(strings.TrimPrefix(f[i:], "x"), "×"), false
	}
	wi, err1 := strconv.Atoi(strings.TrimSpace(w))
	hi, err2 := strconv.Atoi(strings.TrimSpace(h))
	if err1 != nil || err2 != nil {
		if square {
			return Size{}, fmt.Errorf("size %q is not a number (expected e.g. 512 or 832x1216)", f)
		}
		return Size{}, fmt.Errorf("size %q is not WIDTHxHEIGHT (expected e.g. 832x1216)", f)
	}
	for _, v := range []int{wi, hi} {
		if v < 8 || v > maxSweepSide || v%8 != 0 {
			return Size{}, fmt.Errorf("size %q: each side must be a multiple of 8 from 8 to %d", f, maxSweepSide)
		}
	}
	return Size{wi, hi}, nil
}

// ParseSteps reads "20,50,100": step counts from 1 to 1000.
func ParseSteps(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := parseSteps(f)
		if err != nil {
			return nil, fmt.Errorf("steps %q: %w", s, err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("steps %q: expected a comma-separated list such as 20,50,100", s)
	}
	return out, nil
}

func parseSteps(f string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(f))
	if err != nil || n < 1 || n > maxSweepSteps {
		return 0, fmt.Errorf("step count %q: expected a whole number from 1 to %d", f, maxSweepSteps)
	}
	return n, nil
}

// ParsePairs reads "256:20,512:50,832x1216:30": SIZE:STEPS pairs.
func ParsePairs(s string) ([]SweepPoint, error) {
	var out []SweepPoint
	for _, f := range splitList(s) {
		size, steps, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("pairs %q: %q is not SIZE:STEPS (expected e.g. 512:50)", s, f)
		}
		sz, err := parseSize(strings.TrimSpace(size))
		if err != nil {
			return nil, fmt.Errorf("pairs %q: %w", s, err)
		}
		n, err := parseSteps(steps)
		if err != nil {
			return nil, fmt.Errorf("pairs %q: %w", s, err)
		}
		out = append(out, SweepPoint{sz.Width, sz.Height, n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pairs %q: expected a comma-separated list such as 256:20,512:50,768:100", s)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SweepPlan is the cells of a sweep and how the contact sheet lays them
// out: a grid (rows = sizes, columns = step counts) or one row of pairs.
type SweepPlan struct {
	Points    []SweepPoint `json:"points"`
	Columns   int          `json:"columns"`
	RowLabels []string     `json:"row_labels,omitempty"`
	ColLabels []string     `json:"col_labels,omitempty"`
	Grid      bool         `json:"grid"`
}

// GridPlan is every size at every step count.
func GridPlan(sizes []Size, steps []int) SweepPlan {
	p := SweepPlan{Columns: len(steps), Grid: true}
	for _, sz := range sizes {
		p.RowLabels = append(p.RowLabels, sz.String())
		for _, n := range steps {
			p.Points = append(p.Points, SweepPoint{sz.Width, sz.Height, n})
		}
	}
	for _, n := range steps {
		p.ColLabels = append(p.ColLabels, fmt.Sprintf("%d steps", n))
	}
	return p
}

// PairsPlan runs the listed points, shown in one row.
func PairsPlan(points []SweepPoint) SweepPlan {
	return SweepPlan{Points: points, Columns: len(points)}
}

// SweepRequest is one prompt run at every point of a plan.
type SweepRequest struct {
	// Base holds every other setting (model folder, prompt, seed, scheduler,
	// guidance, ...); its size and steps are replaced by each point's. A seed
	// of -1 is drawn once, so every cell shares it.
	Base Request
	Plan SweepPlan
	// Critic, when set, scores every image once the sweep is done (the
	// library must then be a CaptionStore).
	Critic      Describer
	CriticModel string
	AppVersion  string
	// Warmup runs the first point once at one step before the sweep,
	// unsaved, so that loading the model is not counted in the first cell.
	Warmup bool
}

// SweepCell is one finished (or failed) point.
type SweepCell struct {
	Point      SweepPoint
	Request    Request
	Result     Result
	Generation gallery.Generation
	Image      image.Image
	Err        error
	Critic     *CriticVerdict
}

// SweepResult is a finished sweep.
type SweepResult struct {
	Group gallery.Group
	Plan  SweepPlan
	Cells []SweepCell
}

// SweepProgress reports a running sweep.
type SweepProgress struct {
	Cell, Cells int
	Point       SweepPoint
	Progress    Progress
}

// Sweep runs req.Base (SDXL) at every point of the plan, one after the
// other, and stores the cells in lib as one sweep group, in plan order. A
// cell that fails is stored as a failed row and the sweep goes on; the
// error names every failure.
func Sweep(ctx context.Context, eng Engine, lib Library, req SweepRequest, progress func(SweepProgress)) (SweepResult, error) {
	if eng == nil || lib == nil {
		return SweepResult{}, errors.New("sweep: no engine or library")
	}
	base := req.Base
	if strings.TrimSpace(base.Prompt) == "" {
		return SweepResult{}, errors.New("sweep: the prompt is empty; give the text to draw")
	}
	if base.Model == "" {
		base.Model = ModelSDXL
	}
	if base.Model != ModelSDXL {
		return SweepResult{}, fmt.Errorf("sweep: model %q has no size or step axis; sweeps run SDXL", base.Model)
	}
	if base.ModelDir == "" {
		return SweepResult{}, errors.New("sweep: no SDXL model folder given")
	}
	if len(req.Plan.Points) == 0 {
		return SweepResult{}, errors.New("sweep: no points to run")
	}
	var critics CaptionStore
	if req.Critic != nil {
		cs, ok := lib.(CaptionStore)
		if !ok {
			return SweepResult{}, errors.New("sweep: the library cannot store critic answers")
		}
		critics = cs
	}
	if base.Seed < 0 {
		base.Seed = RandomSeed()
	}
	params := map[string]any{"prompt": base.Prompt, "seed": base.Seed, "points": pointStrings(req.Plan.Points), "grid": req.Plan.Grid}
	g, err := lib.NewGroup(ctx, gallery.GroupSweep, shorten(base.Prompt, 80), params)
	if err != nil {
		return SweepResult{}, fmt.Errorf("sweep: create the group in the library: %w", err)
	}
	out := SweepResult{Group: g, Plan: req.Plan}
	var errs []error
	if req.Warmup {
		w := base
		pt := req.Plan.Points[0]
		w.Width, w.Height, w.Steps, w.PreviewEvery = pt.Width, pt.Height, 1, 0
		if progress != nil {
			progress(SweepProgress{Cell: -1, Cells: len(req.Plan.Points), Point: pt, Progress: Progress{Stage: "warm-up"}})
		}
		if _, err := eng.Generate(ctx, w, func(Progress) {}); err != nil {
			// The cells will fail the same way and say so; go on.
			errs = append(errs, fmt.Errorf("warm-up: %w", err))
		}
	}
	for i, pt := range req.Plan.Points {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("sweep stopped after %d of %d cells: %w", i, len(req.Plan.Points), ctx.Err()))
			break
		}
		r := base
		r.Width, r.Height, r.Steps = pt.Width, pt.Height, pt.Steps
		c := SweepCell{Point: pt, Request: r}
		report := func(p Progress) {
			if progress != nil {
				progress(SweepProgress{Cell: i, Cells: len(req.Plan.Points), Point: pt, Progress: p})
			}
		}
		gen, err := Generate(ctx, eng, r, RecordOptions{Library: lib, AppVersion: req.AppVersion, GroupID: g.ID, GroupIndex: i}, report)
		c.Result, c.Err = gen.Result, err
		if len(gen.Generations) > 0 {
			c.Generation = gen.Generations[0]
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pt, err))
		} else {
			c.Image = c.Result.Images[0]
		}
		out.Cells = append(out.Cells, c)
	}
	// The batch critic runs after the sweep, so the timings are not
	// disturbed by Janus sharing the machine.
	if req.Critic != nil && ctx.Err() == nil {
		for i := range out.Cells {
			c := &out.Cells[i]
			if c.Image == nil || c.Generation.ID == 0 {
				continue
			}
			v, err := Critique(ctx, req.Critic, critics, c.Generation.ID, c.Image, base.Prompt, req.CriticModel)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", c.Point, err))
				continue
			}
			c.Critic = &v
			c.Generation.Captions = append(c.Generation.Captions,
				gallery.Caption{Kind: CaptionKindAlignment, Question: v.Question, Answer: v.Answer, Model: req.CriticModel},
				gallery.Caption{Kind: CaptionKindDescribe, Question: CaptionQuestion, Answer: v.Caption, Model: req.CriticModel})
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("sweep: %w", errors.Join(errs...))
	}
	return out, nil
}

func pointStrings(ps []SweepPoint) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// Sheet draws the labelled contact sheet: a grid with sizes down and step
// counts across, or one row of pairs, each picture with its settings, time,
// memory and critic answer.
func (r SweepResult) Sheet() *image.RGBA {
	panels := make([]Panel, len(r.Cells))
	for i, c := range r.Cells {
		label := fmt.Sprintf("%dx%d, %d steps", c.Point.Width, c.Point.Height, c.Point.Steps)
		panels[i] = Panel{Image: c.Image, Failed: c.Err != nil}
		lines := []string{label}
		if c.Err != nil {
			lines = append(lines, "failed: "+shorten(c.Err.Error(), 200))
		} else {
			lines = append(lines, fmt.Sprintf("%.2f s, peak %d MB", c.Result.Total.Seconds(), c.Result.PeakRSSMB))
			if c.Result.PeakGPUMB > 0 {
				lines[len(lines)-1] += fmt.Sprintf(", GPU %d MB", c.Result.PeakGPUMB)
			}
		}
		if c.Critic != nil {
			lines = append(lines, fmt.Sprintf("critic: %s", c.Critic.Match), "caption: "+shorten(c.Critic.Caption, 120))
		}
		panels[i].Lines = lines
	}
	prompt, seed := r.promptAndSeed()
	title := fmt.Sprintf("%q  (seed %d", prompt, seed)
	if len(r.Cells) > 0 && r.Cells[0].Result.Device != "" {
		title += ", " + r.Cells[0].Result.Device
	}
	title += ")"
	o := SheetOptions{Title: title, Columns: r.Plan.Columns, CellSize: sweepCell(r.Cells)}
	if r.Plan.Grid {
		o.RowLabels, o.ColLabels = r.Plan.RowLabels, r.Plan.ColLabels
	}
	return RenderSheet(panels, o)
}

func (r SweepResult) promptAndSeed() (string, int64) {
	if len(r.Cells) == 0 {
		return "", 0
	}
	return r.Cells[0].Request.Prompt, r.Cells[0].Request.Seed
}

// sweepCell keeps a sheet of big images to a readable size: the largest
// picture's side, capped at 256 for more than three cells.
func sweepCell(cells []SweepCell) int {
	side := 0
	for _, c := range cells {
		side = max(side, c.Point.Width, c.Point.Height)
	}
	if len(cells) > 3 {
		return min(side, 256)
	}
	return min(side, maxCell)
}

// Table formats the sweep's times as a Markdown table: one row per cell
// with its size, steps, total and per-stage seconds, seconds per step, peak
// memory and status.
func (r SweepResult) Table() string {
	var b strings.Builder
	b.WriteString("| # | size | steps | total s | text s | denoise s | s/step | vae s | peak RSS MB | peak GPU MB | status |\n")
	b.WriteString("|--:|-----:|------:|--------:|-------:|----------:|-------:|------:|------------:|------------:|--------|\n")
	for i, c := range r.Cells {
		status := "ok"
		if c.Err != nil {
			status = "failed: " + strings.ReplaceAll(shorten(c.Err.Error(), 60), "|", "/")
		}
		st := func(stage string) string {
			for _, t := range c.Result.Timings {
				if t.Stage == stage {
					return fmt.Sprintf("%.3f", t.Duration.Seconds())
				}
			}
			return "-"
		}
		perStep := "-"
		for _, t := range c.Result.Timings {
			if t.Stage == "denoise" && c.Point.Steps > 0 {
				perStep = fmt.Sprintf("%.4f", t.Duration.Seconds()/float64(c.Point.Steps))
			}
		}
		total, gpu := "-", "-"
		if c.Err == nil {
			total = fmt.Sprintf("%.3f", c.Result.Total.Seconds())
		}
		if c.Result.PeakGPUMB > 0 {
			gpu = strconv.FormatInt(c.Result.PeakGPUMB, 10)
		}
		fmt.Fprintf(&b, "| %d | %dx%d | %d | %s | %s | %s | %s | %s | %d | %s | %s |\n", i+1, c.Point.Width, c.Point.Height,
			c.Point.Steps, total, st("text_encoders"), st("denoise"), perStep, st("vae_decoder"), c.Result.PeakRSSMB, gpu, status)
	}
	var sum time.Duration
	for _, c := range r.Cells {
		sum += c.Result.Total
	}
	fmt.Fprintf(&b, "\n%d cells, %.3f s in all\n", len(r.Cells), sum.Seconds())
	return b.String()
}
