package models

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"diptych/engine/onnx"
)

// Kind names what a model folder holds.
type Kind string

// The kinds of model folders Diptych runs.
const (
	KindSDXLBase    Kind = "sdxl-base"
	KindSDXLRefiner Kind = "sdxl-refiner"
	KindJanus       Kind = "janus"
)

// Component is one ONNX graph of a model folder.
type Component struct {
	// Name is the graph's role: "unet", "text_encoder_2", "language_model", ...
	Name string `json:"name"`
	// Model is the path of the .onnx file. Create sessions from this path so
	// that external data is found next to it.
	Model string `json:"model"`
	// Data lists the external-data files the graph refers to (model.onnx_data,
	// model.onnx.data, ...), as paths. Empty when the weights are inline.
	Data []string `json:"data,omitempty"`
	// Variant is the dtype of a Janus graph file ("fp32", "fp16", "q4",
	// "q4f16", ...), taken from its file-name suffix. Empty for SDXL.
	Variant string `json:"variant,omitempty"`
	// Size is the bytes of the .onnx file plus its external data.
	Size int64 `json:"size"`
	// Info holds the graph's inputs and outputs, read without loading weights.
	Info onnx.ModelInfo `json:"-"`
}

// Layout is what Detect found in a model folder.
type Layout struct {
	Kind Kind   `json:"kind"`
	Dir  string `json:"dir"`
	// Params is "1B" or "7B" for Janus-Pro when it can be told, else "".
	Params string `json:"params,omitempty"`
	// Components maps a graph role to the file used for it. For Janus this is
	// the default dtype combination (see Select to pick another).
	Components map[string]Component `json:"components"`
	// Variants lists, for Janus, every dtype file present for each graph.
	Variants map[string][]Component `json:"variants,omitempty"`
	// Files maps support files (tokenizers, configs) by relative slash path
	// to their path on disk.
	Files map[string]string `json:"files,omitempty"`
	// Missing lists the relative paths that a complete folder has and this one
	// lacks.
	Missing []string `json:"missing,omitempty"`
	// Size is the total bytes of the component and support files.
	Size int64 `json:"size"`
}

// LayoutError explains why a folder is not a usable model folder: what was
// expected and what was found.
type LayoutError struct {
	Dir string
	// Kind is the best guess of what the folder was meant to be ("" when it
	// looks like none of the known kinds).
	Kind     Kind
	Reason   string
	Expected []string
	Found    []string
	Missing  []string
	Problems []string
}

func (e *LayoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Dir, e.Reason)
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, "; missing: %s", strings.Join(e.Missing, ", "))
	}
	if len(e.Problems) > 0 {
		fmt.Fprintf(&b, "; problems: %s", strings.Join(e.Problems, "; "))
	}
	if len(e.Expected) > 0 {
		fmt.Fprintf(&b, "; expected: %s", strings.Join(e.Expected, " | "))
	}
	found := e.Found
	if len(found) == 0 {
		found = []string{"nothing"}
	}
	fmt.Fprintf(&b, "; found: %s", strings.Join(found, ", "))
	return b.String()
}

// sdxlGraphs are the SDXL component folders, each holding model.onnx.
var sdxlGraphs = []string{"text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder"}

// sdxlRequired lists, per kind, the graphs and support files a complete
// folder needs. vae_encoder is only needed for image-to-image and is optional.
var sdxlRequired = map[Kind]struct{ graphs, files []string }{
	KindSDXLBase: {
		graphs: []string{"text_encoder", "text_encoder_2", "unet", "vae_decoder"},
		files: []string{"tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer_2/vocab.json",
			"tokenizer_2/merges.txt", "scheduler/scheduler_config.json"},
	},
	KindSDXLRefiner: {
		graphs: []string{"text_encoder_2", "unet", "vae_decoder"},
		files:  []string{"tokenizer_2/vocab.json", "tokenizer_2/merges.txt", "scheduler/scheduler_config.json"},
	},
}

// sdxlOptionalFiles are support files recorded when present.
var sdxlOptionalFiles = []string{
	"model_index.json", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
	"tokenizer_2/special_tokens_map.json", "tokenizer_2/tokenizer_config.json",
	"text_encoder/config.json", "text_encoder_2/config.json", "unet/config.json",
	"vae_decoder/config.json", "vae_encoder/config.json",
}

// JanusGraphs are the six graphs of a Janus-Pro ONNX export, in call order.
var JanusGraphs = []string{"prepare_inputs_embeds", "language_model", "lm_head", "gen_head", "gen_img_embeds", "image_decode"}

// janusOptionalGraphs are graphs recorded when present but not required.
var janusOptionalGraphs = []string{"embed_tokens"}

var janusRequiredFiles = []string{"config.json", "tokenizer.json"}

var janusOptionalFiles = []string{"generation_config.json", "preprocessor_config.json", "processor_config.json",
	"special_tokens_map.json", "tokenizer_config.json"}

// janusSuffixes maps a Transformers.js file-name suffix to its dtype name.
var janusSuffixes = []struct{ suffix, dtype string }{
	{"_q4f16", "q4f16"}, {"_quantized", "q8"}, {"_fp16", "fp16"}, {"_int8", "int8"},
	{"_uint8", "uint8"}, {"_bnb4", "bnb4"}, {"_q4", "q4"}, {"", "fp32"},
}

// DtypeSuffix returns the file-name suffix Transformers.js uses for a Janus
// graph dtype ("" for fp32, "_q4f16" for q4f16, ...).
func DtypeSuffix(dtype string) (string, error) {
	for _, s := range janusSuffixes {
		if s.dtype == dtype {
			return s.suffix, nil
		}
	}
	var known []string
	for _, s := range janusSuffixes {
		known = append(known, s.dtype)
	}
	return "", fmt.Errorf("unknown Janus dtype %q: expected one of %s", dtype, strings.Join(known, ", "))
}

// JanusCombo is a named choice of dtype per Janus graph.
type JanusCombo struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Dtypes      map[string]string `json:"dtypes"`
}

// JanusCombos lists the known-good dtype combinations; the first is the
// default. "fp32" keeps every graph boundary float32 (the language model and
// the input embedder are 4-bit inside); it is the combination run end to end
// by third parties on ONNX Runtime.
func JanusCombos() []JanusCombo {
	return []JanusCombo{
		{"fp32", "float32 boundaries everywhere (4-bit language model and embedder inside); least risky on CPU and CUDA",
			map[string]string{"prepare_inputs_embeds": "q4", "language_model": "q4", "lm_head": "fp32",
				"gen_head": "fp32", "gen_img_embeds": "fp32", "image_decode": "fp32"}},
		{"fp16", "the Transformers.js WebGPU demo combination: float16 heads and language model, float32 image decoder",
			map[string]string{"prepare_inputs_embeds": "q4", "language_model": "q4f16", "lm_head": "fp16",
				"gen_head": "fp16", "gen_img_embeds": "fp16", "image_decode": "fp32"}},
		{"q4f16", "smallest download: 4-bit weights with float16 activations in every graph but the image decoder, kept at fp32",
			map[string]string{"prepare_inputs_embeds": "q4f16", "language_model": "q4f16", "lm_head": "q4f16",
				"gen_head": "q4f16", "gen_img_embeds": "q4f16", "image_decode": "fp32"}},
	}
}

// LookupJanusCombo returns the combination called name.
func LookupJanusCombo(name string) (JanusCombo, error) {
	var names []string
	for _, c := range JanusCombos() {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return JanusCombo{}, fmt.Errorf("unknown Janus combination %q: expected one of %s", name, strings.Join(names, ", "))
}

// Detect looks at dir and says which kind of model folder it is, with the
// path of every component. A folder that is incomplete, of another kind
// (such as Stable Diffusion 1.5) or not a model folder at all gives a
// *LayoutError listing what was expected and what was found; the returned
// Layout then still holds what could be recognised.
func Detect(dir string) (Layout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Layout{}, fmt.Errorf("detect %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Layout{}, fmt.Errorf("detect model folder: %w", err)
	}
	if !st.IsDir() {
		return Layout{}, fmt.Errorf("detect model folder %s: not a folder", abs)
	}
	found := listTop(abs)
	partials := findPartials(abs)

	switch {
	case janusGraphDir(abs) != "":
		return detectJanus(abs, found, partials)
	case isDir(filepath.Join(abs, "unet")) || isDir(filepath.Join(abs, "text_encoder_2")) ||
		isDir(filepath.Join(abs, "vae_decoder")) || isDir(filepath.Join(abs, "text_encoder")):
		return detectSDXL(abs, found, partials)
	}
	return Layout{Dir: abs}, &LayoutError{
		Dir:    abs,
		Reason: "not an SDXL or Janus-Pro ONNX export",
		Expected: []string{
			"SDXL base: " + strings.Join(expectedSDXL(KindSDXLBase), ", "),
			"SDXL refiner: " + strings.Join(expectedSDXL(KindSDXLRefiner), ", "),
			"Janus-Pro: onnx/{" + strings.Join(JanusGraphs, ",") + "}[_dtype].onnx, config.json, tokenizer.json",
		},
		Found:    found,
		Problems: partialProblems(partials),
	}
}

func expectedSDXL(k Kind) []string {
	req := sdxlRequired[k]
	var out []string
	for _, g := range req.graphs {
		out = append(out, g+"/model.onnx")
	}
	return append(out, req.files...)
}

func detectSDXL(dir string, found, partials []string) (Layout, error) {
	l := Layout{Dir: dir, Components: map[string]Component{}, Files: map[string]string{}}
	var problems []string
	for _, g := range sdxlGraphs {
		c, ok, probs := readComponent(dir, g, filepath.Join(dir, g, "model.onnx"), "")
		problems = append(problems, probs...)
		if ok {
			l.Components[g] = c
		}
	}
	hasTE2 := isDir(filepath.Join(dir, "text_encoder_2")) || isDir(filepath.Join(dir, "tokenizer_2"))
	if !hasTE2 {
		if dim := crossAttentionDim(dir); dim == 768 || dim == 1024 || dim == 0 {
			l.Kind = ""
			return l, &LayoutError{
				Dir:      dir,
				Reason:   "looks like a Stable Diffusion 1.x/2.x export (no text_encoder_2 or tokenizer_2); Diptych runs SDXL and Janus-Pro only",
				Expected: []string{"SDXL base: " + strings.Join(expectedSDXL(KindSDXLBase), ", ")},
				Found:    found,
			}
		}
	}
	l.Kind = sdxlKind(dir, l)
	req := sdxlRequired[l.Kind]
	for _, g := range req.graphs {
		c, ok := l.Components[g]
		if !ok {
			l.Missing = append(l.Missing, g+"/model.onnx")
			continue
		}
		l.Missing = append(l.Missing, missingData(dir, c)...)
	}
	if c, ok := l.Components["vae_encoder"]; ok {
		l.Missing = append(l.Missing, missingData(dir, c)...)
	}
	for _, f := range req.files {
		if p := filepath.Join(dir, filepath.FromSlash(f)); isFile(p) {
			l.Files[f] = p
		} else {
			l.Missing = append(l.Missing, f)
		}
	}
	for _, f := range sdxlOptionalFiles {
		if p := filepath.Join(dir, filepath.FromSlash(f)); isFile(p) {
			l.Files[f] = p
		}
	}
	l.Size = layoutSize(l)
	return l, finish(l, found, partials, problems, expectedSDXL(l.Kind))
}

// sdxlKind tells base from refiner: the UNet's cross-attention width (2048
// base, 1280 refiner) from its graph or config, then model_index.json, then
// whether the CLIP-L text encoder is there at all.
func sdxlKind(dir string, l Layout) Kind {
	if c, ok := l.Components["unet"]; ok {
		if t, ok := c.Info.Input("encoder_hidden_states"); ok && len(t.Shape) == 3 {
			switch t.Shape[2].Value {
			case 2048:
				return KindSDXLBase
			case 1280:
				return KindSDXLRefiner
			}
		}
	}
	switch crossAttentionDim(dir) {
	case 2048:
		return KindSDXLBase
	case 1280:
		return KindSDXLRefiner
	}
	var idx struct {
		Class       string          `json:"_class_name"`
		Aesthetics  *bool           `json:"requires_aesthetics_score"`
		TextEncoder json.RawMessage `json:"text_encoder"`
	}
	if readJSON(filepath.Join(dir, "model_index.json"), &idx) == nil {
		if (idx.Aesthetics != nil && *idx.Aesthetics) || strings.Contains(string(idx.TextEncoder), "null") {
			return KindSDXLRefiner
		}
		if idx.Class != "" {
			return KindSDXLBase
		}
	}
	if _, ok := l.Components["text_encoder"]; ok || isDir(filepath.Join(dir, "tokenizer")) {
		return KindSDXLBase
	}
	return KindSDXLRefiner
}

func crossAttentionDim(dir string) int {
	var cfg struct {
		CrossAttentionDim int `json:"cross_attention_dim"`
	}
	if readJSON(filepath.Join(dir, "unet", "config.json"), &cfg) != nil {
		return 0
	}
	return cfg.CrossAttentionDim
}

// janusGraphDir returns the folder holding Janus graph files (dir/onnx or
// dir itself), or "" when there are none.
func janusGraphDir(dir string) string {
	for _, d := range []string{filepath.Join(dir, "onnx"), dir} {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if graph, _, ok := parseJanusFile(e.Name()); ok && graph != "embed_tokens" {
				return d
			}
		}
	}
	return ""
}

// parseJanusFile splits "language_model_q4f16.onnx" into its graph and dtype.
func parseJanusFile(name string) (graph, dtype string, ok bool) {
	base, found := strings.CutSuffix(name, ".onnx")
	if !found {
		return "", "", false
	}
	for _, g := range append(append([]string{}, JanusGraphs...), janusOptionalGraphs...) {
		rest, found := strings.CutPrefix(base, g)
		if !found {
			continue
		}
		for _, s := range janusSuffixes {
			if rest == s.suffix {
				return g, s.dtype, true
			}
		}
	}
	return "", "", false
}

func detectJanus(dir string, found, partials []string) (Layout, error) {
	l := Layout{Kind: KindJanus, Dir: dir, Components: map[string]Component{},
		Variants: map[string][]Component{}, Files: map[string]string{}}
	gdir := janusGraphDir(dir)
	entries, _ := os.ReadDir(gdir)
	var problems []string
	for _, e := range entries {
		graph, dtype, ok := parseJanusFile(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		c, ok, probs := readComponent(dir, graph, filepath.Join(gdir, e.Name()), dtype)
		problems = append(problems, probs...)
		if ok {
			l.Variants[graph] = append(l.Variants[graph], c)
		}
	}
	def := JanusCombos()[0].Dtypes
	rel, _ := filepath.Rel(dir, gdir)
	for _, g := range append(append([]string{}, JanusGraphs...), janusOptionalGraphs...) {
		vs := l.Variants[g]
		if len(vs) == 0 {
			if g != "embed_tokens" {
				l.Missing = append(l.Missing, filepath.ToSlash(filepath.Join(rel, g+".onnx"))+" (any dtype)")
			}
			continue
		}
		sort.Slice(vs, func(i, j int) bool { return dtypeRank(vs[i].Variant) < dtypeRank(vs[j].Variant) })
		chosen := vs[0]
		for _, c := range vs {
			if c.Variant == def[g] {
				chosen = c
			}
		}
		l.Components[g] = chosen
		for _, c := range vs {
			l.Missing = append(l.Missing, missingData(dir, c)...)
		}
	}
	for _, f := range janusRequiredFiles {
		if p := filepath.Join(dir, f); isFile(p) {
			l.Files[f] = p
		} else {
			l.Missing = append(l.Missing, f)
		}
	}
	for _, f := range janusOptionalFiles {
		if p := filepath.Join(dir, f); isFile(p) {
			l.Files[f] = p
		}
	}
	l.Params = janusParams(dir, l)
	l.Size = layoutSize(l)
	expected := []string{"onnx/{" + strings.Join(JanusGraphs, ",") + "}[_dtype].onnx", "config.json", "tokenizer.json"}
	return l, finish(l, found, partials, problems, expected)
}

// dtypeRank orders Janus dtypes by preference when the default is absent.
func dtypeRank(dtype string) int {
	for i, d := range []string{"fp32", "q4", "fp16", "q4f16", "int8", "uint8", "q8", "bnb4"} {
		if d == dtype {
			return i
		}
	}
	return 100
}

// janusParams tells 1B from 7B: from the language model's KV-cache inputs
// (24 layers or 30) or hidden width (2048 or 4096), else from config.json.
func janusParams(dir string, l Layout) string {
	bySize := func(layers, hidden int64) string {
		switch {
		case layers == 24 || hidden == 2048:
			return "1B"
		case layers == 30 || hidden == 4096:
			return "7B"
		}
		return ""
	}
	if c, ok := l.Components["language_model"]; ok {
		var layers int64
		for _, in := range c.Info.Inputs {
			if strings.HasPrefix(in.Name, "past_key_values.") && strings.HasSuffix(in.Name, ".key") {
				layers++
			}
		}
		var hidden int64
		if t, ok := c.Info.Input("inputs_embeds"); ok && len(t.Shape) == 3 {
			hidden = t.Shape[2].Value
		}
		if p := bySize(layers, hidden); p != "" {
			return p
		}
	}
	type lm struct {
		Hidden int64 `json:"hidden_size"`
		Layers int64 `json:"num_hidden_layers"`
	}
	var cfg struct {
		Language *lm `json:"language_config"`
		Text     *lm `json:"text_config"`
	}
	if readJSON(filepath.Join(dir, "config.json"), &cfg) == nil {
		for _, c := range []*lm{cfg.Language, cfg.Text} {
			if c != nil {
				if p := bySize(c.Layers, c.Hidden); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// Select returns a copy of a Janus layout whose Components use the given
// dtype for each named graph (graphs not named keep their file).
func (l Layout) Select(dtypes map[string]string) (Layout, error) {
	if l.Kind != KindJanus {
		return l, fmt.Errorf("select dtypes in %s: only Janus folders have dtype variants, this is %s", l.Dir, l.Kind)
	}
	out := l
	out.Components = map[string]Component{}
	for k, v := range l.Components {
		out.Components[k] = v
	}
	for graph, dtype := range dtypes {
		var have []string
		found := false
		for _, c := range l.Variants[graph] {
			have = append(have, c.Variant)
			if c.Variant == dtype {
				out.Components[graph] = c
				found = true
			}
		}
		if !found {
			return l, fmt.Errorf("select %s %s in %s: no such file; present: %s", graph, dtype, l.Dir, orNone(have))
		}
	}
	return out, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// readComponent reads the graph header of one .onnx file.
func readComponent(root, name, path, variant string) (Component, bool, []string) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return Component{}, false, nil
	}
	rel := relSlash(root, path)
	if st.Size() == 0 {
		return Component{}, false, []string{rel + " is empty"}
	}
	c := Component{Name: name, Model: path, Variant: variant, Size: st.Size()}
	info, err := onnx.ReadModelInfo(path)
	if err != nil {
		return c, false, []string{fmt.Sprintf("%s does not read as ONNX (%d bytes): %v", rel, st.Size(), err)}
	}
	c.Info = info
	dir := filepath.Dir(path)
	data := info.ExternalData
	if len(data) == 0 {
		// A model whose graph names no external data may still come with the
		// conventional sidecar; record it so it is hashed and counted.
		for _, cand := range []string{filepath.Base(path) + "_data", filepath.Base(path) + ".data"} {
			if isFile(filepath.Join(dir, cand)) {
				data = append(data, cand)
			}
		}
	}
	for _, d := range data {
		p := filepath.Join(dir, filepath.FromSlash(d))
		c.Data = append(c.Data, p)
		if st, err := os.Stat(p); err == nil {
			c.Size += st.Size()
		}
	}
	return c, true, nil
}

// missingData lists the external-data files of c that are not on disk.
func missingData(root string, c Component) []string {
	var out []string
	for _, d := range c.Data {
		if !isFile(d) {
			out = append(out, relSlash(root, d))
		}
	}
	return out
}

func finish(l Layout, found, partials, problems, expected []string) error {
	problems = append(problems, partialProblems(partials)...)
	if len(l.Missing) == 0 && len(problems) == 0 {
		return nil
	}
	reason := fmt.Sprintf("incomplete %s folder", l.Kind)
	if len(partials) > 0 {
		reason = fmt.Sprintf("incomplete %s folder (a download was interrupted)", l.Kind)
	}
	return &LayoutError{Dir: l.Dir, Kind: l.Kind, Reason: reason, Expected: expected,
		Found: found, Missing: l.Missing, Problems: problems}
}

func partialProblems(partials []string) []string {
	if len(partials) == 0 {
		return nil
	}
	return []string{"partial download files present: " + strings.Join(partials, ", ")}
}

// listTop names what is in dir (folders with a trailing slash), for errors.
func listTop(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		out = append(out, n)
		if len(out) == 20 {
			out = append(out, fmt.Sprintf("… (%d entries)", len(entries)))
			break
		}
	}
	return out
}

// findPartials lists *.part files left by an interrupted download.
func findPartials(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(p, partSuffix) {
			out = append(out, relSlash(dir, p))
		}
		if len(out) >= 10 {
			return filepath.SkipAll
		}
		return nil
	})
	return out
}

func layoutSize(l Layout) int64 {
	var n int64
	seen := map[string]bool{}
	add := func(c Component) {
		if !seen[c.Model] {
			seen[c.Model] = true
			n += c.Size
		}
	}
	for _, c := range l.Components {
		add(c)
	}
	for _, vs := range l.Variants {
		for _, c := range vs {
			add(c)
		}
	}
	for _, p := range l.Files {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// ComponentNames returns the names of l's components, sorted.
func (l Layout) ComponentNames() []string {
	var out []string
	for k := range l.Components {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func relSlash(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
