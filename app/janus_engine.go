package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"time"

	"diptych/engine/discover"
	"diptych/engine/janus"
)

// janusRunner is the part of engine/janus the local engine keeps loaded.
type janusRunner interface {
	Close() error
}

func (e *LocalEngine) janusPipeline(dir, device, variant string) (*janus.Pipeline, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	abs, _ := filepath.Abs(dir)
	key := abs + "|" + device + "|" + variant
	if p, ok := e.janus[key]; ok {
		return p.(*janus.Pipeline), nil
	}
	pl, err := e.placement(device)
	if err != nil {
		return nil, err
	}
	p, err := janus.Load(dir, janus.Options{Runtime: e.rt, Placement: pl, Variant: variant,
		IntraOpThreads: e.opts.Threads, ForceCPU: e.opts.ForceCPU})
	if err != nil {
		return nil, err
	}
	e.janus[key] = p
	return p, nil
}

func (e *LocalEngine) generateJanus(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	start := time.Now()
	if req.ModelDir == "" {
		return Result{}, errors.New("janus: no model folder given")
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return Result{}, janus.ErrEmptyPrompt
	}
	t0 := time.Now()
	p, err := e.janusPipeline(req.ModelDir, req.Device, req.Variant)
	if err != nil {
		return Result{}, err
	}
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
		out := Progress{Stage: "tokens", Step: pr.Done, Total: pr.Total, Elapsed: time.Since(start),
			Rate: pr.TokensPerSec, ETA: pr.ETA}
		if pr.Preview != nil {
			out.Preview = pr.Preview
		}
		progress(out)
	})
	pk := peak.Stop()
	out := Result{Seed: req.Seed, Total: time.Since(start), PeakRSSMB: pk.RSSMB,
		PeakGPUMB: pk.GPUMB, Precision: janusPrecision(p), Warnings: p.Notes}
	if err != nil {
		return out, err
	}
	out.Timings = []StageTiming{{Stage: "load", Duration: load}, {Stage: "prefill", Duration: res.Prefill}, {Stage: "tokens", Duration: res.Sampling}, {Stage: "image_decode", Duration: res.Decode}}
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

// Caption describes an image (or answers a question about it) with Janus-Pro.
func (e *LocalEngine) Caption(ctx context.Context, modelDir, device string, img image.Image, question string,
	maxTokens int, onToken func(string)) (string, error) {
	p, err := e.janusPipeline(modelDir, device, "")
	if err != nil {
		return "", err
	}
	if img == nil {
		return "", fmt.Errorf("janus: no image to describe")
	}
	return p.Describe(ctx, janus.DescribeRequest{Image: img, Question: question, MaxTokens: maxTokens}, onToken)
}
