package janus

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"time"

	"diptych/engine/ort"
	"diptych/engine/rng"
)

// GenerateRequest asks for images from a prompt.
type GenerateRequest struct {
	Prompt string
	// CFG is the classifier-free guidance weight (0 means the reference 5).
	CFG float32
	// Temperature divides the logits before sampling (0 means 1).
	Temperature float32
	// TopK keeps the K most likely tokens (0 = all); TopP keeps the smallest
	// set of tokens whose probability reaches P (0 or 1 = all).
	TopK int
	TopP float32
	// Greedy takes the most likely token at every step instead of sampling
	// (deterministic, no generator; for checks against references).
	Greedy bool
	// Seed seeds image i's generator with Seed+i (rng.NewTorch: the same
	// stream as torch.manual_seed on the CPU), so an image does not depend
	// on how many others are generated with it.
	Seed uint64
	// Images is the number of images (0 means 1).
	Images int
	// Batch is how many images share one run of the language model; 0 picks
	// as many as Options.MemoryBudget allows.
	Batch int
	// PreviewEvery sends a preview of the partial image through Progress
	// every that many rows of image tokens (0 = no previews).
	PreviewEvery int
}

// Progress reports generation after every image token.
type Progress struct {
	// Image is the index of the first image of the running batch, Batch its
	// size, Images the number requested.
	Image, Batch, Images int
	// Token is the number of tokens sampled so far for each image of the
	// batch, out of Tokens.
	Token, Tokens int
	// Done and Total count image tokens over the whole request.
	Done, Total int
	// TokensPerSec is the image tokens sampled per second so far.
	TokensPerSec float64
	Elapsed, ETA time.Duration
	// Preview is the batch's first image decoded from the rows sampled so
	// far (the rest grey); set only every GenerateRequest.PreviewEvery rows.
	Preview *image.RGBA
}

// GenerateResult holds the images and how they were made.
type GenerateResult struct {
	Images []*image.RGBA
	// Tokens are the image tokens of each image (raster order).
	Tokens [][]int
	// Seeds are the generator seeds of the images (0 when greedy).
	Seeds []uint64
	// Text is the prompt as given to the tokenizer, PromptTokens its length.
	Text         string
	PromptTokens int
	BatchSize    int
	// Prefill, Sampling and Decode add up the time spent on the prompt, on
	// the image tokens and in image_decode.
	Prefill, Sampling, Decode time.Duration
	// TokenTimes is the wall time of each image-token step of the first
	// batch (gen_head, CFG and sampling, gen_img_embeds, one language-model
	// step), for per-token medians.
	TokenTimes []time.Duration
	Placement  ort.Placement
}

// ErrEmptyPrompt is returned for a prompt with no text.
var ErrEmptyPrompt = errors.New("empty prompt: describe the image to generate")

// T2IText builds the reference text-to-image prompt: no system prompt,
// `<|User|>: PROMPT\n\n<|Assistant|>:<begin_of_image>`.
func (p *Pipeline) T2IText(prompt string) string {
	return "<|User|>: " + strings.TrimSpace(prompt) + "\n\n<|Assistant|>:" + p.cfg.BOITag
}

// cfgRows returns the conditional ids (BOS + prompt + BOI) and the
// unconditional ones (the same with every position but the first and last
// replaced by the pad id; no attention masking, as the reference does).
func (p *Pipeline) cfgRows(prompt string) (text string, cond, uncond []int, err error) {
	if strings.TrimSpace(prompt) == "" {
		return "", nil, nil, ErrEmptyPrompt
	}
	text = p.T2IText(prompt)
	cond = p.tok.Encode(text, true)
	if len(cond) == 0 || cond[0] != p.ids.bos {
		cond = append([]int{p.ids.bos}, cond...)
	}
	uncond = make([]int, len(cond))
	for i := range cond {
		uncond[i] = p.ids.pad
	}
	uncond[0], uncond[len(cond)-1] = cond[0], cond[len(cond)-1]
	if ctx := p.Dims.Context; ctx > 0 && len(cond)+p.Dims.ImageTokens > ctx {
		return "", nil, nil, fmt.Errorf("prompt is %d tokens; with %d image tokens that exceeds the model's context of %d: shorten it to at most %d tokens",
			len(cond), p.Dims.ImageTokens, ctx, ctx-p.Dims.ImageTokens)
	}
	return text, cond, uncond, nil
}

// Generate makes req.Images images. progress (may be nil) is called after
// every image token. Cancelling ctx stops within one token.
func (p *Pipeline) Generate(ctx context.Context, req GenerateRequest, progress func(Progress)) (GenerateResult, error) {
	text, cond, uncond, err := p.cfgRows(req.Prompt)
	if err != nil {
		return GenerateResult{}, err
	}
	if req.CFG == 0 {
		req.CFG = 5
	}
	if req.Temperature == 0 {
		req.Temperature = 1
	}
	switch {
	case req.Temperature < 0:
		return GenerateResult{}, fmt.Errorf("temperature %g: must be > 0", req.Temperature)
	case req.TopK < 0:
		return GenerateResult{}, fmt.Errorf("top-k %d: must be >= 0", req.TopK)
	case req.TopP < 0 || req.TopP > 1:
		return GenerateResult{}, fmt.Errorf("top-p %g: must be in [0, 1]", req.TopP)
	case req.Images < 0:
		return GenerateResult{}, fmt.Errorf("images %d: must be >= 1", req.Images)
	}
	if req.Images == 0 {
		req.Images = 1
	}
	batch := req.Batch
	if batch <= 0 {
		budget := p.opts.MemoryBudget
		if budget <= 0 {
			budget = 2 << 30
		}
		batch = int(budget / max(p.kvBytesPerImage(len(cond)+p.Dims.ImageTokens), 1))
	}
	batch = max(1, min(batch, req.Images))
	res := GenerateResult{Text: text, PromptTokens: len(cond), BatchSize: batch, Placement: p.Placement}
	g := &gen{p: p, req: req, cond: cond, uncond: uncond, progress: progress, start: time.Now(),
		total: req.Images * p.Dims.ImageTokens}
	for first := 0; first < req.Images; first += batch {
		n := min(batch, req.Images-first)
		imgs, toks, err := g.batch(ctx, first, n, &res)
		if err != nil {
			return GenerateResult{}, err
		}
		res.Images = append(res.Images, imgs...)
		res.Tokens = append(res.Tokens, toks...)
		for i := range n {
			if req.Greedy {
				res.Seeds = append(res.Seeds, 0)
			} else {
				res.Seeds = append(res.Seeds, req.Seed+uint64(first+i))
			}
		}
	}
	return res, nil
}

// gen carries one Generate call across batches.
type gen struct {
	p            *Pipeline
	req          GenerateRequest
	cond, uncond []int
	progress     func(Progress)
	start        time.Time
	done, total  int
}

// batch generates n images as 2n rows ordered [cond0, uncond0, cond1, ...].
func (g *gen) batch(ctx context.Context, first, n int, res *GenerateResult) ([]*image.RGBA, [][]int, error) {
	p := g.p
	G, C, D := p.Dims.ImageTokens, p.Dims.Codebook, p.Dims.Hidden
	rows := 2 * n
	ids := make([][]int, 0, rows)
	for range n {
		ids = append(ids, g.cond, g.uncond)
	}
	t0 := time.Now()
	embeds, err := p.embed(ctx, ids, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("embed prompt: %w", err)
	}
	lm, err := p.newLMRun(rows)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if lm != nil {
			lm.close()
		}
	}()
	hidden, err := lm.step(ctx, embeds, len(g.cond))
	if err != nil {
		return nil, nil, fmt.Errorf("prefill: %w", err)
	}
	res.Prefill += time.Since(t0)

	t1 := time.Now()
	gens := make([]*rng.Generator, n)
	for i := range gens {
		gens[i] = rng.NewTorch(g.req.Seed + uint64(first+i))
	}
	s := &sampler{greedy: g.req.Greedy, temperature: g.req.Temperature, topK: g.req.TopK, topP: g.req.TopP}
	tokens := make([][]int, n)
	for i := range tokens {
		tokens[i] = make([]int, 0, G)
	}
	mixed := make([]float32, C)
	next := make([]int64, rows)
	w := g.req.CFG
	record := first == 0
	var tPrev time.Time
	for step := 0; step < G; step++ {
		ts := time.Now()
		if record && step > 0 {
			res.TokenTimes = append(res.TokenTimes, ts.Sub(tPrev))
		}
		tPrev = ts
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		logits, err := p.head(ctx, "gen_head", hidden, rows)
		if err != nil {
			return nil, nil, fmt.Errorf("image token %d: %w", step+1, err)
		}
		for i := range n {
			c, u := logits[2*i*C:(2*i+1)*C], logits[(2*i+1)*C:(2*i+2)*C]
			for k := range mixed {
				mixed[k] = u[k] + w*(c[k]-u[k])
			}
			id, err := s.pick(mixed, gens[i])
			if err != nil {
				return nil, nil, fmt.Errorf("image %d token %d: %w", first+i+1, step+1, err)
			}
			tokens[i] = append(tokens[i], id)
			next[2*i], next[2*i+1] = int64(id), int64(id)
		}
		g.done += n
		if g.progress != nil {
			pr := g.report(first, n, step+1)
			if every := g.req.PreviewEvery; every > 0 && (step+1)%(every*p.Dims.ImageGrid) == 0 && step+1 < G {
				if pr.Preview, err = p.preview(ctx, tokens[0]); err != nil {
					return nil, nil, fmt.Errorf("preview: %w", err)
				}
			}
			g.progress(pr)
		}
		if step == G-1 {
			break // the reference embeds the last token too but never uses it
		}
		emb, err := p.genEmbeds(ctx, next)
		if err != nil {
			return nil, nil, fmt.Errorf("image token %d: %w", step+1, err)
		}
		if len(emb) != rows*D {
			return nil, nil, fmt.Errorf("gen_img_embeds returned %d values, want %d", len(emb), rows*D)
		}
		if hidden, err = lm.step(ctx, emb, 1); err != nil {
			return nil, nil, fmt.Errorf("image token %d: %w", step+1, err)
		}
	}
	if record {
		res.TokenTimes = append(res.TokenTimes, time.Since(tPrev))
	}
	res.Sampling += time.Since(t1)
	// The KV cache (0.5 GB for 1B in fp32) is not needed to decode: free it
	// before image_decode allocates its activations, so the two never add up.
	lm.close()
	lm = nil

	t2 := time.Now()
	imgs, err := p.DecodeTokens(ctx, tokens)
	if err != nil {
		return nil, nil, err
	}
	res.Decode += time.Since(t2)
	return imgs, tokens, nil
}

func (g *gen) report(first, n, token int) Progress {
	el := time.Since(g.start)
	pr := Progress{Image: first, Batch: n, Images: g.req.Images, Token: token, Tokens: g.p.Dims.ImageTokens,
		Done: g.done, Total: g.total, Elapsed: el}
	if sec := el.Seconds(); sec > 0 {
		pr.TokensPerSec = float64(g.done) / sec
		pr.ETA = time.Duration(float64(g.total-g.done) / pr.TokensPerSec * float64(time.Second))
	}
	return pr
}

// DecodeTokens turns token grids (raster order, ImageTokens each) into
// RGB images with image_decode: clip((x+1)/2·255, 0, 255), truncated.
func (p *Pipeline) DecodeTokens(ctx context.Context, tokens [][]int) ([]*image.RGBA, error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	out, err := p.decode(ctx, tokens)
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	S := p.Dims.ImageSize
	imgs := make([]*image.RGBA, len(tokens))
	for i := range imgs {
		imgs[i] = toRGBA(out[i*3*S*S:(i+1)*3*S*S], S)
	}
	return imgs, nil
}

// toRGBA converts one CHW image in [-1,1] to 8-bit RGBA as the reference
// does (numpy float32 maths, truncating cast).
func toRGBA(chw []float32, S int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, S, S))
	plane := S * S
	for y := 0; y < S; y++ {
		for x := 0; x < S; x++ {
			o := img.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				v := (chw[c*plane+y*S+x] + 1) / 2 * 255
				v = min(max(v, 0), 255)
				img.Pix[o+c] = uint8(v)
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

// preview decodes the complete rows of a partial token grid; rows not yet
// sampled are filled with token 0 for the decoder and painted grey.
func (p *Pipeline) preview(ctx context.Context, partial []int) (*image.RGBA, error) {
	grid := make([]int, p.Dims.ImageTokens)
	copy(grid, partial)
	imgs, err := p.DecodeTokens(ctx, [][]int{grid})
	if err != nil {
		return nil, err
	}
	img := imgs[0]
	rowsDone := len(partial) / p.Dims.ImageGrid
	top := rowsDone * p.Dims.ImageSize / p.Dims.ImageGrid
	grey := color.RGBA{127, 127, 127, 255}
	for y := top; y < p.Dims.ImageSize; y++ {
		for x := 0; x < p.Dims.ImageSize; x++ {
			img.SetRGBA(x, y, grey)
		}
	}
	return img, nil
}
