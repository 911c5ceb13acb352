package gallery

import (
	"reflect"
	"strings"
	"testing"
)

// docExample is the A1111 >= 1.9 text of anchors.md §3.1.
const docExample = "masterpiece, a cozy cabin\nNegative prompt: lowres, blurry\n" +
	"Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, Size: 1024x1024, " +
	"Model hash: 31e35c80fc, Model: sd_xl_base_1.0, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, RNG: CPU, " +
	"Refiner: sd_xl_refiner_1.0 [7440042bbd], Refiner switch at: 0.8, Version: v1.10.1"

func TestParseA1111DocExample(t *testing.T) {
	info := ParseA1111(docExample)
	if info.Prompt != "masterpiece, a cozy cabin" || info.Negative != "lowres, blurry" {
		t.Errorf("prompt %q negative %q", info.Prompt, info.Negative)
	}
	wantKeys := []string{"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash", "Model",
		"VAE hash", "VAE", "RNG", "Refiner", "Refiner switch at", "Version"}
	var keys []string
	for _, p := range info.Params {
		keys = append(keys, p.Key)
	}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("keys %q\nwant %q", keys, wantKeys)
	}
	if v, _ := info.Get("Refiner"); v != "sd_xl_refiner_1.0 [7440042bbd]" {
		t.Errorf("Refiner = %q", v)
	}
	// Writing the parsed text again gives the same bytes.
	if got := FormatA1111(info); got != docExample {
		t.Errorf("round trip:\n got %q\nwant %q", got, docExample)
	}
	g := generationFromA1111(info)
	if g.Scheduler != "dpmpp_2m_karras" || g.Seed != 1234567890 || g.Width != 1024 || g.Height != 1024 ||
		g.Steps != 30 || g.Guidance != 7 || g.Model != "sd_xl_base_1.0" || g.ModelHash != "31e35c80fc" || g.RNG != "cpu" {
		t.Errorf("generation from doc example: %+v", g)
	}
}

func TestParseA1111Rules(t *testing.T) {
	cases := []struct {
		name, text       string
		prompt, negative string
		params           []Param
	}{
		{
			name:   "fewer than 3 params: last line is prompt",
			text:   "a cat\nSteps: 20, Seed: 1",
			prompt: "a cat\nSteps: 20, Seed: 1",
		},
		{
			name:   "no negative line",
			text:   "a cat\nSteps: 20, Sampler: Euler a, Seed: 5",
			prompt: "a cat",
			params: []Param{{"Steps", "20"}, {"Sampler", "Euler a"}, {"Seed", "5"}},
		},
		{
			name:     "multi-line negative and trimmed lines",
			text:     "  line one  \nline two\nNegative prompt:  bad,\n  worse  \nSteps: 1, Sampler: DDIM, Seed: 2",
			prompt:   "line one\nline two",
			negative: "bad,\nworse",
			params:   []Param{{"Steps", "1"}, {"Sampler", "DDIM"}, {"Seed", "2"}},
		},
		{
			name:   "quoted value is JSON-decoded",
			text:   "p\nSteps: 1, Lora hashes: \"a: 1, b: 2\", Note: \"x\\ny \\\"q\\\"\", Seed: 3",
			prompt: "p",
			params: []Param{{"Steps", "1"}, {"Lora hashes", "a: 1, b: 2"}, {"Note", "x\ny \"q\""}, {"Seed", "3"}},
		},
		{
			name: "empty text",
		},
	}
	for _, c := range cases {
		info := ParseA1111(c.text)
		if info.Prompt != c.prompt || info.Negative != c.negative || !reflect.DeepEqual(info.Params, c.params) {
			t.Errorf("%s:\n got %q / %q / %q\nwant %q / %q / %q", c.name, info.Prompt, info.Negative, info.Params, c.prompt, c.negative, c.params)
		}
	}
}

func TestFormatA1111Quoting(t *testing.T) {
	info := A1111Info{Prompt: "p", Params: []Param{
		{"Steps", "20"},
		{"Lora hashes", "detail: 1a2b, style: 9f8e"},
		{"Hires upscaler", "Latent"},
		{"Tiling", "Tiling"}, // value == key: written bare
		{"Empty", ""},        // dropped
		{"Note", "tab\there \"q\" \\ é ☕\n"},
	}}
	want := "p\nSteps: 20, Lora hashes: \"detail: 1a2b, style: 9f8e\", Hires upscaler: Latent, Tiling, " +
		"Note: \"tab\\there \\\"q\\\" \\\\ é ☕\\n\""
	if got := FormatA1111(info); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestA1111FromGenerationSamplers checks every Diptych scheduler maps to the
// A1111 label (and schedule type) and back.
func TestA1111FromGenerationSamplers(t *testing.T) {
	want := map[string]string{
		"euler":           "Sampler: Euler, CFG scale",
		"euler_a":         "Sampler: Euler a, CFG scale",
		"heun":            "Sampler: Heun, CFG scale",
		"ddim":            "Sampler: DDIM, CFG scale",
		"dpmpp_2m":        "Sampler: DPM++ 2M, Schedule type: Uniform, CFG scale",
		"dpmpp_2m_karras": "Sampler: DPM++ 2M, Schedule type: Karras, CFG scale",
		"unipc":           "Sampler: UniPC, CFG scale",
	}
	for sched, frag := range want {
		g := Generation{Prompt: "x", Scheduler: sched, Steps: 20, Guidance: 5.5, Seed: 9, Width: 1024, Height: 768, Model: "m"}
		text := FormatA1111(A1111FromGeneration(g))
		wantText := "x\nSteps: 20, " + frag + ": 5.5, Seed: 9, Size: 1024x768, Model: m, Version: diptych"
		if text != wantText {
			t.Errorf("%s:\n got %q\nwant %q", sched, text, wantText)
		}
		back := generationFromA1111(ParseA1111(text))
		if back.Scheduler != sched {
			t.Errorf("%s came back as %q", sched, back.Scheduler)
		}
	}
	// Pre-1.9 names and other tools' labels.
	for label, want := range map[string]string{"DPM++ 2M Karras": "dpmpp_2m_karras", "Euler a": "euler_a",
		"DPM++ 2M SDE Karras": "dpmpp_2m_sde_karras", "LCM": "lcm"} {
		if got := SchedulerFromA1111(label, ""); got != want {
			t.Errorf("SchedulerFromA1111(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestA1111FromGenerationFullOrder(t *testing.T) {
	g := fakeGeneration("a fox, 3:2", 42)
	g.NegativePrompt = ""
	g.Temperature = 1 // Janus-style extra key
	got := FormatA1111(A1111FromGeneration(g))
	want := "a fox, 3:2\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 64x48, " +
		"Model hash: 31e35c80fc, Model: sdxl-base-1.0, RNG: CPU, Temperature: 1, ONNX EP: CUDA, Precision: fp16, Version: diptych/0.1.0"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// GPU RNG is A1111's default and is left out.
	g.RNG = "gpu"
	if text := FormatA1111(A1111FromGeneration(g)); strings.Contains(text, "RNG") {
		t.Errorf("RNG: GPU written (%q); A1111 omits its default", text)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string][2]int{"1024x768": {1024, 768}, "(1152, 896)": {1152, 896},
		"('1152', '896')": {1152, 896}, "640*640": {640, 640}, "big": {0, 0}, "1x": {0, 0}} {
		w, h := parseSize(in)
		if [2]int{w, h} != want {
			t.Errorf("parseSize(%q) = %d,%d want %v", in, w, h, want)
		}
	}
}
