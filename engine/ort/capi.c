// See capi.h. Compiled by cgo with the package (engine/ort).
#include <stdlib.h>
#include <string.h>
#include "capi.h"

#ifdef _WIN32
#include <windows.h>

const OrtApi* dip_api(const char* path) {
	HMODULE h = LoadLibraryA(path); // takes a reference if already loaded
	if (!h) return NULL;
	const OrtApiBase* (*get)(void) = (const OrtApiBase* (*)(void))(void*)GetProcAddress(h, "OrtGetApiBase");
	FreeLibrary(h); // the runtime keeps its own reference
	if (!get) return NULL;
	return get()->GetApi(ORT_API_VERSION);
}
#else
#include <dlfcn.h>

const OrtApi* dip_api(const char* path) {
	void* h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	if (!h) h = dlopen(path, RTLD_LAZY);
	if (!h) return NULL;
	const OrtApiBase* (*get)(void) = (const OrtApiBase* (*)(void))dlsym(h, "OrtGetApiBase");
	dlclose(h); // the runtime keeps its own reference
	if (!get) return NULL;
	return get()->GetApi(ORT_API_VERSION);
}
#endif

const char* dip_status_message(const OrtApi* api, OrtStatus* st) { return api->GetErrorMessage(st); }
void dip_release_status(const OrtApi* api, OrtStatus* st) { api->ReleaseStatus(st); }

int dip_providers(const OrtApi* api, char*** out, int* n) {
	OrtStatus* st = api->GetAvailableProviders(out, n);
	if (st) { api->ReleaseStatus(st); return 1; }
	return 0;
}
void dip_release_providers(const OrtApi* api, char** p, int n) {
	OrtStatus* st = api->ReleaseAvailableProviders(p, n);
	if (st) api->ReleaseStatus(st);
}

OrtStatus* dip_tensor_with_data(const OrtApi* api, const OrtMemoryInfo* mi, void* data, size_t len,
		const int64_t* shape, size_t rank, ONNXTensorElementDataType type, OrtValue** out) {
	return api->CreateTensorWithDataAsOrtValue(mi, data, len, shape, rank, type, out);
}

OrtStatus* dip_new_tensor(const OrtApi* api, const int64_t* shape, size_t rank, ONNXTensorElementDataType t,
		OrtValue** out) {
	OrtAllocator* alloc = NULL;
	OrtStatus* st = api->GetAllocatorWithDefaultOptions(&alloc);
	if (st) return st;
	return api->CreateTensorAsOrtValue(alloc, shape, rank, t, out);
}

OrtStatus* dip_value_info(const OrtApi* api, const OrtValue* v, int* type, int64_t* dims, size_t maxRank,
		size_t* rank, const char** memName, int* memID) {
	OrtTensorTypeAndShapeInfo* info = NULL;
	OrtStatus* st = api->GetTensorTypeAndShape(v, &info);
	if (st) return st;
	ONNXTensorElementDataType et;
	st = api->GetTensorElementType(info, &et);
	if (!st) st = api->GetDimensionsCount(info, rank);
	if (!st && *rank <= maxRank) st = api->GetDimensions(info, dims, *rank);
	api->ReleaseTensorTypeAndShapeInfo(info);
	if (st) return st;
	*type = (int)et;
	const OrtMemoryInfo* mi = NULL;
	st = api->GetTensorMemoryInfo(v, &mi);
	if (st) return st;
	st = api->MemoryInfoGetName(mi, memName);
	if (st) return st;
	return api->MemoryInfoGetId(mi, memID);
}

OrtStatus* dip_value_data(const OrtApi* api, OrtValue* v, void** out) { return api->GetTensorMutableData(v, out); }
void dip_release_value(const OrtApi* api, OrtValue* v) { api->ReleaseValue(v); }

OrtStatus* dip_create_memory_info(const OrtApi* api, const char* name, int id, OrtMemoryInfo** out) {
	return api->CreateMemoryInfo(name, OrtDeviceAllocator, id, OrtMemTypeDefault, out);
}
void dip_release_memory_info(const OrtApi* api, OrtMemoryInfo* mi) { api->ReleaseMemoryInfo(mi); }

OrtStatus* dip_create_binding(const OrtApi* api, OrtSession* s, OrtIoBinding** out) {
	return api->CreateIoBinding(s, out);
}
void dip_release_binding(const OrtApi* api, OrtIoBinding* b) { api->ReleaseIoBinding(b); }
OrtStatus* dip_bind_input(const OrtApi* api, OrtIoBinding* b, const char* name, const OrtValue* v) {
	return api->BindInput(b, name, v);
}
OrtStatus* dip_bind_output(const OrtApi* api, OrtIoBinding* b, const char* name, const OrtValue* v) {
	return api->BindOutput(b, name, v);
}
OrtStatus* dip_bind_output_device(const OrtApi* api, OrtIoBinding* b, const char* name, const OrtMemoryInfo* mi) {
	return api->BindOutputToDevice(b, name, mi);
}
void dip_clear_inputs(const OrtApi* api, OrtIoBinding* b) { api->ClearBoundInputs(b); }
void dip_clear_outputs(const OrtApi* api, OrtIoBinding* b) { api->ClearBoundOutputs(b); }

// dip_bound_outputs returns the bound output values and their names
// (names concatenated into one malloc'd buffer, lengths in *lens). The
// caller frees *vals, *names and *lens with free().
OrtStatus* dip_bound_outputs(const OrtApi* api, const OrtIoBinding* b, OrtValue*** vals, char** names,
		size_t** lens, size_t* count) {
	OrtAllocator* alloc = NULL;
	OrtStatus* st = api->GetAllocatorWithDefaultOptions(&alloc);
	if (st) return st;
	char* nbuf = NULL; size_t* nlens = NULL; size_t ncount = 0;
	st = api->GetBoundOutputNames(b, alloc, &nbuf, &nlens, &ncount);
	if (st) return st;
	OrtValue** v = NULL; size_t vcount = 0;
	st = api->GetBoundOutputValues(b, alloc, &v, &vcount);
	if (st) {
		if (nbuf) alloc->Free(alloc, nbuf);
		if (nlens) alloc->Free(alloc, nlens);
		return st;
	}
	size_t total = 0;
	for (size_t i = 0; i < ncount; i++) total += nlens[i];
	*names = (char*)malloc(total + 1);
	*lens = (size_t*)malloc((ncount + 1) * sizeof(size_t));
	*vals = (OrtValue**)malloc((vcount + 1) * sizeof(OrtValue*));
	if (total) memcpy(*names, nbuf, total);
	if (ncount) memcpy(*lens, nlens, ncount * sizeof(size_t));
	if (vcount) memcpy(*vals, v, vcount * sizeof(OrtValue*));
	*count = vcount < ncount ? vcount : ncount;
	for (size_t i = *count; i < vcount; i++) api->ReleaseValue(v[i]);
	if (nbuf) alloc->Free(alloc, nbuf);
	if (nlens) alloc->Free(alloc, nlens);
	if (v) alloc->Free(alloc, v);
	return NULL;
}

OrtStatus* dip_create_run_options(const OrtApi* api, OrtRunOptions** out) { return api->CreateRunOptions(out); }
void dip_release_run_options(const OrtApi* api, OrtRunOptions* ro) { api->ReleaseRunOptions(ro); }
OrtStatus* dip_terminate(const OrtApi* api, OrtRunOptions* ro) { return api->RunOptionsSetTerminate(ro); }

// dip_run_binding waits for input copies to the device, runs, and waits for
// the outputs (no-ops on the CPU; on CUDA the copies may be asynchronous).
OrtStatus* dip_run_binding(const OrtApi* api, OrtSession* s, const OrtRunOptions* ro, OrtIoBinding* b) {
	OrtStatus* st = api->SynchronizeBoundInputs(b);
	if (st) return st;
	st = api->RunWithBinding(s, ro, b);
	if (st) return st;
	return api->SynchronizeBoundOutputs(b);
}
