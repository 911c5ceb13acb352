package models

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDetectSDXLBase(t *testing.T) {
	dir := t.TempDir()
	makeSDXL(t, dir, 2048)
	l, err := Detect(dir)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if l.Kind != KindSDXLBase {
		t.Fatalf("kind = %q, want %q", l.Kind, KindSDXLBase)
	}
	want := []string{"text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder"}
	if got := l.ComponentNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("components = %v, want %v", got, want)
	}
	unet := l.Components["unet"]
	if unet.Model != filepath.Join(dir, "unet", "model.onnx") {
		t.Errorf("unet model = %s", unet.Model)
	}
	if len(unet.Data) != 1 || unet.Data[0] != filepath.Join(dir, "unet", "model.onnx_data") {
		t.Errorf("unet data = %v, want unet/model.onnx_data", unet.Data)
	}
	if len(l.Components["text_encoder"].Data) != 0 {
		t.Errorf("text_encoder has inline weights, got data %v", l.Components["text_encoder"].Data)
	}
	if l.Files["tokenizer_2/merges.txt"] == "" || l.Files["scheduler/scheduler_config.json"] == "" {
		t.Errorf("support files not recorded: %v", l.Files)
	}
	if probs := Check(l); len(probs) != 0 {
		t.Errorf("Check: %v", probs)
	}
}

func TestDetectSDXLRefinerAndDotDataSidecar(t *testing.T) {
	dir := t.TempDir()
	makeSDXL(t, dir, 1280)
	// The OnnxStack naming: external data in model.onnx.data.
	os.Remove(filepath.Join(dir, "unet", "model.onnx_data"))
	writeONNX(t, filepath.Join(dir, "unet/model.onnx"),
		[]tio{{"sample", f32, []any{"batch", 4, "h", "w"}}, {"timestep", f32, nil},
			{"encoder_hidden_states", f32, []any{"batch", 77, 1280}}, {"text_embeds", f32, []any{"batch", 1280}},
			{"time_ids", f32, []any{"batch", 5}}},
		[]tio{{"out_sample", f32, []any{"batch", 4, "h", "w"}}}, "model.onnx.data")
	l, err := Detect(dir)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if l.Kind != KindSDXLRefiner {
		t.Fatalf("kind = %q, want refiner", l.Kind)
	}
	if _, ok := l.Components["text_encoder"]; ok {
		t.Error("refiner should have no text_encoder")
	}
	if got := l.Components["unet"].Data; len(got) != 1 || filepath.Base(got[0]) != "model.onnx.data" {
		t.Errorf("unet data = %v, want model.onnx.data", got)
	}
	if probs := Check(l); len(probs) != 0 {
		t.Errorf("Check: %v", probs)
	}
}

func TestDetectHalfDownloadedSDXL(t *testing.T) {
	dir := t.TempDir()
	makeSDXL(t, dir, 2048)
	os.Remove(filepath.Join(dir, "unet", "model.onnx_data"))
	os.Remove(filepath.Join(dir, "tokenizer_2", "merges.txt"))
	writeFile(t, filepath.Join(dir, "unet", "model.onnx_data.part"), []byte("half"))
	l, err := Detect(dir)
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("Detect error = %v, want *LayoutError", err)
	}
	if le.Kind != KindSDXLBase || l.Kind != KindSDXLBase {
		t.Errorf("kind = %q/%q, want base", le.Kind, l.Kind)
	}
	want := []string{"unet/model.onnx_data", "tokenizer_2/merges.txt"}
	if !reflect.DeepEqual(le.Missing, want) {
		t.Errorf("missing = %v, want %v", le.Missing, want)
	}
	msg := err.Error()
	for _, s := range []string{"incomplete sdxl-base", "interrupted", "unet/model.onnx_data.part", "expected:", "found:"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
}

func TestDetectTruncatedGraph(t *testing.T) {
	dir := t.TempDir()
	makeSDXL(t, dir, 2048)
	p := filepath.Join(dir, "vae_decoder", "model.onnx")
	b, _ := os.ReadFile(p)
	writeFile(t, p, b[:len(b)/2])
	_, err := Detect(dir)
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("Detect error = %v, want *LayoutError", err)
	}
	if !reflect.DeepEqual(le.Missing, []string{"vae_decoder/model.onnx"}) || len(le.Problems) != 1 ||
		!strings.Contains(le.Problems[0], "vae_decoder/model.onnx does not read as ONNX") {
		t.Errorf("missing %v problems %v", le.Missing, le.Problems)
	}
}

func TestDetectSD15(t *testing.T) {
	dir := t.TempDir()
	writeONNX(t, filepath.Join(dir, "unet/model.onnx"),
		[]tio{{"sample", f32, []any{"b", 4, "h", "w"}}, {"encoder_hidden_states", f32, []any{"b", 77, 768}}},
		[]tio{{"out_sample", f32, []any{"b", 4, "h", "w"}}}, "")
	writeONNX(t, filepath.Join(dir, "text_encoder/model.onnx"), []tio{{"input_ids", i32, []any{"b", 77}}},
		[]tio{{"last_hidden_state", f32, []any{"b", 77, 768}}}, "")
	writeONNX(t, filepath.Join(dir, "vae_decoder/model.onnx"), []tio{{"latent_sample", f32, []any{"b", 4, "h", "w"}}},
		[]tio{{"sample", f32, []any{"b", 3, "H", "W"}}}, "")
	writeFile(t, filepath.Join(dir, "unet/config.json"), []byte(`{"cross_attention_dim": 768}`))
	writeFile(t, filepath.Join(dir, "tokenizer/vocab.json"), []byte(`{}`))
	_, err := Detect(dir)
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("Detect error = %v, want *LayoutError", err)
	}
	if le.Kind != "" || !strings.Contains(err.Error(), "Stable Diffusion 1.x/2.x") ||
		!strings.Contains(err.Error(), "text_encoder_2/model.onnx") || !strings.Contains(err.Error(), "unet/") {
		t.Errorf("error = %v", err)
	}
}

func TestDetectRandomFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "holiday.jpg"), []byte("x"))
	writeFile(t, filepath.Join(dir, "notes/todo.txt"), []byte("x"))
	_, err := Detect(dir)
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("Detect error = %v, want *LayoutError", err)
	}
	if !reflect.DeepEqual(le.Found, []string{"holiday.jpg", "notes/"}) {
		t.Errorf("found = %v", le.Found)
	}
	for _, s := range []string{"not an SDXL or Janus-Pro", "SDXL base: text_encoder/model.onnx", "Janus-Pro: onnx/"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if _, err := Detect(filepath.Join(dir, "holiday.jpg")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("Detect(file) = %v", err)
	}
}

func TestDetectJanus1BVariants(t *testing.T) {
	dir := t.TempDir()
	makeJanus(t, dir, "1B", JanusCombos()[0].Dtypes)
	// A second variant of two graphs.
	makeJanus(t, dir, "1B", map[string]string{"language_model": "q4f16", "gen_head": "fp16"})
	l, err := Detect(dir)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if l.Kind != KindJanus || l.Params != "1B" {
		t.Fatalf("kind %q params %q, want janus 1B", l.Kind, l.Params)
	}
	for g, dtype := range JanusCombos()[0].Dtypes {
		if c := l.Components[g]; c.Variant != dtype {
			t.Errorf("default %s = %q, want %q", g, c.Variant, dtype)
		}
	}
	if got := l.Components["language_model"].Model; got != filepath.Join(dir, "onnx", "language_model_q4.onnx") {
		t.Errorf("language_model path = %s", got)
	}
	var lm []string
	for _, c := range l.Variants["language_model"] {
		lm = append(lm, c.Variant)
	}
	if !reflect.DeepEqual(lm, []string{"q4", "q4f16"}) {
		t.Errorf("language_model variants = %v", lm)
	}
	sel, err := l.Select(map[string]string{"language_model": "q4f16", "gen_head": "fp16"})
	if err != nil {
		t.Fatal(err)
	}
	if sel.Components["language_model"].Variant != "q4f16" || sel.Components["gen_head"].Variant != "fp16" ||
		l.Components["language_model"].Variant != "q4" {
		t.Errorf("Select did not pick the variants or changed the original")
	}
	if _, err := l.Select(map[string]string{"lm_head": "q4f16"}); err == nil || !strings.Contains(err.Error(), "present: fp32") {
		t.Errorf("Select missing variant = %v", err)
	}
	if probs := Check(l); len(probs) != 0 {
		t.Errorf("Check: %v", probs)
	}
}

func TestDetectJanus7BAndMissingGraph(t *testing.T) {
	dir := t.TempDir()
	dt := JanusCombos()[0].Dtypes
	delete(dt, "gen_img_embeds")
	makeJanus(t, dir, "7B", dt)
	l, err := Detect(dir)
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("Detect error = %v, want *LayoutError", err)
	}
	if l.Params != "7B" || le.Kind != KindJanus {
		t.Errorf("params %q kind %q", l.Params, le.Kind)
	}
	if !reflect.DeepEqual(le.Missing, []string{"onnx/gen_img_embeds.onnx (any dtype)"}) {
		t.Errorf("missing = %v", le.Missing)
	}
}

func TestCheckFindsWrongTypes(t *testing.T) {
	dir := t.TempDir()
	makeSDXL(t, dir, 2048)
	// A UNet with float64 sample and a refiner-sized time_ids in a base folder.
	writeONNX(t, filepath.Join(dir, "unet/model.onnx"),
		[]tio{{"sample", 11, []any{"batch", 4, "h", "w"}}, {"timestep", i64, []any{1}},
			{"encoder_hidden_states", f32, []any{"batch", 77, 2048}}, {"text_embeds", f32, []any{"batch", 1280}},
			{"time_ids", f32, []any{"batch", 5}}},
		[]tio{{"noise", f32, []any{"batch", 4, "h", "w"}}}, "model.onnx_data")
	l, err := Detect(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"unet/model.onnx: input sample is float64, expected float32 or float16",
		"unet/model.onnx: input time_ids has last axis 5, expected 6",
		"unet/model.onnx: no output out_sample (has noise)",
	}
	if got := Check(l); !reflect.DeepEqual(got, want) {
		t.Errorf("Check = %q\nwant %q", got, want)
	}

	// A CLIP-L encoder of the wrong width no longer adds up to the UNet's
	// cross-attention width; a text encoder without per-layer outputs is
	// unusable.
	writeONNX(t, filepath.Join(dir, "text_encoder/model.onnx"),
		[]tio{{"input_ids", i64, []any{"b", "s"}}}, []tio{{"hidden_states.12", f32, []any{"b", "s", 1024}}}, "")
	writeONNX(t, filepath.Join(dir, "text_encoder_2/model.onnx"),
		[]tio{{"input_ids", i64, []any{"b", "s"}}}, []tio{{"text_embeds", f32, []any{"b", 1280}}, {"last_hidden_state", f32, []any{"b", "s", 1280}}}, "model.onnx_data")
	makeSDXLUnet(t, dir, 2048, 6)
	if l, err = Detect(dir); err != nil {
		t.Fatal(err)
	}
	want = []string{"text_encoder_2/model.onnx: no output hidden_states.N (has text_embeds, last_hidden_state)"}
	if got := Check(l); !reflect.DeepEqual(got, want) {
		t.Errorf("Check = %q\nwant %q", got, want)
	}
	writeONNX(t, filepath.Join(dir, "text_encoder_2/model.onnx"),
		[]tio{{"input_ids", i64, []any{"b", "s"}}}, []tio{{"text_embeds", f32, []any{"b", 1280}}, {"hidden_states.31", f32, []any{"b", "s", 1280}}}, "model.onnx_data")
	if l, err = Detect(dir); err != nil {
		t.Fatal(err)
	}
	want = []string{"unet/model.onnx: input encoder_hidden_states has last axis 2048, expected 2304 (text_encoder 1024 + text_encoder_2 1280)"}
	if got := Check(l); !reflect.DeepEqual(got, want) {
		t.Errorf("Check = %q\nwant %q", got, want)
	}
}

func makeSDXLUnet(t *testing.T, dir string, crossDim, timeIDs int) {
	writeONNX(t, filepath.Join(dir, "unet/model.onnx"),
		[]tio{{"sample", f32, []any{"batch", 4, "h", "w"}}, {"timestep", i64, []any{"steps"}},
			{"encoder_hidden_states", f32, []any{"batch", 77, crossDim}}, {"text_embeds", f32, []any{"batch", 1280}},
			{"time_ids", f32, []any{"batch", timeIDs}}},
		[]tio{{"out_sample", f32, []any{"batch", 4, "h", "w"}}}, "model.onnx_data")
}

func TestCheckJanusMixedWidths(t *testing.T) {
	dir := t.TempDir()
	makeJanus(t, dir, "1B", JanusCombos()[0].Dtypes)
	makeJanus(t, filepath.Join(t.TempDir()), "7B", nil)
	// Replace lm_head with a 7B one.
	big := t.TempDir()
	makeJanus(t, big, "7B", map[string]string{"lm_head": "fp32"})
	b, _ := os.ReadFile(filepath.Join(big, "onnx", "lm_head.onnx"))
	writeFile(t, filepath.Join(dir, "onnx", "lm_head.onnx"), b)
	l, err := Detect(dir)
	if err != nil {
		t.Fatal(err)
	}
	probs := Check(l)
	if len(probs) != 1 || !strings.Contains(probs[0], "disagree on the hidden width") || !strings.Contains(probs[0], "4096 in lm_head") {
		t.Errorf("Check = %v", probs)
	}
}
