//go:build cgo && !windows

// Package dl opens shared libraries at run time (dlopen) so Diptych can probe
// for optional native libraries — the ONNX Runtime, NVML, CUDA, cuDNN —
// without linking against them.
package dl

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

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

func lastError() string {
	if e := C.dlerror(); e != nil {
		return C.GoString(e)
	}
	return "unknown dlopen error"
}
