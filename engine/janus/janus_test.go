package janus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"diptych/engine/ort"
	"diptych/engine/ort/orttest"
)

// The fixtures: a tiny random Janus in the onnx-community layout and
// references computed with transformers' PyTorch Janus on the same weights
// (testdata/janus/README.md).
var (
	tinyDir = filepath.Join("..", "..", "testdata", "janus", "tiny")
	refsDir = filepath.Join("..", "..", "testdata", "janus", "refs")
)

type manifest struct {
	Dims struct {
		Hidden      int `json:"hidden_size"`
		Layers      int `json:"num_layers"`
		KVHeads     int `json:"num_kv_heads"`
		HeadDim     int `json:"head_dim"`
		Vocab       int `json:"vocab_size"`
		ImageSize   int `json:"image_size"`
		ImageTokens int `json:"num_image_tokens"`
		Codebook    int `json:"codebook_size"`
		Decoded     int `json:"decoded_image_size"`
	} `json:"dims"`
	T2I struct {
		Prompt  string  `json:"prompt"`
		Text    string  `json:"text"`
		CFG     float32 `json:"cfg_weight"`
		Cond    []int   `json:"cond_ids"`
		Uncond  []int   `json:"uncond_ids"`
		Tokens  []int   `json:"image_tokens"`
		Greedy  []int   `json:"greedy_tokens"`
		Margins float64 `json:"min_top2_margin_cfg_logits"`
	} `json:"t2i"`
	Caption struct {
		Question  string `json:"question"`
		Text      string `json:"text"`
		MaxNew    int    `json:"max_new_tokens"`
		Generated []int  `json:"generated_ids"`
		Output    string `json:"generated_text"`
		EOS       bool   `json:"stopped_on_eos"`
		ResizedHW []int  `json:"resized_hw"`
	} `json:"caption"`
	Tokenizer []struct {
		Text    string `json:"text"`
		IDs     []int  `json:"ids"`
		Decoded string `json:"decoded_skip_special"`
	} `json:"tokenizer"`
	Arrays map[string]struct {
		File  string `json:"file"`
		Dtype string `json:"dtype"`
		Shape []int  `json:"shape"`
	} `json:"arrays"`
}

func readManifest(t testing.TB) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refsDir, "manifest.json"))
	if err != nil {
		t.Fatalf("fixtures missing: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m manifest) raw(t testing.TB, name string) []byte {
	t.Helper()
	a, ok := m.Arrays[name]
	if !ok {
		t.Fatalf("manifest has no array %s", name)
	}
	b, err := os.ReadFile(filepath.Join(refsDir, a.File))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (m manifest) f32(t testing.TB, name string) []float32 {
	b := m.raw(t, name)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func (m manifest) i64(t testing.TB, name string) []int {
	b := m.raw(t, name)
	out := make([]int, len(b)/8)
	for i := range out {
		out[i] = int(int64(binary.LittleEndian.Uint64(b[8*i:])))
	}
	return out
}

// relDiff is max|got-want| / max|want|, the fixtures' measure.
func relDiff(t testing.TB, got, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("length %d, want %d", len(got), len(want))
	}
	var d, m float64
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = max(m, math.Abs(float64(want[i])))
	}
	return d / m
}

func testRuntime(t testing.TB) *ort.Runtime { return orttest.Runtime(t) }

func loadTiny(t testing.TB, o Options) *Pipeline {
	t.Helper()
	o.Runtime = testRuntime(t)
	if o.Device.Kind == "" && o.Placement.Provider == "" {
		o.Device = ort.Device{Kind: "cpu"}
	}
	if o.IntraOpThreads == 0 {
		o.IntraOpThreads = 1
	}
	p, err := Load(tinyDir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoadReadsDimsFromGraphs(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	d := p.Dims
	want := Dims{Hidden: m.Dims.Hidden, Layers: m.Dims.Layers, KVHeads: m.Dims.KVHeads, HeadDim: m.Dims.HeadDim,
		Vocab: m.Dims.Vocab, Codebook: m.Dims.Codebook, ImageTokens: m.Dims.ImageTokens, ImageGrid: 4,
		ImageSize: m.Dims.Decoded, VisionSize: m.Dims.ImageSize, VisionTokens: m.Dims.ImageTokens, Context: 512}
	if d != want {
		t.Fatalf("dims = %+v\nwant   %+v", d, want)
	}
	for g, f := range p.Files() {
		if filepath.Ext(f) != ".onnx" || filepath.Base(f) != g+".onnx" {
			t.Errorf("default file for %s = %s, want the fp32 %s.onnx", g, f, g)
		}
	}
	if p.Placement.OnGPU() {
		t.Fatalf("placement %v, asked for the CPU", p.Placement)
	}
}

// TestT2ITeacherForcing feeds the fixture's fixed image tokens and compares
// the conditional, unconditional and CFG logits of every step with
// transformers' (1e-4 relative).
func TestT2ITeacherForcing(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	text, cond, uncond, err := p.cfgRows(m.T2I.Prompt)
	if err != nil {
		t.Fatal(err)
	}
	if text != m.T2I.Text || !equalInts(cond, m.T2I.Cond) || !equalInts(uncond, m.T2I.Uncond) {
		t.Fatalf("prompt:\n%q %v %v\nwant\n%q %v %v", text, cond, uncond, m.T2I.Text, m.T2I.Cond, m.T2I.Uncond)
	}
	ids := m.i64(t, "t2i_input_ids")
	if !equalInts(ids, append(append([]int{}, cond...), uncond...)) {
		t.Fatalf("t2i_input_ids differ from the manifest's cond/uncond ids")
	}
	worst := teacherForcedT2I(t, p, m, cond, uncond)
	for name, d := range worst {
		t.Logf("%s: rel diff %.3g", name, d)
		if d > 1e-4 {
			t.Errorf("%s: rel diff %.3g > 1e-4", name, d)
		}
	}
}

// teacherForcedT2I runs the CFG pair through the fixture's token sequence
// and returns the relative differences per reference array.
func teacherForcedT2I(t *testing.T, p *Pipeline, m manifest, cond, uncond []int) map[string]float64 {
	ctx := context.Background()
	D, C := p.Dims.Hidden, p.Dims.Codebook
	embeds, err := p.embed(ctx, [][]int{cond, uncond}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{"t2i_prompt_embeds": relDiff(t, embeds, m.f32(t, "t2i_prompt_embeds"))}
	lm, err := p.newLMRun(2)
	if err != nil {
		t.Fatal(err)
	}
	defer lm.close()
	hidden, err := lm.step(ctx, embeds, len(cond))
	if err != nil {
		t.Fatal(err)
	}
	out["t2i_prefill_last_hidden"] = relDiff(t, hidden, m.f32(t, "t2i_prefill_last_hidden"))
	var gc, gu, gcfg []float32
	for i, tok := range m.T2I.Tokens {
		logits, err := p.head(ctx, "gen_head", hidden, 2)
		if err != nil {
			t.Fatal(err)
		}
		c, u := logits[:C], logits[C:]
		gc, gu = append(gc, c...), append(gu, u...)
		for k := range c {
			gcfg = append(gcfg, u[k]+m.T2I.CFG*(c[k]-u[k]))
		}
		if i == len(m.T2I.Tokens)-1 {
			break
		}
		emb, err := p.genEmbeds(ctx, []int64{int64(tok), int64(tok)})
		if err != nil {
			t.Fatal(err)
		}
		if len(emb) != 2*D {
			t.Fatalf("gen_img_embeds: %d values", len(emb))
		}
		if hidden, err = lm.step(ctx, emb, 1); err != nil {
			t.Fatal(err)
		}
	}
	out["t2i_cond_logits"] = relDiff(t, gc, m.f32(t, "t2i_cond_logits"))
	out["t2i_uncond_logits"] = relDiff(t, gu, m.f32(t, "t2i_uncond_logits"))
	out["t2i_cfg_logits"] = relDiff(t, gcfg, m.f32(t, "t2i_cfg_logits"))
	return out
}

// TestGenerateGreedyParity: argmax-CFG generation must give transformers'
// tokens exactly, and its image must be the decode of those tokens.
func TestGenerateGreedyParity(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	res, err := p.Generate(context.Background(), GenerateRequest{Prompt: m.T2I.Prompt, Greedy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(res.Tokens[0], m.T2I.Greedy) {
		t.Fatalf("greedy tokens %v\nwant          %v", res.Tokens[0], m.T2I.Greedy)
	}
	if len(res.Images) != 1 || res.Images[0].Bounds().Dx() != m.Dims.Decoded {
		t.Fatalf("images: %d", len(res.Images))
	}
	if res.PromptTokens != len(m.T2I.Cond) || res.Text != m.T2I.Text {
		t.Fatalf("prompt %q (%d tokens)", res.Text, res.PromptTokens)
	}
}

// TestDecodeParity decodes the fixture's token grid: float output within
// 1e-4 relative of PyTorch's, 8-bit pixels within 2/255.
func TestDecodeParity(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	tokens := m.i64(t, "decode_tokens")
	f, err := p.decode(context.Background(), [][]int{tokens})
	if err != nil {
		t.Fatal(err)
	}
	if d := relDiff(t, f, m.f32(t, "decode_image_f32")); d > 1e-4 {
		t.Fatalf("decoded image rel diff %.3g > 1e-4", d)
	} else {
		t.Logf("decoded image float rel diff %.3g", d)
	}
	imgs, err := p.DecodeTokens(context.Background(), [][]int{tokens})
	if err != nil {
		t.Fatal(err)
	}
	want := m.raw(t, "decode_image_u8")
	S := m.Dims.Decoded
	worst, off := 0, 0
	for y := 0; y < S; y++ {
		for x := 0; x < S; x++ {
			for c := 0; c < 3; c++ {
				got := int(imgs[0].Pix[imgs[0].PixOffset(x, y)+c])
				ref := int(want[(y*S+x)*3+c])
				if d := abs(got - ref); d > 0 {
					off++
					worst = max(worst, d)
				}
			}
		}
	}
	t.Logf("uint8 image: %d of %d values differ, by at most %d", off, 3*S*S, worst)
	if worst > 2 {
		t.Fatalf("uint8 image differs by %d/255 (> 2)", worst)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestGenerateSampledParity: seeded sampling must draw the tokens that the
// reference loop draws with torch.manual_seed (testdata/sampled_ref.py).
func TestGenerateSampledParity(t *testing.T) {
	m := readManifest(t)
	b, err := os.ReadFile(filepath.Join("testdata", "sampled_ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Prompt string  `json:"prompt"`
		CFG    float32 `json:"cfg"`
		Cases  []struct {
			Seed        uint64  `json:"seed"`
			Temperature float32 `json:"temperature"`
			Tokens      []int   `json:"tokens"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Prompt != m.T2I.Prompt {
		t.Fatalf("sampled_ref.json was made for another prompt")
	}
	p := loadTiny(t, Options{})
	for _, c := range ref.Cases {
		res, err := p.Generate(context.Background(), GenerateRequest{Prompt: ref.Prompt, CFG: ref.CFG, Seed: c.Seed,
			Temperature: c.Temperature}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(res.Tokens[0], c.Tokens) {
			t.Errorf("seed %d temperature %g: tokens %v\nwant %v", c.Seed, c.Temperature, res.Tokens[0], c.Tokens)
		}
	}
}
