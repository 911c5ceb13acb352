package janus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"diptych/engine/models"
	"diptych/engine/onnx"
)

// This file holds the RAM check that runs before any weight is loaded, and
// the listing of every graph's declared inputs and outputs that Load writes
// beside the model (graph_io.json).

// memOverhead is what a Janus pipeline holds besides weights and KV cache
// on the CPU: ONNX Runtime arenas, activations of a prefill (logits of one
// position, a [2,T,D] hidden state), the tokenizer, Go's heap.
const memOverhead = 384 << 20

// weightFactor is resident bytes per byte of graph file measured on the
// full-size Janus-Pro-1B exports (ONNX Runtime copies external data into its
// own buffers and pre-packs MatMul weights; see docs/benchmarks.md).
const weightFactor = 1.10

// MemoryEstimate is what loading some graphs is expected to cost in RAM.
type MemoryEstimate struct {
	Graphs  []string
	Weights int64 // bytes of the graph files
	KV      int64 // KV cache of one CFG pair at prompt+image positions
	Total   int64
}

func (m MemoryEstimate) String() string {
	return fmt.Sprintf("%.1f GiB (%.2f GiB of weights in %s, %.2f GiB KV cache, %.2f GiB runtime)", gib(m.Total),
		gib(m.Weights), strings.Join(m.Graphs, ", "), gib(m.KV), gib(memOverhead))
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }

// estimate is the RAM needed for graphs of layout l (on the CPU), with the
// KV cache when the language model is among them.
func (p *Pipeline) estimate(l models.Layout, graphs []string) MemoryEstimate {
	m := MemoryEstimate{Graphs: graphs}
	for _, g := range graphs {
		m.Weights += l.Components[g].Size
		if g == "language_model" && !p.Placement.OnGPU() {
			m.KV = p.kvBytesPerImage(64 + p.Dims.ImageTokens)
		}
	}
	m.Total = int64(float64(m.Weights)*weightFactor) + m.KV + memOverhead
	return m
}

// hostGraphs are the graphs among gs whose sessions run on the CPU.
func (p *Pipeline) hostGraphs(gs []string) []string {
	if !p.Placement.OnGPU() {
		return gs
	}
	var out []string
	for _, g := range gs {
		if p.opts.EmbedOnCPU && (g == "prepare_inputs_embeds" || g == "embed_tokens") {
			out = append(out, g)
		}
	}
	return out
}

// available returns the RAM the process may still use, 0 when unknown.
func (p *Pipeline) available() int64 {
	if p.opts.AvailableMemory != nil {
		return p.opts.AvailableMemory()
	}
	return memAvailable()
}

// checkMemory refuses, before anything is loaded, a model whose
// text-to-image graphs do not fit in the available RAM, naming the
// estimate, what is available and which combinations would fit.
func (p *Pipeline) checkMemory() error {
	if p.opts.IgnoreMemory {
		return nil
	}
	avail := p.available()
	if avail <= 0 {
		return nil
	}
	graphs := p.hostGraphs(append(append([]string{}, t2iGraphs...), p.textEmbedder()))
	if len(graphs) == 0 {
		return nil
	}
	est := p.estimate(p.Layout, graphs)
	if est.Total <= avail {
		return nil
	}
	name := "Janus-Pro"
	if p.Params != "" {
		name += "-" + p.Params
	}
	var fits []string
	for _, c := range models.JanusCombos() {
		l, _, err := chooseVariant(p.Layout, c.Name, nil)
		if err != nil {
			continue
		}
		e := p.estimate(l, p.hostGraphs(append(append([]string{}, t2iGraphs...), textEmbedderOf(l))))
		if e.Total <= avail {
			fits = append(fits, fmt.Sprintf("--variant %s (%.1f GiB)", c.Name, gib(e.Total)))
		}
	}
	hint := "no combination in this folder fits: close other programs or use a machine with more memory"
	if len(fits) > 0 {
		hint = "what would fit: " + strings.Join(fits, ", ")
	}
	return &MemoryError{Estimate: est, Available: avail, Msg: fmt.Sprintf(
		"%s %s needs about %s for text-to-image but only %.1f GiB of RAM is available; %s; or pass --force-cpu to try anyway",
		name, p.comboName(), est, gib(avail), hint)}
}

// checkMemoryFor checks graphs about to be loaded lazily against what is
// available now (which already accounts for what is loaded).
func (p *Pipeline) checkMemoryFor(graphs []string) error {
	if p.opts.IgnoreMemory {
		return nil
	}
	avail := p.available()
	graphs = p.hostGraphs(graphs)
	if avail <= 0 || len(graphs) == 0 {
		return nil
	}
	est := p.estimate(p.Layout, graphs)
	est.Total -= memOverhead
	if est.Total <= avail {
		return nil
	}
	return &MemoryError{Estimate: est, Available: avail, Msg: fmt.Sprintf(
		"loading %s needs about %.1f GiB more RAM but only %.1f GiB is available; close other programs or use a smaller variant",
		strings.Join(graphs, ", "), gib(est.Total), gib(avail))}
}

// MemoryError is Load's refusal of a model that does not fit in RAM.
type MemoryError struct {
	Estimate  MemoryEstimate
	Available int64
	Msg       string
}

func (e *MemoryError) Error() string { return e.Msg }

func textEmbedderOf(l models.Layout) string {
	if _, ok := l.Components["embed_tokens"]; ok {
		return "embed_tokens"
	}
	if _, err := onnx.FindGatherTable(l.Components["prepare_inputs_embeds"].Model, "input_ids"); err == nil {
		return "table" // read from disk: no resident weights
	}
	return "prepare_inputs_embeds"
}

// comboName names the chosen files ("variant fp32" or the per-graph dtypes).
func (p *Pipeline) comboName() string {
	if p.opts.Variant != "" {
		return "(" + p.opts.Variant + ")"
	}
	var parts []string
	for _, g := range models.JanusGraphs {
		parts = append(parts, g+"="+p.Layout.Components[g].Variant)
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// memAvailable reads MemAvailable from /proc/meminfo (0 where there is none).
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// GraphIO is one graph file's declared inputs and outputs.
type GraphIO struct {
	File    string   `json:"file"`
	Variant string   `json:"variant"`
	Bytes   int64    `json:"bytes"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	// Optional names the inputs Diptych feeds with a default value
	// (OptionalLMInputs).
	Optional []string `json:"optional,omitempty"`
}

// GraphIOReport lists every graph file of a folder, by graph then dtype.
type GraphIOReport struct {
	Graphs map[string][]GraphIO `json:"graphs"`
}

// GraphIOName is the listing Load writes beside the model on first load.
const GraphIOName = models.GraphIOName

// graphIOReport lists every graph file of the layout.
func graphIOReport(l models.Layout) GraphIOReport {
	r := GraphIOReport{Graphs: map[string][]GraphIO{}}
	for g, vs := range l.Variants {
		for _, c := range vs {
			gi := GraphIO{File: filepath.ToSlash(relOr(l.Dir, c.Model)), Variant: c.Variant, Bytes: c.Size}
			for _, t := range c.Info.Inputs {
				gi.Inputs = append(gi.Inputs, t.String())
				if g == "language_model" && contains(OptionalLMInputs, t.Name) {
					gi.Optional = append(gi.Optional, t.Name)
				}
			}
			for _, t := range c.Info.Outputs {
				gi.Outputs = append(gi.Outputs, t.String())
			}
			r.Graphs[g] = append(r.Graphs[g], gi)
		}
		sort.Slice(r.Graphs[g], func(i, j int) bool { return r.Graphs[g][i].File < r.Graphs[g][j].File })
	}
	return r
}

// writeGraphIO records the listing in graph_io.json beside the model when
// it is absent or stale; a read-only folder is left alone.
func (p *Pipeline) writeGraphIO() {
	p.IO = graphIOReport(p.Layout)
	if !p.opts.WriteGraphIO {
		return
	}
	b, err := json.MarshalIndent(p.IO, "", "  ")
	if err != nil {
		return
	}
	b = append(b, '\n')
	path := filepath.Join(p.Dir, GraphIOName)
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		if os.Rename(tmp, path) != nil {
			os.Remove(tmp)
		}
	}
}

func relOr(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
