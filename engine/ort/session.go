package ort

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"diptych/engine/onnx"
)

// SessionOptions configures a session.
type SessionOptions struct {
	Placement Placement
	// IntraOpThreads is the number of threads one operator may use; 0 = one per core.
	IntraOpThreads int
	InterOpThreads int
	// Optimization is "all" (default), "extended", "basic" or "none".
	Optimization string
	// GPUMemLimit caps the CUDA arena in bytes; 0 = no limit.
	GPUMemLimit int64
	// NoArena turns ONNX Runtime's CPU memory arena off for this session:
	// freed tensors go back to the allocator (and large ones to the OS)
	// instead of staying reserved for the session. For sessions whose
	// tensors grow every run (a KV cache), where the arena keeps every
	// outgrown size.
	NoArena bool
	// Outputs restricts the outputs the session computes and Run expects
	// (for example one hidden state of a text encoder); nil means all.
	Outputs []string
}

// Session is one loaded model. Run is safe for concurrent use.
type Session struct {
	Info      onnx.ModelInfo
	Placement Placement
	s         *ort.DynamicAdvancedSession
	inIndex   map[string]int
	outIndex  map[string]int
}

// NewSession loads the .onnx file at path (with its external weights beside
// it). On a CUDA placement whose session cannot be created, a requested
// "auto" device falls back to the CPU and records why in Session.Placement.
func (rt *Runtime) NewSession(path string, o SessionOptions) (*Session, error) {
	info, err := onnx.ReadModelInfo(path)
	if err != nil {
		return nil, err
	}
	for _, ext := range info.ExternalData {
		p := filepath.Join(filepath.Dir(path), ext)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("load model %s: its external weights %s are missing: %w", path, p, err)
		}
	}
	if o.Placement.Provider == "" {
		o.Placement = Placement{Requested: Device{Kind: "cpu"}, Provider: ProviderCPU}
	}
	s, err := rt.newSession(path, info, o)
	if err != nil && o.Placement.OnGPU() && o.Placement.Requested.Kind == "auto" {
		reason := ExplainCUDAError(err.Error())
		o.Placement = Placement{Requested: o.Placement.Requested, Provider: ProviderCPU, Fallback: reason}
		s, err = rt.newSession(path, info, o)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (rt *Runtime) newSession(path string, info onnx.ModelInfo, o SessionOptions) (*Session, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer so.Destroy()
	threads := o.IntraOpThreads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	steps := []error{
		so.SetIntraOpNumThreads(threads),
		so.SetInterOpNumThreads(max(o.InterOpThreads, 1)),
		so.SetGraphOptimizationLevel(optimizationLevel(o.Optimization)),
		so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"),
		so.AddSessionConfigEntry("session.force_spinning_stop", "1"),
	}
	if o.NoArena {
		steps = append(steps, so.SetCpuMemArena(false))
	}
	if err := errors.Join(steps...); err != nil {
		return nil, fmt.Errorf("session options for %s: %w", path, err)
	}
	if o.Placement.OnGPU() {
		if err := appendCUDA(so, o); err != nil {
			return nil, fmt.Errorf("load model %s on cuda:%d: %w", path, o.Placement.DeviceID, err)
		}
	}
	names := func(list []onnx.TensorInfo) ([]string, map[string]int) {
		out, idx := make([]string, len(list)), map[string]int{}
		for i, t := range list {
			out[i], idx[t.Name] = t.Name, i
		}
		return out, idx
	}
	if len(o.Outputs) > 0 {
		var outs []onnx.TensorInfo
		for _, name := range o.Outputs {
			t, ok := info.Output(name)
			if !ok {
				return nil, fmt.Errorf("load model %s: it has no output %q (outputs: %s)", path, name, nameList(info.Outputs))
			}
			outs = append(outs, t)
		}
		info.Outputs = outs
	}
	inNames, inIndex := names(info.Inputs)
	outNames, outIndex := names(info.Outputs)
	var s *ort.DynamicAdvancedSession
	_, err = keepGoSignalHandlers(func() error {
		var e error
		s, e = ort.NewDynamicAdvancedSession(path, inNames, outNames, so)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return &Session{Info: info, Placement: o.Placement, s: s, inIndex: inIndex, outIndex: outIndex}, nil
}

func appendCUDA(so *ort.SessionOptions, o SessionOptions) error {
	cu, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cu.Destroy()
	opts := map[string]string{
		"device_id":              strconv.Itoa(o.Placement.DeviceID),
		"cudnn_conv_algo_search": "HEURISTIC",
		"arena_extend_strategy":  "kSameAsRequested",
	}
	if o.GPUMemLimit > 0 {
		opts["gpu_mem_limit"] = strconv.FormatInt(o.GPUMemLimit, 10)
	}
	_, err = keepGoSignalHandlers(func() error {
		if err := cu.Update(opts); err != nil {
			return err
		}
		return so.AppendExecutionProviderCUDA(cu)
	})
	return err
}

func optimizationLevel(s string) ort.GraphOptimizationLevel {
	switch strings.ToLower(s) {
	case "none", "disable":
		return ort.GraphOptimizationLevelDisableAll
	case "basic":
		return ort.GraphOptimizationLevelEnableBasic
	case "extended":
		return ort.GraphOptimizationLevelEnableExtended
	}
	return ort.GraphOptimizationLevelEnableAll
}

// Close releases the session.
func (s *Session) Close() error {
	if s == nil || s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// Input returns the declared input called name.
func (s *Session) Input(name string) (onnx.TensorInfo, bool) { return s.Info.Input(name) }

// Output returns the declared output called name.
func (s *Session) Output(name string) (onnx.TensorInfo, bool) { return s.Info.Output(name) }

// Run runs the model. inputs must name every graph input; outputs names the
// pre-allocated outputs to fill (every graph output must be given). When ctx
// is cancelled the run is terminated and ctx's error returned.
func (s *Session) Run(ctx context.Context, inputs, outputs map[string]Value) error {
	in, err := s.order("input", inputs, s.inIndex, s.Info.Inputs, "not given")
	if err != nil {
		return err
	}
	out, err := s.order("output", outputs, s.outIndex, s.Info.Outputs, "not allocated")
	if err != nil {
		return err
	}
	return s.RunOrdered(ctx, in, out)
}

// order puts named values in the graph's declared order, naming any unknown
// or missing one.
func (s *Session) order(kind string, named map[string]Value, index map[string]int, declared []onnx.TensorInfo,
	missing string) ([]Value, error) {
	vals := make([]Value, len(index))
	for name, v := range named {
		i, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("run %s: the model has no %s %q (%ss: %s)", s.Info.Path, kind, name, kind, nameList(declared))
		}
		vals[i] = v
	}
	for i, v := range vals {
		if v == nil {
			return nil, fmt.Errorf("run %s: %s %q %s", s.Info.Path, kind, declared[i].Name, missing)
		}
	}
	return vals, nil
}

// RunOrdered is Run with inputs and outputs in the graph's declared order.
func (s *Session) RunOrdered(ctx context.Context, in, out []Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		return fmt.Errorf("run options: %w", err)
	}
	defer ro.Destroy()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			ro.Terminate()
		case <-done:
		}
	}()
	err = s.s.RunWithOptions(in, out, ro)
	close(done)
	<-stopped
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", s.Info.Path, err)
	}
	return nil
}

func nameList(list []onnx.TensorInfo) string {
	names := make([]string, len(list))
	for i, t := range list {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}
