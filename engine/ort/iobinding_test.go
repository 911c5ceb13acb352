package ort

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"diptych/engine/onnx"
)

// tinyLM is a real two-layer LLaMA decoder with past/present KV tensors
// (the Janus fixture's language model, see testdata/janus/README.md).
var tinyLM = filepath.Join("..", "..", "testdata", "janus", "tiny", "onnx", "language_model.onnx")

const (
	lmLayers = 2
	lmHeads  = 4
	lmHead   = 16
	lmHidden = 64
)

// TestInternalsLayout fails loudly when onnxruntime_go changes the
// unexported fields the binding reads.
func TestInternalsLayout(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(tinyLM, SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := sessionPointer(s.s)
	if err != nil || p == nil {
		t.Fatalf("session pointer: %v", err)
	}
	x, err := NewFloatTensor(onnx.Float32, Shape{2}, []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	vp, err := valuePointer(x)
	if err != nil || vp == nil {
		t.Fatalf("value pointer: %v", err)
	}
	// The OrtValue must be the one whose data is the Go slice.
	bv := borrowValue(vp)
	data, err := bv.bytes()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Float32s(x)
	if unsafe.Pointer(&data[0]) != unsafe.Pointer(&got[0]) {
		t.Fatal("valuePointer does not return the tensor's OrtValue")
	}
}

func randEmbeds(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func positions(b, from, n int) []int64 {
	out := make([]int64, 0, b*n)
	for r := 0; r < b; r++ {
		for i := 0; i < n; i++ {
			out = append(out, int64(from+i))
		}
	}
	return out
}

// fullRun runs the decoder on all T embeddings at once (empty cache) with
// plain Session.Run and returns hidden_states [B,T,D].
func fullRun(t *testing.T, s *Session, b, T int, embeds []float32) []float32 {
	t.Helper()
	in := map[string]Value{}
	var all []Value
	add := func(name string, v Value, err error) {
		if err != nil {
			t.Fatal(err)
		}
		in[name] = v
		all = append(all, v)
	}
	v, err := NewFloatTensor(onnx.Float32, Shape{int64(b), int64(T), lmHidden}, embeds)
	add("inputs_embeds", v, err)
	v, err = NewIntTensor(onnx.Int64, Shape{int64(b), int64(T)}, ones(b*T))
	add("attention_mask", v, err)
	v, err = NewIntTensor(onnx.Int64, Shape{int64(b), int64(T)}, positions(b, 0, T))
	add("position_ids", v, err)
	for l := 0; l < lmLayers; l++ {
		for _, kv := range []string{"key", "value"} {
			v, err = NewFloatTensor(onnx.Float32, Shape{int64(b), lmHeads, 0, lmHead}, nil)
			add(fmt.Sprintf("past_key_values.%d.%s", l, kv), v, err)
		}
	}
	out := map[string]Value{}
	hidden, err := NewEmptyTensor(onnx.Float32, Shape{int64(b), int64(T), lmHidden})
	if err != nil {
		t.Fatal(err)
	}
	out["hidden_states"] = hidden
	all = append(all, hidden)
	for l := 0; l < lmLayers; l++ {
		for _, kv := range []string{"key", "value"} {
			p, err := NewEmptyTensor(onnx.Float32, Shape{int64(b), lmHeads, int64(T), lmHead})
			if err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("present.%d.%s", l, kv)] = p
			all = append(all, p)
		}
	}
	defer Destroy(all...)
	if err := s.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	h, _ := Float32s(hidden)
	return append([]float32(nil), h...)
}

// TestBindingKVCache runs a prefill and single-token steps through an
// IoBinding whose present.* outputs ONNX Runtime allocates in CPU memory and
// which are re-bound, as they are, as the next step's past_key_values.*; the
// hidden states must equal one uncached run over the whole sequence.
func TestBindingKVCache(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(tinyLM, SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const B, prefill, steps = 2, 5, 4
	T := prefill + steps
	embeds := randEmbeds(rand.New(rand.NewPCG(1, 2)), B*T*lmHidden)
	want := fullRun(t, s, B, T, embeds)

	mi, err := MemoryInfoFor(Placement{Provider: ProviderCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer mi.Close()
	b, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	past := map[string]*BoundValue{}
	for l := 0; l < lmLayers; l++ {
		for _, kv := range []string{"key", "value"} {
			v, err := NewBoundTensor(onnx.Float32, Shape{B, lmHeads, 0, lmHead})
			if err != nil {
				t.Fatal(err)
			}
			past[fmt.Sprintf("%d.%s", l, kv)] = v
		}
	}
	var prevKey unsafe.Pointer
	pos := 0
	for step := 0; step <= steps; step++ {
		S := 1
		if step == 0 {
			S = prefill
		}
		// Slice this step's rows out of the [B,T,D] embeddings.
		chunk := make([]float32, 0, B*S*lmHidden)
		for r := 0; r < B; r++ {
			chunk = append(chunk, embeds[(r*T+pos)*lmHidden:(r*T+pos+S)*lmHidden]...)
		}
		x, _ := NewFloatTensor(onnx.Float32, Shape{B, int64(S), lmHidden}, chunk)
		mask, _ := NewIntTensor(onnx.Int64, Shape{B, int64(pos + S)}, ones(B*(pos+S)))
		ids, _ := NewIntTensor(onnx.Int64, Shape{B, int64(S)}, positions(B, pos, S))
		hidden, _ := NewEmptyTensor(onnx.Float32, Shape{B, int64(S), lmHidden})
		for name, v := range map[string]Value{"inputs_embeds": x, "attention_mask": mask, "position_ids": ids} {
			if err := b.BindInput(name, v); err != nil {
				t.Fatal(err)
			}
		}
		for k, v := range past {
			if err := b.BindValue("past_key_values."+k, v); err != nil {
				t.Fatal(err)
			}
			v.Release() // the binding holds its own reference
		}
		if err := b.BindOutput("hidden_states", hidden); err != nil {
			t.Fatal(err)
		}
		for k := range past {
			if err := b.BindOutputToDevice("present."+k, mi); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		outs, err := b.Outputs()
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1+2*lmLayers {
			t.Fatalf("got %d outputs, want %d", len(outs), 1+2*lmLayers)
		}
		outs["hidden_states"].Release()
		for k := range past {
			v := outs["present."+k]
			info, err := v.Info()
			if err != nil {
				t.Fatal(err)
			}
			if !info.OnHost() || info.Type != onnx.Float32 || info.Shape[2] != int64(pos+S) {
				t.Fatalf("step %d present.%s: %+v", step, k, info)
			}
			past[k] = v
		}
		// The value handed back is the buffer ORT wrote, not a copy: the
		// next step binds exactly this memory.
		data, _ := past["0.key"].bytes()
		if unsafe.Pointer(&data[0]) == prevKey {
			t.Fatalf("step %d: present reuses the previous buffer", step)
		}
		prevKey = unsafe.Pointer(&data[0])

		h, _ := Float32s(hidden)
		for r := 0; r < B; r++ {
			for i := 0; i < S; i++ {
				got := h[(r*S+i)*lmHidden : (r*S+i+1)*lmHidden]
				ref := want[(r*T+pos+i)*lmHidden : (r*T+pos+i+1)*lmHidden]
				for j := range got {
					if d := math.Abs(float64(got[j] - ref[j])); d > 1e-4*(1+math.Abs(float64(ref[j]))) {
						t.Fatalf("step %d row %d pos %d [%d]: cached %v, uncached %v", step, r, pos+i, j, got[j], ref[j])
					}
				}
			}
		}
		Destroy(x, mask, ids, hidden)
		pos += S
	}
	for _, v := range past {
		v.Release()
	}
}

func TestBindingErrors(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(tinyLM, SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := NewMemoryInfo("Gpu", 0); err == nil || !strings.Contains(err.Error(), `"Cuda"`) {
		t.Fatalf("bad memory name: %v", err)
	}
	b, err := s.NewBinding()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x, _ := NewFloatTensor(onnx.Float32, Shape{1}, []float32{1})
	defer x.Destroy()
	if err := b.BindInput("input_ids", x); err == nil || !strings.Contains(err.Error(), "inputs_embeds") {
		t.Fatalf("unknown input: %v", err)
	}
	mi, _ := NewMemoryInfo("Cpu", 0)
	defer mi.Close()
	if err := b.BindOutputToDevice("logits", mi); err == nil || !strings.Contains(err.Error(), "present.0.key") {
		t.Fatalf("unknown output: %v", err)
	}
	// Unbound inputs: ORT's own error comes back, naming the model.
	if err := b.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "language_model.onnx") {
		t.Fatalf("run with nothing bound: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Run(ctx); err != context.Canceled {
		t.Fatalf("cancelled run: %v", err)
	}
	v, err := NewBoundTensor(onnx.Float16, Shape{2, 0, 3})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := v.Info()
	if info.Type != onnx.Float16 || len(info.Shape) != 3 || info.Shape[1] != 0 || !info.OnHost() {
		t.Fatalf("zero-size float16 tensor: %+v", info)
	}
	v.Release()
	h, _ := NewBoundTensor(onnx.Float16, Shape{3})
	defer h.Release()
	if err := h.SetFloat32s([]float32{1, -2.5, 0.25}); err != nil {
		t.Fatal(err)
	}
	got, _ := h.Float32s()
	if got[0] != 1 || got[1] != -2.5 || got[2] != 0.25 {
		t.Fatalf("float16 round trip = %v", got)
	}
}
