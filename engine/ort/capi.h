// Diptych's calls into the ONNX Runtime C API that onnxruntime_go does not
// expose. Every function takes the OrtApi table that Go fetched once with
// dip_api when the runtime was opened (see capi.go).
#ifndef DIPTYCH_CAPI_H
#define DIPTYCH_CAPI_H

#include <stddef.h>
#include <stdint.h>
#include "onnxruntime_c_api.h"

// dip_api returns the OrtApi (ORT_API_VERSION) of the library at path, which
// must already be loaded (onnxruntime_go loaded it); NULL if it cannot.
const OrtApi* dip_api(const char* path);

// Status.
const char* dip_status_message(const OrtApi* api, OrtStatus* st);
void dip_release_status(const OrtApi* api, OrtStatus* st);

// Providers compiled into the library.
int dip_providers(const OrtApi* api, char*** out, int* n);
void dip_release_providers(const OrtApi* api, char** p, int n);

// Values.
OrtStatus* dip_tensor_with_data(const OrtApi* api, const OrtMemoryInfo* mi, void* data, size_t len,
		const int64_t* shape, size_t rank, ONNXTensorElementDataType type, OrtValue** out);
OrtStatus* dip_new_tensor(const OrtApi* api, const int64_t* shape, size_t rank, ONNXTensorElementDataType t,
		OrtValue** out);
OrtStatus* dip_value_info(const OrtApi* api, const OrtValue* v, int* type, int64_t* dims, size_t maxRank,
		size_t* rank, const char** memName, int* memID);
OrtStatus* dip_value_data(const OrtApi* api, OrtValue* v, void** out);
void dip_release_value(const OrtApi* api, OrtValue* v);

// Memory info.
OrtStatus* dip_create_memory_info(const OrtApi* api, const char* name, int id, OrtMemoryInfo** out);
void dip_release_memory_info(const OrtApi* api, OrtMemoryInfo* mi);

// IO binding.
OrtStatus* dip_create_binding(const OrtApi* api, OrtSession* s, OrtIoBinding** out);
void dip_release_binding(const OrtApi* api, OrtIoBinding* b);
OrtStatus* dip_bind_input(const OrtApi* api, OrtIoBinding* b, const char* name, const OrtValue* v);
OrtStatus* dip_bind_output(const OrtApi* api, OrtIoBinding* b, const char* name, const OrtValue* v);
OrtStatus* dip_bind_output_device(const OrtApi* api, OrtIoBinding* b, const char* name, const OrtMemoryInfo* mi);
void dip_clear_inputs(const OrtApi* api, OrtIoBinding* b);
void dip_clear_outputs(const OrtApi* api, OrtIoBinding* b);
OrtStatus* dip_bound_outputs(const OrtApi* api, const OrtIoBinding* b, OrtValue*** vals, char** names,
		size_t** lens, size_t* count);

// Run options and runs.
OrtStatus* dip_create_run_options(const OrtApi* api, OrtRunOptions** out);
void dip_release_run_options(const OrtApi* api, OrtRunOptions* ro);
OrtStatus* dip_terminate(const OrtApi* api, OrtRunOptions* ro);
OrtStatus* dip_run_binding(const OrtApi* api, OrtSession* s, const OrtRunOptions* ro, OrtIoBinding* b);

#endif
