package janus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diptych/engine/models"
	"diptych/engine/ort"
)

// Layout hardening (issue #12 item 5): tiny variants of the committed
// fixture, made by copying and patching it, for what full-size exports do
// differently.

// --- a minimal protobuf writer for ONNX fixtures ---

func pbVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func pbKey(b []byte, field, wire int) []byte { return pbVarint(b, uint64(field<<3|wire)) }

func pbBytes(b []byte, field int, v []byte) []byte {
	b = pbKey(b, field, 2)
	b = pbVarint(b, uint64(len(v)))
	return append(b, v...)
}

func pbInt(b []byte, field int, v int64) []byte {
	b = pbKey(b, field, 0)
	return pbVarint(b, uint64(v))
}

// pbValueInfo encodes a ValueInfoProto: dims > 0 are fixed, strings symbolic.
func pbValueInfo(name string, elem int64, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch d := d.(type) {
		case int:
			dim = pbInt(nil, 1, int64(d))
		case string:
			dim = pbBytes(nil, 2, []byte(d))
		}
		shape = pbBytes(shape, 1, dim)
	}
	tt := pbInt(nil, 1, elem)
	if dims != nil {
		tt = pbBytes(tt, 2, shape)
	}
	typ := pbBytes(nil, 1, tt)
	return pbBytes(pbBytes(nil, 1, []byte(name)), 2, typ)
}

// pbFields splits a message into its top-level (field, wire, raw bytes).
type pbField struct {
	num, wire int
	raw       []byte // the whole field, key included
	payload   []byte // length-delimited payload
}

func pbSplit(t *testing.T, b []byte) []pbField {
	t.Helper()
	var out []pbField
	for i := 0; i < len(b); {
		start := i
		key, n := binary.Uvarint(b[i:])
		if n <= 0 {
			t.Fatal("bad protobuf key")
		}
		i += n
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			_, n = binary.Uvarint(b[i:])
			i += n
		case 1:
			i += 8
		case 5:
			i += 4
		case 2:
			l, n := binary.Uvarint(b[i:])
			i += n
			f.payload = b[i : i+int(l)]
			i += int(l)
		default:
			t.Fatalf("wire type %d", f.wire)
		}
		f.raw = b[start:i]
		out = append(out, f)
	}
	return out
}

// addGraphInputs appends inputs (ValueInfoProtos) to the graph of the
// .onnx file at path.
func addGraphInputs(t *testing.T, path string, inputs ...[]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, f := range pbSplit(t, b) {
		if f.num != 7 || f.wire != 2 {
			out = append(out, f.raw...)
			continue
		}
		g := append([]byte(nil), f.payload...)
		for _, in := range inputs {
			g = pbBytes(g, 11, in)
		}
		out = pbBytes(out, 7, g)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// setGraphInput replaces the declared type of input name in the graph of
// the .onnx file at path.
func setGraphInput(t *testing.T, path, name string, vi []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	replaced := false
	for _, f := range pbSplit(t, b) {
		if f.num != 7 || f.wire != 2 {
			out = append(out, f.raw...)
			continue
		}
		var g []byte
		for _, gf := range pbSplit(t, f.payload) {
			if gf.num == 11 && gf.wire == 2 {
				for _, vf := range pbSplit(t, gf.payload) {
					if vf.num == 1 && string(vf.payload) == name {
						g = pbBytes(g, 11, vi)
						replaced = true
						goto next
					}
				}
			}
			g = append(g, gf.raw...)
		next:
		}
		out = pbBytes(out, 7, g)
	}
	if !replaced {
		t.Fatalf("%s has no input %s", path, name)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeEmbedTokens writes onnx/embed_tokens.onnx: Gather(table, input_ids)
// with table [V,D] float32.
func writeEmbedTokens(t *testing.T, dir string, table []float32, V, D int) {
	t.Helper()
	raw := make([]byte, 4*len(table))
	for i, v := range table {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	tensor := pbInt(nil, 1, int64(V))
	tensor = pbInt(tensor, 1, int64(D))
	tensor = pbInt(tensor, 2, 1) // FLOAT
	tensor = pbBytes(tensor, 8, []byte("embed_tokens.weight"))
	tensor = pbBytes(tensor, 9, raw)
	node := pbBytes(nil, 1, []byte("embed_tokens.weight"))
	node = pbBytes(node, 1, []byte("input_ids"))
	node = pbBytes(node, 2, []byte("inputs_embeds"))
	node = pbBytes(node, 3, []byte("gather"))
	node = pbBytes(node, 4, []byte("Gather"))
	g := pbBytes(nil, 1, node)
	g = pbBytes(g, 2, []byte("embed_tokens"))
	g = pbBytes(g, 5, tensor)
	g = pbBytes(g, 11, pbValueInfo("input_ids", 7, "batch_size", "sequence_length"))
	g = pbBytes(g, 12, pbValueInfo("inputs_embeds", 1, "batch_size", "sequence_length", D))
	m := pbInt(nil, 1, 8) // ir_version
	m = pbBytes(m, 7, g)
	m = pbBytes(m, 8, pbInt(nil, 2, 17)) // opset 17
	if err := os.WriteFile(filepath.Join(dir, "onnx", "embed_tokens.onnx"), m, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	b, _ = json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImageTokensFromProcessorConfig: an export whose generation_config.json
// lacks num_image_tokens (and whose image_decode leaves it symbolic) takes
// it from processor_config.json.
func TestImageTokensFromProcessorConfig(t *testing.T) {
	dir := copyTiny(t, nil)
	setGraphInput(t, filepath.Join(dir, "onnx", "image_decode.onnx"), "generated_tokens",
		pbValueInfo("generated_tokens", 7, "batch_size", "num_image_tokens"))
	editJSON(t, filepath.Join(dir, "generation_config.json"), func(m map[string]any) { delete(m, "num_image_tokens") })
	p, err := loadDir(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Dims.ImageTokens != 16 || p.Dims.ImageGrid != 4 {
		t.Fatalf("image tokens %d grid %d, want 16 and 4", p.Dims.ImageTokens, p.Dims.ImageGrid)
	}
	// Without it in either file, the symbolic dimension is reported.
	editJSON(t, filepath.Join(dir, "processor_config.json"), func(m map[string]any) { delete(m, "num_image_tokens") })
	if _, err := loadDir(t, dir, Options{}); err == nil || !strings.Contains(err.Error(), "image tokens") {
		t.Fatalf("no num_image_tokens anywhere: %v", err)
	}
}

// TestOptionalLMInputs: a language model that also declares
// num_logits_to_keep and cache_position loads and gives the same tokens
// (fed their documented defaults); an unknown extra input is named.
func TestOptionalLMInputs(t *testing.T) {
	m := readManifest(t)
	dir := copyTiny(t, nil)
	lm := filepath.Join(dir, "onnx", "language_model.onnx")
	addGraphInputs(t, lm, pbValueInfo("num_logits_to_keep", 7), pbValueInfo("cache_position", 7, "sequence_length"))
	p, err := loadDir(t, dir, Options{WriteGraphIO: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.lmOptional, ",") != "num_logits_to_keep,cache_position" {
		t.Fatalf("optional inputs %v", p.lmOptional)
	}
	res, err := p.Generate(context.Background(), GenerateRequest{Prompt: m.T2I.Prompt, Greedy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(res.Tokens[0], m.T2I.Greedy) {
		t.Fatalf("greedy tokens %v\nwant          %v", res.Tokens[0], m.T2I.Greedy)
	}
	// graph_io.json lists every graph file's I/O, the optional ones marked.
	b, err := os.ReadFile(filepath.Join(dir, GraphIOName))
	if err != nil {
		t.Fatal(err)
	}
	var rep GraphIOReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, gi := range rep.Graphs["language_model"] {
		if gi.File == "onnx/language_model.onnx" {
			found = strings.Join(gi.Optional, ",") == "position_ids,num_logits_to_keep,cache_position" &&
				strings.Contains(strings.Join(gi.Inputs, " "), "cache_position int64[sequence_length]")
		}
	}
	if !found || len(rep.Graphs["image_decode"]) != 1 || len(rep.Graphs["gen_head"]) != 2 {
		t.Fatalf("graph_io.json (found %v): %+v", found, rep.Graphs["language_model"])
	}

	addGraphInputs(t, lm, pbValueInfo("token_type_ids", 7, "batch_size", "sequence_length"))
	_, err = loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "token_type_ids int64[batch_size,sequence_length]") ||
		!strings.Contains(err.Error(), "num_logits_to_keep") {
		t.Fatalf("unknown LM input: %v", err)
	}
	// Another graph with an input Diptych does not feed is refused too.
	dir = copyTiny(t, nil)
	addGraphInputs(t, filepath.Join(dir, "onnx", "gen_head.onnx"), pbValueInfo("temperature", 1))
	_, err = loadDir(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "graph gen_head") || !strings.Contains(err.Error(), "temperature float32[]") {
		t.Fatalf("extra gen_head input: %v", err)
	}
}

// embedTable reads the text embedding table out of prepare_inputs_embeds.
func embedTable(t *testing.T, p *Pipeline) []float32 {
	t.Helper()
	ids := make([]int, p.Dims.Vocab)
	for i := range ids {
		ids[i] = i
	}
	table, err := p.embed(context.Background(), [][]int{ids}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// TestEmbedTokensGraph: with an embed_tokens graph in the folder,
// text-to-image uses it and loads neither prepare_inputs_embeds nor lm_head;
// Describe loads them on first use and embeds its decode steps with
// embed_tokens; the results are the reference ones.
func TestEmbedTokensGraph(t *testing.T) {
	m := readManifest(t)
	ref := loadTiny(t, Options{})
	table := embedTable(t, ref)
	dir := copyTiny(t, nil)
	writeEmbedTokens(t, dir, table, ref.Dims.Vocab, ref.Dims.Hidden)
	p, err := loadDir(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Loaded(), ","); got != "language_model,gen_head,gen_img_embeds,image_decode,embed_tokens" {
		t.Fatalf("loaded for text-to-image: %s", got)
	}
	res, err := p.Generate(context.Background(), GenerateRequest{Prompt: m.T2I.Prompt, Greedy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(res.Tokens[0], m.T2I.Greedy) {
		t.Fatalf("greedy tokens %v\nwant          %v", res.Tokens[0], m.T2I.Greedy)
	}
	if got := strings.Join(p.Loaded(), ","); strings.Contains(got, "lm_head") || strings.Contains(got, "prepare_inputs_embeds") {
		t.Fatalf("text-to-image loaded %s", got)
	}
	d, err := p.DescribeDetail(context.Background(), DescribeRequest{Image: captionImage(t), Question: m.Caption.Question,
		MaxTokens: m.Caption.MaxNew}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(d.Tokens, m.Caption.Generated) {
		t.Fatalf("caption ids %v\nwant        %v", d.Tokens, m.Caption.Generated)
	}
	if got := strings.Join(p.Loaded(), ","); !strings.Contains(got, "lm_head") || !strings.Contains(got, "prepare_inputs_embeds") {
		t.Fatalf("after Describe loaded %s", got)
	}
	// A wrong-width embed_tokens is named at load.
	writeEmbedTokens(t, dir, table[:ref.Dims.Vocab*(ref.Dims.Hidden/2)], ref.Dims.Vocab, ref.Dims.Hidden/2)
	if _, err := loadDir(t, dir, Options{}); err == nil || !strings.Contains(err.Error(), "embed_tokens returns hidden size") {
		t.Fatalf("narrow embed_tokens: %v", err)
	}
}

// TestEmbedOnCPU: the embedders are placed on the CPU while the rest goes
// where the language model is (wiring checked with a CUDA placement that is
// only recorded, never opened).
func TestEmbedOnCPU(t *testing.T) {
	p, err := loadDir(t, tinyDir, Options{EmbedOnCPU: true})
	if err != nil {
		t.Fatal(err)
	}
	for g, pl := range p.GraphPlacement {
		if pl.Provider != ort.ProviderCPU {
			t.Fatalf("%s on %s", g, pl)
		}
	}
	cuda := ort.Placement{Requested: ort.Device{Kind: "cuda"}, Provider: ort.ProviderCUDA}
	q := &Pipeline{Placement: cuda, opts: Options{EmbedOnCPU: true}}
	for g, want := range map[string]string{"prepare_inputs_embeds": ort.ProviderCPU, "embed_tokens": ort.ProviderCPU,
		"language_model": ort.ProviderCUDA, "gen_head": ort.ProviderCUDA, "image_decode": ort.ProviderCUDA} {
		if got := q.placementFor(g).Provider; got != want {
			t.Errorf("%s placed on %s, want %s", g, got, want)
		}
	}
	q.opts.EmbedOnCPU = false
	if got := q.placementFor("prepare_inputs_embeds").Provider; got != ort.ProviderCUDA {
		t.Errorf("without the option prepare_inputs_embeds goes to %s", got)
	}
	// Only the CPU-placed embedders count against RAM on a GPU.
	if gs := q.hostGraphs([]string{"language_model", "prepare_inputs_embeds"}); len(gs) != 0 {
		t.Errorf("host graphs on a GPU without the option: %v", gs)
	}
	q.opts.EmbedOnCPU = true
	if gs := q.hostGraphs([]string{"language_model", "prepare_inputs_embeds"}); strings.Join(gs, ",") != "prepare_inputs_embeds" {
		t.Errorf("host graphs with EmbedOnCPU: %v", gs)
	}
}

// TestTableEmbed: text-only tokens are read from prepare_inputs_embeds'
// token table on disk, so text-to-image never loads that graph; the rows are
// exactly what the graph returns.
func TestTableEmbed(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	if p.textEmbedder() != "table" {
		t.Fatalf("text embedder %s", p.textEmbedder())
	}
	if got := strings.Join(p.Loaded(), ","); got != "language_model,gen_head,gen_img_embeds,image_decode" {
		t.Fatalf("loaded %s", got)
	}
	g := loadTiny(t, Options{GraphEmbed: true})
	ids := [][]int{m.T2I.Cond, m.T2I.Uncond}
	a, err := p.embed(context.Background(), ids, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.embed(context.Background(), ids, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d vs %d values", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d: table %g, graph %g", i, a[i], b[i])
		}
	}
	res, err := p.Generate(context.Background(), GenerateRequest{Prompt: m.T2I.Prompt, Greedy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(res.Tokens[0], m.T2I.Greedy) {
		t.Fatalf("greedy tokens %v\nwant          %v", res.Tokens[0], m.T2I.Greedy)
	}
	if strings.Contains(strings.Join(p.Loaded(), ","), "prepare_inputs_embeds") {
		t.Fatal("text-to-image loaded prepare_inputs_embeds")
	}
	if _, err := p.embed(context.Background(), [][]int{{1 << 30}}, nil, nil); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("id past the table: %v", err)
	}
}

// TestImageDecodeStaysFP32: no combination and no single dtype puts the
// image decoder below fp32; asking for it by graph is refused.
func TestImageDecodeStaysFP32(t *testing.T) {
	for _, c := range models.JanusCombos() {
		if d := c.Dtypes["image_decode"]; d != "fp32" {
			t.Errorf("combination %s offers image_decode %s", c.Name, d)
		}
	}
	dir := copyTiny(t, nil)
	// A q4f16 decoder in the folder (a copy of the fp32 one) is not chosen.
	b, _ := os.ReadFile(filepath.Join(dir, "onnx", "image_decode.onnx"))
	os.WriteFile(filepath.Join(dir, "onnx", "image_decode_q4f16.onnx"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "onnx", "image_decode_fp16.onnx"), b, 0o644)
	for _, v := range []string{"q4f16", "fp16"} {
		p, err := loadDir(t, dir, Options{Variant: v})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Layout.Components["image_decode"].Variant; got != "fp32" {
			t.Errorf("variant %s: image_decode %s", v, got)
		}
	}
	_, err := loadDir(t, dir, Options{Dtypes: map[string]string{"image_decode": "q4f16"}})
	if err == nil || !strings.Contains(err.Error(), "fp32 only") {
		t.Fatalf("image_decode q4f16 asked for: %v", err)
	}
}

// TestMemoryRefusal: too little available RAM (an injected value) is
// refused before any session loads, with the estimate, what is available
// and which combinations of the folder would fit.
func TestMemoryRefusal(t *testing.T) {
	ref := loadTiny(t, Options{})
	fp32 := ref.estimate(ref.Layout, append(append([]string{}, t2iGraphs...), textEmbedderOf(ref.Layout)))
	l16, _, err := chooseVariant(ref.Layout, "fp16", nil)
	if err != nil {
		t.Fatal(err)
	}
	fp16 := ref.estimate(l16, append(append([]string{}, t2iGraphs...), textEmbedderOf(l16)))
	if fp16.Total >= fp32.Total {
		t.Fatalf("fp16 estimate %d not below fp32 %d", fp16.Total, fp32.Total)
	}
	avail := (fp16.Total + fp32.Total) / 2
	_, err = loadDir(t, tinyDir, Options{AvailableMemory: func() int64 { return avail }})
	var me *MemoryError
	if !errors.As(err, &me) {
		t.Fatalf("want a MemoryError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"needs about", "GiB of weights", "available", "what would fit: --variant fp16"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q lacks %q", msg, want)
		}
	}
	if me.Available != avail || me.Estimate.Total != fp32.Total {
		t.Errorf("estimate %d available %d", me.Estimate.Total, me.Available)
	}
	// With nothing that fits it says so; forced, it loads; with enough, too.
	_, err = loadDir(t, tinyDir, Options{AvailableMemory: func() int64 { return 1 << 20 }})
	if err == nil || !strings.Contains(err.Error(), "no combination in this folder fits") {
		t.Fatalf("1 MiB available: %v", err)
	}
	if _, err := loadDir(t, tinyDir, Options{AvailableMemory: func() int64 { return 1 << 20 }, IgnoreMemory: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := loadDir(t, tinyDir, Options{Variant: "fp16", AvailableMemory: func() int64 { return avail }}); err != nil {
		t.Fatal(err)
	}
}
