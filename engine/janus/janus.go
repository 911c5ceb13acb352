// Package janus runs DeepSeek Janus-Pro (1B or 7B) from the six-graph ONNX
// layout of onnx-community/Janus-Pro-1B-ONNX (prepare_inputs_embeds,
// language_model, lm_head, gen_head, gen_img_embeds, image_decode):
// text-to-image with classifier-free guidance and a KV cache kept where the
// language model runs (Generate), and image understanding (Describe).
//
// It follows the PyTorch reference (deepseek-ai/Janus, transformers' Janus
// classes) where Transformers.js differs: see docs/janus-onnx.md §3, §4, §7.
// Every dimension is read from the graphs, so a 7B export with the same split
// runs too, and tensors are converted between float32 and float16 wherever
// two graphs disagree.
package janus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"diptych/engine/models"
	"diptych/engine/onnx"
	"diptych/engine/ort"
	"diptych/engine/tokenizer"
)

// Options configures Load.
type Options struct {
	// Runtime is the loaded ONNX Runtime (required).
	Runtime *ort.Runtime
	// Device is what the user asked for (auto, cpu, cuda[:N]); the zero
	// value means auto. Ignored when Placement is set.
	Device ort.Device
	// Placement, when its Provider is set, is used as is (already resolved
	// with Runtime.Place).
	Placement ort.Placement
	// Variant names a dtype combination (models.JanusCombos: "fp32", the
	// default, "fp16", "q4f16") or one dtype for every graph ("fp16").
	// Graphs with no file of that dtype keep the default file; Pipeline.Notes
	// says which.
	Variant string
	// Dtypes picks the file of single graphs ({"lm_head": "fp16"}); a dtype
	// that is not present is an error.
	Dtypes map[string]string
	// IntraOpThreads per session; 0 = one per core.
	IntraOpThreads int
	// GPUMemLimit caps the CUDA arena of each session (bytes, 0 = none).
	GPUMemLimit int64
	// ForceCPU lets a 7B model load on the CPU, which is otherwise refused
	// with an estimate of the memory and time it would take.
	ForceCPU bool
	// MemoryBudget bounds the KV cache of one text-to-image batch (bytes);
	// 0 = 2 GiB. More images than fit are generated one batch after another.
	MemoryBudget int64
	// EmbedOnCPU places prepare_inputs_embeds and embed_tokens on the CPU
	// while the other graphs go where Device/Placement says (on a GPU the
	// embedders' float32 token table and vision tower then cost no device
	// memory; the embeddings are copied to the device once per prompt).
	EmbedOnCPU bool
	// AvailableMemory returns the RAM the process may still use (bytes);
	// nil reads MemAvailable from /proc/meminfo, and 0 from it means unknown
	// (no check). Load refuses a model whose estimate is above it.
	AvailableMemory func() int64
	// IgnoreMemory skips that check.
	IgnoreMemory bool
	// GraphEmbed embeds text-only tokens with the prepare_inputs_embeds
	// graph even where its token table can be read straight from the file
	// (the default reads the rows it needs from disk, so text-to-image does
	// not load that graph: ~1 GB less memory and load time).
	GraphEmbed bool
	// MatMulNBitsAccuracy is the accuracy_level the 4-bit MatMulNBits nodes
	// of graphs run on the CPU use: 0 means 4 (int8 activations: ~3× faster
	// token steps than the level the published q4 files leave unset, which
	// computes in float32), -1 keeps each file's own. A graph with such
	// nodes is then loaded from a patched copy under CacheDir (made once).
	MatMulNBitsAccuracy int
	// CacheDir holds those copies; "" means the user cache folder
	// (os.UserCacheDir()/diptych/graphs).
	CacheDir string
	// WriteGraphIO records every graph file's declared inputs and outputs
	// in graph_io.json beside the model (when absent or stale; a read-only
	// folder is left alone). Pipeline.IO holds the listing either way.
	WriteGraphIO bool
}

// Dims are the model's sizes, read from the graphs.
type Dims struct {
	Hidden   int // language model width D
	Layers   int // decoder layers L
	KVHeads  int // key/value heads H
	HeadDim  int // per-head size
	Vocab    int // lm_head width (text vocabulary rows)
	Codebook int // gen_head width (VQ codebook size)
	// ImageTokens is the number of tokens of a generated image (576) and
	// ImageGrid its side (24); ImageSize is the decoded image side (384).
	ImageTokens, ImageGrid, ImageSize int
	// VisionSize is the understanding input side (384) and VisionTokens the
	// placeholder tokens one input image becomes (576).
	VisionSize, VisionTokens int
	// Context is the longest sequence the language model takes (0 = unknown).
	Context int
}

// Pipeline is a loaded Janus-Pro model. Its methods are not safe for
// concurrent use. Close it when done.
type Pipeline struct {
	Dir       string
	Layout    models.Layout // with the chosen file per graph in Components
	Dims      Dims
	Placement ort.Placement
	// Params is "1B", "7B" or "" when it cannot be told.
	Params string
	// Notes lists variant fallbacks and other load-time decisions.
	Notes []string

	// GraphPlacement is where each loaded graph's session runs.
	GraphPlacement map[string]ort.Placement
	// IO lists every graph's declared inputs and outputs (graph_io.json).
	IO GraphIOReport

	tok   *tokenizer.HF
	ids   specialIDs
	cfg   modelConfig
	sess  map[string]*ort.Session
	mem   *ort.MemoryInfo
	hasPo bool // language_model declares position_ids
	opts  Options
	mu    sync.Mutex // sess, GraphPlacement and Notes while graphs open concurrently
	// table reads token embeddings from prepare_inputs_embeds' Gather
	// table on disk (nil: use a graph).
	table *onnx.Table
	// lmOptional are the optional language_model inputs the graph declares
	// (cache_position, num_logits_to_keep, use_cache_branch, ...).
	lmOptional []string
}

// specialIDs are the token ids the prompts need.
type specialIDs struct {
	bos, eos, pad, boi, eoi, image int
}

// modelConfig holds what is read from the JSON files beside the graphs.
type modelConfig struct {
	System     string
	ImageTag   string
	BOITag     string
	EOITag     string
	Background [3]uint8
	Mean, Std  [3]float64
	Rescale    float64
	MinSize    int
	Normalize  bool
}

// DefaultSystemPrompt is the reference system prompt for image understanding.
const DefaultSystemPrompt = "You are a helpful language and vision assistant. You are able to understand the visual " +
	"content that the user provides, and assist the user with a variety of tasks using natural language."

// graphIO lists the I/O names each graph must have. The language model's
// past_key_values.{i}.{key,value} / present.* are checked separately.
// embed_tokens is optional (published with some exports): when present it
// embeds text-only tokens instead of prepare_inputs_embeds.
var graphIO = map[string]struct{ in, out []string }{
	"prepare_inputs_embeds": {[]string{"input_ids", "pixel_values", "images_seq_mask", "images_emb_mask"}, []string{"inputs_embeds"}},
	"language_model":        {[]string{"inputs_embeds", "attention_mask"}, []string{"hidden_states"}},
	"lm_head":               {[]string{"hidden_states"}, []string{"logits"}},
	"gen_head":              {[]string{"hidden_states"}, []string{"logits"}},
	"gen_img_embeds":        {[]string{"image_ids"}, []string{"inputs_embeds"}},
	"image_decode":          {[]string{"generated_tokens"}, []string{"decoded_image"}},
	"embed_tokens":          {[]string{"input_ids"}, []string{"inputs_embeds"}},
}

// OptionalLMInputs are the language_model inputs some exports declare
// beyond inputs_embeds, attention_mask and the KV cache, with what Diptych
// feeds them (the values transformers' own generate loop uses):
//
//	position_ids        int64 [B,S]: past_length … past_length+S-1
//	cache_position      int64 [S]:   past_length … past_length+S-1
//	num_logits_to_keep  int64 scalar: 0 (keep every position)
//	logits_to_keep      int64 scalar: 0 (keep every position)
//	use_cache_branch    bool [1]:    true once the cache holds positions
//
// Any other input is reported by name when the model loads.
var OptionalLMInputs = []string{"position_ids", "cache_position", "num_logits_to_keep", "logits_to_keep", "use_cache_branch"}

// t2iGraphs are the graphs text-to-image needs (plus one text embedder);
// lm_head, and prepare_inputs_embeds when embed_tokens is present, load on
// first use by Describe.
var t2iGraphs = []string{"language_model", "gen_head", "gen_img_embeds", "image_decode"}

// Load opens the Janus-Pro folder dir: it checks that the six graphs are
// there with the expected inputs and outputs, reads the dimensions from
// them, places the sessions (refusing 7B on the CPU unless forced) and loads
// the tokenizer.
func Load(dir string, o Options) (*Pipeline, error) {
	if o.Runtime == nil {
		return nil, errors.New("load janus: no ONNX Runtime given")
	}
	l, derr := models.Detect(dir)
	if l.Kind != models.KindJanus {
		if derr != nil {
			return nil, fmt.Errorf("load janus: %w", derr)
		}
		return nil, fmt.Errorf("load janus: %s is a %s folder, not Janus-Pro", dir, l.Kind)
	}
	for _, g := range models.JanusGraphs {
		if _, ok := l.Components[g]; !ok {
			return nil, fmt.Errorf("load janus %s: graph %s is missing: expected onnx/%s.onnx or a dtype variant "+
				"(onnx/%s_fp16.onnx, _q4, _q4f16, ...); the six graphs are %s", l.Dir, g, g, g, strings.Join(models.JanusGraphs, ", "))
		}
	}
	if _, ok := l.Files["tokenizer.json"]; !ok {
		return nil, fmt.Errorf("load janus %s: tokenizer.json is missing", l.Dir)
	}
	if derr != nil && !onlyMissingSupport(l) {
		return nil, fmt.Errorf("load janus: %w", derr)
	}
	p := &Pipeline{Dir: l.Dir, Params: l.Params, sess: map[string]*ort.Session{}, opts: o}
	var err error
	if l, p.Notes, err = chooseVariant(l, o.Variant, o.Dtypes); err != nil {
		return nil, fmt.Errorf("load janus %s: %w", l.Dir, err)
	}
	p.Layout = l
	if err := p.readDims(); err != nil {
		return nil, fmt.Errorf("load janus %s: %w", l.Dir, err)
	}
	if p.Params == "" && (p.Dims.Hidden >= 4096 || p.Dims.Layers >= 30) {
		p.Params = "7B"
	}
	if err := p.readConfig(); err != nil {
		return nil, err
	}
	if err := p.openTable(); err != nil {
		return nil, fmt.Errorf("load janus %s: %w", l.Dir, err)
	}
	tok, err := tokenizer.LoadHF(l.Files["tokenizer.json"])
	if err != nil {
		return nil, fmt.Errorf("load janus tokenizer: %w", err)
	}
	p.tok = tok
	if err := p.readSpecialIDs(); err != nil {
		return nil, fmt.Errorf("load janus %s: %w", l.Dir, err)
	}

	place := o.Placement
	if place.Provider == "" {
		d := o.Device
		if d.Kind == "" {
			d.Kind = "auto"
		}
		if place, err = o.Runtime.Place(d); err != nil {
			return nil, fmt.Errorf("load janus: %w", err)
		}
	}
	if !place.OnGPU() && p.Params == "7B" && !o.ForceCPU {
		return nil, p.cpuRefusal(place)
	}
	p.GraphPlacement = map[string]ort.Placement{}
	p.Placement = place
	// Opt-in: a glibc mmap threshold returns every freed KV cache to the
	// system at once (peak 3.2 -> 2.6 GB for 1B in fp32) but then every
	// step faults in a fresh cache: per-token time grew from 80 to 300 ms
	// over the image at full size, so it is off unless asked for.
	if n, err := strconv.Atoi(os.Getenv("DIPTYCH_MMAP_THRESHOLD")); err == nil && n > 0 {
		ort.SetMmapThreshold(n)
	}
	if err := p.checkMemory(); err != nil {
		return nil, err
	}
	p.writeGraphIO()
	eager := append([]string{}, t2iGraphs...)
	if e := p.textEmbedder(); e != "table" {
		eager = append(eager, e)
	}
	// The language model first, alone: an auto placement may fall back to
	// the CPU, and the other graphs then follow it there; and creating its
	// session holds the parsed file, the initializers and their pre-packed
	// copy at once (~3× its 0.7 GB for q4), which must not overlap the
	// other graphs' (peak 2.96 → 3.40 GiB at full size when it did).
	if err := p.open("language_model"); err != nil {
		p.Close()
		return nil, err
	}
	place = p.sess["language_model"].Placement
	p.Placement = place
	if !place.OnGPU() && p.Params == "7B" && !o.ForceCPU {
		p.Close()
		return nil, p.cpuRefusal(place)
	}
	rest := eager[1:]
	// The smaller graphs side by side, one per core (session creation is
	// mostly single-threaded).
	if err := p.openAll(rest); err != nil {
		p.Close()
		return nil, err
	}
	if p.mem, err = ort.MemoryInfoFor(place); err != nil {
		p.Close()
		return nil, fmt.Errorf("load janus: %w", err)
	}
	return p, nil
}

// textEmbedder is what embeds text-only tokens: the embed_tokens graph when
// the folder has it, else "table" (rows of prepare_inputs_embeds' token
// table read from disk), else prepare_inputs_embeds with zero images.
func (p *Pipeline) textEmbedder() string {
	if _, ok := p.Layout.Components["embed_tokens"]; ok {
		return "embed_tokens"
	}
	if p.table != nil {
		return "table"
	}
	return "prepare_inputs_embeds"
}

// openTable finds prepare_inputs_embeds' token table (Gather(W, input_ids)
// with a float32/float16 W of the model's width) unless embed_tokens is
// there or Options.GraphEmbed says no. A graph without such a table (a
// quantized embedding) keeps using the graph.
func (p *Pipeline) openTable() error {
	if p.opts.GraphEmbed {
		return nil
	}
	if _, ok := p.Layout.Components["embed_tokens"]; ok {
		return nil
	}
	t, err := onnx.FindGatherTable(p.Layout.Components["prepare_inputs_embeds"].Model, "input_ids")
	if errors.Is(err, onnx.ErrNoTable) {
		return nil
	}
	if err != nil {
		return err
	}
	if int(t.Dims[1]) != p.Dims.Hidden {
		return nil
	}
	p.table, err = onnx.OpenTable(t)
	return err
}

// openAll opens graphs concurrently, at most one per core at a time.
func (p *Pipeline) openAll(graphs []string) error {
	errs := make([]error, len(graphs))
	sem := make(chan struct{}, max(1, runtime.NumCPU()))
	var wg sync.WaitGroup
	for i, g := range graphs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = p.open(g)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// open creates graph g's session unless it is open. The embedders go on the
// CPU when Options.EmbedOnCPU says so; the rest where the language model is.
func (p *Pipeline) open(g string) error {
	p.mu.Lock()
	_, ok := p.sess[g]
	p.mu.Unlock()
	if ok {
		return nil
	}
	c, ok := p.Layout.Components[g]
	if !ok {
		return fmt.Errorf("load janus %s: no %s graph", p.Dir, g)
	}
	model := c.Model
	if pl := p.placementFor(g); !pl.OnGPU() && p.opts.MatMulNBitsAccuracy >= 0 && strings.Contains(c.Variant, "q4") {
		if m, err := p.accuracyCopy(c.Model); err != nil {
			p.mu.Lock()
			p.Notes = append(p.Notes, fmt.Sprintf("%s: kept the file's MatMulNBits accuracy level: %v", g, err))
			p.mu.Unlock()
		} else {
			model = m
		}
	}
	s, err := p.opts.Runtime.NewSession(model, ort.SessionOptions{Placement: p.placementFor(g),
		IntraOpThreads: p.opts.IntraOpThreads, GPUMemLimit: p.opts.GPUMemLimit,
		// The KV cache grows by one position a step: with the arena every
		// outgrown size stays reserved (+1 GB at 600 positions for 1B).
		// image_decode runs once per image: without an arena its 0.4 GB of
		// activations reuse the heap the freed KV cache left.
		NoArena: (g == "language_model" || g == "image_decode") && os.Getenv("DIPTYCH_LM_ARENA") != "1"})
	if err != nil {
		return fmt.Errorf("load janus graph %s: %w", g, err)
	}
	p.mu.Lock()
	p.sess[g] = s
	p.GraphPlacement[g] = s.Placement
	p.mu.Unlock()
	return nil
}

// accuracyCopy returns the path of a copy of the graph at path whose
// MatMulNBits nodes use Options.MatMulNBitsAccuracy, making it on first use
// (the path itself when the graph has none).
func (p *Pipeline) accuracyCopy(path string) (string, error) {
	level := p.opts.MatMulNBitsAccuracy
	if level == 0 {
		level = 4
	}
	dir := p.opts.CacheDir
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return path, err
		}
		dir = filepath.Join(c, "diptych", "graphs")
	}
	st, err := os.Stat(path)
	if err != nil {
		return path, err
	}
	abs, _ := filepath.Abs(path)
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d|acc%d", abs, st.Size(), st.ModTime().UnixNano(), level)))
	dst := filepath.Join(dir, hex.EncodeToString(h[:8]), filepath.Base(path))
	none := dst + ".none"
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if _, err := os.Stat(none); err == nil {
		return path, nil
	}
	n, err := onnx.SetMatMulNBitsAccuracy(path, dst, level)
	if err != nil {
		return path, err
	}
	if n == 0 {
		os.MkdirAll(filepath.Dir(none), 0o755)
		os.WriteFile(none, nil, 0o644)
		return path, nil
	}
	return dst, nil
}

// placementFor is where graph g's session goes: the pipeline's placement,
// or the CPU for the embedders with Options.EmbedOnCPU.
func (p *Pipeline) placementFor(g string) ort.Placement {
	if p.opts.EmbedOnCPU && p.Placement.OnGPU() && (g == "prepare_inputs_embeds" || g == "embed_tokens") {
		return ort.Placement{Requested: ort.Device{Kind: "cpu"}, Provider: ort.ProviderCPU}
	}
	return p.Placement
}

// Loaded lists the graphs whose sessions are open, in call order.
func (p *Pipeline) Loaded() []string {
	var out []string
	for _, g := range append(append([]string{}, models.JanusGraphs...), "embed_tokens") {
		if _, ok := p.sess[g]; ok {
			out = append(out, g)
		}
	}
	return out
}

// onlyMissingSupport reports whether what Detect complained about is only
// optional support files (config.json), which Load can do without.
func onlyMissingSupport(l models.Layout) bool {
	for _, m := range l.Missing {
		if m != "config.json" {
			return false
		}
	}
	return true
}

// sameBoundary lists, per dtype, the dtypes whose graphs take and return
// the same element types (float16 I/O for fp16/q4f16, float32 otherwise):
// the preferred stand-ins when a file is absent.
var sameBoundary = map[string][]string{
	"q4f16": {"fp16"}, "fp16": {"q4f16"},
	"q4": {"fp32", "q8", "int8", "uint8", "bnb4"}, "fp32": {"q4", "q8", "int8", "uint8", "bnb4"},
	"q8": {"fp32", "q4"}, "int8": {"fp32", "q4"}, "uint8": {"fp32", "q4"}, "bnb4": {"fp32", "q4"},
}

// chooseVariant applies a combination name or a single dtype, then the
// per-graph overrides.
func chooseVariant(l models.Layout, variant string, dtypes map[string]string) (models.Layout, []string, error) {
	var notes []string
	if variant != "" {
		want := map[string]string{}
		if combo, err := models.LookupJanusCombo(variant); err == nil {
			want = combo.Dtypes
		} else if _, err2 := models.DtypeSuffix(variant); err2 == nil {
			for _, g := range models.JanusGraphs {
				want[g] = variant
			}
		} else {
			return l, nil, fmt.Errorf("variant %q: %v; or a single dtype (%v)", variant, err, err2)
		}
		pick := map[string]string{}
		for _, g := range models.JanusGraphs {
			d := want[g]
			has := func(dtype string) bool {
				for _, c := range l.Variants[g] {
					if c.Variant == dtype {
						return true
					}
				}
				return false
			}
			if g == "image_decode" && d != "fp32" {
				// A reduced-precision VQ decoder is never offered: nothing
				// shows it is safe (the published q4f16 decoder is not
				// tested here), and fp32 costs 170 MB.
				if has("fp32") {
					pick[g] = "fp32"
					notes = append(notes, fmt.Sprintf("image_decode: kept at fp32 (a %s image decoder is not offered)", d))
					continue
				}
				notes = append(notes, fmt.Sprintf("image_decode: no fp32 file, using %s: not shown to be safe; "+
					"get onnx/image_decode.onnx (fp32)", l.Components[g].Variant))
				continue
			}
			if has(d) {
				pick[g] = d
				continue
			}
			alt := ""
			for _, a := range sameBoundary[d] {
				if has(a) {
					alt = a
					break
				}
			}
			if alt != "" {
				pick[g] = alt
				notes = append(notes, fmt.Sprintf("%s: no %s file, using %s (same boundary types)", g, d, alt))
			} else {
				notes = append(notes, fmt.Sprintf("%s: no %s file, using %s", g, d, l.Components[g].Variant))
			}
		}
		if vs := l.Variants["embed_tokens"]; len(vs) > 0 {
			// embed_tokens follows the language model's dtype (published as
			// fp16 and q4f16); any file works, its output is converted.
			for _, d := range append([]string{pick["language_model"]}, sameBoundary[pick["language_model"]]...) {
				if hasVariant(vs, d) {
					pick["embed_tokens"] = d
					break
				}
			}
		}
		var err error
		if l, err = l.Select(pick); err != nil {
			return l, nil, err
		}
	}
	if d, ok := dtypes["image_decode"]; ok && d != "fp32" {
		var have []string
		for _, c := range l.Variants["image_decode"] {
			have = append(have, c.Variant)
		}
		return l, nil, fmt.Errorf("image_decode %s: Diptych runs the image decoder in fp32 only (a %s decoder is not shown "+
			"to be safe); present: %s", d, d, strings.Join(have, ", "))
	}
	if len(dtypes) > 0 {
		for g := range dtypes {
			if _, ok := graphIO[g]; !ok {
				return l, nil, fmt.Errorf("dtype for unknown graph %q: the graphs are %s", g, strings.Join(models.JanusGraphs, ", "))
			}
		}
		var err error
		if l, err = l.Select(dtypes); err != nil {
			return l, nil, err
		}
	}
	return l, notes, nil
}

// ioError explains a graph whose inputs or outputs are not the expected ones.
func ioError(graph string, c models.Component, kind string, have []onnx.TensorInfo, want []string) error {
	names := make([]string, len(have))
	for i, t := range have {
		names[i] = t.Name
	}
	return fmt.Errorf("graph %s (%s) has %ss [%s]; expected %s", graph, c.Model, kind,
		strings.Join(names, ", "), strings.Join(want, ", "))
}

// readDims checks every graph's I/O names and reads the dimensions.
func (p *Pipeline) readDims() error {
	comps := p.Layout.Components
	graphs := append([]string{}, models.JanusGraphs...)
	if _, ok := comps["embed_tokens"]; ok {
		graphs = append(graphs, "embed_tokens")
	}
	for _, g := range graphs {
		c := comps[g]
		spec := graphIO[g]
		for _, name := range spec.in {
			if _, ok := c.Info.Input(name); !ok {
				want := spec.in
				if g == "language_model" {
					want = append(append([]string{}, want...), "position_ids", "past_key_values.{i}.key", "past_key_values.{i}.value")
				}
				return ioError(g, c, "input", c.Info.Inputs, want)
			}
		}
		if g != "language_model" {
			// Every declared input must be one Diptych feeds: an extra one
			// would fail at the first run with less context.
			var extra []string
			for _, in := range c.Info.Inputs {
				if !contains(spec.in, in.Name) {
					extra = append(extra, in.String())
				}
			}
			if len(extra) > 0 {
				return fmt.Errorf("graph %s (%s) has input %s, which Diptych does not know how to feed; expected exactly %s",
					g, c.Model, strings.Join(extra, ", "), strings.Join(spec.in, ", "))
			}
		}
		for _, name := range spec.out {
			if _, ok := c.Info.Output(name); !ok {
				want := spec.out
				if g == "language_model" {
					want = append(append([]string{}, want...), "present.{i}.key", "present.{i}.value")
				}
				return ioError(g, c, "output", c.Info.Outputs, want)
			}
		}
	}
	lm := comps["language_model"]
	layers := 0
	var unknown []string
	for _, in := range lm.Info.Inputs {
		switch {
		case in.Name == "inputs_embeds" || in.Name == "attention_mask":
		case in.Name == "position_ids":
			p.hasPo = true
		case contains(OptionalLMInputs, in.Name):
			p.lmOptional = append(p.lmOptional, in.Name)
		case strings.HasPrefix(in.Name, "past_key_values."):
			if strings.HasSuffix(in.Name, ".key") {
				layers++
			}
		default:
			unknown = append(unknown, in.String())
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("graph language_model (%s) has input %s, which Diptych does not know how to feed; "+
			"expected inputs_embeds, attention_mask, past_key_values.{i}.key/value and optionally %s",
			lm.Model, strings.Join(unknown, ", "), strings.Join(OptionalLMInputs, ", "))
	}
	if layers == 0 {
		return ioError("language_model", lm, "input", lm.Info.Inputs,
			[]string{"inputs_embeds", "attention_mask", "position_ids", "past_key_values.{0..L-1}.key", "past_key_values.{0..L-1}.value"})
	}
	for i := 0; i < layers; i++ {
		for _, kv := range []string{"key", "value"} {
			in := fmt.Sprintf("past_key_values.%d.%s", i, kv)
			out := fmt.Sprintf("present.%d.%s", i, kv)
			if _, ok := lm.Info.Input(in); !ok {
				return ioError("language_model", lm, "input", lm.Info.Inputs, []string{in})
			}
			if _, ok := lm.Info.Output(out); !ok {
				return ioError("language_model", lm, "output", lm.Info.Outputs, []string{out})
			}
		}
	}
	d := &p.Dims
	d.Layers = layers
	past, _ := lm.Info.Input("past_key_values.0.key")
	var problems []string
	// A dimension comes from the graph; where the export left it symbolic,
	// from the JSON files beside it (fallback > 0).
	dim := func(graph string, t onnx.TensorInfo, ok bool, axis int, what string, fallback int) int {
		if ok && len(t.Shape) > axis && t.Shape[axis].Value > 0 {
			return int(t.Shape[axis].Value)
		}
		if fallback > 0 {
			return fallback
		}
		problems = append(problems, fmt.Sprintf("%s %s dim %d (%s) is not a fixed size and config.json does not give it",
			graph, t.Name, axis, what))
		return 0
	}
	f := p.readFallbacks()
	t, ok := lm.Info.Input("inputs_embeds")
	d.Hidden = dim("language_model", t, ok, 2, "hidden size", f.hidden)
	headDim := 0
	if f.heads > 0 && d.Hidden > 0 {
		headDim = d.Hidden / f.heads
	}
	d.KVHeads = dim("language_model", past, true, 1, "KV heads", f.kvHeads)
	d.HeadDim = dim("language_model", past, true, 3, "head size", max(f.headDim, headDim))
	t, ok = comps["lm_head"].Info.Output("logits")
	d.Vocab = dim("lm_head", t, ok, 2, "vocabulary", f.vocab)
	t, ok = comps["gen_head"].Info.Output("logits")
	d.Codebook = dim("gen_head", t, ok, 2, "codebook size", f.codebook)
	t, ok = comps["image_decode"].Info.Input("generated_tokens")
	d.ImageTokens = dim("image_decode", t, ok, 1, "image tokens", f.imageTokens)
	t, ok = comps["prepare_inputs_embeds"].Info.Input("pixel_values")
	d.VisionSize = dim("prepare_inputs_embeds", t, ok, 4, "input image size", f.visionSize)
	if et, ok := comps["embed_tokens"]; ok {
		t, ok := et.Info.Output("inputs_embeds")
		if w := dim("embed_tokens", t, ok, 2, "hidden size", d.Hidden); w != 0 && d.Hidden != 0 && w != d.Hidden {
			problems = append(problems, fmt.Sprintf("embed_tokens returns hidden size %d but language_model takes %d", w, d.Hidden))
		}
	}
	for _, g := range []string{"lm_head", "gen_head"} {
		t, ok := comps[g].Info.Input("hidden_states")
		if w := dim(g, t, ok, 2, "hidden size", d.Hidden); w != 0 && d.Hidden != 0 && w != d.Hidden {
			problems = append(problems, fmt.Sprintf("%s takes hidden size %d but language_model has %d", g, w, d.Hidden))
		}
	}
	for d.ImageGrid*d.ImageGrid < d.ImageTokens {
		d.ImageGrid++
	}
	t, ok = comps["image_decode"].Info.Output("decoded_image")
	d.ImageSize = dim("image_decode", t, ok, 3, "image size", 16*d.ImageGrid) // VQ-16: 16 px a token
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	if d.ImageGrid*d.ImageGrid != d.ImageTokens {
		return fmt.Errorf("graph image_decode takes %d tokens, not a square grid", d.ImageTokens)
	}
	return nil
}

// fallbacks are dimensions from the JSON files, for exports whose graphs
// leave them symbolic (0 = not given).
type fallbacks struct {
	hidden, heads, kvHeads, headDim, vocab, codebook, imageTokens, visionSize int
}

func (p *Pipeline) readFallbacks() fallbacks {
	var f fallbacks
	read := func(name string, v any) {
		if path, ok := p.Layout.Files[name]; ok {
			if b, err := os.ReadFile(path); err == nil {
				json.Unmarshal(b, v) // best effort: readConfig reports bad files
			}
		}
	}
	var cfg struct {
		Language struct {
			Hidden  int `json:"hidden_size"`
			Heads   int `json:"num_attention_heads"`
			KVHeads int `json:"num_key_value_heads"`
			HeadDim int `json:"head_dim"`
			Vocab   int `json:"vocab_size"`
		} `json:"language_config"`
		GenHead struct {
			Params struct {
				Size int `json:"image_token_size"`
			} `json:"params"`
		} `json:"gen_head_config"`
	}
	read("config.json", &cfg)
	lc := cfg.Language
	f.hidden, f.heads, f.kvHeads, f.headDim, f.vocab = lc.Hidden, lc.Heads, lc.KVHeads, lc.HeadDim, lc.Vocab
	if f.kvHeads == 0 {
		f.kvHeads = f.heads
	}
	f.codebook = cfg.GenHead.Params.Size
	var gen struct {
		N int `json:"num_image_tokens"`
	}
	read("generation_config.json", &gen)
	f.imageTokens = gen.N
	if f.imageTokens == 0 {
		// Some exports give it only in processor_config.json (where it is
		// the understanding placeholders, the same 576 for Janus-Pro).
		read("processor_config.json", &gen)
		f.imageTokens = gen.N
	}
	var pre struct {
		Size int `json:"image_size"`
	}
	read("preprocessor_config.json", &pre)
	f.visionSize = pre.Size
	return f
}

// readConfig reads config.json, processor_config.json and
// preprocessor_config.json (all optional; reference defaults otherwise).
func (p *Pipeline) readConfig() error {
	c := modelConfig{System: DefaultSystemPrompt, ImageTag: "<image_placeholder>", BOITag: "<begin_of_image>",
		EOITag: "<end_of_image>", Background: [3]uint8{127, 127, 127}, Mean: [3]float64{0.5, 0.5, 0.5},
		Std: [3]float64{0.5, 0.5, 0.5}, Rescale: 1.0 / 255, MinSize: 14, Normalize: true}
	read := func(name string, v any) error {
		path, ok := p.Layout.Files[name]
		if !ok {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("load janus: %w", err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("load janus %s: %w", path, err)
		}
		return nil
	}
	var proc struct {
		ImageTag   *string `json:"image_tag"`
		StartTag   *string `json:"image_start_tag"`
		EndTag     *string `json:"image_end_tag"`
		NumTokens  int     `json:"num_image_tokens"`
		SystemText *string `json:"system_prompt"`
	}
	if err := read("processor_config.json", &proc); err != nil {
		return err
	}
	set := func(dst *string, v *string) {
		if v != nil && *v != "" {
			*dst = *v
		}
	}
	set(&c.ImageTag, proc.ImageTag)
	set(&c.BOITag, proc.StartTag)
	set(&c.EOITag, proc.EndTag)
	var pre struct {
		Background []float64 `json:"background_color"`
		Mean       []float64 `json:"image_mean"`
		Std        []float64 `json:"image_std"`
		Rescale    *float64  `json:"rescale_factor"`
		MinSize    *int      `json:"min_size"`
		Normalize  *bool     `json:"do_normalize"`
		ImageSize  int       `json:"image_size"`
	}
	if err := read("preprocessor_config.json", &pre); err != nil {
		return err
	}
	if len(pre.Background) == 3 {
		for i, v := range pre.Background {
			c.Background[i] = uint8(v)
		}
	}
	if len(pre.Mean) == 3 && len(pre.Std) == 3 {
		copy(c.Mean[:], pre.Mean)
		copy(c.Std[:], pre.Std)
	}
	if pre.Rescale != nil {
		c.Rescale = *pre.Rescale
	}
	if pre.MinSize != nil {
		c.MinSize = *pre.MinSize
	}
	if pre.Normalize != nil {
		c.Normalize = *pre.Normalize
	}
	if pre.ImageSize > 0 && pre.ImageSize != p.Dims.VisionSize {
		return fmt.Errorf("load janus %s: preprocessor_config.json image_size %d but prepare_inputs_embeds takes %d×%d images",
			p.Dir, pre.ImageSize, p.Dims.VisionSize, p.Dims.VisionSize)
	}
	var cfg struct {
		Language struct {
			MaxPos int `json:"max_position_embeddings"`
		} `json:"language_config"`
		Vision struct {
			Params struct {
				ImageSize int `json:"image_size"`
				Patch     int `json:"patch_size"`
			} `json:"params"`
		} `json:"vision_config"`
	}
	if err := read("config.json", &cfg); err != nil {
		return err
	}
	p.Dims.Context = cfg.Language.MaxPos
	switch {
	case proc.NumTokens > 0:
		p.Dims.VisionTokens = proc.NumTokens
	case cfg.Vision.Params.Patch > 0:
		n := p.Dims.VisionSize / cfg.Vision.Params.Patch
		p.Dims.VisionTokens = n * n
	default:
		p.Dims.VisionTokens = p.Dims.ImageTokens
	}
	p.cfg = c
	return nil
}

func (p *Pipeline) readSpecialIDs() error {
	var missing []string
	id := func(what string, fromTok func() (int, bool), names ...string) int {
		if fromTok != nil {
			if v, ok := fromTok(); ok {
				return v
			}
		}
		for _, n := range names {
			if v, ok := p.tok.TokenID(n); ok {
				return v
			}
		}
		missing = append(missing, what+" ("+strings.Join(names, " or ")+")")
		return -1
	}
	p.ids = specialIDs{
		bos:   id("BOS", p.tok.BOS, "<｜begin▁of▁sentence｜>"),
		eos:   id("EOS", p.tok.EOS, "<｜end▁of▁sentence｜>"),
		pad:   id("pad", p.tok.PadID, "<｜▁pad▁｜>"),
		boi:   id("begin-of-image", nil, p.cfg.BOITag),
		eoi:   id("end-of-image", nil, p.cfg.EOITag),
		image: id("image placeholder", nil, p.cfg.ImageTag),
	}
	if len(missing) > 0 {
		return fmt.Errorf("tokenizer.json lacks the special tokens %s", strings.Join(missing, ", "))
	}
	return nil
}

// cpuRefusal explains why a 7B model does not load on the CPU by default.
func (p *Pipeline) cpuRefusal(place ort.Placement) error {
	var weights int64
	for _, c := range p.Layout.Components {
		weights += c.Size
	}
	kv := p.kvBytesPerImage(700)
	ram := weights + kv + 1<<30
	// Decoding reads every language-model weight once per token; a desktop
	// CPU streams roughly 5 GB/s of that through the 4-bit/fp32 kernels.
	lmBytes := p.Layout.Components["language_model"].Size + p.Layout.Components["gen_head"].Size
	perToken := float64(lmBytes) / 5e9
	minutes := perToken * float64(p.Dims.ImageTokens) / 60
	why := "no GPU was requested"
	if place.Fallback != "" {
		why = "CUDA is unavailable: " + place.Fallback
	}
	return fmt.Errorf("Janus-Pro-7B on the CPU (%s) needs about %.0f GiB of RAM (%.1f GiB of weights + %.1f GiB KV cache "+
		"per image) and roughly %.0f minutes per 384×384 image (%.1f s per token × %d tokens); "+
		"use a CUDA GPU with ~20 GiB of memory, or pass --force-cpu (Options.ForceCPU) to run it anyway",
		why, float64(ram)/(1<<30), float64(weights)/(1<<30), float64(kv)/(1<<30), max(minutes, 1), perToken, p.Dims.ImageTokens)
}

// kvBytesPerImage is the KV cache of one image's CFG pair at seq positions.
func (p *Pipeline) kvBytesPerImage(seq int) int64 {
	size := int64(4)
	if t, ok := p.Layout.Components["language_model"].Info.Input("past_key_values.0.key"); ok && t.Type.Size() > 0 {
		size = int64(t.Type.Size())
	}
	return 2 * 2 * int64(p.Dims.Layers) * int64(p.Dims.KVHeads) * int64(p.Dims.HeadDim) * int64(seq) * size
}

// Tokenizer returns the model's tokenizer.
func (p *Pipeline) Tokenizer() *tokenizer.HF { return p.tok }

// Files returns the .onnx file used for each graph, by graph name.
func (p *Pipeline) Files() map[string]string {
	out := map[string]string{}
	for g, c := range p.Layout.Components {
		out[g] = c.Model
	}
	return out
}

// String returns a one-line summary: size, variant files, placement.
func (p *Pipeline) String() string {
	var vs []string
	for _, g := range models.JanusGraphs {
		vs = append(vs, g+"="+p.Layout.Components[g].Variant)
	}
	sort.Strings(vs)
	name := "Janus-Pro"
	if p.Params != "" {
		name += "-" + p.Params
	}
	return fmt.Sprintf("%s (%s; D=%d L=%d H=%d×%d) on %s [%s]", name, filepath.Base(p.Dir), p.Dims.Hidden, p.Dims.Layers,
		p.Dims.KVHeads, p.Dims.HeadDim, p.Placement, strings.Join(vs, " "))
}

// Close releases every session.
func (p *Pipeline) Close() error {
	if p == nil {
		return nil
	}
	var errs []error
	for g, s := range p.sess {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", g, err))
		}
	}
	p.sess = map[string]*ort.Session{}
	if err := p.table.Close(); err != nil {
		errs = append(errs, err)
	}
	p.table = nil
	p.mem.Close()
	p.mem = nil
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasVariant(vs []models.Component, dtype string) bool {
	for _, c := range vs {
		if c.Variant == dtype {
			return true
		}
	}
	return false
}
