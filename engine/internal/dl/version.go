//go:build cgo

package dl

/*
typedef const void* (*ortGetApiBaseFn)(void);

// ort_version calls OrtGetApiBase()->GetVersionString(), which every ONNX
// Runtime release since 1.0 exports at the same offset of OrtApiBase.
static const char* ort_version(void* fn) {
	const void* base = ((ortGetApiBaseFn)fn)();
	if (!base) return 0;
	const void* const* table = (const void* const*)base;
	const char* (*get)(void) = (const char* (*)(void))table[1];
	return get ? get() : 0;
}
*/
import "C"

import "errors"

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
