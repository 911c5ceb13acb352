// Package orttest loads the ONNX Runtime library for tests of the packages
// built on engine/ort.
package orttest

import (
	"testing"

	"diptych/engine/ort"
)

// Runtime loads the library `make setup` put in the source tree's .runtime/
// (or wherever DIPTYCH_ORT_LIB points) and closes it when the test ends. A
// missing library fails the test: `make test` always fetches it.
func Runtime(tb testing.TB) *ort.Runtime {
	tb.Helper()
	rt, err := ort.Load(ort.DefaultLocateOptions(""))
	if err != nil {
		tb.Fatalf("load ONNX Runtime (run `make setup`): %v", err)
	}
	tb.Cleanup(func() { rt.Close() })
	return rt
}
