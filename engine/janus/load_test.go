package janus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diptych/engine/models"
	"diptych/engine/onnx"
	"diptych/engine/ort"
)

// copyTiny copies the tiny model folder into a temp dir, leaving out the
// files skip returns true for.
func copyTiny(t *testing.T, skip func(rel string) bool) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(tinyDir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tinyDir, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if skip != nil && skip(filepath.ToSlash(rel)) {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func loadDir(t *testing.T, dir string, o Options) (*Pipeline, error) {
	t.Helper()
	o.Runtime = testRuntime(t)
	if o.Device.Kind == "" {
		o.Device = ort.Device{Kind: "cpu"}
	}
	o.IntraOpThreads = 1
	p, err := Load(dir, o)
	if err == nil {
		t.Cleanup(func() { p.Close() })
	}
	return p, err
}

func TestLoadMissingGraph(t *testing.T) {
	dir := copyTiny(t, func(rel string) bool { return strings.HasPrefix(rel, "onnx/gen_head") })
	_, err := loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "gen_head is missing") || !strings.Contains(err.Error(), "onnx/gen_head.onnx") {
		t.Fatalf("missing gen_head: %v", err)
	}
}

func TestLoadMismatchedIO(t *testing.T) {
	// gen_img_embeds replaced by a graph with other I/O names (lm_head).
	dir := copyTiny(t, func(rel string) bool { return strings.HasPrefix(rel, "onnx/gen_img_embeds") })
	b, _ := os.ReadFile(filepath.Join(tinyDir, "onnx", "lm_head.onnx"))
	os.WriteFile(filepath.Join(dir, "onnx", "gen_img_embeds.onnx"), b, 0o644)
	_, err := loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "graph gen_img_embeds") ||
		!strings.Contains(err.Error(), "[hidden_states]") || !strings.Contains(err.Error(), "expected image_ids") {
		t.Fatalf("mismatched gen_img_embeds: %v", err)
	}
	// A language model without its KV cache (lm_head in its place).
	dir = copyTiny(t, func(rel string) bool { return strings.HasPrefix(rel, "onnx/language_model") })
	b, _ = os.ReadFile(filepath.Join(tinyDir, "onnx", "lm_head.onnx"))
	os.WriteFile(filepath.Join(dir, "onnx", "language_model.onnx"), b, 0o644)
	_, err = loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "graph language_model") || !strings.Contains(err.Error(), "past_key_values") {
		t.Fatalf("language model without cache: %v", err)
	}
}

func TestLoadCorruptTokenizer(t *testing.T) {
	dir := copyTiny(t, nil)
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [`), 0o644)
	_, err := loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "tokenizer") || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Fatalf("corrupt tokenizer.json: %v", err)
	}
	os.Remove(filepath.Join(dir, "tokenizer.json"))
	_, err = loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Fatalf("missing tokenizer.json: %v", err)
	}
}

// TestLoad7BOnCPU: a folder that says it is 7B is refused on the CPU with
// the memory and time it would need, and loads when forced.
func TestLoad7BOnCPU(t *testing.T) {
	dir := copyTiny(t, nil)
	path := filepath.Join(dir, "config.json")
	var cfg map[string]any
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &cfg)
	lc := cfg["language_config"].(map[string]any)
	lc["hidden_size"], lc["num_hidden_layers"] = 4096, 30
	b, _ = json.Marshal(cfg)
	os.WriteFile(path, b, 0o644)
	_, err := loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "7B on the CPU") || !strings.Contains(err.Error(), "GiB of RAM") ||
		!strings.Contains(err.Error(), "minutes per") || !strings.Contains(err.Error(), "force") {
		t.Fatalf("7B on CPU: %v", err)
	}
	p, err := loadDir(t, dir, Options{ForceCPU: true})
	if err != nil {
		t.Fatalf("forced: %v", err)
	}
	if p.Params != "7B" {
		t.Fatalf("params %q", p.Params)
	}
}

func TestLoadBadVariant(t *testing.T) {
	_, err := loadDir(t, tinyDir, Options{Variant: "fp64"})
	if err == nil || !strings.Contains(err.Error(), "fp64") || !strings.Contains(err.Error(), "q4f16") {
		t.Fatalf("unknown variant: %v", err)
	}
	_, err = loadDir(t, tinyDir, Options{Dtypes: map[string]string{"image_decode": "fp16"}})
	if err == nil || !strings.Contains(err.Error(), "image_decode") || !strings.Contains(err.Error(), "present: fp32") {
		t.Fatalf("absent dtype: %v", err)
	}
}

// TestFP16Variant: float16 language model and heads meet float32 graphs;
// the boundaries are converted and the results stay close to the
// reference, with the same greedy tokens.
func TestFP16Variant(t *testing.T) {
	m := readManifest(t)
	p, err := loadDir(t, tinyDir, Options{Variant: "fp16"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"language_model": "fp16", "lm_head": "fp16", "gen_head": "fp16", "gen_img_embeds": "fp16",
		"prepare_inputs_embeds": "fp32", "image_decode": "fp32"}
	for g, d := range want {
		if v := p.Layout.Components[g].Variant; v != d {
			t.Errorf("%s: variant %s, want %s", g, v, d)
		}
	}
	if len(p.Notes) != 2 || !strings.Contains(p.Notes[0], "prepare_inputs_embeds: no q4 file, using fp32") ||
		!strings.Contains(p.Notes[1], "language_model: no q4f16 file, using fp16") {
		t.Errorf("notes %q", p.Notes)
	}
	if kv := p.inputType("language_model", "past_key_values.0.key"); kv != onnx.Float16 {
		t.Fatalf("KV type %s", kv)
	}
	worst := teacherForcedT2I(t, p, m, m.T2I.Cond, m.T2I.Uncond)
	for name, d := range worst {
		t.Logf("fp16 %s: rel diff %.3g", name, d)
		if d > 1e-2 {
			t.Errorf("fp16 %s: rel diff %.3g > 1e-2", name, d)
		}
	}
	res, err := p.Generate(context.Background(), GenerateRequest{Prompt: m.T2I.Prompt, Greedy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(res.Tokens[0], m.T2I.Greedy) {
		t.Fatalf("fp16 greedy tokens %v, want %v", res.Tokens[0], m.T2I.Greedy)
	}
	cap, err := p.DescribeDetail(context.Background(), DescribeRequest{Image: captionImage(t), Question: m.Caption.Question,
		MaxTokens: m.Caption.MaxNew}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(cap.Tokens, m.Caption.Generated) {
		t.Fatalf("fp16 caption %v, want %v", cap.Tokens, m.Caption.Generated)
	}
}

func TestGenerateBadInput(t *testing.T) {
	p := loadTiny(t, Options{})
	ctx := context.Background()
	for _, prompt := range []string{"", "  \n\t "} {
		if _, err := p.Generate(ctx, GenerateRequest{Prompt: prompt}, nil); !errors.Is(err, ErrEmptyPrompt) {
			t.Errorf("prompt %q: %v", prompt, err)
		}
	}
	long := strings.Repeat("a fox ", 300)
	if _, err := p.Generate(ctx, GenerateRequest{Prompt: long}, nil); err == nil || !strings.Contains(err.Error(), "context of 512") {
		t.Errorf("long prompt: %v", err)
	}
	for _, r := range []GenerateRequest{{Temperature: -1}, {TopK: -1}, {TopP: 1.5}, {Images: -2}} {
		r.Prompt = "x"
		if _, err := p.Generate(ctx, r, nil); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}

// TestGenerateSampling checks seeding, batching, progress, previews and
// cancellation.
func TestGenerateSampling(t *testing.T) {
	p := loadTiny(t, Options{})
	ctx := context.Background()
	G := p.Dims.ImageTokens
	var reports []Progress
	res, err := p.Generate(ctx, GenerateRequest{Prompt: "a red fox", Seed: 7, Images: 3, Batch: 2, PreviewEvery: 1},
		func(pr Progress) { reports = append(reports, pr) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 3 || len(res.Tokens) != 3 || res.BatchSize != 2 {
		t.Fatalf("%d images, batch %d", len(res.Images), res.BatchSize)
	}
	if fmt.Sprint(res.Seeds) != "[7 8 9]" {
		t.Fatalf("seeds %v", res.Seeds)
	}
	// Two batches of G steps; Done counts image tokens.
	if len(reports) != 2*G || reports[len(reports)-1].Done != 3*G || reports[0].Done != 2 || reports[G].Batch != 1 {
		t.Fatalf("progress: %d reports, last %+v", len(reports), reports[len(reports)-1])
	}
	previews := 0
	for _, r := range reports {
		if r.Preview != nil {
			previews++
			if r.Token%p.Dims.ImageGrid != 0 || r.Preview.Bounds().Dx() != p.Dims.ImageSize {
				t.Fatalf("preview at token %d", r.Token)
			}
		}
		if r.TokensPerSec <= 0 || r.Total != 3*G {
			t.Fatalf("report %+v", r)
		}
	}
	if previews != 2*(p.Dims.ImageGrid-1) {
		t.Fatalf("%d previews", previews)
	}
	// An image depends on its seed only, not on its batch.
	one, err := p.Generate(ctx, GenerateRequest{Prompt: "a red fox", Seed: 9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(one.Tokens[0], res.Tokens[2]) {
		t.Fatalf("seed 9 alone %v, third of the batch %v", one.Tokens[0], res.Tokens[2])
	}
	if equalInts(res.Tokens[0], res.Tokens[1]) {
		t.Fatalf("seeds 7 and 8 gave the same tokens")
	}
	for i, b := range res.Images[2].Pix {
		if b != one.Images[0].Pix[i] {
			t.Fatal("same tokens decoded to different images")
		}
	}
	// top-k 1 is greedy.
	k1, err := p.Generate(ctx, GenerateRequest{Prompt: "a red fox", Seed: 3, TopK: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := p.Generate(ctx, GenerateRequest{Prompt: "a red fox", Greedy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(k1.Tokens[0], gr.Tokens[0]) {
		t.Fatalf("top-k 1 %v, greedy %v", k1.Tokens[0], gr.Tokens[0])
	}

	// Cancelling stops within one token.
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	_, err = p.Generate(cctx, GenerateRequest{Prompt: "a red fox", Images: 2}, func(pr Progress) {
		n++
		if pr.Token == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Fatalf("cancel at token 3: %v after %d reports", err, n)
	}
}

// TestDimsFromConfigWhenSymbolic: an export whose graphs leave sizes
// symbolic gets them from config.json / generation_config.json /
// preprocessor_config.json; without those it is an error naming the dim.
func TestDimsFromConfigWhenSymbolic(t *testing.T) {
	want := loadTiny(t, Options{}).Dims
	l, err := models.Detect(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	symbolic := func(list []onnx.TensorInfo) {
		for i := range list {
			shape := append([]onnx.Dim(nil), list[i].Shape...)
			for j := 1; j < len(shape); j++ {
				shape[j] = onnx.Dim{Value: -1, Param: "d"}
			}
			list[i].Shape = shape
		}
	}
	for g, c := range l.Components {
		c.Info.Inputs = append([]onnx.TensorInfo(nil), c.Info.Inputs...)
		c.Info.Outputs = append([]onnx.TensorInfo(nil), c.Info.Outputs...)
		symbolic(c.Info.Inputs)
		symbolic(c.Info.Outputs)
		l.Components[g] = c
	}
	p := &Pipeline{Layout: l}
	if err := p.readDims(); err != nil {
		t.Fatal(err)
	}
	got := p.Dims
	got.VisionTokens, got.Context = want.VisionTokens, want.Context // set by readConfig
	if got != want {
		t.Fatalf("dims from config %+v\nwant %+v", got, want)
	}
	delete(l.Files, "config.json")
	p = &Pipeline{Layout: l}
	err = p.readDims()
	if err == nil || !strings.Contains(err.Error(), "language_model inputs_embeds dim 2 (hidden size) is not a fixed size") {
		t.Fatalf("no config: %v", err)
	}
}
