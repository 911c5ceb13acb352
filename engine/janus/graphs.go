package janus

import (
	"context"
	"fmt"

	"diptych/engine/onnx"
	"diptych/engine/ort"
)

// This file runs the single graphs with host tensors, converting float32
// values to each graph's declared element types at its boundary.

// inputType returns the declared element type of input name of graph g.
func (p *Pipeline) inputType(g, name string) onnx.ElementType {
	if t, ok := p.Layout.Components[g].Info.Input(name); ok {
		return t.Type
	}
	return onnx.Undefined
}

// outputType returns the declared element type of output name of graph g.
func (p *Pipeline) outputType(g, name string) onnx.ElementType {
	if t, ok := p.Layout.Components[g].Info.Output(name); ok {
		return t.Type
	}
	return onnx.Undefined
}

// session returns graph g's session, opening it on first use (lm_head and,
// with embed_tokens present, prepare_inputs_embeds are not loaded for
// text-to-image).
func (p *Pipeline) session(g string) (*ort.Session, error) {
	if s, ok := p.sess[g]; ok {
		return s, nil
	}
	if err := p.checkMemoryFor([]string{g}); err != nil {
		return nil, err
	}
	if err := p.open(g); err != nil {
		return nil, err
	}
	return p.sess[g], nil
}

// runGraph runs graph g with named inputs and pre-allocated outputs.
func (p *Pipeline) runGraph(ctx context.Context, g string, in, out map[string]ort.Value) error {
	s, err := p.session(g)
	if err != nil {
		return err
	}
	return s.Run(ctx, in, out)
}

// values collects tensors so that one deferred call destroys them all.
type values []ort.Value

func (vs *values) float(p *Pipeline, g, name string, shape ort.Shape, data []float32) (ort.Value, error) {
	v, err := ort.NewFloatTensor(p.inputType(g, name), shape, data)
	if err != nil {
		return nil, fmt.Errorf("%s input %s: %w", g, name, err)
	}
	*vs = append(*vs, v)
	return v, nil
}

func (vs *values) ints(p *Pipeline, g, name string, shape ort.Shape, data []int64) (ort.Value, error) {
	v, err := ort.NewIntTensor(p.inputType(g, name), shape, data)
	if err != nil {
		return nil, fmt.Errorf("%s input %s: %w", g, name, err)
	}
	*vs = append(*vs, v)
	return v, nil
}

func (vs *values) out(p *Pipeline, g, name string, shape ort.Shape) (ort.Value, error) {
	v, err := ort.NewEmptyTensor(p.outputType(g, name), shape)
	if err != nil {
		return nil, fmt.Errorf("%s output %s: %w", g, name, err)
	}
	*vs = append(*vs, v)
	return v, nil
}

func (vs values) destroy() { ort.Destroy(vs...) }

// embed runs prepare_inputs_embeds on rows of equal length. pixels is nil
// for text only (zero images: the vision tower is skipped); otherwise it
// holds one image per row [rows,1,3,S,S] and imageMask marks the rows'
// placeholder positions. It returns [rows,T,D] as float32.
func (p *Pipeline) embed(ctx context.Context, ids [][]int, imageMask [][]bool, pixels []float32) ([]float32, error) {
	if pixels == nil {
		switch p.textEmbedder() {
		case "embed_tokens":
			return p.embedTokens(ctx, ids)
		case "table":
			return p.tableEmbed(ids)
		}
	}
	const g = "prepare_inputs_embeds"
	rows, T := len(ids), len(ids[0])
	flat := make([]int64, 0, rows*T)
	mask := make([]int64, rows*T)
	for r, row := range ids {
		if len(row) != T {
			return nil, fmt.Errorf("embed: row %d has %d tokens, row 0 has %d", r, len(row), T)
		}
		for i, id := range row {
			flat = append(flat, int64(id))
			if imageMask != nil && imageMask[r][i] {
				mask[r*T+i] = 1
			}
		}
	}
	var vs values
	defer vs.destroy()
	S, G := int64(p.Dims.VisionSize), int64(p.Dims.VisionTokens)
	in := map[string]ort.Value{}
	var err error
	if in["input_ids"], err = vs.ints(p, g, "input_ids", ort.Shape{int64(rows), int64(T)}, flat); err != nil {
		return nil, err
	}
	if in["images_seq_mask"], err = vs.ints(p, g, "images_seq_mask", ort.Shape{int64(rows), int64(T)}, mask); err != nil {
		return nil, err
	}
	if pixels == nil {
		in["pixel_values"], err = vs.float(p, g, "pixel_values", ort.Shape{0, 0, 3, S, S}, nil)
		if err == nil {
			in["images_emb_mask"], err = vs.ints(p, g, "images_emb_mask", ort.Shape{int64(rows), 0, G}, nil)
		}
	} else {
		in["pixel_values"], err = vs.float(p, g, "pixel_values", ort.Shape{int64(rows), 1, 3, S, S}, pixels)
		if err == nil {
			in["images_emb_mask"], err = vs.ints(p, g, "images_emb_mask", ort.Shape{int64(rows), 1, G}, ones(rows*int(G)))
		}
	}
	if err != nil {
		return nil, err
	}
	out, err := vs.out(p, g, "inputs_embeds", ort.Shape{int64(rows), int64(T), int64(p.Dims.Hidden)})
	if err != nil {
		return nil, err
	}
	if err := p.runGraph(ctx, g, in, map[string]ort.Value{"inputs_embeds": out}); err != nil {
		return nil, err
	}
	return copyFloats(out)
}

// tableEmbed reads the token rows from the table on disk → [rows,T,D].
func (p *Pipeline) tableEmbed(ids [][]int) ([]float32, error) {
	T := len(ids[0])
	flat := make([]int64, 0, len(ids)*T)
	for r, row := range ids {
		if len(row) != T {
			return nil, fmt.Errorf("embed: row %d has %d tokens, row 0 has %d", r, len(row), T)
		}
		for _, id := range row {
			flat = append(flat, int64(id))
		}
	}
	return p.table.Rows(make([]float32, 0, len(flat)*p.Dims.Hidden), flat)
}

// embedTokens runs embed_tokens on rows of equal length → [rows,T,D].
func (p *Pipeline) embedTokens(ctx context.Context, ids [][]int) ([]float32, error) {
	const g = "embed_tokens"
	rows, T := len(ids), len(ids[0])
	flat := make([]int64, 0, rows*T)
	for r, row := range ids {
		if len(row) != T {
			return nil, fmt.Errorf("embed: row %d has %d tokens, row 0 has %d", r, len(row), T)
		}
		for _, id := range row {
			flat = append(flat, int64(id))
		}
	}
	var vs values
	defer vs.destroy()
	x, err := vs.ints(p, g, "input_ids", ort.Shape{int64(rows), int64(T)}, flat)
	if err != nil {
		return nil, err
	}
	out, err := vs.out(p, g, "inputs_embeds", ort.Shape{int64(rows), int64(T), int64(p.Dims.Hidden)})
	if err != nil {
		return nil, err
	}
	if err := p.runGraph(ctx, g, map[string]ort.Value{"input_ids": x}, map[string]ort.Value{"inputs_embeds": out}); err != nil {
		return nil, err
	}
	return copyFloats(out)
}

// head runs lm_head or gen_head on one hidden state per row ([rows,D]) and
// returns the logits [rows,W] as float32.
func (p *Pipeline) head(ctx context.Context, g string, hidden []float32, rows int) ([]float32, error) {
	W := p.Dims.Vocab
	if g == "gen_head" {
		W = p.Dims.Codebook
	}
	var vs values
	defer vs.destroy()
	x, err := vs.float(p, g, "hidden_states", ort.Shape{int64(rows), 1, int64(p.Dims.Hidden)}, hidden)
	if err != nil {
		return nil, err
	}
	out, err := vs.out(p, g, "logits", ort.Shape{int64(rows), 1, int64(W)})
	if err != nil {
		return nil, err
	}
	if err := p.runGraph(ctx, g, map[string]ort.Value{"hidden_states": x}, map[string]ort.Value{"logits": out}); err != nil {
		return nil, err
	}
	return copyFloats(out)
}

// genEmbeds runs gen_img_embeds on one image token per row → [rows,D].
func (p *Pipeline) genEmbeds(ctx context.Context, tokens []int64) ([]float32, error) {
	const g = "gen_img_embeds"
	rows := int64(len(tokens))
	var vs values
	defer vs.destroy()
	x, err := vs.ints(p, g, "image_ids", ort.Shape{rows, 1}, tokens)
	if err != nil {
		return nil, err
	}
	out, err := vs.out(p, g, "inputs_embeds", ort.Shape{rows, 1, int64(p.Dims.Hidden)})
	if err != nil {
		return nil, err
	}
	if err := p.runGraph(ctx, g, map[string]ort.Value{"image_ids": x}, map[string]ort.Value{"inputs_embeds": out}); err != nil {
		return nil, err
	}
	return copyFloats(out)
}

// decode runs image_decode on n token grids → [n,3,S,S] float32 (≈[-1,1]).
func (p *Pipeline) decode(ctx context.Context, tokens [][]int) ([]float32, error) {
	const g = "image_decode"
	n := len(tokens)
	flat := make([]int64, 0, n*p.Dims.ImageTokens)
	for i, t := range tokens {
		if len(t) != p.Dims.ImageTokens {
			return nil, fmt.Errorf("image_decode: grid %d has %d tokens, the model takes %d", i, len(t), p.Dims.ImageTokens)
		}
		for _, id := range t {
			if id < 0 || id >= p.Dims.Codebook {
				return nil, fmt.Errorf("image_decode: token %d is outside the codebook [0,%d)", id, p.Dims.Codebook)
			}
			flat = append(flat, int64(id))
		}
	}
	var vs values
	defer vs.destroy()
	x, err := vs.ints(p, g, "generated_tokens", ort.Shape{int64(n), int64(p.Dims.ImageTokens)}, flat)
	if err != nil {
		return nil, err
	}
	S := int64(p.Dims.ImageSize)
	out, err := vs.out(p, g, "decoded_image", ort.Shape{int64(n), 3, S, S})
	if err != nil {
		return nil, err
	}
	if err := p.runGraph(ctx, g, map[string]ort.Value{"generated_tokens": x}, map[string]ort.Value{"decoded_image": out}); err != nil {
		return nil, err
	}
	return copyFloats(out)
}

// copyFloats reads a tensor as float32 into memory Go owns (the value's own
// buffer goes away with it).
func copyFloats(v ort.Value) ([]float32, error) {
	f, err := ort.Float32s(v)
	if err != nil {
		return nil, err
	}
	if ort.TypeOf(v) == onnx.Float32 {
		f = append([]float32(nil), f...)
	}
	return f, nil
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}
