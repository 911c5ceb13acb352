package app

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"path/filepath"
	"time"

	"diptych/gallery"
)

// Record turns a request and its result into the gallery's Generation (all
// settings, timings, device). image is the index into res.Images it
// describes.
func Record(req Request, res Result, appVersion string) gallery.Generation {
	g := gallery.Generation{
		CreatedAt: time.Now(),
		Engine:    string(req.Model), Model: recordModelName(req), Prompt: req.Prompt, NegativePrompt: req.Negative,
		Seed: uint64(res.Seed), Steps: req.Steps, Scheduler: req.Scheduler, Width: req.Width, Height: req.Height,
		Guidance: req.Guidance, RNG: "torch-cpu-mt19937",
		Device: res.Device, ExecutionProvider: res.Provider, Precision: res.Precision,
		PeakMemoryBytes: res.PeakRSSMB << 20, Status: gallery.StatusOK, Source: gallery.SourceDiptych,
		AppVersion: appVersion, Params: map[string]any{},
	}
	for _, t := range res.Timings {
		g.Timings = append(g.Timings, gallery.StageTiming{Stage: t.Stage, Duration: t.Duration})
	}
	g.Timings = append(g.Timings, gallery.StageTiming{Stage: "total", Duration: res.Total})
	p := g.Params
	set := func(k string, v any, keep bool) {
		if keep {
			p[k] = v
		}
	}
	set("prompt_2", req.Prompt2, req.Prompt2 != "")
	set("guidance_rescale", req.GuidanceRescale, req.GuidanceRescale != 0)
	set("refiner_dir", req.RefinerDir, req.RefinerDir != "")
	set("switch_at", req.SwitchAt, req.RefinerDir != "")
	set("init_image", req.InitImage, req.InitImage != "")
	set("strength", req.Strength, req.InitImage != "")
	set("model_dir", req.ModelDir, true)
	set("requested_device", req.Device, req.Device != "")
	set("fallback", res.Fallback, res.Fallback != "")
	set("peak_gpu_mb", res.PeakGPUMB, res.PeakGPUMB != 0)
	set("warnings", res.Warnings, len(res.Warnings) > 0)
	if req.Model == ModelJanus {
		g.Guidance, g.Temperature, g.Steps, g.Scheduler = req.CFG, req.Temperature, 0, ""
		set("top_k", req.TopK, req.TopK != 0)
		set("top_p", req.TopP, req.TopP != 0)
		set("images", req.Images, req.Images > 1)
		set("variant", req.Variant, req.Variant != "")
	}
	if len(res.Images) > 0 {
		b := res.Images[0].Bounds()
		g.Width, g.Height = b.Dx(), b.Dy()
	}
	return g
}

func recordModelName(req Request) string {
	name := filepath.Base(filepath.Clean(req.ModelDir))
	if req.RefinerDir != "" {
		name += " + " + filepath.Base(filepath.Clean(req.RefinerDir))
	}
	return name
}

// EncodePNG writes img as PNG with the A1111 "parameters" chunk and the
// diptych JSON chunk describing g.
func EncodePNG(img image.Image, g gallery.Generation, kind gallery.GroupKind) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode PNG: %w", err)
	}
	chunks, err := gallery.MetadataChunks(g, kind)
	if err != nil {
		return nil, err
	}
	return gallery.SetPNGText(buf.Bytes(), chunks)
}
