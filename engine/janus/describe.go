package janus

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"unicode/utf8"

	"diptych/engine/imagefile"
	"diptych/engine/rng"
)

// DescribeRequest asks a question about an image (or for a caption).
type DescribeRequest struct {
	Image image.Image
	// Question defaults to DefaultQuestion.
	Question string
	// MaxTokens bounds the answer (0 means 512, the reference value); it is
	// also cut to what the context leaves after the prompt.
	MaxTokens int
	// Temperature 0 decodes greedily (the reference); above 0 the answer is
	// sampled with optional TopP, seeded with Seed.
	Temperature float32
	TopP        float32
	Seed        uint64
	// System replaces the default system prompt when not empty.
	System string
}

// DefaultQuestion is used when DescribeRequest.Question is empty.
const DefaultQuestion = "Describe this image in detail."

// DescribeResult is Describe's answer with what produced it.
type DescribeResult struct {
	Text         string
	Tokens       []int // generated ids (EOS excluded)
	PromptTokens int
	StoppedOnEOS bool
}

// ErrTooLong is returned when the question does not fit the context.
var ErrTooLong = errors.New("question too long")

// understandingPrompt builds the reference text and its ids with the image
// placeholder expanded to BOI + VisionTokens placeholders + EOI, and the
// mask of the placeholder positions.
func (p *Pipeline) understandingPrompt(question, system string) (text string, ids []int, mask []bool) {
	if system == "" {
		system = p.cfg.System
	}
	content := strings.TrimSpace(p.cfg.ImageTag + "\n" + question)
	text = system + "\n\n<|User|>: " + content + "\n\n<|Assistant|>:"
	raw := p.tok.Encode(text, true)
	if len(raw) == 0 || raw[0] != p.ids.bos {
		raw = append([]int{p.ids.bos}, raw...)
	}
	for _, id := range raw {
		if id != p.ids.image {
			ids = append(ids, id)
			mask = append(mask, false)
			continue
		}
		ids = append(ids, p.ids.boi)
		mask = append(mask, false)
		for range p.Dims.VisionTokens {
			ids = append(ids, p.ids.image)
			mask = append(mask, true)
		}
		ids = append(ids, p.ids.eoi)
		mask = append(mask, false)
	}
	return text, ids, mask
}

// Describe answers req.Question about req.Image, streaming the answer's
// text to onToken (may be nil) as it grows. It stops at EOS or MaxTokens.
func (p *Pipeline) Describe(ctx context.Context, req DescribeRequest, onToken func(string)) (string, error) {
	r, err := p.DescribeDetail(ctx, req, onToken)
	return r.Text, err
}

// DescribeDetail is Describe returning the token ids as well.
func (p *Pipeline) DescribeDetail(ctx context.Context, req DescribeRequest, onToken func(string)) (DescribeResult, error) {
	if req.Image == nil {
		return DescribeResult{}, fmt.Errorf("%w: no image given", imagefile.ErrBadImage)
	}
	if req.Temperature < 0 || req.TopP < 0 || req.TopP > 1 {
		return DescribeResult{}, fmt.Errorf("temperature %g / top-p %g: want temperature >= 0 and top-p in [0, 1]", req.Temperature, req.TopP)
	}
	question := req.Question
	if strings.TrimSpace(question) == "" {
		question = DefaultQuestion
	}
	pixels, err := p.cfg.preprocess(req.Image, p.Dims.VisionSize)
	if err != nil {
		return DescribeResult{}, err
	}
	_, ids, mask := p.understandingPrompt(question, req.System)
	maxNew := req.MaxTokens
	if maxNew <= 0 {
		maxNew = 512
	}
	if c := p.Dims.Context; c > 0 {
		if len(ids) >= c {
			return DescribeResult{}, fmt.Errorf("%w: with the image the prompt is %d tokens and the model's context is %d; "+
				"shorten the question by at least %d tokens", ErrTooLong, len(ids), c, len(ids)-c+1)
		}
		maxNew = min(maxNew, c-len(ids))
	}
	res := DescribeResult{PromptTokens: len(ids)}
	embeds, err := p.embed(ctx, [][]int{ids}, [][]bool{mask}, pixels)
	if err != nil {
		return res, fmt.Errorf("embed prompt: %w", err)
	}
	lm, err := p.newLMRun(1)
	if err != nil {
		return res, err
	}
	defer lm.close()
	hidden, err := lm.step(ctx, embeds, len(ids))
	if err != nil {
		return res, fmt.Errorf("prefill: %w", err)
	}
	s := &sampler{greedy: req.Temperature == 0, temperature: req.Temperature, topP: req.TopP}
	g := rng.NewTorch(req.Seed)
	var sent string
	for len(res.Tokens) < maxNew {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		logits, err := p.head(ctx, "lm_head", hidden, 1)
		if err != nil {
			return res, err
		}
		id, err := s.pick(logits, g)
		if err != nil {
			return res, err
		}
		if id == p.ids.eos {
			res.StoppedOnEOS = true
			break
		}
		res.Tokens = append(res.Tokens, id)
		if onToken != nil {
			// Send what is new, holding back an incomplete UTF-8 sequence.
			text := p.tok.Decode(res.Tokens, true)
			if strings.HasPrefix(text, sent) && !strings.HasSuffix(text, string(utf8.RuneError)) && len(text) > len(sent) {
				onToken(text[len(sent):])
				sent = text
			}
		}
		if len(res.Tokens) == maxNew {
			break
		}
		emb, err := p.embed(ctx, [][]int{{id}}, nil, nil)
		if err != nil {
			return res, err
		}
		if hidden, err = lm.step(ctx, emb, 1); err != nil {
			return res, err
		}
	}
	res.Text = p.tok.Decode(res.Tokens, true)
	if onToken != nil && strings.HasPrefix(res.Text, sent) && len(res.Text) > len(sent) {
		onToken(res.Text[len(sent):])
	}
	return res, nil
}
