//go:build cgo

// Package dl opens shared libraries at run time (LoadLibrary on Windows) so
// Diptych can probe for optional native libraries — the ONNX Runtime, NVML,
// CUDA, cuDNN — without linking against them.
package dl

/*
#include <windows.h>
#include <stdlib.h>

// dl_open loads name with the folder of an absolute path searched for its
// dependencies too (so onnxruntime.dll finds the provider DLLs beside it).
static void* dl_open(const char* name, DWORD* err) {
	HMODULE h = LoadLibraryExA(name, NULL, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
	if (!h) h = LoadLibraryA(name); // relative names and older Windows
	if (!h) *err = GetLastError();
	return (void*)h;
}
static void* dl_sym(void* h, const char* name, DWORD* err) {
	FARPROC p = GetProcAddress((HMODULE)h, name);
	if (!p) *err = GetLastError();
	return (void*)p;
}
static void dl_close(void* h) { FreeLibrary((HMODULE)h); }
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Library is an open shared library.
type Library struct {
	h    unsafe.Pointer
	Name string
}

// Open loads name (a path, or a bare DLL name searched on the DLL search
// path). The error names the file and Windows' reason.
func Open(name string) (*Library, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var code C.DWORD
	h := C.dl_open(cname, &code)
	if h == nil {
		return nil, fmt.Errorf("%s: %v", name, syscall.Errno(code))
	}
	return &Library{h: h, Name: name}, nil
}

// Sym returns the address of symbol name.
func (l *Library) Sym(name string) (unsafe.Pointer, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var code C.DWORD
	p := C.dl_sym(l.h, cname, &code)
	if p == nil {
		return nil, fmt.Errorf("%s: symbol %s: %v", l.Name, name, syscall.Errno(code))
	}
	return p, nil
}

// Close releases the library.
func (l *Library) Close() {
	if l != nil && l.h != nil {
		C.dl_close(l.h)
		l.h = nil
	}
}
