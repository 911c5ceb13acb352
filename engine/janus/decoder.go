package janus

import (
	"context"
	"fmt"

	"diptych/engine/onnx"
	"diptych/engine/ort"
)

// lmRun is one sequence batch going through language_model with a KV cache.
// The present.* outputs are left for ONNX Runtime to allocate where the
// session runs (CUDA memory on a GPU, CPU memory otherwise) through an
// IoBinding, and are bound as they are as the next step's past_key_values.*:
// no copy through Go memory, and on a GPU the cache never leaves the device.
// (The CPU path is what the tests run; the CUDA path uses the same calls
// with "Cuda" memory info and has not been run on a GPU yet.)
type lmRun struct {
	p      *Pipeline
	b      *ort.Binding
	rows   int
	length int                        // positions in the cache
	past   map[string]*ort.BoundValue // "i.key" → value
	keys   []string
}

// newLMRun starts an empty cache for rows sequences.
func (p *Pipeline) newLMRun(rows int) (*lmRun, error) {
	s, err := p.session("language_model")
	if err != nil {
		return nil, err
	}
	b, err := s.NewBinding()
	if err != nil {
		return nil, err
	}
	r := &lmRun{p: p, b: b, rows: rows, past: map[string]*ort.BoundValue{}}
	kvType := p.inputType("language_model", "past_key_values.0.key")
	for i := 0; i < p.Dims.Layers; i++ {
		for _, kv := range []string{"key", "value"} {
			k := fmt.Sprintf("%d.%s", i, kv)
			v, err := ort.NewBoundTensor(kvType, ort.Shape{int64(rows), int64(p.Dims.KVHeads), 0, int64(p.Dims.HeadDim)})
			if err != nil {
				r.close()
				return nil, fmt.Errorf("empty KV cache: %w", err)
			}
			r.past[k] = v
			r.keys = append(r.keys, k)
		}
	}
	return r, nil
}

// close releases the cache and the binding.
func (r *lmRun) close() {
	for _, v := range r.past {
		v.Release()
	}
	r.past = nil
	r.b.Close()
}

// step feeds S new positions per row (embeds [rows,S,D] as float32) and
// returns the hidden state of each row's last position [rows,D].
func (r *lmRun) step(ctx context.Context, embeds []float32, S int) ([]float32, error) {
	const g = "language_model"
	p := r.p
	D := p.Dims.Hidden
	if len(embeds) != r.rows*S*D {
		return nil, fmt.Errorf("language_model step: %d values for %d rows × %d positions × %d", len(embeds), r.rows, S, D)
	}
	total := r.length + S
	if p.Dims.Context > 0 && total > p.Dims.Context {
		return nil, fmt.Errorf("sequence of %d positions exceeds the model's context of %d", total, p.Dims.Context)
	}
	var vs values
	defer vs.destroy()
	rows := int64(r.rows)
	x, err := vs.float(p, g, "inputs_embeds", ort.Shape{rows, int64(S), int64(D)}, embeds)
	if err != nil {
		return nil, err
	}
	mask, err := vs.ints(p, g, "attention_mask", ort.Shape{rows, int64(total)}, ones(r.rows*total))
	if err != nil {
		return nil, err
	}
	in := map[string]ort.Value{"inputs_embeds": x, "attention_mask": mask}
	if p.hasPo {
		pos := make([]int64, 0, r.rows*S)
		for range r.rows {
			for i := 0; i < S; i++ {
				pos = append(pos, int64(r.length+i))
			}
		}
		if in["position_ids"], err = vs.ints(p, g, "position_ids", ort.Shape{rows, int64(S)}, pos); err != nil {
			return nil, err
		}
	}
	for _, name := range p.lmOptional {
		t, _ := p.Layout.Components[g].Info.Input(name)
		var v ort.Value
		switch name {
		case "cache_position":
			pos := make([]int64, S)
			for i := range pos {
				pos[i] = int64(r.length + i)
			}
			v, err = vs.ints(p, g, name, ort.Shape{int64(S)}, pos)
		case "num_logits_to_keep", "logits_to_keep":
			v, err = vs.ints(p, g, name, scalarShape(t), []int64{0})
		case "use_cache_branch":
			b := int64(0)
			if r.length > 0 {
				b = 1
			}
			v, err = vs.ints(p, g, name, scalarShape(t), []int64{b})
		}
		if err != nil {
			return nil, err
		}
		in[name] = v
	}
	hidden, err := vs.out(p, g, "hidden_states", ort.Shape{rows, int64(S), int64(D)})
	if err != nil {
		return nil, err
	}
	for name, v := range in {
		if err := r.b.BindInput(name, v); err != nil {
			return nil, err
		}
	}
	for _, k := range r.keys {
		if err := r.b.BindValue("past_key_values."+k, r.past[k]); err != nil {
			return nil, err
		}
		if err := r.b.BindOutputToDevice("present."+k, p.mem); err != nil {
			return nil, err
		}
	}
	if err := r.b.BindOutput("hidden_states", hidden); err != nil {
		return nil, err
	}
	if err := r.b.Run(ctx); err != nil {
		return nil, err
	}
	outs, err := r.b.Outputs()
	if err != nil {
		return nil, err
	}
	// Drop the binding's reference to the old cache now rather than at the
	// next step, so two caches do not stay alive between steps, and unbind
	// the host tensors, which are destroyed when this step returns.
	r.b.ClearInputs()
	r.b.ClearOutputs()
	if h := outs["hidden_states"]; h != nil {
		h.Release()
	}
	for _, k := range r.keys {
		v := outs["present."+k]
		if v == nil {
			return nil, fmt.Errorf("language_model returned no present.%s", k)
		}
		r.past[k].Release()
		r.past[k] = v
	}
	r.length = total
	// The binding keeps the host tensors alive only until the next step
	// binds new ones; read the last positions now.
	all, err := ort.Float32s(hidden)
	if err != nil {
		return nil, err
	}
	last := make([]float32, r.rows*D)
	for row := 0; row < r.rows; row++ {
		copy(last[row*D:(row+1)*D], all[(row*S+S-1)*D:(row*S+S)*D])
	}
	return last, nil
}

// scalarShape is the shape of a one-value input: rank 0 when the graph
// declares a scalar, else [1].
func scalarShape(t onnx.TensorInfo) ort.Shape {
	if len(t.Shape) == 0 {
		return ort.Shape{}
	}
	return ort.Shape{1}
}
