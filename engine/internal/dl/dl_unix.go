//go:build !windows

// Package dl opens shared libraries at run time (dlopen) so Diptych can probe
// for optional native libraries — the ONNX Runtime, NVML, CUDA, cuDNN —
// without linking against them.
package dl

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef struct { const char* (*GetVersionString)(void); } ortApiBasePrefix;
typedef const void* (*ortGetApiBaseFn)(void);

// ort_version calls OrtGetApiBase()->GetVersionString(), which every ONNX
// Runtime release since 1.0 exports at the same offset of OrtApiBase.
static const char* ort_version(void* fn) {
	const void* base = ((ortGetApiBaseFn)fn)();
	if (!base) return NULL;
	const void* const* table = (const void* const*)base;
	const char* (*get)(void) = (const char* (*)(void))table[1];
	return get ? get() : NULL;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Library is an open shared library.
type Library struct {
	h    unsafe.Pointer
	Name string
}

// Open dlopens name (a path, or a bare name searched on the system library
// path). The error is dlerror's text, which names the missing file or symbol.
func Open(name string) (*Library, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	h := C.dlopen(cname, C.RTLD_LAZY|C.RTLD_LOCAL)
	if h == nil {
		return nil, errors.New(lastError())
	}
	return &Library{h: h, Name: name}, nil
}

// Sym returns the address of symbol name.
func (l *Library) Sym(name string) (unsafe.Pointer, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	C.dlerror()
	p := C.dlsym(l.h, cname)
	if p == nil {
		return nil, errors.New(lastError())
	}
	return p, nil
}

// Close releases the library.
func (l *Library) Close() {
	if l != nil && l.h != nil {
		C.dlclose(l.h)
		l.h = nil
	}
}

// Probe reports whether name can be opened, with dlerror's reason if not.
func Probe(name string) error {
	l, err := Open(name)
	if err != nil {
		return err
	}
	l.Close()
	return nil
}

// ORTVersion opens an ONNX Runtime library and returns its version string
// without initialising it, so a library that is too old can be named.
func ORTVersion(path string) (string, error) {
	l, err := Open(path)
	if err != nil {
		return "", err
	}
	defer l.Close()
	fn, err := l.Sym("OrtGetApiBase")
	if err != nil {
		return "", errors.New("no OrtGetApiBase symbol: not an ONNX Runtime library")
	}
	v := C.ort_version(fn)
	if v == nil {
		return "", errors.New("OrtGetApiBase returned no version")
	}
	return C.GoString(v), nil
}

func lastError() string {
	if e := C.dlerror(); e != nil {
		return C.GoString(e)
	}
	return "unknown dlopen error"
}
