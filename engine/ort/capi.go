package ort

// All of Diptych's C is in capi.c (declared in capi.h): the calls into the
// ONNX Runtime C API that onnxruntime_go does not expose. This file holds the
// cgo flags for the package and the one OrtApi table those calls use.

/*
#cgo CFLAGS: -I${SRCDIR}/capi
#cgo !windows LDFLAGS: -ldl
#include <stdlib.h>
#include "capi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"diptych/engine/onnx"
)

// envAPI is the C API table of the library the ORT environment was
// initialised from: fetched once by Open (bindAPI), cleared by the last
// Close (unbindAPI). Guarded by envMu, like the environment itself.
var envAPI *C.OrtApi

// bindAPI fetches the C API table of the library at path. envMu is held.
func bindAPI(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	api := C.dip_api(cpath)
	if api == nil {
		return fmt.Errorf("cannot reach the ONNX Runtime C API (version %d) of %s", C.ORT_API_VERSION, path)
	}
	envAPI = api
	return nil
}

// unbindAPI forgets the table before the library is unloaded. envMu is held.
func unbindAPI() { envAPI = nil }

// loadedAPI returns the C API of the library this process initialised, or
// nil when no Runtime is open.
func loadedAPI() *C.OrtApi {
	envMu.Lock()
	defer envMu.Unlock()
	return envAPI
}

// capi returns the C API table of this runtime's library.
func (rt *Runtime) capi() (*C.OrtApi, error) {
	if api := loadedAPI(); api != nil {
		return api, nil
	}
	return nil, errors.New("ONNX Runtime " + rt.Path + " is closed")
}

// status turns an OrtStatus into an error and releases it.
func status(api *C.OrtApi, st *C.OrtStatus) error {
	if st == nil {
		return nil
	}
	msg := C.GoString(C.dip_status_message(api, st))
	C.dip_release_status(api, st)
	return errors.New(msg)
}

// Providers lists the execution providers compiled into the loaded library
// (for example CUDAExecutionProvider, CPUExecutionProvider). Being compiled in
// does not mean usable: see ProbeCUDA.
func (rt *Runtime) Providers() ([]string, error) {
	api, err := rt.capi()
	if err != nil {
		return nil, err
	}
	var list **C.char
	var n C.int
	if C.dip_providers(api, &list, &n) != 0 {
		return nil, errors.New("GetAvailableProviders failed")
	}
	defer C.dip_release_providers(api, list, n)
	names := unsafe.Slice(list, int(n))
	out := make([]string, len(names))
	for i, p := range names {
		out[i] = C.GoString(p)
	}
	return out, nil
}

// newRank0 makes a 0-dimensional (scalar) tensor of a type onnxruntime_go
// has no Go type for (float16, bfloat16): its CustomDataTensor rejects empty
// shapes, so the value is built through the C API and swapped into a
// CustomDataTensor, which then owns it (Destroy releases it). data must hold
// one element.
func newRank0(t onnx.ElementType, data []byte) (Value, error) {
	if len(data) != t.Size() {
		return nil, fmt.Errorf("scalar %s needs %d bytes, got %d", t, t.Size(), len(data))
	}
	api := loadedAPI()
	mi, err := ort.GetMemoryInfo()
	if api == nil || err != nil {
		return nil, errors.New("ONNX Runtime is not initialised")
	}
	holder, err := ort.NewCustomDataTensor(Shape{1}, data, ort.TensorElementDataType(t))
	if err != nil {
		return nil, err
	}
	var v *C.OrtValue
	st := C.dip_tensor_with_data(api, (*C.OrtMemoryInfo)(unsafe.Pointer(mi)), unsafe.Pointer(&data[0]), C.size_t(len(data)),
		nil, 0, C.ONNXTensorElementDataType(t), &v)
	if err := status(api, st); err != nil {
		holder.Destroy()
		return nil, fmt.Errorf("create %s scalar: %w", t, err)
	}
	old, err := swapOrtValue(holder, unsafe.Pointer(v), Shape{})
	if err != nil {
		C.dip_release_value(api, v)
		holder.Destroy()
		return nil, fmt.Errorf("create %s scalar: %w", t, err)
	}
	C.dip_release_value(api, (*C.OrtValue)(old))
	return holder, nil
}
