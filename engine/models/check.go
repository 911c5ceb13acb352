package models

import (
	"fmt"
	"sort"
	"strings"

	"diptych/engine/ort"
)

// ioSpec is one graph input or output a pipeline feeds or reads by name.
type ioSpec struct {
	names   []string // accepted names (first is the usual one)
	output  bool
	types   []ort.ElementType
	lastDim []int64 // accepted fixed sizes of the last axis; nil = any
}

var (
	floats = []ort.ElementType{ort.Float32, ort.Float16}
	ints   = []ort.ElementType{ort.Int32, ort.Int64}
	int64s = []ort.ElementType{ort.Int64}
)

func in(name string, types []ort.ElementType, last ...int64) ioSpec {
	return ioSpec{names: []string{name}, types: types, lastDim: last}
}

func out(name string, types []ort.ElementType, last ...int64) ioSpec {
	return ioSpec{names: []string{name}, output: true, types: types, lastDim: last}
}

// interfaces lists, per kind and graph, what the pipelines rely on (see
// sdxl-onnx.md §2 and janus-onnx.md §2.2/§2.5).
var interfaces = map[Kind]map[string][]ioSpec{
	KindSDXLBase: {
		"text_encoder":   {in("input_ids", ints), out("hidden_states.11", floats, 768)},
		"text_encoder_2": {in("input_ids", ints), out("text_embeds", floats, 1280), out("hidden_states.31", floats, 1280)},
		"unet": {in("sample", floats), in("timestep", []ort.ElementType{ort.Int64, ort.Float32, ort.Float16}),
			in("encoder_hidden_states", floats, 2048), in("text_embeds", floats, 1280), in("time_ids", floats, 6),
			out("out_sample", floats)},
		"vae_decoder": {in("latent_sample", floats), out("sample", floats)},
		"vae_encoder": {in("sample", floats), {names: []string{"latent_parameters", "latent_sample"}, output: true, types: floats}},
	},
	KindSDXLRefiner: {
		"text_encoder_2": {in("input_ids", ints), out("text_embeds", floats, 1280), out("hidden_states.31", floats, 1280)},
		"unet": {in("sample", floats), in("timestep", []ort.ElementType{ort.Int64, ort.Float32, ort.Float16}),
			in("encoder_hidden_states", floats, 1280), in("text_embeds", floats, 1280), in("time_ids", floats, 5),
			out("out_sample", floats)},
		"vae_decoder": {in("latent_sample", floats), out("sample", floats)},
		"vae_encoder": {in("sample", floats), {names: []string{"latent_parameters", "latent_sample"}, output: true, types: floats}},
	},
	KindJanus: {
		"prepare_inputs_embeds": {in("input_ids", int64s), out("inputs_embeds", floats, 2048, 4096)},
		"language_model": {in("inputs_embeds", floats, 2048, 4096), in("attention_mask", int64s),
			in("past_key_values.0.key", floats, 128), out("hidden_states", floats, 2048, 4096), out("present.0.key", floats, 128)},
		"lm_head":        {in("hidden_states", floats, 2048, 4096), out("logits", floats, 102400)},
		"gen_head":       {in("hidden_states", floats, 2048, 4096), out("logits", floats, 16384)},
		"gen_img_embeds": {in("image_ids", int64s), out("inputs_embeds", floats, 2048, 4096)},
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
	}
	return problems
}

func checkIO(rel string, info ort.ModelInfo, s ioSpec) []string {
	list, what := info.Inputs, "input"
	if s.output {
		list, what = info.Outputs, "output"
	}
	var t ort.TensorInfo
	found := false
	for _, n := range s.names {
		for _, cand := range list {
			if cand.Name == n {
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
		return []string{fmt.Sprintf("%s: no %s %s (has %s)", rel, what, strings.Join(s.names, " or "), orNone(have))}
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

// janusWidths checks that all Janus graphs agree on the hidden width.
func janusWidths(l Layout) []string {
	widths := map[int64][]string{}
	for _, name := range l.ComponentNames() {
		c := l.Components[name]
		for _, list := range [][]ort.TensorInfo{c.Info.Inputs, c.Info.Outputs} {
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
