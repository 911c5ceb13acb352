//go:build cgo

package discover

/*
#cgo !windows LDFLAGS: -ldl
#include <stdlib.h>
#include <string.h>
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

// nvmlPciInfo is nvml.h's nvmlPciInfo_t (nvmlDeviceGetPciInfo_v3).
typedef struct {
	char busIdLegacy[16];
	unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
	char busId[32];
} nvmlPciInfo;

typedef struct {
	void* lib;
	int (*init)(void);
	int (*shutdown)(void);
	int (*count)(unsigned*);
	int (*handle)(unsigned, nvmlDevice*);
	int (*name)(nvmlDevice, char*, unsigned);
	int (*memory)(nvmlDevice, nvmlMemory*);
	int (*uuid)(nvmlDevice, char*, unsigned);
	int (*pci)(nvmlDevice, nvmlPciInfo*);
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
	n->uuid = dlsym(n->lib, "nvmlDeviceGetUUID");
	n->pci = dlsym(n->lib, "nvmlDeviceGetPciInfo_v3");
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
static void nvml_unload(nvml* n) { dlclose(n->lib); }
static int nvml_count(nvml* n, unsigned* c) { return n->count(c); }

// nvml_device reads device i's name and memory, and its UUID and PCI bus id
// where the driver has them (left empty otherwise).
static int nvml_device(nvml* n, unsigned i, char* name, unsigned len, nvmlMemory* mem,
		char* uuid, unsigned ulen, char* bus, unsigned blen) {
	nvmlDevice d;
	uuid[0] = 0;
	bus[0] = 0;
	int rc = n->handle(i, &d);
	if (rc) return rc;
	rc = n->name(d, name, len);
	if (rc) return rc;
	if (n->uuid && n->uuid(d, uuid, ulen) != 0) uuid[0] = 0;
	nvmlPciInfo pci;
	if (n->pci && n->pci(d, &pci) == 0) {
		strncpy(bus, pci.busId, blen - 1);
		bus[blen - 1] = 0;
	}
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
	"os"
	"unsafe"
)

// nvmlLib is NVML (libnvidia-ml.so.1, shipped with the NVIDIA driver),
// opened at run time so the binary runs without it, and initialised.
type nvmlLib struct{ n C.nvml }

func openNVML() (*nvmlLib, error) {
	l := &nvmlLib{}
	if msg := C.nvml_open(&l.n); msg != nil {
		return nil, fmt.Errorf("NVML: %s", C.GoString(msg))
	}
	if rc := C.nvml_init(&l.n); rc != 0 {
		err := fmt.Errorf("NVML init: %s", l.errString(rc))
		C.nvml_unload(&l.n)
		return nil, err
	}
	return l, nil
}

func (l *nvmlLib) close() { C.nvml_close(&l.n) }

func (l *nvmlLib) errString(rc C.int) string { return C.GoString(C.nvml_err(&l.n, rc)) }

// devices lists every GPU with NVML's index, UUID and PCI bus id.
func (l *nvmlLib) devices() ([]GPU, error) {
	var count C.uint
	if rc := C.nvml_count(&l.n, &count); rc != 0 {
		return nil, fmt.Errorf("NVML device count: %s", l.errString(rc))
	}
	var name [96]C.char
	var uuid [96]C.char
	var bus [32]C.char
	var out []GPU
	for i := C.uint(0); i < count; i++ {
		var mem C.nvmlMemory
		if rc := C.nvml_device(&l.n, i, &name[0], C.uint(len(name)), &mem, &uuid[0], C.uint(len(uuid)),
			&bus[0], C.uint(len(bus))); rc != 0 {
			return out, fmt.Errorf("NVML device %d: %s", i, l.errString(rc))
		}
		out = append(out, GPU{
			Index:    int(i),
			Name:     C.GoString(&name[0]),
			UUID:     C.GoString(&uuid[0]),
			PCIBusID: C.GoString(&bus[0]),
			TotalMB:  int64(mem.total >> 20),
			FreeMB:   int64(mem.free >> 20),
			UsedMB:   int64(mem.used >> 20),
		})
	}
	return out, nil
}

// usedMB reads the used memory of the GPU with NVML index i.
func (l *nvmlLib) usedMB(i int) (int64, bool) {
	var used C.ulonglong
	if C.nvml_used(&l.n, C.uint(i), &used) != 0 {
		return 0, false
	}
	return int64(used >> 20), true
}

// nvmlQuery reads the GPUs through NVML.
func nvmlQuery() (GPUReport, error) {
	l, err := openNVML()
	if err != nil {
		return GPUReport{}, err
	}
	defer l.close()
	r := GPUReport{Source: "nvml"}
	buf := make([]byte, 96)
	if C.nvml_driver(&l.n, (*C.char)(unsafe.Pointer(&buf[0])), C.uint(len(buf))) == 0 {
		r.Driver = C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	}
	var cv C.int
	if C.nvml_cuda(&l.n, &cv) == 0 {
		r.CUDADriver = fmt.Sprintf("%d.%d", cv/1000, (cv%1000)/10)
	}
	r.Devices, err = l.devices()
	return r, err
}

// nvmlGPUUsage finds the GPU that CUDA ordinal names in this process (by
// UUID or PCI bus id under CUDA_VISIBLE_DEVICES, see GPUForCUDA) and returns
// a reader of its used memory in MB, and the func that closes NVML.
func nvmlGPUUsage(ordinal int) (func() (int64, bool), func(), error) {
	l, err := openNVML()
	if err != nil {
		return nil, nil, err
	}
	devs, err := l.devices()
	if err != nil {
		l.close()
		return nil, nil, err
	}
	visible, set := os.LookupEnv(VisibleDevicesEnv)
	g, err := GPUForCUDA(ordinal, visible, set, devs)
	if err != nil {
		l.close()
		return nil, nil, err
	}
	return func() (int64, bool) { return l.usedMB(g.Index) }, l.close, nil
}
