package models

import (
	"fmt"
	"sort"
	"strings"

	"diptych/engine/onnx"
)

// ioSpec is one graph input or output a pipeline feeds or reads by name.
type ioSpec struct {
	names   []string // accepted names (first is the usual one)
	prefix  bool     // names are prefixes ("hidden_states." matches hidden_states.N)
	output  bool
	types   []onnx.ElementType
	lastDim []int64 // accepted fixed sizes of the last axis; nil = any
}

var (
	floats = []onnx.ElementType{onnx.Float32, onnx.Float16}
	ints   = []onnx.ElementType{onnx.Int32, onnx.Int64}
	int64s = []onnx.ElementType{onnx.Int64}
	steps  = []onnx.ElementType{onnx.Int64, onnx.Float32, onnx.Float16}
)

func in(name string, types []onnx.ElementType, last ...int64) ioSpec {
	return ioSpec{names: []string{name}, types: types, lastDim: last}
}

func out(name string, types []onnx.ElementType, last ...int64) ioSpec {
	return ioSpec{names: []string{name}, output: true, types: types, lastDim: last}
}

// hiddenStates matches the per-layer outputs hidden_states.N of the CLIP
// text encoders (the pipeline picks the penultimate one).
var hiddenStates = ioSpec{names: []string{"hidden_states."}, prefix: true, output: true, types: floats}

var vaeEncoderOut = ioSpec{names: []string{"latent_parameters", "latent_sample"}, output: true, types: floats}

// interfaces lists, per kind and graph, the names and element types the
// pipelines rely on (sdxl-onnx.md §2, janus-onnx.md §2.2 and §2.5). Widths
// are left to the relational checks so that small test exports pass too;
// only the micro-conditioning length, which tells base from refiner, is fixed.
var interfaces = map[Kind]map[string][]ioSpec{
	KindSDXLBase: {
		"text_encoder":   {in("input_ids", ints), hiddenStates},
		"text_encoder_2": {in("input_ids", ints), out("text_embeds", floats), hiddenStates},
		"unet": {in("sample", floats), in("timestep", steps), in("encoder_hidden_states", floats),
			in("text_embeds", floats), in("time_ids", floats, 6), out("out_sample", floats)},
		"vae_decoder": {in("latent_sample", floats), out("sample", floats)},
		"vae_encoder": {in("sample", floats), vaeEncoderOut},
	},
	KindSDXLRefiner: {
		"text_encoder_2": {in("input_ids", ints), out("text_embeds", floats), hiddenStates},
		"unet": {in("sample", floats), in("timestep", steps), in("encoder_hidden_states", floats),
			in("text_embeds", floats), in("time_ids", floats, 5), out("out_sample", floats)},
		"vae_decoder": {in("latent_sample", floats), out("sample", floats)},
		"vae_encoder": {in("sample", floats), vaeEncoderOut},
	},
	KindJanus: {
		"prepare_inputs_embeds": {in("input_ids", int64s), out("inputs_embeds", floats)},
		"language_model": {in("inputs_embeds", floats), in("attention_mask", int64s),
			in("past_key_values.0.key", floats), out("hidden_states", floats), out("present.0.key", floats)},
		"lm_head":        {in("hidden_states", floats), out("logits", floats)},
		"gen_head":       {in("hidden_states", floats), out("logits", floats)},
		"gen_img_embeds": {in("image_ids", int64s), out("inputs_embeds", floats)},
		"image_decode":   {in("generated_tokens", int64s), out("decoded_image", floats)},
	},
}

// Check verifies the graph interfaces of a detected layout: every input and
// output the pipelines use by name, its element type and the fixed widths
// that tell base from refiner and the Janus heads apart. It returns one line
// per problem; none means the folder is usable as far as can be told without
// loading weights. For Janus every dtype variant present is checked.
func Check(l Layout) []string {
	specs := interfaces[l.Kind]
	var problems []string
	check := func(c Component) {
		want, ok := specs[c.Name]
		if !ok || (len(c.Info.Inputs) == 0 && len(c.Info.Outputs) == 0) {
			return
		}
		rel := relSlash(l.Dir, c.Model)
		for _, s := range want {
			problems = append(problems, checkIO(rel, c.Info, s)...)
		}
	}
	for _, name := range l.ComponentNames() {
		if l.Kind == KindJanus {
			for _, c := range l.Variants[name] {
				check(c)
			}
			continue
		}
		check(l.Components[name])
	}
	if l.Kind == KindJanus {
		problems = append(problems, janusWidths(l)...)
	} else {
		problems = append(problems, sdxlWidths(l)...)
	}
	return problems
}

func checkIO(rel string, info onnx.ModelInfo, s ioSpec) []string {
	list, what := info.Inputs, "input"
	if s.output {
		list, what = info.Outputs, "output"
	}
	var t onnx.TensorInfo
	found := false
	for _, n := range s.names {
		for _, cand := range list {
			if cand.Name == n || s.prefix && strings.HasPrefix(cand.Name, n) {
				t, found = cand, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		var have []string
		for _, cand := range list {
			have = append(have, cand.Name)
		}
		if len(have) > 8 {
			have = append(have[:8], fmt.Sprintf("… (%d in all)", len(list)))
		}
		names := strings.Join(s.names, " or ")
		if s.prefix {
			names += "N"
		}
		return []string{fmt.Sprintf("%s: no %s %s (has %s)", rel, what, names, orNone(have))}
	}
	var probs []string
	okType := false
	for _, ty := range s.types {
		okType = okType || t.Type == ty
	}
	if !okType {
		var want []string
		for _, ty := range s.types {
			want = append(want, ty.String())
		}
		probs = append(probs, fmt.Sprintf("%s: %s %s is %s, expected %s", rel, what, t.Name, t.Type, strings.Join(want, " or ")))
	}
	if len(s.lastDim) > 0 && len(t.Shape) > 0 {
		last := t.Shape[len(t.Shape)-1]
		if last.Param == "" && last.Value >= 0 {
			okDim := false
			for _, d := range s.lastDim {
				okDim = okDim || last.Value == d
			}
			if !okDim {
				probs = append(probs, fmt.Sprintf("%s: %s %s has last axis %d, expected %s", rel, what, t.Name, last.Value, joinInts(s.lastDim)))
			}
		}
	}
	return probs
}

// width returns the fixed last axis of the first output of c whose name
// starts with prefix, or 0.
func width(c Component, prefix string) int64 {
	for _, t := range c.Info.Outputs {
		if strings.HasPrefix(t.Name, prefix) && len(t.Shape) > 0 {
			return max(t.Shape[len(t.Shape)-1].Value, 0)
		}
	}
	return 0
}

// sdxlWidths checks that the UNet's cross-attention input is as wide as the
// text encoders' hidden states together (base: CLIP-L + CLIP-G; refiner:
// CLIP-G alone).
func sdxlWidths(l Layout) []string {
	unet, ok := l.Components["unet"]
	if !ok {
		return nil
	}
	ehs, ok := unet.Info.Input("encoder_hidden_states")
	if !ok || len(ehs.Shape) == 0 || ehs.Shape[len(ehs.Shape)-1].Value <= 0 {
		return nil
	}
	got := ehs.Shape[len(ehs.Shape)-1].Value
	var want int64
	var parts []string
	encoders := []string{"text_encoder", "text_encoder_2"}
	if l.Kind == KindSDXLRefiner {
		encoders = encoders[1:]
	}
	for _, name := range encoders {
		c, ok := l.Components[name]
		w := width(c, "hidden_states.")
		if !ok || w == 0 {
			return nil
		}
		want += w
		parts = append(parts, fmt.Sprintf("%s %d", name, w))
	}
	if got != want {
		return []string{fmt.Sprintf("%s: input encoder_hidden_states has last axis %d, expected %d (%s)",
			relSlash(l.Dir, unet.Model), got, want, strings.Join(parts, " + "))}
	}
	return nil
}

// janusWidths checks that all Janus graphs agree on the hidden width.
func janusWidths(l Layout) []string {
	widths := map[int64][]string{}
	for _, name := range l.ComponentNames() {
		c := l.Components[name]
		for _, list := range [][]onnx.TensorInfo{c.Info.Inputs, c.Info.Outputs} {
			for _, t := range list {
				if (t.Name == "inputs_embeds" || t.Name == "hidden_states") && len(t.Shape) == 3 && t.Shape[2].Value > 0 {
					widths[t.Shape[2].Value] = append(widths[t.Shape[2].Value], name)
				}
			}
		}
	}
	if len(widths) <= 1 {
		return nil
	}
	var parts []string
	for w, names := range widths {
		parts = append(parts, fmt.Sprintf("%d in %s", w, strings.Join(dedupe(names), ",")))
	}
	sort.Strings(parts)
	return []string{"Janus graphs disagree on the hidden width (mixing 1B and 7B files?): " + strings.Join(parts, "; ")}
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func joinInts(v []int64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, " or ")
}
