package sdxl

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"github.com/disintegration/imaging"

	"diptych/engine/discover"
	"diptych/engine/onnx"
	"diptych/engine/ort"
	"diptych/engine/rng"
	"diptych/engine/scheduler"
)

// Request is one SDXL generation. Zero values take diffusers' defaults where
// noted.
type Request struct {
	Prompt  string
	Prompt2 string // text for text_encoder_2; defaults to Prompt (base only)
	// Negative is the negative prompt; nil means none was given, which the
	// base model turns into zero embeddings (force_zeros_for_empty_prompt).
	Negative  *string
	Negative2 *string // defaults to Negative

	Width, Height   int     // multiples of 8 and of the UNet's downsampling; default 1024
	Steps           int     // default 30
	Scheduler       string  // default: the folder's scheduler_config.json class
	Guidance        float64 // default 5; CFG runs when > 1
	GuidanceRescale float64 // 0..1
	Seed            uint64
	// Generator continues an existing torch-compatible stream instead of
	// seeding a new one (the base→refiner hand-off shares one).
	Generator *rng.Generator

	// Image-to-image: InitImage is encoded by vae_encoder; InitLatents
	// (1×4×h×w, unscaled by the VAE factor as the base returns them) skip it.
	InitImage   image.Image
	InitLatents []float32
	Strength    float64 // (0,1]; default 0.3 for image-to-image

	// DenoisingEnd stops the base early (hand-off fraction, e.g. 0.8) and
	// DenoisingStart starts the refiner there without adding noise.
	DenoisingEnd   float64
	DenoisingStart float64
	// OutputLatents returns the latents and skips the VAE decoder.
	OutputLatents bool

	AestheticScore         float64 // refiner; default 6
	NegativeAestheticScore float64 // refiner; default 2.5

	PreviewEvery int // make a preview every N steps; 0 = none
}

// Progress reports one finished denoising step.
type Progress struct {
	Stage   string
	Step    int // steps done
	Total   int
	Elapsed time.Duration
	Preview image.Image // nil unless made at this step
}

// Timing is the wall time of one stage.
type Timing struct {
	Stage    string
	Duration time.Duration
}

// Result is a finished generation.
type Result struct {
	Image       *image.RGBA // nil when OutputLatents
	Latents     []float32   // final latents (1×C×h×w), before VAE scaling
	LatentShape [4]int
	Timings     []Timing
	// StepTimes is the wall time of each denoising step (UNet runs and the
	// scheduler step), for per-step medians.
	StepTimes []time.Duration
	// ModelTime is the time spent inside ONNX Runtime runs.
	ModelTime time.Duration
	PeakRSSMB int64
	Placement ort.Placement
	Warnings  []string
}

// ErrNaN reports a component that produced NaN values.
var ErrNaN = errors.New("produced NaN values")

// MaxSteps bounds the step count (diffusers' schedulers have 1000 train steps).
const MaxSteps = 1000

// Validate fills defaults and checks the request against this pipeline.
func (p *Pipeline) Validate(r *Request) error {
	if r.Width == 0 {
		r.Width = 1024
	}
	if r.Height == 0 {
		r.Height = 1024
	}
	if r.InitLatents == nil && r.InitImage != nil && r.Width == 1024 && r.Height == 1024 {
		b := r.InitImage.Bounds()
		r.Width, r.Height = b.Dx()/8*8, b.Dy()/8*8
	}
	if r.Steps == 0 {
		r.Steps = 30
	}
	if r.Guidance == 0 {
		r.Guidance = 5
	}
	if r.Scheduler == "" {
		r.Scheduler = scheduler.DefaultName(p.schedCfg)
		if r.Scheduler == "" {
			r.Scheduler = scheduler.NameEuler
		}
	}
	if r.AestheticScore == 0 {
		r.AestheticScore = 6
	}
	if r.NegativeAestheticScore == 0 {
		r.NegativeAestheticScore = 2.5
	}
	px := 8 * p.latentMultiple
	for _, side := range []struct {
		name string
		v    int
	}{{"width", r.Width}, {"height", r.Height}} {
		if side.v < px || side.v%px != 0 || side.v > 4096 {
			return fmt.Errorf("sdxl: %s %d is not allowed: it must be a multiple of %d between %d and 4096 "+
				"(8 for the VAE × %d for this UNet's downsampling)", side.name, side.v, px, px, p.latentMultiple)
		}
	}
	if r.Steps < 1 || r.Steps > MaxSteps {
		return fmt.Errorf("sdxl: steps %d: expected 1 to %d", r.Steps, MaxSteps)
	}
	if r.Guidance < 0 || math.IsNaN(r.Guidance) || r.Guidance > 100 {
		return fmt.Errorf("sdxl: guidance %g: expected 0 to 100", r.Guidance)
	}
	if r.GuidanceRescale < 0 || r.GuidanceRescale > 1 {
		return fmt.Errorf("sdxl: guidance rescale %g: expected 0 to 1", r.GuidanceRescale)
	}
	img2img := r.InitImage != nil || r.InitLatents != nil
	if img2img && r.DenoisingStart == 0 {
		if r.Strength == 0 {
			r.Strength = 0.3
		}
		if !(r.Strength > 0 && r.Strength <= 1) {
			return fmt.Errorf("sdxl: strength %g: expected a value in (0, 1]", r.Strength)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"denoising end (switch point)", r.DenoisingEnd}, {"denoising start", r.DenoisingStart}} {
		if f.v != 0 && !(f.v > 0 && f.v < 1) {
			return fmt.Errorf("sdxl: %s %g: expected a fraction in (0, 1)", f.name, f.v)
		}
	}
	if r.DenoisingStart != 0 && !img2img {
		return errors.New("sdxl: denoising start needs init latents or an init image (the base's output)")
	}
	if r.InitLatents != nil {
		want := p.dims.latentChannels * (r.Height / 8) * (r.Width / 8)
		if len(r.InitLatents) != want {
			return fmt.Errorf("sdxl: init latents have %d values, expected %d (1×%d×%d×%d for %d×%d)",
				len(r.InitLatents), want, p.dims.latentChannels, r.Height/8, r.Width/8, r.Width, r.Height)
		}
	}
	if _, err := scheduler.New(r.Scheduler, p.schedCfg); err != nil {
		return fmt.Errorf("sdxl: %w", err)
	}
	return nil
}

// Generate runs one request. progress (may be nil) is called after every
// denoising step; cancelling ctx stops within one step.
func (p *Pipeline) Generate(ctx context.Context, r Request, progress func(Progress)) (Result, error) {
	if err := p.Validate(&r); err != nil {
		return Result{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	run := &runState{p: p, ctx: ctx, start: time.Now()}
	peak := discover.NewPeakTracker(-1)
	res, err := run.generate(r, progress)
	res.Timings, res.ModelTime = run.timings, run.modelTime
	res.PeakRSSMB = peak.Stop().RSSMB
	res.Placement = runPlacement(p.placed, p.opts.Placement)
	return res, err
}

// runState carries one generation's timings.
type runState struct {
	p         *Pipeline
	ctx       context.Context
	start     time.Time
	timings   []Timing
	modelTime time.Duration
}

func (run *runState) stage(name string, since time.Time) {
	run.timings = append(run.timings, Timing{Stage: name, Duration: time.Since(since)})
}

func (run *runState) generate(r Request, progress func(Progress)) (Result, error) {
	p := run.p
	var res Result
	gen := r.Generator
	if gen == nil {
		gen = rng.NewTorch(r.Seed)
	}
	cfg := r.Guidance > 1

	// Text.
	t0 := time.Now()
	cond, err := run.encode(r, cfg)
	if err != nil {
		return res, err
	}
	res.Warnings = append(res.Warnings, cond.warnings...)
	if p.opts.LowMemory {
		p.free("text_encoder", "text_encoder_2")
	}
	run.stage("text_encoders", t0)

	// Schedule.
	sched, err := scheduler.New(r.Scheduler, p.schedCfg)
	if err != nil {
		return res, fmt.Errorf("sdxl: %w", err)
	}
	if err := sched.SetTimesteps(r.Steps); err != nil {
		return res, fmt.Errorf("sdxl: %w", err)
	}
	ts := sched.Timesteps()
	begin, end := 0, len(ts)
	addNoise := false
	img2img := r.InitImage != nil || r.InitLatents != nil
	switch {
	case img2img && r.DenoisingStart > 0:
		if begin, err = scheduler.DenoisingStartIndex(ts, r.DenoisingStart, sched.NumTrainTimesteps(), sched.Order()); err != nil {
			return res, fmt.Errorf("sdxl: %w", err)
		}
	case img2img:
		if begin, _, err = scheduler.StrengthStartIndex(r.Steps, r.Strength, sched.Order()); err != nil {
			return res, fmt.Errorf("sdxl: %w", err)
		}
		addNoise = true
	}
	if r.DenoisingEnd > 0 {
		if end, err = scheduler.DenoisingEndIndex(ts, r.DenoisingEnd, sched.NumTrainTimesteps()); err != nil {
			return res, fmt.Errorf("sdxl: %w", err)
		}
	}
	if begin >= len(ts) {
		return res, fmt.Errorf("sdxl: strength %g with %d steps leaves no step to run", r.Strength, r.Steps)
	}
	sched.SetBeginIndex(begin)

	// Latents.
	h, w := r.Height/8, r.Width/8
	c := p.dims.latentChannels
	shape := ort.Shape{1, int64(c), int64(h), int64(w)}
	var latents []float32
	switch {
	case r.InitLatents != nil:
		latents = append([]float32(nil), r.InitLatents...)
	case r.InitImage != nil:
		t1 := time.Now()
		if latents, err = run.encodeImage(r.InitImage, r.Width, r.Height, gen); err != nil {
			return res, err
		}
		run.stage("vae_encoder", t1)
	default:
		latents = gen.Randn(c * h * w)
		sigma := float32(sched.InitNoiseSigma())
		for i := range latents {
			latents[i] *= sigma
		}
	}
	if addNoise {
		latents = sched.AddNoise(latents, gen.Randn(len(latents)), begin)
	}

	// Denoise. The UNet is created first when it is not loaded yet (with
	// LowMemory it never is), so the step times are the steps alone.
	if _, loaded := p.sessions["unet"]; !loaded {
		tl := time.Now()
		if _, err := p.session("unet"); err != nil {
			return res, err
		}
		run.stage("unet_load", tl)
	}
	t2 := time.Now()
	n := end - begin
	for i := begin; i < end; i++ {
		if err := run.ctx.Err(); err != nil {
			return res, err
		}
		ti := time.Now()
		eps, err := run.unet(latents, shape, ts[i], i, sched, cond, cfg, r)
		if err != nil {
			return res, err
		}
		if latents, err = sched.Step(eps, latents, i, gen); err != nil {
			return res, fmt.Errorf("sdxl: scheduler step %d: %w", i, err)
		}
		res.StepTimes = append(res.StepTimes, time.Since(ti))
		if progress != nil {
			pr := Progress{Stage: "denoise", Step: i - begin + 1, Total: n, Elapsed: time.Since(run.start)}
			if r.PreviewEvery > 0 && ((i-begin+1)%r.PreviewEvery == 0 || i == end-1) {
				pr.Preview = LatentPreview(latents, c, h, w)
			}
			progress(pr)
		}
	}
	run.stage("denoise", t2)
	res.Latents, res.LatentShape = latents, [4]int{1, c, h, w}
	if p.opts.LowMemory {
		// Also when handing latents to the refiner: its UNet must not load
		// next to this one (20.8 GiB peak at 1024² when it did).
		p.free("unet")
	}
	if r.OutputLatents {
		return res, nil
	}

	// Decode.
	t3 := time.Now()
	img, err := run.decode(latents, shape)
	if err != nil {
		return res, err
	}
	run.stage("vae_decoder", t3)
	res.Image = img
	return res, nil
}

// conditioning holds the UNet's text inputs, batch order [uncond; cond].
type conditioning struct {
	embeds   []float32 // [B,77,cross]
	pooled   []float32 // [B,pooled]
	timeIDs  []float32 // [B,5|6]
	batch    int
	warnings []string
}

// row is batch row k of c alone (a batch of one).
func (c conditioning) row(k int) conditioning {
	part := func(v []float32) []float32 { n := len(v) / c.batch; return v[k*n : (k+1)*n] }
	return conditioning{embeds: part(c.embeds), pooled: part(c.pooled), timeIDs: part(c.timeIDs), batch: 1}
}

func (run *runState) encode(r Request, cfg bool) (conditioning, error) {
	p := run.p
	var out conditioning
	prompt2 := r.Prompt2
	if prompt2 == "" {
		prompt2 = r.Prompt
	}
	pos, pooled, warns, err := run.encodePrompt(r.Prompt, prompt2)
	if err != nil {
		return out, err
	}
	out.warnings = warns
	ids := p.timeIDs(r, false)
	if !cfg {
		out.embeds, out.pooled, out.timeIDs, out.batch = pos, pooled, ids, 1
		return out, nil
	}
	var negE, negP []float32
	if r.Negative == nil && p.forceZeros {
		negE, negP = make([]float32, len(pos)), make([]float32, len(pooled))
	} else {
		neg := ""
		if r.Negative != nil {
			neg = *r.Negative
		}
		neg2 := neg
		if r.Negative2 != nil {
			neg2 = *r.Negative2
		}
		var w []string
		if negE, negP, w, err = run.encodePrompt(neg, neg2); err != nil {
			return out, err
		}
		for _, s := range w {
			out.warnings = append(out.warnings, "negative "+s)
		}
	}
	out.embeds = append(negE, pos...)
	out.pooled = append(negP, pooled...)
	out.timeIDs = append(p.timeIDs(r, true), ids...)
	out.batch = 2
	return out, nil
}

// timeIDs builds the micro-conditioning vector (diffusers' _get_add_time_ids
// with default original/target sizes and zero crops).
func (p *Pipeline) timeIDs(r Request, negative bool) []float32 {
	h, w := float32(r.Height), float32(r.Width)
	if p.requiresAesthetics {
		score := r.AestheticScore
		if negative {
			score = r.NegativeAestheticScore
		}
		return []float32{h, w, 0, 0, float32(score)}
	}
	return []float32{h, w, 0, 0, h, w}
}

// encodePrompt returns the [77,cross] embeddings and the pooled vector of one
// prompt pair (the refiner uses only text_encoder_2 fed with prompt).
func (run *runState) encodePrompt(prompt, prompt2 string) (embeds, pooled []float32, warnings []string, err error) {
	p := run.p
	if p.Refiner {
		prompt2 = prompt
	}
	var e1 []float32
	if !p.Refiner {
		ids, truncated := p.tok1.EncodePadded(prompt, seqLen)
		if truncated {
			warnings = append(warnings, fmt.Sprintf("prompt is longer than %d CLIP tokens and was truncated", seqLen))
		}
		outs, err := run.runText("text_encoder", ids, []string{p.te1Hidden}, map[string]int{p.te1Hidden: p.dims.hidden1})
		if err != nil {
			return nil, nil, nil, err
		}
		e1 = outs[0]
	}
	ids2, truncated := p.tok2.EncodePadded(prompt2, seqLen)
	if truncated && (p.Refiner || prompt2 != prompt) {
		warnings = append(warnings, fmt.Sprintf("prompt is longer than %d CLIP tokens and was truncated", seqLen))
	}
	outs, err := run.runText("text_encoder_2", ids2, []string{p.te2Hidden, "text_embeds"},
		map[string]int{p.te2Hidden: p.dims.hidden2, "text_embeds": p.dims.pooled})
	if err != nil {
		return nil, nil, nil, err
	}
	e2, pooled := outs[0], outs[1]
	if p.Refiner {
		return e2, pooled, warnings, nil
	}
	d1, d2 := p.dims.hidden1, p.dims.hidden2
	embeds = make([]float32, seqLen*(d1+d2))
	for t := 0; t < seqLen; t++ {
		copy(embeds[t*(d1+d2):], e1[t*d1:(t+1)*d1])
		copy(embeds[t*(d1+d2)+d1:], e2[t*d2:(t+1)*d2])
	}
	return embeds, pooled, warnings, nil
}

// runText runs a text encoder on one row of ids and returns the requested
// outputs as float32; widths gives each output's last dimension.
func (run *runState) runText(graph string, ids []int64, outputs []string, widths map[string]int) ([][]float32, error) {
	s, err := run.p.session(graph, outputs...)
	if err != nil {
		return nil, err
	}
	in, _ := s.Input("input_ids")
	idsT, err := ort.NewIntTensor(in.Type, ort.Shape{1, seqLen}, ids)
	if err != nil {
		return nil, fmt.Errorf("sdxl: %s input_ids: %w", graph, err)
	}
	defer idsT.Destroy()
	outs := map[string]ort.Value{}
	defer func() {
		for _, v := range outs {
			v.Destroy()
		}
	}()
	for _, name := range outputs {
		info, _ := s.Output(name)
		shape := ort.Shape{1, seqLen, int64(widths[name])}
		if len(info.Shape) == 2 {
			shape = ort.Shape{1, int64(widths[name])}
		}
		v, err := ort.NewEmptyTensor(info.Type, shape)
		if err != nil {
			return nil, err
		}
		outs[name] = v
	}
	t := time.Now()
	err = s.Run(run.ctx, map[string]ort.Value{"input_ids": idsT}, outs)
	run.modelTime += time.Since(t)
	if err != nil {
		return nil, fmt.Errorf("sdxl: %s: %w", graph, err)
	}
	result := make([][]float32, len(outputs))
	for i, name := range outputs {
		f, err := ort.Float32s(outs[name])
		if err != nil {
			return nil, err
		}
		if hasNaN(f) {
			return nil, fmt.Errorf("sdxl: %s output %s %w", graph, name, ErrNaN)
		}
		result[i] = append([]float32(nil), f...)
	}
	return result, nil
}

// unet runs one guided noise prediction for step i.
func (run *runState) unet(latents []float32, shape ort.Shape, t float64, i int, sched scheduler.Scheduler,
	cond conditioning, cfg bool, r Request) ([]float32, error) {
	p := run.p
	s, err := p.session("unet")
	if err != nil {
		return nil, err
	}
	b := cond.batch
	x := make([]float32, 0, b*len(latents))
	for k := 0; k < b; k++ {
		x = append(x, latents...)
	}
	sched.ScaleModelInput(x, i)
	n := len(latents)
	var pred []float32
	if p.opts.LowMemory && b > 1 {
		// One row at a time: the same arithmetic per row (the UNet has no
		// cross-batch operation), half the activations. At 1024² the
		// attention maps of a CFG batch of two are ~1.3 GB each.
		pred = make([]float32, 0, b*n)
		for row := 0; row < b; row++ {
			out, err := run.unetRun(s, x[row*n:(row+1)*n], shape, t, i, cond.row(row))
			if err != nil {
				return nil, err
			}
			pred = append(pred, out...)
		}
	} else if pred, err = run.unetRun(s, x, shape, t, i, cond); err != nil {
		return nil, err
	}
	if hasNaN(pred) {
		return nil, fmt.Errorf("sdxl: unet at step %d (t=%g) %w", i, t, ErrNaN)
	}
	if !cfg {
		return append([]float32(nil), pred[:n]...), nil
	}
	u, c := pred[:n], pred[n:2*n]
	g := float32(r.Guidance)
	eps := make([]float32, n)
	for k := range eps {
		eps[k] = u[k] + g*(c[k]-u[k])
	}
	if r.GuidanceRescale > 0 {
		rescale(eps, c, float32(r.GuidanceRescale))
	}
	return eps, nil
}

// unetRun runs the UNet once on x, a batch of cond.batch latents of shape
// [1,C,H,W] each, and returns its prediction (same layout as x).
func (run *runState) unetRun(s *ort.Session, x []float32, shape ort.Shape, t float64, i int, cond conditioning) ([]float32, error) {
	b := cond.batch
	bshape := ort.Shape{int64(b), shape[1], shape[2], shape[3]}
	typeOf := func(name string) onnx.ElementType { t, _ := s.Input(name); return t.Type }
	var vals []ort.Value
	defer func() { ort.Destroy(vals...) }()
	mk := func(v ort.Value, err error) ort.Value {
		if err == nil {
			vals = append(vals, v)
		}
		return v
	}
	sample := mk(ort.NewFloatTensor(typeOf("sample"), bshape, x))
	tsInfo, _ := s.Input("timestep")
	var timestep ort.Value
	switch {
	case tsInfo.Type == onnx.Int64 || tsInfo.Type == onnx.Int32:
		timestep = mk(ort.NewIntTensor(tsInfo.Type, ort.Shape{1}, []int64{int64(t)}))
	case len(tsInfo.Shape) == 0:
		timestep = mk(ort.NewFloatTensor(tsInfo.Type, ort.Shape{}, []float32{float32(t)}))
	default:
		timestep = mk(ort.NewFloatTensor(tsInfo.Type, ort.Shape{1}, []float32{float32(t)}))
	}
	ehs := mk(ort.NewFloatTensor(typeOf("encoder_hidden_states"), ort.Shape{int64(b), seqLen, int64(len(cond.embeds) / b / seqLen)}, cond.embeds))
	te := mk(ort.NewFloatTensor(typeOf("text_embeds"), ort.Shape{int64(b), int64(len(cond.pooled) / b)}, cond.pooled))
	tid := mk(ort.NewFloatTensor(typeOf("time_ids"), ort.Shape{int64(b), int64(len(cond.timeIDs) / b)}, cond.timeIDs))
	outInfo, _ := s.Output("out_sample")
	out := mk(ort.NewEmptyTensor(outInfo.Type, bshape))
	if len(vals) != 6 {
		return nil, fmt.Errorf("sdxl: unet inputs for step %d could not be made (types %v)", i, []onnx.ElementType{
			typeOf("sample"), tsInfo.Type, typeOf("encoder_hidden_states"), typeOf("text_embeds"), typeOf("time_ids")})
	}
	run.p.unetBatch = b
	start := time.Now()
	err := s.Run(run.ctx, map[string]ort.Value{"sample": sample, "timestep": timestep, "encoder_hidden_states": ehs,
		"text_embeds": te, "time_ids": tid}, map[string]ort.Value{"out_sample": out})
	run.modelTime += time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("sdxl: unet step %d: %w", i, err)
	}
	pred, err := ort.Float32s(out)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), pred...), nil
}

// rescale applies diffusers' rescale_noise_cfg: eps = φ·eps·(std_c/std_g) +
// (1−φ)·eps, with unbiased standard deviations over all elements.
func rescale(eps, cond []float32, phi float32) {
	stdC, stdG := float32(std(cond)), float32(std(eps))
	if stdG == 0 {
		return
	}
	ratio := stdC / stdG
	for k, v := range eps {
		rescaled := v * ratio
		eps[k] = phi*rescaled + (1-phi)*v
	}
}

func std(x []float32) float64 {
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

// decode runs the VAE decoder and converts to 8-bit RGB like diffusers:
// round(clamp(x/2+0.5, 0, 1)·255).
func (run *runState) decode(latents []float32, shape ort.Shape) (*image.RGBA, error) {
	p := run.p
	s, err := p.session("vae_decoder")
	if err != nil {
		return nil, err
	}
	z := make([]float32, len(latents))
	for i, v := range latents {
		z[i] = v / p.vaeScale
	}
	in, _ := s.Input("latent_sample")
	zt, err := ort.NewFloatTensor(in.Type, shape, z)
	if err != nil {
		return nil, err
	}
	defer zt.Destroy()
	h, w := int(shape[2])*8, int(shape[3])*8
	oi, _ := s.Output("sample")
	out, err := ort.NewEmptyTensor(oi.Type, ort.Shape{1, 3, int64(h), int64(w)})
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	start := time.Now()
	err = s.Run(run.ctx, map[string]ort.Value{"latent_sample": zt}, map[string]ort.Value{"sample": out})
	run.modelTime += time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("sdxl: vae_decoder: %w", err)
	}
	px, err := ort.Float32s(out)
	if err != nil {
		return nil, err
	}
	if hasNaN(px) {
		return nil, fmt.Errorf("sdxl: vae_decoder %w (an fp16 VAE overflows on SDXL; use the fp32 vae_decoder)", ErrNaN)
	}
	return ToRGBA(px, w, h), nil
}

// ToRGBA converts a 1×3×H×W image in [-1, 1] to 8-bit RGB.
func ToRGBA(px []float32, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := w * h
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			o := img.PixOffset(x, y)
			for ch := 0; ch < 3; ch++ {
				v := px[ch*plane+i]/2 + 0.5
				v = min(max(v, 0), 1)
				img.Pix[o+ch] = uint8(math.RoundToEven(float64(v * 255)))
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

// encodeImage runs the VAE encoder on an init image (resized to w×h) and
// samples the latent distribution like diffusers' retrieve_latents.
func (run *runState) encodeImage(src image.Image, w, h int, gen *rng.Generator) ([]float32, error) {
	p := run.p
	s, err := p.session("vae_encoder")
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	if b.Dx() < 8 || b.Dy() < 8 {
		return nil, fmt.Errorf("sdxl: init image is %d×%d; it must be at least 8×8", b.Dx(), b.Dy())
	}
	if b.Dx() != w || b.Dy() != h {
		src = imaging.Resize(src, w, h, imaging.Lanczos)
	}
	pix := ImageToTensor(src)
	in, _ := s.Input("sample")
	x, err := ort.NewFloatTensor(in.Type, ort.Shape{1, 3, int64(h), int64(w)}, pix)
	if err != nil {
		return nil, err
	}
	defer x.Destroy()
	lh, lw := h/8, w/8
	c := p.dims.latentChannels
	outName, channels := "latent_parameters", 2*c
	if _, ok := s.Output(outName); !ok {
		outName, channels = "latent_sample", c
	}
	oi, ok := s.Output(outName)
	if !ok {
		return nil, fmt.Errorf("sdxl: vae_encoder has neither latent_parameters nor latent_sample (outputs: %s)", names(s.Info.Outputs))
	}
	out, err := ort.NewEmptyTensor(oi.Type, ort.Shape{1, int64(channels), int64(lh), int64(lw)})
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	start := time.Now()
	err = s.Run(run.ctx, map[string]ort.Value{"sample": x}, map[string]ort.Value{outName: out})
	run.modelTime += time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("sdxl: vae_encoder: %w", err)
	}
	params, err := ort.Float32s(out)
	if err != nil {
		return nil, err
	}
	n := c * lh * lw
	latents := make([]float32, n)
	if channels == c {
		// Old exports sample inside the graph.
		for i := range latents {
			latents[i] = p.vaeScale * params[i]
		}
		return latents, nil
	}
	noise := gen.Randn(n)
	for i := range latents {
		mean, logvar := params[i], params[n+i]
		logvar = min(max(logvar, -30), 20)
		std := float32(math.Exp(float64(0.5 * logvar)))
		latents[i] = p.vaeScale * (mean + std*noise[i])
	}
	return latents, nil
}

// ImageToTensor converts an image to 1×3×H×W float32 in [-1, 1] (x/255·2−1).
func ImageToTensor(img image.Image) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*w + x
			out[i] = float32(c.R)/255*2 - 1
			out[w*h+i] = float32(c.G)/255*2 - 1
			out[2*w*h+i] = float32(c.B)/255*2 - 1
		}
	}
	return out
}

// latentRGB is the linear latent→RGB approximation for SDXL's VAE used for
// cheap previews (rows: latent channels; columns: R, G, B).
var latentRGB = [4][3]float32{
	{0.3651, 0.4232, 0.4341},
	{-0.2533, -0.0042, 0.1068},
	{0.1076, 0.1111, -0.0362},
	{-0.3165, -0.2492, -0.2188},
}
var latentBias = [3]float32{0.1084, -0.0175, -0.0011}

// LatentPreview renders latents (1×4×h×w) as a w×h RGB image without the VAE.
func LatentPreview(latents []float32, c, h, w int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for i := 0; i < plane; i++ {
		var rgb [3]float32
		for ch := 0; ch < 3; ch++ {
			v := latentBias[ch]
			for k := 0; k < min(c, 4); k++ {
				v += latents[k*plane+i] * latentRGB[k][ch]
			}
			rgb[ch] = v
		}
		o := i * 4
		for ch := 0; ch < 3; ch++ {
			img.Pix[o+ch] = uint8(min(max((rgb[ch]+1)/2, 0), 1) * 255)
		}
		img.Pix[o+3] = 255
	}
	return img
}

func hasNaN(x []float32) bool {
	for _, v := range x {
		if v != v {
			return true
		}
	}
	return false
}
