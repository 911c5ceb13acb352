package app

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/jpeg" // init images may be JPEG
	_ "image/png"
	"os"
	"path/filepath"
	"sync"
	"time"

	"diptych/engine/discover"
	"diptych/engine/ort"
	"diptych/engine/rng"
	"diptych/engine/sdxl"
)

// LocalOptions configures the engine that runs models on this machine.
type LocalOptions struct {
	Locate  ort.LocateOptions
	Threads int  // intra-op threads; 0 = one per core
	LowMem  bool // free components between stages
	// ForceCPU lets Janus-Pro-7B run on the CPU (refused otherwise).
	ForceCPU bool
}

// LocalEngine runs SDXL and Janus-Pro with ONNX Runtime on this machine. It
// loads the runtime on first use and keeps loaded pipelines per model folder
// and device, so a second generation skips the load.
type LocalEngine struct {
	opts LocalOptions

	mu    sync.Mutex
	rt    *ort.Runtime
	sdxl  map[string]*sdxl.Pipeline
	janus map[string]janusRunner
}

// NewLocalEngine returns an engine; nothing is loaded until Generate.
func NewLocalEngine(o LocalOptions) *LocalEngine {
	return &LocalEngine{opts: o, sdxl: map[string]*sdxl.Pipeline{}, janus: map[string]janusRunner{}}
}

// Runtime loads (once) and returns the ONNX Runtime.
func (e *LocalEngine) Runtime() (*ort.Runtime, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runtimeLocked()
}

func (e *LocalEngine) runtimeLocked() (*ort.Runtime, error) {
	if e.rt != nil {
		return e.rt, nil
	}
	rt, err := ort.Load(e.opts.Locate)
	if err != nil {
		return nil, err
	}
	e.rt = rt
	return rt, nil
}

// Close releases every pipeline and the runtime.
func (e *LocalEngine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, p := range e.sdxl {
		p.Close()
		delete(e.sdxl, k)
	}
	for k, p := range e.janus {
		p.Close()
		delete(e.janus, k)
	}
	if e.rt != nil {
		e.rt.Close()
		e.rt = nil
	}
	return nil
}

// placement resolves the request's device.
func (e *LocalEngine) placement(device string) (ort.Placement, error) {
	d, err := ort.ParseDevice(device)
	if err != nil {
		return ort.Placement{}, err
	}
	rt, err := e.runtimeLocked()
	if err != nil {
		return ort.Placement{}, err
	}
	return rt.Place(d)
}

func (e *LocalEngine) sdxlPipeline(dir, device string) (*sdxl.Pipeline, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	abs, _ := filepath.Abs(dir)
	key := abs + "|" + device
	if p, ok := e.sdxl[key]; ok {
		return p, nil
	}
	pl, err := e.placement(device)
	if err != nil {
		return nil, err
	}
	p, err := sdxl.Load(dir, sdxl.Options{Runtime: e.rt, Placement: pl, Threads: e.opts.Threads, LowMemory: e.opts.LowMem})
	if err != nil {
		return nil, err
	}
	e.sdxl[key] = p
	return p, nil
}

// RandomSeed picks a seed for requests that ask for one (-1).
func RandomSeed() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 33) // 31 bits: easy to read and type
}

// Generate runs one request.
func (e *LocalEngine) Generate(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	if req.Seed < 0 {
		req.Seed = RandomSeed()
	}
	switch req.Model {
	case ModelSDXL:
		return e.generateSDXL(ctx, req, progress)
	case ModelJanus:
		return e.generateJanus(ctx, req, progress)
	}
	return Result{}, fmt.Errorf("unknown model %q: expected %q or %q", req.Model, ModelSDXL, ModelJanus)
}

func (e *LocalEngine) generateSDXL(ctx context.Context, req Request, progress func(Progress)) (out Result, err error) {
	var peakGPU int64
	defer func() { out.PeakGPUMB = max(out.PeakGPUMB, peakGPU) }()
	start := time.Now()
	if req.ModelDir == "" {
		return Result{}, fmt.Errorf("sdxl: no model folder given")
	}
	base, err := e.sdxlPipeline(req.ModelDir, req.Device)
	if err != nil {
		return Result{}, err
	}
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
		img, err := LoadImage(req.InitImage)
		if err != nil {
			return Result{}, err
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
	out = Result{Seed: req.Seed, Warnings: res.Warnings, ModelTime: res.ModelTime}
	addTimings(&out, res.Timings, "")
	if err != nil {
		return out, err
	}
	if refine {
		ref, err := e.sdxlPipeline(req.RefinerDir, req.Device)
		if err != nil {
			return out, fmt.Errorf("refiner: %w", err)
		}
		rr := sr
		rr.InitImage, rr.InitLatents = nil, res.Latents
		rr.DenoisingEnd, rr.DenoisingStart, rr.OutputLatents = 0, req.SwitchAt, false
		rr.Width, rr.Height = res.LatentShape[3]*8, res.LatentShape[2]*8
		res, err = ref.Generate(ctx, rr, onStep("refine"))
		addTimings(&out, res.Timings, "refiner ")
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

func addTimings(r *Result, ts []sdxl.Timing, prefix string) {
	for _, t := range ts {
		r.Timings = append(r.Timings, StageTiming{Stage: prefix + t.Stage, Duration: t.Duration})
	}
}

func placementDevice(p ort.Placement) string {
	if p.OnGPU() {
		return fmt.Sprintf("cuda:%d", p.DeviceID)
	}
	return "cpu"
}

// stepProgress fills rate and ETA from a step count.
func stepProgress(stage string, step, total int, elapsed time.Duration, start time.Time, preview image.Image) Progress {
	pr := Progress{Stage: stage, Step: step, Total: total, Elapsed: time.Since(start), Preview: preview}
	if step > 0 && elapsed > 0 {
		pr.Rate = float64(step) / elapsed.Seconds()
		pr.ETA = time.Duration(float64(total-step) / pr.Rate * float64(time.Second))
	}
	return pr
}

// LoadImage decodes a PNG or JPEG file, naming the file in errors.
func LoadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open image: %w", err)
	}
	defer f.Close()
	// Check the size before decoding, so a huge file is refused cheaply.
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("image %s cannot be decoded (expected PNG or JPEG): %w", path, err)
	}
	if cfg.Width < 8 || cfg.Height < 8 {
		return nil, fmt.Errorf("image %s is %d×%d %s; it must be at least 8×8", path, cfg.Width, cfg.Height, format)
	}
	if cfg.Width*cfg.Height > 64<<20 {
		return nil, fmt.Errorf("image %s is %d×%d; images over 64 megapixels are refused", path, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("read image %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("image %s cannot be decoded: %w", path, err)
	}
	return img, nil
}
