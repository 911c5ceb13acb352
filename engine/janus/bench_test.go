package janus

import (
	"context"
	"testing"
	"time"
)

// BenchmarkTokenCost times one image token (gen_img_embeds, a one-position
// language_model step with the cache re-bound in place, gen_head) early in
// the sequence (tokens 5-15) and late (tokens 495-505) on the tiny model,
// and reports both and their ratio. With the cache kept where ONNX Runtime
// put it, the late cost grows only by the attention over the longer cache.
func BenchmarkTokenCost(b *testing.B) {
	p := loadTiny(b, Options{})
	ctx := context.Background()
	prompt := []int{p.ids.bos, p.ids.pad, p.ids.pad, p.ids.boi}
	const early, late, window = 10, 500, 5
	last := late + window
	if p.Dims.Context > 0 && len(prompt)+last > p.Dims.Context {
		b.Fatalf("context %d too short", p.Dims.Context)
	}
	var tEarly, tLate time.Duration
	for b.Loop() {
		embeds, err := p.embed(ctx, [][]int{prompt, prompt}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		lm, err := p.newLMRun(2)
		if err != nil {
			b.Fatal(err)
		}
		hidden, err := lm.step(ctx, embeds, len(prompt))
		if err != nil {
			b.Fatal(err)
		}
		for tok := 1; tok <= last; tok++ {
			start := time.Now()
			logits, err := p.head(ctx, "gen_head", hidden, 2)
			if err != nil {
				b.Fatal(err)
			}
			id := int64(argmax(logits[:p.Dims.Codebook]))
			emb, err := p.genEmbeds(ctx, []int64{id, id})
			if err != nil {
				b.Fatal(err)
			}
			if hidden, err = lm.step(ctx, emb, 1); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			switch {
			case tok > early-window && tok <= early+window:
				tEarly += el
			case tok > late-window && tok <= late+window:
				tLate += el
			}
		}
		lm.close()
	}
	n := float64(b.N) * 2 * window
	e, l := float64(tEarly.Nanoseconds())/n, float64(tLate.Nanoseconds())/n
	b.ReportMetric(e, "ns/token@10")
	b.ReportMetric(l, "ns/token@500")
	b.ReportMetric(l/e, "ratio500/10")
}
