package janus

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"diptych/engine/ort"
)

// BenchmarkTokenCost times one image token (gen_img_embeds, a one-position
// language_model step with the cache re-bound in place, gen_head) early in
// the sequence (tokens 5-15) and late (tokens 495-505) on the tiny model,
// and reports both and their ratio. With the cache kept where ONNX Runtime
// put it, the late cost grows only by the attention over the longer cache.
func BenchmarkTokenCost(b *testing.B) {
	p := loadTiny(b, Options{})
	prompt := []int{p.ids.bos, p.ids.pad, p.ids.pad, p.ids.boi}
	const early, late, window = 10, 500, 5
	last := late + window
	if p.Dims.Context > 0 && len(prompt)+last > p.Dims.Context {
		b.Fatalf("context %d too short", p.Dims.Context)
	}
	var tEarly, tLate time.Duration
	for b.Loop() {
		lm, hidden := benchPrefill(b, p, prompt, prompt)
		for tok := 1; tok <= last; tok++ {
			start := time.Now()
			hidden, _, _ = greedyToken(b, p, lm, hidden)
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

// BenchmarkFullSizeTokenParts splits one image token of a full-size export
// (tools/fullsize: make fullsize) into its three graph runs, gen_head,
// gen_img_embeds and the one-position language_model step, and reports the
// median of each over DIPTYCH_BENCH_TOKENS tokens (default 100) after a
// real prompt's prefill. tools/fullsize/janus_parts.py times the same split
// in the onnxruntime-python peer, so the two can be run back to back:
//
//	DIPTYCH_BENCH_JANUS=~/.cache/diptych-fullsize/janus-pro-1b/onnx DIPTYCH_BENCH_COMBO=fp16 \
//	  go test -tags '…' -run '^$' -bench FullSizeTokenParts -benchtime 1x ./engine/janus
//
// Skipped without DIPTYCH_BENCH_JANUS.
func BenchmarkFullSizeTokenParts(b *testing.B) {
	dir := os.Getenv("DIPTYCH_BENCH_JANUS")
	if dir == "" {
		b.Skip("DIPTYCH_BENCH_JANUS (a full-size Janus-Pro export) is not set")
	}
	tokens, threads := benchCount(b, "DIPTYCH_BENCH_TOKENS", 100), benchCount(b, "DIPTYCH_BENCH_THREADS", 2)
	p, err := Load(dir, Options{Runtime: testRuntime(b), Device: ort.Device{Kind: "cpu"},
		Variant: os.Getenv("DIPTYCH_BENCH_COMBO"), IntraOpThreads: threads, IgnoreMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	_, cond, uncond, err := p.cfgRows("a photograph of an astronaut riding a horse")
	if err != nil {
		b.Fatal(err)
	}
	var head, embeds, step, total []time.Duration
	for b.Loop() {
		lm, hidden := benchPrefill(b, p, cond, uncond)
		for range tokens {
			t0 := time.Now()
			var t1, t2 time.Time
			hidden, t1, t2 = greedyToken(b, p, lm, hidden)
			t3 := time.Now()
			head, embeds, step, total = append(head, t1.Sub(t0)), append(embeds, t2.Sub(t1)),
				append(step, t3.Sub(t2)), append(total, t3.Sub(t0))
		}
		lm.close()
	}
	median := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2].Microseconds()) / 1000
	}
	b.ReportMetric(median(head), "ms/gen_head")
	b.ReportMetric(median(embeds), "ms/gen_img_embeds")
	b.ReportMetric(median(step), "ms/lm_step")
	b.ReportMetric(median(total), "ms/token")
}

// benchCount reads a positive count from the environment variable name, or
// def when it is unset.
func benchCount(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return n
}

// benchPrefill runs the CFG batch's prompt rows (cond, uncond) through a new
// language-model run and returns it with each row's last hidden state.
func benchPrefill(b *testing.B, p *Pipeline, cond, uncond []int) (*lmRun, []float32) {
	ctx := context.Background()
	embeds, err := p.embed(ctx, [][]int{cond, uncond}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	lm, err := p.newLMRun(2)
	if err != nil {
		b.Fatal(err)
	}
	hidden, err := lm.step(ctx, embeds, len(cond))
	if err != nil {
		b.Fatal(err)
	}
	return lm, hidden
}

// greedyToken runs one image token of the CFG batch: gen_head on hidden, the
// conditional row's argmax through gen_img_embeds for both rows, and the
// one-position language-model step. It returns the next hidden state and
// when gen_head and gen_img_embeds finished.
func greedyToken(b *testing.B, p *Pipeline, lm *lmRun, hidden []float32) (next []float32, headDone, embedDone time.Time) {
	ctx := context.Background()
	logits, err := p.head(ctx, "gen_head", hidden, 2)
	if err != nil {
		b.Fatal(err)
	}
	headDone = time.Now()
	id := int64(argmax(logits[:p.Dims.Codebook]))
	emb, err := p.genEmbeds(ctx, []int64{id, id})
	if err != nil {
		b.Fatal(err)
	}
	embedDone = time.Now()
	if next, err = lm.step(ctx, emb, 1); err != nil {
		b.Fatal(err)
	}
	return next, headDone, embedDone
}
