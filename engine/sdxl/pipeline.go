// Package sdxl runs Stable Diffusion XL (base and refiner) from a
// diffusers/Optimum ONNX export exactly as diffusers'
// StableDiffusionXLPipeline and StableDiffusionXLImg2ImgPipeline compute it:
// two CLIP text encoders, micro-conditioning, classifier-free guidance, the
// diffusers schedulers, the base→refiner hand-off and image-to-image.
package sdxl

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"diptych/engine/models"
	"diptych/engine/onnx"
	"diptych/engine/ort"
	"diptych/engine/scheduler"
	"diptych/engine/tokenizer"
)

// Options configures how a pipeline runs.
type Options struct {
	Runtime   *ort.Runtime
	Placement ort.Placement // zero value: CPU
	Threads   int           // intra-op threads; 0 = one per core
	// LowMemory frees the text encoders after encoding and the UNet before
	// VAE decoding, so peak memory is the largest single component, and
	// runs the two CFG rows through the UNet one after the other (half the
	// activations: at 1024² a CFG batch of two holds ~1.3 GB per attention
	// map).
	LowMemory bool
}

// Pipeline is a loaded SDXL base or refiner folder. Components load when
// first needed. One generation runs at a time.
type Pipeline struct {
	Dir     string
	Refiner bool

	opts               Options
	layout             models.Layout
	forceZeros         bool
	requiresAesthetics bool
	vaeScale           float32
	schedCfg           scheduler.Config
	latentMultiple     int // latent height/width must be multiples of this
	tok1, tok2         *tokenizer.CLIP
	te1Hidden          string // penultimate hidden state output of text_encoder
	te2Hidden          string // ... of text_encoder_2
	dims               dims

	mu       sync.Mutex
	sessions map[string]*ort.Session
	// placed is where each component's session was placed; it outlives the
	// session (low-memory mode frees the UNet before decoding).
	placed map[string]ort.Placement
	// unetBatch is the batch of the last UNet run (tests).
	unetBatch int
}

// dims are the tensor widths read from the graphs.
type dims struct {
	hidden1, hidden2 int // text encoder widths (hidden1 = 0 for the refiner)
	pooled           int // text_embeds width
	cross            int // UNet encoder_hidden_states width
	timeIDs          int // 6 base, 5 refiner
	latentChannels   int
}

const seqLen = 77

// Load checks that dir is a complete SDXL export and reads its configs and
// tokenizers. No weights are loaded yet.
func Load(dir string, o Options) (*Pipeline, error) {
	if o.Runtime == nil {
		return nil, errors.New("sdxl: no ONNX Runtime given")
	}
	l, err := models.Detect(dir)
	if err != nil {
		return nil, fmt.Errorf("sdxl: %w", err)
	}
	if l.Kind != models.KindSDXLBase && l.Kind != models.KindSDXLRefiner {
		return nil, fmt.Errorf("sdxl: %s holds a %s model, not an SDXL export (expected model_index.json, "+
			"text_encoder_2/, unet/, vae_decoder/, tokenizer_2/, scheduler/)", dir, l.Kind)
	}
	if len(l.Missing) > 0 {
		return nil, fmt.Errorf("sdxl: %s is incomplete: missing %s", dir, strings.Join(l.Missing, ", "))
	}
	p := &Pipeline{Dir: dir, Refiner: l.Kind == models.KindSDXLRefiner, opts: o, layout: l,
		sessions: map[string]*ort.Session{}, placed: map[string]ort.Placement{}}
	if err := p.readConfigs(); err != nil {
		return nil, err
	}
	if !p.Refiner {
		if p.tok1, err = tokenizer.LoadCLIP(filepath.Join(dir, "tokenizer")); err != nil {
			return nil, fmt.Errorf("sdxl: %w", err)
		}
	}
	if p.tok2, err = tokenizer.LoadCLIP(filepath.Join(dir, "tokenizer_2")); err != nil {
		return nil, fmt.Errorf("sdxl: %w", err)
	}
	if err := p.readInterfaces(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pipeline) readConfigs() error {
	var index struct {
		ForceZeros         *bool `json:"force_zeros_for_empty_prompt"`
		RequiresAesthetics *bool `json:"requires_aesthetics_score"`
	}
	if err := readJSONIfPresent(filepath.Join(p.Dir, "model_index.json"), &index); err != nil {
		return err
	}
	p.forceZeros = !p.Refiner
	if index.ForceZeros != nil {
		p.forceZeros = *index.ForceZeros
	}
	p.requiresAesthetics = p.Refiner
	if index.RequiresAesthetics != nil {
		p.requiresAesthetics = *index.RequiresAesthetics
	}
	var vae struct {
		ScalingFactor *float64 `json:"scaling_factor"`
	}
	if err := readJSONIfPresent(filepath.Join(p.Dir, "vae_decoder", "config.json"), &vae); err != nil {
		return err
	}
	p.vaeScale = 0.13025
	if vae.ScalingFactor != nil {
		p.vaeScale = float32(*vae.ScalingFactor)
	}
	var unet struct {
		BlockOut []int `json:"block_out_channels"`
	}
	if err := readJSONIfPresent(filepath.Join(p.Dir, "unet", "config.json"), &unet); err != nil {
		return err
	}
	// Each down block but the last halves the latent; the exported graph
	// only works when every level divides evenly.
	p.latentMultiple = 8
	if n := len(unet.BlockOut); n > 0 {
		p.latentMultiple = 1 << (n - 1)
	}
	cfg, err := scheduler.LoadConfig(filepath.Join(p.Dir, "scheduler", "scheduler_config.json"))
	if err != nil {
		return fmt.Errorf("sdxl: %w", err)
	}
	p.schedCfg = cfg
	return nil
}

func readJSONIfPresent(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sdxl: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sdxl: %s is not valid JSON: %w", path, err)
	}
	return nil
}

// readInterfaces checks each graph's inputs and outputs and reads widths.
func (p *Pipeline) readInterfaces() error {
	info := func(name string) (onnx.ModelInfo, error) {
		c, ok := p.layout.Components[name]
		if !ok {
			return onnx.ModelInfo{}, fmt.Errorf("sdxl: %s has no %s/model.onnx", p.Dir, name)
		}
		if len(c.Info.Inputs) == 0 {
			return onnx.ReadModelInfo(c.Model)
		}
		return c.Info, nil
	}
	need := func(mi onnx.ModelInfo, graph string, inputs, outputs []string) error {
		var missing []string
		for _, n := range inputs {
			if _, ok := mi.Input(n); !ok {
				missing = append(missing, "input "+n)
			}
		}
		for _, n := range outputs {
			if _, ok := mi.Output(n); !ok {
				missing = append(missing, "output "+n)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("sdxl: %s/%s does not have the SDXL interface: missing %s (has inputs %s; outputs %s)",
				p.Dir, graph, strings.Join(missing, ", "), names(mi.Inputs), names(mi.Outputs))
		}
		return nil
	}
	lastDim := func(t onnx.TensorInfo) int {
		if len(t.Shape) == 0 {
			return 0
		}
		return int(t.Shape[len(t.Shape)-1].Value)
	}
	if !p.Refiner {
		mi, err := info("text_encoder")
		if err != nil {
			return err
		}
		if p.te1Hidden, err = penultimate(mi); err != nil {
			return fmt.Errorf("sdxl: %s/text_encoder: %w", p.Dir, err)
		}
		if err := need(mi, "text_encoder", []string{"input_ids"}, []string{p.te1Hidden}); err != nil {
			return err
		}
		out, _ := mi.Output(p.te1Hidden)
		p.dims.hidden1 = lastDim(out)
	}
	mi, err := info("text_encoder_2")
	if err != nil {
		return err
	}
	if p.te2Hidden, err = penultimate(mi); err != nil {
		return fmt.Errorf("sdxl: %s/text_encoder_2: %w", p.Dir, err)
	}
	if err := need(mi, "text_encoder_2", []string{"input_ids"}, []string{p.te2Hidden, "text_embeds"}); err != nil {
		return err
	}
	out, _ := mi.Output(p.te2Hidden)
	p.dims.hidden2 = lastDim(out)

	um, err := info("unet")
	if err != nil {
		return err
	}
	if err := need(um, "unet", []string{"sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"},
		[]string{"out_sample"}); err != nil {
		return err
	}
	ehs, _ := um.Input("encoder_hidden_states")
	te, _ := um.Input("text_embeds")
	tid, _ := um.Input("time_ids")
	smp, _ := um.Input("sample")
	p.dims.cross, p.dims.pooled, p.dims.timeIDs = lastDim(ehs), lastDim(te), lastDim(tid)
	p.dims.latentChannels = 4
	if len(smp.Shape) == 4 && smp.Shape[1].Value > 0 {
		p.dims.latentChannels = int(smp.Shape[1].Value)
	}
	if want := p.dims.hidden1 + p.dims.hidden2; p.dims.cross > 0 && p.dims.hidden2 > 0 && want > 0 && p.dims.cross != want {
		return fmt.Errorf("sdxl: %s: mismatched components: unet expects encoder_hidden_states of width %d but the text "+
			"encoders give %d + %d = %d", p.Dir, p.dims.cross, p.dims.hidden1, p.dims.hidden2, want)
	}
	wantIDs := 6
	if p.requiresAesthetics {
		wantIDs = 5
	}
	if p.dims.timeIDs > 0 && p.dims.timeIDs != wantIDs {
		return fmt.Errorf("sdxl: %s: unet takes time_ids of width %d, but model_index.json implies %d "+
			"(requires_aesthetics_score=%v)", p.Dir, p.dims.timeIDs, wantIDs, p.requiresAesthetics)
	}
	p.dims.timeIDs = wantIDs
	dm, err := info("vae_decoder")
	if err != nil {
		return err
	}
	if err := need(dm, "vae_decoder", []string{"latent_sample"}, []string{"sample"}); err != nil {
		return err
	}
	return nil
}

// penultimate returns the name of the second-to-last hidden_states.N output
// (diffusers uses hidden_states[-2]).
func penultimate(mi onnx.ModelInfo) (string, error) {
	var idx []int
	for _, o := range mi.Outputs {
		if s, ok := strings.CutPrefix(o.Name, "hidden_states."); ok {
			if n, err := strconv.Atoi(s); err == nil {
				idx = append(idx, n)
			}
		}
	}
	if len(idx) < 2 {
		return "", fmt.Errorf("expected outputs hidden_states.0 … hidden_states.N (an Optimum text encoder export), found %s",
			names(mi.Outputs))
	}
	sort.Ints(idx)
	return "hidden_states." + strconv.Itoa(idx[len(idx)-2]), nil
}

func names(list []onnx.TensorInfo) string {
	out := make([]string, len(list))
	for i, t := range list {
		out[i] = t.Name
	}
	return strings.Join(out, ", ")
}

// session returns the named component's session, creating it on first use.
func (p *Pipeline) session(name string, outputs ...string) (*ort.Session, error) {
	if s, ok := p.sessions[name]; ok {
		return s, nil
	}
	c, ok := p.layout.Components[name]
	if !ok {
		return nil, fmt.Errorf("sdxl: %s has no %s/model.onnx (needed for this request)", p.Dir, name)
	}
	s, err := p.opts.Runtime.NewSession(c.Model, ort.SessionOptions{Placement: p.opts.Placement,
		IntraOpThreads: p.opts.Threads, Outputs: outputs,
		// Low memory: no CPU arena for the two big activation users. The
		// arena grows by doubling and keeps what it grew; without it a
		// step's activations are freed as they die (a UNet step at 1024²
		// takes a minute on the CPU, so the allocations cost nothing).
		NoArena: p.opts.LowMemory && (name == "unet" || name == "vae_decoder")})
	if err != nil {
		return nil, fmt.Errorf("sdxl: load %s: %w", name, err)
	}
	p.sessions[name] = s
	p.placed[name] = s.Placement
	return s, nil
}

// free closes the named sessions and returns their memory to the system.
func (p *Pipeline) free(names ...string) {
	closed := false
	for _, n := range names {
		if s, ok := p.sessions[n]; ok {
			s.Close()
			delete(p.sessions, n)
			closed = true
		}
	}
	if closed {
		ort.ReleaseFreedMemory()
	}
}

// Close releases every loaded component.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, s := range p.sessions {
		s.Close()
		delete(p.sessions, n)
	}
	return nil
}

// Placement reports where the pipeline runs, by the rule of runPlacement:
// the UNet's placement once it has been loaded (a CUDA session that fell back
// records why), the requested placement before any session exists.
func (p *Pipeline) Placement() ort.Placement {
	p.mu.Lock()
	defer p.mu.Unlock()
	return runPlacement(p.placed, p.opts.Placement)
}

// placementOrder ranks the components whose placement stands for a run's:
// the UNet does nearly all the work; before it is loaded (a run that failed
// early), the first other component of this list that was.
var placementOrder = []string{"unet", "text_encoder_2", "text_encoder", "vae_encoder", "vae_decoder"}

// runPlacement picks the placement that describes a run from the placements
// of its components: the first of placementOrder that was placed, then any
// other component in name order, else requested.
func runPlacement(placed map[string]ort.Placement, requested ort.Placement) ort.Placement {
	for _, name := range placementOrder {
		if pl, ok := placed[name]; ok {
			return pl
		}
	}
	if len(placed) == 0 {
		return requested
	}
	names := make([]string, 0, len(placed))
	for n := range placed {
		names = append(names, n)
	}
	sort.Strings(names)
	return placed[names[0]]
}

// Precision names the UNet's floating-point type as model files do
// ("fp32", "fp16").
func (p *Pipeline) Precision() string {
	if c, ok := p.layout.Components["unet"]; ok {
		if t, ok := c.Info.Input("sample"); ok {
			switch t.Type {
			case onnx.Float16:
				return "fp16"
			case onnx.BFloat16:
				return "bf16"
			}
		}
	}
	return "fp32"
}
