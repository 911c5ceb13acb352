package ort

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// Stand-ins for the C structs, named as cgo names them well enough for the
// checks (which look for "OrtValue" in the element's name).
type fakeOrtValue struct{ n int }
type fakeOrtSession struct{}

// fakeTensor has onnxruntime_go's CustomDataTensor layout.
type fakeTensor struct {
	data     []byte
	shape    Shape
	ortValue *fakeOrtValue
}

func TestPrivateFieldReadsAndWrites(t *testing.T) {
	a, b := &fakeOrtValue{1}, &fakeOrtValue{2}
	ft := &fakeTensor{shape: Shape{1}, ortValue: a}
	f, err := privateField(ft, "ortValue", cPointer("OrtValue"))
	if err != nil {
		t.Fatal(err)
	}
	if f.UnsafePointer() != unsafe.Pointer(a) {
		t.Fatal("privateField read another pointer")
	}
	f.Set(reflect.ValueOf(b))
	if ft.ortValue != b {
		t.Fatal("privateField did not write the field")
	}
	old, err := swapOrtValue(ft, unsafe.Pointer(a), Shape{})
	if err != nil || old != unsafe.Pointer(b) || ft.ortValue != a || ft.shape == nil || len(ft.shape) != 0 {
		t.Fatalf("swapOrtValue = %v, %v; tensor %+v", old, err, ft)
	}
}

func TestPrivateFieldWrongLayouts(t *testing.T) {
	type renamed struct{ value *fakeOrtValue }
	type wrongKind struct{ ortValue uintptr }
	type wrongPointer struct{ ortValue *fakeOrtSession }
	type embedded struct{ fakeTensor }
	cases := []struct {
		name string
		ptr  any
		want []string
	}{
		{"field renamed", &renamed{}, []string{"layout changed", "renamed has no field ortValue", "*OrtValue"}},
		{"not a pointer", wrongKind{}, []string{"ort.wrongKind is not a pointer to a struct"}},
		{"nil pointer", (*wrongKind)(nil), []string{"not a pointer to a struct"}},
		{"wrong kind", &wrongKind{}, []string{"wrongKind.ortValue is uintptr, expected *OrtValue"}},
		{"wrong pointee", &wrongPointer{}, []string{"wrongPointer.ortValue is *ort.fakeOrtSession, expected *OrtValue"}},
		{"promoted field", &embedded{}, []string{"embedded has no field ortValue"}},
	}
	for _, c := range cases {
		_, err := privateField(c.ptr, "ortValue", cPointer("OrtValue"))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
}

func TestSwapOrtValueChecksBeforeWriting(t *testing.T) {
	type wrongShape struct {
		shape    []int64 // not Shape
		ortValue *fakeOrtValue
	}
	a := &fakeOrtValue{1}
	ws := &wrongShape{ortValue: a}
	_, err := swapOrtValue(ws, unsafe.Pointer(&fakeOrtValue{2}), Shape{})
	if err == nil || !strings.Contains(err.Error(), "wrongShape.shape is []int64, expected onnxruntime_go.Shape") {
		t.Fatalf("swapOrtValue(wrong shape) = %v", err)
	}
	if ws.ortValue != a {
		t.Fatal("swapOrtValue wrote ortValue although the shape field was wrong")
	}
	if _, err := swapOrtValue(&struct{ shape Shape }{}, nil, Shape{}); err == nil || !strings.Contains(err.Error(), "no field ortValue") {
		t.Fatalf("swapOrtValue(no ortValue) = %v", err)
	}
}

func TestSessionAndValuePointerNil(t *testing.T) {
	if _, err := sessionPointer(nil); err == nil {
		t.Error("sessionPointer(nil) accepted")
	}
	if _, err := valuePointer(nil); err == nil {
		t.Error("valuePointer(nil) accepted")
	}
}

// TestAPIFetchedOnce: the C API table is fetched when the runtime opens, the
// same table serves every call, and it is gone after the last Close.
func TestAPIFetchedOnce(t *testing.T) {
	rt, err := Load(DefaultLocateOptions(""))
	if err != nil {
		t.Fatalf("load runtime (run `make setup`): %v", err)
	}
	a := loadedAPI()
	if a == nil {
		rt.Close()
		t.Fatal("no C API after Open")
	}
	if b, err := rt.capi(); err != nil || b != a {
		rt.Close()
		t.Fatalf("capi() = %p, %v; want the cached %p", b, err, a)
	}
	if _, err := rt.Providers(); err != nil {
		rt.Close()
		t.Fatal(err)
	}
	rt.Close()
	if loadedAPI() != nil {
		t.Fatal("C API still cached after the last Close")
	}
	if _, err := rt.Providers(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Providers after Close = %v, want an error saying it is closed", err)
	}
}
