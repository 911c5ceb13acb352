package ort

/*
#cgo CFLAGS: -I${SRCDIR}/capi
#cgo !windows LDFLAGS: -ldl
#include <stdlib.h>
#include "onnxruntime_c_api.h"
#ifdef _WIN32
#include <windows.h>

// diptych_api returns the OrtApi of the already-loaded library at path.
static const OrtApi* diptych_api(const char* path) {
	HMODULE h = LoadLibraryA(path); // takes a reference if already loaded
	if (!h) return NULL;
	const OrtApiBase* (*get)(void) = (const OrtApiBase* (*)(void))(void*)GetProcAddress(h, "OrtGetApiBase");
	FreeLibrary(h); // the runtime keeps its own reference
	if (!get) return NULL;
	return get()->GetApi(ORT_API_VERSION);
}
#else
#include <dlfcn.h>

// diptych_api returns the OrtApi of the already-loaded library at path.
static const OrtApi* diptych_api(const char* path) {
	void* h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	if (!h) h = dlopen(path, RTLD_LAZY);
	if (!h) return NULL;
	const OrtApiBase* (*get)(void) = (const OrtApiBase* (*)(void))dlsym(h, "OrtGetApiBase");
	dlclose(h); // the runtime keeps its own reference
	if (!get) return NULL;
	return get()->GetApi(ORT_API_VERSION);
}
#endif

static int diptych_providers(const OrtApi* api, char*** out, int* n) {
	OrtStatus* st = api->GetAvailableProviders(out, n);
	if (st) { api->ReleaseStatus(st); return 1; }
	return 0;
}
static void diptych_release_providers(const OrtApi* api, char** p, int n) {
	OrtStatus* st = api->ReleaseAvailableProviders(p, n);
	if (st) api->ReleaseStatus(st);
}

static OrtStatus* diptych_rank0(const OrtApi* api, const OrtMemoryInfo* mi, void* data, size_t len,
		ONNXTensorElementDataType type, OrtValue** out) {
	return api->CreateTensorWithDataAsOrtValue(mi, data, len, NULL, 0, type, out);
}
static void diptych_release_value(const OrtApi* api, OrtValue* v) { api->ReleaseValue(v); }
static const char* diptych_status_message(const OrtApi* api, OrtStatus* st) { return api->GetErrorMessage(st); }
static void diptych_release_status(const OrtApi* api, OrtStatus* st) { api->ReleaseStatus(st); }
*/
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"diptych/engine/onnx"
)

// capi returns the C API table of this runtime's library.
func (rt *Runtime) capi() (*C.OrtApi, error) {
	cpath := C.CString(rt.Path)
	defer C.free(unsafe.Pointer(cpath))
	api := C.diptych_api(cpath)
	if api == nil {
		return nil, errors.New("cannot reach the ONNX Runtime C API of " + rt.Path)
	}
	return api, nil
}

// loadedAPI returns the C API of the library this process initialised, or nil.
func loadedAPI() *C.OrtApi {
	envMu.Lock()
	path := envPath
	envMu.Unlock()
	if path == "" {
		return nil
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return C.diptych_api(cpath)
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
	if C.diptych_providers(api, &list, &n) != 0 {
		return nil, errors.New("GetAvailableProviders failed")
	}
	defer C.diptych_release_providers(api, list, n)
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
	holder, err := ort.NewCustomDataTensor(Shape{1}, data, ort.TensorElementDataType(t))
	if err != nil {
		return nil, err
	}
	api := loadedAPI()
	mi, err := ort.GetMemoryInfo()
	if api == nil || err != nil {
		holder.Destroy()
		return nil, errors.New("ONNX Runtime is not initialised")
	}
	var v *C.OrtValue
	st := C.diptych_rank0(api, (*C.OrtMemoryInfo)(unsafe.Pointer(mi)), unsafe.Pointer(&data[0]), C.size_t(len(data)),
		C.ONNXTensorElementDataType(t), &v)
	if st != nil {
		msg := C.GoString(C.diptych_status_message(api, st))
		C.diptych_release_status(api, st)
		holder.Destroy()
		return nil, fmt.Errorf("create %s scalar: %s", t, msg)
	}
	// Swap the rank-1 value for the rank-0 one inside the holder.
	f := reflect.ValueOf(holder).Elem()
	ptr := reflect.NewAt(f.FieldByName("ortValue").Type(), unsafe.Pointer(f.FieldByName("ortValue").UnsafeAddr())).Elem()
	shape := reflect.NewAt(f.FieldByName("shape").Type(), unsafe.Pointer(f.FieldByName("shape").UnsafeAddr())).Elem()
	old := unsafe.Pointer(ptr.Pointer())
	ptr.Set(reflect.NewAt(ptr.Type().Elem(), unsafe.Pointer(v)))
	shape.Set(reflect.ValueOf(Shape{}))
	C.diptych_release_value(api, (*C.OrtValue)(old))
	return holder, nil
}
