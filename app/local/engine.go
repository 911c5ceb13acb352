// Package local is the engine that runs the models on this machine: it
// drives engine/sdxl and engine/janus with ONNX Runtime (cgo) and satisfies
// package app's small interfaces (app.Engine, app.Captioner,
// app.RuntimeProber, app.Unloader). Only the composition roots — the CLI's
// main package and ui/desktop — build it; package app never imports it.
package local

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"sync"
	"time"

	"diptych/app"
	"diptych/engine/discover"
	"diptych/engine/models"
	"diptych/engine/ort"
	"diptych/engine/rng"
	"diptych/engine/sdxl"
)

// Options configure the engine.
type Options struct {
	// ORTLib is an explicit libonnxruntime path (--ort-lib or the
	// settings'); empty searches the usual places (LocateRuntime).
	ORTLib  string
	Threads int  // intra-op threads; 0 = one per core
	LowMem  bool // free components between stages
	// ForceCPU lets Janus-Pro-7B run on the CPU (refused otherwise).
	ForceCPU bool
	// MemoryBudgetMB bounds the loaded models kept between runs; 0 = three
	// quarters of this machine's RAM, negative = no bound.
	MemoryBudgetMB int64
}

// Engine runs SDXL and Janus-Pro with ONNX Runtime on this machine. It loads
// the runtime on first use and keeps loaded pipelines (least recently used
// freed first, within the memory budget), so a second generation skips the
// load.
type Engine struct {
	opts   Options
	locate ort.LocateOptions
	models *cache

	rtMu   sync.Mutex
	rt     *ort.Runtime
	closed bool
}

// ErrClosed is the error of a run asked of a closed engine.
var ErrClosed = errors.New("the engine was closed")

// New returns an engine; nothing is loaded until a run needs it.
func New(o Options) *Engine {
	budget := o.MemoryBudgetMB
	switch {
	case budget == 0:
		budget = discover.LookupHost().MemoryMB * 3 / 4
	case budget < 0:
		budget = 0
	}
	return &Engine{opts: o, locate: LocateRuntime(o.ORTLib), models: newCache(budget)}
}

// LocateRuntime returns where to look for the ONNX Runtime library: flag
// (--ort-lib or the settings' path), the environment, the GPU runtimes
// installed with `diptych models runtime --gpu`, then the defaults.
func LocateRuntime(flag string) ort.LocateOptions {
	o := ort.DefaultLocateOptions(flag)
	if st, err := models.OpenDefault(); err == nil {
		for _, r := range models.InstalledRuntimes(st.LibDir()) {
			o.Installed = append(o.Installed, r.Library)
		}
	}
	return o
}

// ORTLib is the runtime library setting the engine was built with.
func (e *Engine) ORTLib() string { return e.opts.ORTLib }

// Runtime loads (once) and returns the ONNX Runtime.
func (e *Engine) Runtime() (*ort.Runtime, error) {
	e.rtMu.Lock()
	defer e.rtMu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if e.rt != nil {
		return e.rt, nil
	}
	rt, err := ort.Load(e.locate)
	if err != nil {
		return nil, err
	}
	e.rt = rt
	return rt, nil
}

// Close releases every pipeline and the runtime.
func (e *Engine) Close() error {
	e.rtMu.Lock()
	e.closed = true
	e.rtMu.Unlock()
	err := e.models.closeAll()
	e.rtMu.Lock()
	defer e.rtMu.Unlock()
	if e.rt != nil {
		e.rt.Close()
		e.rt = nil
	}
	return err
}

// Unload frees every loaded model that is not running now (app.Unloader).
func (e *Engine) Unload() (int, int64) { return e.models.unload() }

// Loaded lists the models held, most recently used first.
func (e *Engine) Loaded() []Loaded { return e.models.held() }

// placement resolves a device name on the loaded runtime.
func (e *Engine) placement(device string) (*ort.Runtime, ort.Placement, error) {
	d, err := ort.ParseDevice(device)
	if err != nil {
		return nil, ort.Placement{}, err
	}
	rt, err := e.Runtime()
	if err != nil {
		return nil, ort.Placement{}, err
	}
	pl, err := rt.Place(d)
	return rt, pl, err
}

// modelSizeMB is what keeping the model in dir costs (its ONNX files).
func modelSizeMB(dir string) int64 {
	l, err := models.Detect(dir)
	if err != nil {
		return 0
	}
	return l.Size >> 20
}

// cacheKey names a loaded pipeline: its folder, device and variant.
func cacheKey(kind, dir string, parts ...string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	key := kind + ":" + abs
	for _, p := range parts {
		key += "|" + p
	}
	return key
}

// sdxlCPUFullMemoryMB is the RAM below which SDXL on the CPU always runs in
// low-memory mode: all components resident and a CFG batch of two at 1024²
// need about 20 GB (17.7 GB was measured with the text encoders freed but
// the CFG batch of two and the arenas kept), low-memory mode 12.9 GB
// (docs/benchmarks.md).
const sdxlCPUFullMemoryMB = 32 * 1024

// sdxlLowMemory says whether an SDXL pipeline runs in low-memory mode:
// when asked (--low-memory), or on the CPU of a machine with less than
// sdxlCPUFullMemoryMB of RAM, where the full mode would be killed for
// memory (a GPU run keeps its weights in video memory).
func sdxlLowMemory(asked, onGPU bool, hostMB int64) bool {
	return asked || (!onGPU && hostMB > 0 && hostMB < sdxlCPUFullMemoryMB)
}

func (e *Engine) sdxlPipeline(ctx context.Context, dir, device string) (*sdxl.Pipeline, func(), error) {
	p, release, err := e.models.acquire(ctx, cacheKey("sdxl", dir, device), modelSizeMB(dir), func() (pipeline, error) {
		rt, pl, err := e.placement(device)
		if err != nil {
			return nil, err
		}
		low := sdxlLowMemory(e.opts.LowMem, pl.OnGPU(), discover.LookupHost().MemoryMB)
		return sdxl.Load(dir, sdxl.Options{Runtime: rt, Placement: pl, Threads: e.opts.Threads, LowMemory: low})
	})
	if err != nil {
		return nil, nil, err
	}
	return p.(*sdxl.Pipeline), release, nil
}

// Generate runs one request (app.Engine).
func (e *Engine) Generate(ctx context.Context, req app.Request, progress func(app.Progress)) (app.Result, error) {
	e.rtMu.Lock()
	closed := e.closed
	e.rtMu.Unlock()
	if closed {
		return app.Result{}, ErrClosed
	}
	if req.Seed < 0 {
		req.Seed = app.RandomSeed()
	}
	switch req.Model {
	case app.ModelSDXL:
		return e.generateSDXL(ctx, req, progress)
	case app.ModelJanus:
		return e.generateJanus(ctx, req, progress)
	}
	return app.Result{}, fmt.Errorf("unknown model %q: expected %q or %q", req.Model, app.ModelSDXL, app.ModelJanus)
}

func (e *Engine) generateSDXL(ctx context.Context, req app.Request, progress func(app.Progress)) (out app.Result, err error) {
	var peakGPU int64
	defer func() { out.PeakGPUMB = max(out.PeakGPUMB, peakGPU) }()
	start := time.Now()
	if req.ModelDir == "" {
		return app.Result{}, errors.New("sdxl: no model folder given")
	}
	base, release, err := e.sdxlPipeline(ctx, req.ModelDir, req.Device)
	if err != nil {
		return app.Result{}, err
	}
	defer release()
	gen := rng.NewTorch(uint64(req.Seed))
	sr := sdxl.Request{
		Prompt: req.Prompt, Prompt2: req.Prompt2, Width: req.Width, Height: req.Height, Steps: req.Steps,
		Scheduler: req.Scheduler, Guidance: req.Guidance, GuidanceRescale: req.GuidanceRescale,
		Generator: gen, Strength: req.Strength, PreviewEvery: req.PreviewEvery,
	}
	if req.Negative != "" {
		neg := req.Negative
		sr.Negative = &neg
	}
	if req.InitImage != "" {
		img, err := app.LoadImage(req.InitImage)
		if err != nil {
			return app.Result{}, err
		}
		sr.InitImage = img
	}
	refine := req.RefinerDir != ""
	if refine {
		if req.SwitchAt == 0 {
			req.SwitchAt = 0.8
		}
		sr.DenoisingEnd, sr.OutputLatents = req.SwitchAt, true
	}
	onStep := func(stage string) func(sdxl.Progress) {
		return func(p sdxl.Progress) {
			if progress != nil {
				progress(stepProgress(stage, p.Step, p.Total, p.Elapsed, start, p.Preview))
			}
		}
	}
	if pl := base.Placement(); pl.OnGPU() {
		peak := discover.NewPeakTracker(pl.DeviceID)
		defer func() { peakGPU = peak.Stop().GPUMB }()
	}
	res, err := base.Generate(ctx, sr, onStep("denoise"))
	out = app.Result{Seed: req.Seed, Warnings: res.Warnings, ModelTime: res.ModelTime, StepTimes: res.StepTimes}
	addTimings(&out, res.Timings, "")
	if err != nil {
		return out, err
	}
	if refine {
		ref, releaseRef, err := e.sdxlPipeline(ctx, req.RefinerDir, req.Device)
		if err != nil {
			return out, fmt.Errorf("refiner: %w", err)
		}
		defer releaseRef()
		rr := sr
		rr.InitImage, rr.InitLatents = nil, res.Latents
		rr.DenoisingEnd, rr.DenoisingStart, rr.OutputLatents = 0, req.SwitchAt, false
		rr.Width, rr.Height = res.LatentShape[3]*8, res.LatentShape[2]*8
		res, err = ref.Generate(ctx, rr, onStep("refine"))
		addTimings(&out, res.Timings, "refiner ")
		out.RefinerStepTimes = res.StepTimes
		out.ModelTime += res.ModelTime
		out.Warnings = append(out.Warnings, res.Warnings...)
		if err != nil {
			return out, err
		}
	}
	pl := res.Placement
	out.Images = []image.Image{res.Image}
	out.Total = time.Since(start)
	out.PeakRSSMB = res.PeakRSSMB
	out.Device, out.Provider, out.Fallback = placementDevice(pl), pl.Provider, pl.Fallback
	out.Precision = base.Precision()
	return out, nil
}

func addTimings(r *app.Result, ts []sdxl.Timing, prefix string) {
	for _, t := range ts {
		r.Timings = append(r.Timings, app.StageTiming{Stage: prefix + t.Stage, Duration: t.Duration})
	}
}

func placementDevice(p ort.Placement) string {
	if p.OnGPU() {
		return fmt.Sprintf("cuda:%d", p.DeviceID)
	}
	return "cpu"
}

// stepProgress fills rate and ETA from a step count.
func stepProgress(stage string, step, total int, elapsed time.Duration, start time.Time, preview image.Image) app.Progress {
	pr := app.Progress{Stage: stage, Step: step, Total: total, Elapsed: time.Since(start), Preview: preview}
	if step > 0 && elapsed > 0 {
		pr.Rate = float64(step) / elapsed.Seconds()
		pr.ETA = time.Duration(float64(total-step) / pr.Rate * float64(time.Second))
	}
	return pr
}
