//go:build cgo

package discover

/*
#cgo !windows LDFLAGS: -ldl
#include <stdlib.h>
#ifdef _WIN32
// NVML ships with the NVIDIA driver as nvml.dll (System32, or NVSMI\ on old drivers).
#include <windows.h>
#define NVML_LIB "nvml.dll"
static void* dlopen(const char* name, int flags) { (void)flags; return (void*)LoadLibraryA(name); }
static void* dlsym(void* h, const char* name) { return (void*)GetProcAddress((HMODULE)h, name); }
static int dlclose(void* h) { return FreeLibrary((HMODULE)h) ? 0 : -1; }
static const char* dlerror(void) { return "nvml.dll: cannot load (is the NVIDIA driver installed?)"; }
#define RTLD_LAZY 0
#define RTLD_LOCAL 0
#else
#include <dlfcn.h>
#define NVML_LIB "libnvidia-ml.so.1"
#endif

typedef struct { unsigned long long total, free, used; } nvmlMemory;
typedef void* nvmlDevice;

typedef struct {
	void* lib;
	int (*init)(void);
	int (*shutdown)(void);
	int (*count)(unsigned*);
	int (*handle)(unsigned, nvmlDevice*);
	int (*name)(nvmlDevice, char*, unsigned);
	int (*memory)(nvmlDevice, nvmlMemory*);
	int (*driver)(char*, unsigned);
	int (*cuda)(int*);
	const char* (*errstr)(int);
} nvml;

static const char* nvml_open(nvml* n) {
	n->lib = dlopen(NVML_LIB, RTLD_LAZY | RTLD_LOCAL);
	if (!n->lib) return dlerror();
	n->init = dlsym(n->lib, "nvmlInit_v2");
	n->shutdown = dlsym(n->lib, "nvmlShutdown");
	n->count = dlsym(n->lib, "nvmlDeviceGetCount_v2");
	n->handle = dlsym(n->lib, "nvmlDeviceGetHandleByIndex_v2");
	n->name = dlsym(n->lib, "nvmlDeviceGetName");
	n->memory = dlsym(n->lib, "nvmlDeviceGetMemoryInfo");
	n->driver = dlsym(n->lib, "nvmlSystemGetDriverVersion");
	n->cuda = dlsym(n->lib, "nvmlSystemGetCudaDriverVersion_v2");
	n->errstr = dlsym(n->lib, "nvmlErrorString");
	if (!n->init || !n->shutdown || !n->count || !n->handle || !n->name || !n->memory) {
		dlclose(n->lib);
		n->lib = NULL;
		return NVML_LIB " lacks the NVML v2 functions";
	}
	return NULL;
}
static int nvml_init(nvml* n) { return n->init(); }
static void nvml_close(nvml* n) { n->shutdown(); dlclose(n->lib); }
static int nvml_count(nvml* n, unsigned* c) { return n->count(c); }
static int nvml_device(nvml* n, unsigned i, char* name, unsigned len, nvmlMemory* mem) {
	nvmlDevice d;
	int rc = n->handle(i, &d);
	if (rc) return rc;
	rc = n->name(d, name, len);
	if (rc) return rc;
	return n->memory(d, mem);
}
static int nvml_used(nvml* n, unsigned i, unsigned long long* used) {
	nvmlDevice d;
	nvmlMemory mem;
	int rc = n->handle(i, &d);
	if (rc) return rc;
	rc = n->memory(d, &mem);
	*used = mem.used;
	return rc;
}
static int nvml_driver(nvml* n, char* buf, unsigned len) { return n->driver ? n->driver(buf, len) : -1; }
static int nvml_cuda(nvml* n, int* v) { return n->cuda ? n->cuda(v) : -1; }
static const char* nvml_err(nvml* n, int rc) { return n->errstr ? n->errstr(rc) : "NVML error"; }
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

// nvmlQuery reads the GPUs through NVML (libnvidia-ml.so.1, shipped with the
// NVIDIA driver), opened at run time so the binary runs without it.
func nvmlQuery() (GPUReport, error) {
	var n C.nvml
	if msg := C.nvml_open(&n); msg != nil {
		return GPUReport{}, fmt.Errorf("NVML: %s", C.GoString(msg))
	}
	if rc := C.nvml_init(&n); rc != 0 {
		err := fmt.Errorf("NVML init: %s", C.GoString(C.nvml_err(&n, rc)))
		C.dlclose(n.lib)
		return GPUReport{}, err
	}
	defer C.nvml_close(&n)
	r := GPUReport{Source: "nvml"}
	buf := make([]byte, 96)
	if C.nvml_driver(&n, (*C.char)(unsafe.Pointer(&buf[0])), C.uint(len(buf))) == 0 {
		r.Driver = C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	}
	var cv C.int
	if C.nvml_cuda(&n, &cv) == 0 {
		r.CUDADriver = fmt.Sprintf("%d.%d", cv/1000, (cv%1000)/10)
	}
	var count C.uint
	if rc := C.nvml_count(&n, &count); rc != 0 {
		return r, fmt.Errorf("NVML device count: %s", C.GoString(C.nvml_err(&n, rc)))
	}
	for i := C.uint(0); i < count; i++ {
		var mem C.nvmlMemory
		if rc := C.nvml_device(&n, i, (*C.char)(unsafe.Pointer(&buf[0])), C.uint(len(buf)), &mem); rc != 0 {
			return r, fmt.Errorf("NVML device %d: %s", i, C.GoString(C.nvml_err(&n, rc)))
		}
		r.Devices = append(r.Devices, GPU{
			Index:   int(i),
			Name:    C.GoString((*C.char)(unsafe.Pointer(&buf[0]))),
			TotalMB: int64(mem.total >> 20),
			FreeMB:  int64(mem.free >> 20),
			UsedMB:  int64(mem.used >> 20),
		})
	}
	return r, nil
}

// SampleGPUMemory starts polling device index every interval. It returns nil
// when NVML is not available.
func SampleGPUMemory(index int, interval time.Duration) *GPUMemorySampler {
	var n C.nvml
	if msg := C.nvml_open(&n); msg != nil {
		return nil
	}
	if C.nvml_init(&n) != 0 {
		C.dlclose(n.lib)
		return nil
	}
	s := &GPUMemorySampler{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		defer C.nvml_close(&n)
		var peak int64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			var used C.ulonglong
			if C.nvml_used(&n, C.uint(index), &used) == 0 {
				peak = max(peak, int64(used>>20))
			}
			select {
			case <-s.stop:
				s.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return s
}
