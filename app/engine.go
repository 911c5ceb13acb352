package app

import (
	"context"
	"diptych/engine/scheduler"
	"image"
	"time"
)

// Model names a kind of generator.
type Model string

// The generators Diptych runs.
const (
	ModelSDXL  Model = "sdxl"
	ModelJanus Model = "janus"
)

// Request is one generation, with every setting either engine understands.
// Fields that do not apply to the chosen model are ignored.
type Request struct {
	Model    Model  `json:"model"`
	ModelDir string `json:"model_dir"`
	Device   string `json:"device,omitempty"` // auto, cpu, cuda[:N]

	Prompt   string `json:"prompt"`
	Negative string `json:"negative,omitempty"`
	Seed     int64  `json:"seed"` // -1 = pick a random seed (the result records it)

	// SDXL.
	Prompt2         string  `json:"prompt_2,omitempty"`
	Width           int     `json:"width,omitempty"`
	Height          int     `json:"height,omitempty"`
	Steps           int     `json:"steps,omitempty"`
	Scheduler       string  `json:"scheduler,omitempty"`
	Guidance        float64 `json:"guidance,omitempty"`
	GuidanceRescale float64 `json:"guidance_rescale,omitempty"`
	RefinerDir      string  `json:"refiner_dir,omitempty"`
	SwitchAt        float64 `json:"switch_at,omitempty"` // base→refiner hand-off fraction
	InitImage       string  `json:"init_image,omitempty"`
	Strength        float64 `json:"strength,omitempty"`

	// Janus-Pro.
	CFG         float64 `json:"cfg,omitempty"`
	Temperature float64 `json:"temperature,omitempty"`
	TopK        int     `json:"top_k,omitempty"`
	TopP        float64 `json:"top_p,omitempty"`
	Images      int     `json:"images,omitempty"`
	Variant     string  `json:"variant,omitempty"`

	// PreviewEvery asks for a live preview every N steps (0 = none).
	PreviewEvery int `json:"preview_every,omitempty"`
}

// Progress reports a running generation.
type Progress struct {
	Stage   string        // "load", "encode", "denoise", "tokens", "decode", ...
	Step    int           // steps (or image tokens) done
	Total   int           // steps (or image tokens) in this stage
	Elapsed time.Duration // since the generation started
	Rate    float64       // steps (tokens) per second in this stage
	ETA     time.Duration
	Preview image.Image // nil unless a preview was made this step
}

// StageTiming is the wall time of one stage.
type StageTiming struct {
	Stage    string        `json:"stage"`
	Duration time.Duration `json:"duration_ns"`
}

// Result is a finished generation.
type Result struct {
	Images  []image.Image `json:"-"`
	Seed    int64         `json:"seed"`
	Timings []StageTiming `json:"timings"`
	Total   time.Duration `json:"total_ns"`
	// ModelTime is the part of Total spent inside ONNX Runtime runs (SDXL).
	ModelTime time.Duration `json:"model_ns,omitempty"`
	PeakRSSMB int64         `json:"peak_rss_mb"`
	PeakGPUMB int64         `json:"peak_gpu_mb,omitempty"`
	Device    string        `json:"device"`   // e.g. "cpu", "cuda:0"
	Provider  string        `json:"provider"` // execution provider
	Fallback  string        `json:"fallback,omitempty"`
	Precision string        `json:"precision"` // fp32, fp16, ...
	Warnings  []string      `json:"warnings,omitempty"`
	// StepTimes is the wall time of each image-token step (Janus-Pro, first
	// batch) or denoising step (SDXL base; the refiner's are in
	// RefinerStepTimes) for per-step medians; Tokens the image tokens of
	// each image.
	StepTimes        []time.Duration `json:"step_ns,omitempty"`
	RefinerStepTimes []time.Duration `json:"refiner_step_ns,omitempty"`
	Tokens           [][]int         `json:"tokens,omitempty"`
}

// Engine runs generations. The real one (app/local) drives engine/sdxl and
// engine/janus with ONNX Runtime; tests use fakes.
type Engine interface {
	Generate(ctx context.Context, req Request, progress func(Progress)) (Result, error)
}

// Unloader frees the models an engine keeps loaded between runs (not one
// that is running), returning how many and their size in MB.
type Unloader interface {
	Unload() (models int, mb int64)
}

// Schedulers are the SDXL samplers the engine offers (engine/scheduler's
// names), for the window's picker and the CLI's help alike.
func Schedulers() []string { return scheduler.Names() }
