package local

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"time"

	"diptych/app"
	"diptych/engine/discover"
	"diptych/engine/janus"
)

func (e *Engine) janusPipeline(ctx context.Context, dir, device, variant string) (*janus.Pipeline, func(), error) {
	p, release, err := e.models.acquire(ctx, cacheKey("janus", dir, device, variant), modelSizeMB(dir), func() (pipeline, error) {
		rt, pl, err := e.placement(device)
		if err != nil {
			return nil, err
		}
		return janus.Load(dir, janus.Options{Runtime: rt, Placement: pl, Variant: variant,
			IntraOpThreads: e.opts.Threads, ForceCPU: e.opts.ForceCPU,
			IgnoreMemory: e.opts.ForceCPU, WriteGraphIO: true})
	})
	if err != nil {
		return nil, nil, err
	}
	return p.(*janus.Pipeline), release, nil
}

func (e *Engine) generateJanus(ctx context.Context, req app.Request, progress func(app.Progress)) (app.Result, error) {
	start := time.Now()
	if req.ModelDir == "" {
		return app.Result{}, errors.New("janus: no model folder given")
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return app.Result{}, janus.ErrEmptyPrompt
	}
	t0 := time.Now()
	p, release, err := e.janusPipeline(ctx, req.ModelDir, req.Device, req.Variant)
	if err != nil {
		return app.Result{}, err
	}
	defer release()
	load := time.Since(t0)
	gpu := -1
	if p.Placement.OnGPU() {
		gpu = p.Placement.DeviceID
	}
	peak := discover.NewPeakTracker(gpu)
	res, err := p.Generate(ctx, janus.GenerateRequest{
		Prompt: req.Prompt, CFG: float32(req.CFG), Temperature: float32(req.Temperature), TopK: req.TopK,
		TopP: float32(req.TopP), Seed: uint64(req.Seed), Images: max(req.Images, 1), PreviewEvery: req.PreviewEvery,
	}, func(pr janus.Progress) {
		if progress == nil {
			return
		}
		out := app.Progress{Stage: "tokens", Step: pr.Done, Total: pr.Total, Elapsed: time.Since(start),
			Rate: pr.TokensPerSec, ETA: pr.ETA}
		if pr.Preview != nil {
			out.Preview = pr.Preview
		}
		progress(out)
	})
	pk := peak.Stop()
	out := app.Result{Seed: req.Seed, Total: time.Since(start), PeakRSSMB: pk.RSSMB,
		PeakGPUMB: pk.GPUMB, Precision: janusPrecision(p), Warnings: p.Notes}
	if err != nil {
		return out, err
	}
	out.StepTimes, out.Tokens = res.TokenTimes, res.Tokens
	out.Timings = []app.StageTiming{{Stage: "load", Duration: load}, {Stage: "prefill", Duration: res.Prefill}, {Stage: "tokens", Duration: res.Sampling}, {Stage: "image_decode", Duration: res.Decode}}
	for _, img := range res.Images {
		out.Images = append(out.Images, image.Image(img))
	}
	out.Device, out.Provider, out.Fallback = placementDevice(res.Placement), res.Placement.Provider, res.Placement.Fallback
	return out, nil
}

// janusPrecision names the dtype of the language model file in use.
func janusPrecision(p *janus.Pipeline) string {
	if c, ok := p.Layout.Components["language_model"]; ok && c.Variant != "" {
		return c.Variant
	}
	return "fp32"
}

// Caption describes an image (or answers a question about it) with Janus-Pro
// (app.Captioner).
func (e *Engine) Caption(ctx context.Context, modelDir, device string, img image.Image, question string,
	maxTokens int, onToken func(string)) (string, error) {
	p, release, err := e.janusPipeline(ctx, modelDir, device, "")
	if err != nil {
		return "", err
	}
	defer release()
	if img == nil {
		return "", fmt.Errorf("janus: no image to describe")
	}
	return p.Describe(ctx, janus.DescribeRequest{Image: img, Question: question, MaxTokens: maxTokens}, onToken)
}
