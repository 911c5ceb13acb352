package ort

/*
#include <stdlib.h>
#include "capi.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"diptych/engine/onnx"
)

// This file adds what onnxruntime_go v1.27 lacks for keeping a decoder's KV
// cache where the session computes it: memory info for a device
// (BindOutputToDevice), output values that ONNX Runtime allocates, and
// re-binding those values as the next run's inputs. It talks to the ORT C API
// directly.
//
// It needs the OrtSession pointer of a session and the OrtValue of a value,
// which onnxruntime_go keeps in unexported fields; internals.go reads them
// with checked reflection and fails with an error naming the expected layout
// if a new onnxruntime_go version changes it (the tests exercise this on
// every run). The C helpers are in capi.c.

// MemoryInfo says where ONNX Runtime should allocate bound outputs: "Cpu" or
// "Cuda" memory of one device. Close it when done.
type MemoryInfo struct {
	api  *C.OrtApi
	p    *C.OrtMemoryInfo
	Name string
	ID   int
}

// NewMemoryInfo creates device memory info for name "Cpu" or "Cuda" and a
// device ordinal.
func NewMemoryInfo(name string, id int) (*MemoryInfo, error) {
	switch name {
	case "Cpu", "Cuda":
	default:
		return nil, fmt.Errorf("memory info %q: expected \"Cpu\" or \"Cuda\"", name)
	}
	api := loadedAPI()
	if api == nil {
		return nil, errors.New("memory info: ONNX Runtime is not initialised")
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var p *C.OrtMemoryInfo
	if err := status(api, C.dip_create_memory_info(api, cname, C.int(id), &p)); err != nil {
		return nil, fmt.Errorf("memory info %s:%d: %w", name, id, err)
	}
	return &MemoryInfo{api: api, p: p, Name: name, ID: id}, nil
}

// MemoryInfoFor returns the memory info that keeps outputs of a session on
// its placement: CUDA memory on a CUDA placement, CPU memory otherwise.
func MemoryInfoFor(p Placement) (*MemoryInfo, error) {
	if p.OnGPU() {
		return NewMemoryInfo("Cuda", p.DeviceID)
	}
	return NewMemoryInfo("Cpu", 0)
}

// Close releases the memory info.
func (m *MemoryInfo) Close() {
	if m != nil && m.p != nil {
		C.dip_release_memory_info(m.api, m.p)
		m.p = nil
	}
}

// BoundValue is an OrtValue owned by Go: an output that ONNX Runtime
// allocated (possibly in device memory) or a tensor made by NewBoundTensor.
// Release it when done; a binding it was bound to keeps its own reference.
type BoundValue struct {
	api *C.OrtApi
	v   *C.OrtValue
}

// NewBoundTensor allocates a zeroed CPU tensor through ONNX Runtime's
// allocator. Zero-size shapes (such as an empty KV cache [B,H,0,D]) and
// float16 are allowed.
func NewBoundTensor(t onnx.ElementType, shape Shape) (*BoundValue, error) {
	api := loadedAPI()
	if api == nil {
		return nil, errors.New("tensor: ONNX Runtime is not initialised")
	}
	dims := make([]C.int64_t, len(shape)+1)
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("tensor %v: negative dimension", shape)
		}
		dims[i] = C.int64_t(d)
	}
	var v *C.OrtValue
	if err := status(api, C.dip_new_tensor(api, &dims[0], C.size_t(len(shape)), C.ONNXTensorElementDataType(t), &v)); err != nil {
		return nil, fmt.Errorf("tensor %s%v: %w", t, shape, err)
	}
	b := &BoundValue{api: api, v: v}
	if n := numElements(shape) * int64(t.Size()); n > 0 {
		data, err := b.bytes()
		if err != nil {
			b.Release()
			return nil, err
		}
		clear(data)
	}
	return b, nil
}

// Release drops this reference to the value.
func (b *BoundValue) Release() {
	if b != nil && b.v != nil {
		C.dip_release_value(b.api, b.v)
		b.v = nil
	}
}

// ValueInfo describes a BoundValue: element type, shape and where it lives.
type ValueInfo struct {
	Type   onnx.ElementType
	Shape  Shape
	Memory string // "Cpu", "Cuda", ...
	Device int
}

// Info returns the value's element type, shape and memory location.
func (b *BoundValue) Info() (ValueInfo, error) {
	if b == nil || b.v == nil {
		return ValueInfo{}, errors.New("value released")
	}
	var typ C.int
	var dims [16]C.int64_t
	var rank C.size_t
	var mem *C.char
	var id C.int
	if err := status(b.api, C.dip_value_info(b.api, b.v, &typ, &dims[0], C.size_t(len(dims)), &rank, &mem, &id)); err != nil {
		return ValueInfo{}, fmt.Errorf("value info: %w", err)
	}
	if int(rank) > len(dims) {
		return ValueInfo{}, fmt.Errorf("value info: rank %d is over %d", rank, len(dims))
	}
	shape := make(Shape, int(rank))
	for i := range shape {
		shape[i] = int64(dims[i])
	}
	return ValueInfo{Type: onnx.ElementType(typ), Shape: shape, Memory: C.GoString(mem), Device: int(id)}, nil
}

// OnHost reports whether the value lives in CPU memory (and can be read).
func (i ValueInfo) OnHost() bool {
	return strings.EqualFold(i.Memory, "Cpu") || strings.HasPrefix(i.Memory, "CpuPinned")
}

// bytes returns the live bytes of a host tensor (no copy).
func (b *BoundValue) bytes() ([]byte, error) {
	info, err := b.Info()
	if err != nil {
		return nil, err
	}
	if !info.OnHost() {
		return nil, fmt.Errorf("value lives in %s memory of device %d, not on the host", info.Memory, info.Device)
	}
	n := numElements(info.Shape) * int64(info.Type.Size())
	if n == 0 {
		return nil, nil
	}
	var p unsafe.Pointer
	if err := status(b.api, C.dip_value_data(b.api, b.v, &p)); err != nil {
		return nil, fmt.Errorf("value data: %w", err)
	}
	return unsafe.Slice((*byte)(p), n), nil
}

// Float32s copies a host float32/float16/bfloat16 value into float32s.
func (b *BoundValue) Float32s() ([]float32, error) {
	info, err := b.Info()
	if err != nil {
		return nil, err
	}
	data, err := b.bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float32, numElements(info.Shape))
	switch info.Type {
	case onnx.Float32:
		copy(out, unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), len(out)))
	case onnx.Float16:
		onnx.DecodeF16(out, data)
	case onnx.BFloat16:
		onnx.DecodeBF16(out, data)
	default:
		return nil, fmt.Errorf("value of type %s is not a float tensor", info.Type)
	}
	return out, nil
}

// SetFloat32s writes float32 values into a host float32/float16 value.
func (b *BoundValue) SetFloat32s(src []float32) error {
	info, err := b.Info()
	if err != nil {
		return err
	}
	data, err := b.bytes()
	if err != nil {
		return err
	}
	if int64(len(src)) != numElements(info.Shape) {
		return fmt.Errorf("value %v holds %d values, got %d", info.Shape, numElements(info.Shape), len(src))
	}
	switch info.Type {
	case onnx.Float32:
		copy(unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), len(src)), src)
	case onnx.Float16:
		onnx.EncodeF16(data, src)
	default:
		return fmt.Errorf("value of type %s is not a float32/float16 tensor", info.Type)
	}
	return nil
}

// Binding is an ONNX Runtime IoBinding of one session: inputs and outputs
// bound by name, outputs either pre-allocated host values or left for ONNX
// Runtime to allocate on a device and handed back as BoundValues that can be
// bound as inputs of the next run without a copy. Not safe for concurrent
// use; Close it when done.
type Binding struct {
	api     *C.OrtApi
	s       *Session
	session *C.OrtSession
	b       *C.OrtIoBinding
	// keep holds the Go values bound as inputs or outputs so they stay alive
	// while ORT may read or write them.
	keep map[string]Value
}

// NewBinding creates an IoBinding for the session.
func (s *Session) NewBinding() (*Binding, error) {
	api := loadedAPI()
	if api == nil {
		return nil, errors.New("io binding: ONNX Runtime is not initialised")
	}
	if s == nil || s.s == nil {
		return nil, errors.New("io binding: session is closed")
	}
	sp, err := sessionPointer(s.s)
	if err != nil {
		return nil, fmt.Errorf("io binding for %s: %w", s.Info.Path, err)
	}
	var b *C.OrtIoBinding
	if err := status(api, C.dip_create_binding(api, (*C.OrtSession)(sp), &b)); err != nil {
		return nil, fmt.Errorf("io binding for %s: %w", s.Info.Path, err)
	}
	return &Binding{api: api, s: s, session: (*C.OrtSession)(sp), b: b, keep: map[string]Value{}}, nil
}

// Close releases the binding (bound values keep their own references).
func (b *Binding) Close() {
	if b != nil && b.b != nil {
		C.dip_release_binding(b.api, b.b)
		b.b = nil
		b.keep = nil
	}
}

func (b *Binding) checkName(name string, outputs bool) error {
	list, find := b.s.Info.Inputs, b.s.Info.Input
	if outputs {
		list, find = b.s.Info.Outputs, b.s.Info.Output
	}
	if _, ok := find(name); ok {
		return nil
	}
	kind := "input"
	if outputs {
		kind = "output"
	}
	return fmt.Errorf("bind %s: the model %s has no %s %q (%ss: %s)", kind, b.s.Info.Path, kind, name, kind, nameList(list))
}

// BindInput binds an onnxruntime_go value (host memory) as input name.
func (b *Binding) BindInput(name string, v Value) error {
	if err := b.checkName(name, false); err != nil {
		return err
	}
	p, err := valuePointer(v)
	if err != nil {
		return fmt.Errorf("bind input %s: %w", name, err)
	}
	if err := b.bindInput(name, p); err != nil {
		return err
	}
	b.keep["in:"+name] = v
	return nil
}

// BindValue binds a BoundValue (for example a previous run's output, in
// whatever memory it lives) as input name. The binding takes its own
// reference: the caller may Release v afterwards.
func (b *Binding) BindValue(name string, v *BoundValue) error {
	if err := b.checkName(name, false); err != nil {
		return err
	}
	if v == nil || v.v == nil {
		return fmt.Errorf("bind input %s: value released", name)
	}
	delete(b.keep, "in:"+name)
	return b.bindInput(name, unsafe.Pointer(v.v))
}

func (b *Binding) bindInput(name string, p unsafe.Pointer) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if err := status(b.api, C.dip_bind_input(b.api, b.b, cname, (*C.OrtValue)(p))); err != nil {
		return fmt.Errorf("bind input %s: %w", name, err)
	}
	return nil
}

// BindOutput binds a pre-allocated host value as output name: ONNX Runtime
// writes (or copies from the device) into it.
func (b *Binding) BindOutput(name string, v Value) error {
	if err := b.checkName(name, true); err != nil {
		return err
	}
	p, err := valuePointer(v)
	if err != nil {
		return fmt.Errorf("bind output %s: %w", name, err)
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if err := status(b.api, C.dip_bind_output(b.api, b.b, cname, (*C.OrtValue)(p))); err != nil {
		return fmt.Errorf("bind output %s: %w", name, err)
	}
	b.keep["out:"+name] = v
	return nil
}

// BindOutputToDevice lets ONNX Runtime allocate output name in the memory
// described by mi; fetch it after Run with Outputs.
func (b *Binding) BindOutputToDevice(name string, mi *MemoryInfo) error {
	if err := b.checkName(name, true); err != nil {
		return err
	}
	if mi == nil || mi.p == nil {
		return fmt.Errorf("bind output %s: no memory info", name)
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if err := status(b.api, C.dip_bind_output_device(b.api, b.b, cname, mi.p)); err != nil {
		return fmt.Errorf("bind output %s to %s:%d: %w", name, mi.Name, mi.ID, err)
	}
	delete(b.keep, "out:"+name)
	return nil
}

// ClearInputs unbinds every input.
func (b *Binding) ClearInputs() {
	C.dip_clear_inputs(b.api, b.b)
	for k := range b.keep {
		if strings.HasPrefix(k, "in:") {
			delete(b.keep, k)
		}
	}
}

// ClearOutputs unbinds every output.
func (b *Binding) ClearOutputs() {
	C.dip_clear_outputs(b.api, b.b)
	for k := range b.keep {
		if strings.HasPrefix(k, "out:") {
			delete(b.keep, k)
		}
	}
}

// Run runs the session on the bound values. Cancelling ctx terminates the
// run and returns ctx's error.
func (b *Binding) Run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var ro *C.OrtRunOptions
	if err := status(b.api, C.dip_create_run_options(b.api, &ro)); err != nil {
		return fmt.Errorf("run options: %w", err)
	}
	defer C.dip_release_run_options(b.api, ro)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			if st := C.dip_terminate(b.api, ro); st != nil {
				C.dip_release_status(b.api, st)
			}
		case <-done:
		}
	}()
	err := status(b.api, C.dip_run_binding(b.api, b.session, ro, b.b))
	close(done)
	<-stopped
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", b.s.Info.Path, err)
	}
	return nil
}

// Outputs returns the bound outputs of the last run by name, each a new
// reference the caller must Release (host outputs included: their
// BoundValue shares the bound Go memory).
func (b *Binding) Outputs() (map[string]*BoundValue, error) {
	var vals **C.OrtValue
	var names *C.char
	var lens *C.size_t
	var n C.size_t
	if err := status(b.api, C.dip_bound_outputs(b.api, b.b, &vals, &names, &lens, &n)); err != nil {
		return nil, fmt.Errorf("bound outputs of %s: %w", b.s.Info.Path, err)
	}
	defer C.free(unsafe.Pointer(vals))
	defer C.free(unsafe.Pointer(names))
	defer C.free(unsafe.Pointer(lens))
	out := make(map[string]*BoundValue, int(n))
	vs := unsafe.Slice(vals, int(n))
	ls := unsafe.Slice(lens, int(n))
	off := 0
	for i := 0; i < int(n); i++ {
		name := C.GoStringN((*C.char)(unsafe.Add(unsafe.Pointer(names), off)), C.int(ls[i]))
		off += int(ls[i])
		out[name] = &BoundValue{api: b.api, v: vs[i]}
	}
	return out, nil
}

// borrowValue wraps an OrtValue without taking a reference (never Release
// the result).
func borrowValue(p unsafe.Pointer) *BoundValue {
	return &BoundValue{api: loadedAPI(), v: (*C.OrtValue)(p)}
}
