package ort

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// onnxruntime_go keeps the C pointers Diptych's own C API calls need (the
// OrtSession of a session, the OrtValue of a value) in unexported fields.
// They are reached with reflection that checks every field's existence and
// type first, so a new onnxruntime_go with another layout yields an error
// naming what changed instead of a panic or a wild pointer.

// fieldType is what an unexported field must be.
type fieldType struct {
	kind reflect.Kind
	// name must occur in the type's name (for a pointer: its element's),
	// for C types whose Go names cgo makes up ("_Ctype_struct_OrtValue").
	name string
	// exact, when set, is the only type allowed.
	exact reflect.Type
}

// cPointer is a pointer to the C struct called name.
func cPointer(name string) fieldType { return fieldType{kind: reflect.Pointer, name: name} }

func (f fieldType) matches(t reflect.Type) bool {
	if f.exact != nil {
		return t == f.exact
	}
	if t.Kind() != f.kind {
		return false
	}
	n := t.Name()
	if t.Kind() == reflect.Pointer {
		n = t.Elem().Name()
	}
	return strings.Contains(n, f.name)
}

func (f fieldType) String() string {
	if f.exact != nil {
		return f.exact.String()
	}
	if f.kind == reflect.Pointer {
		return "*" + f.name
	}
	return f.kind.String() + " " + f.name
}

// privateField returns field name of the struct that ptr points to, readable
// and settable, after checking that it exists and has type want.
func privateField(ptr any, name string, want fieldType) (reflect.Value, error) {
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("onnxruntime_go layout: %T is not a pointer to a struct", ptr)
	}
	sv := rv.Elem()
	sf, ok := sv.Type().FieldByName(name)
	if !ok || len(sf.Index) != 1 {
		return reflect.Value{}, fmt.Errorf("onnxruntime_go layout changed: %s has no field %s (expected %s)",
			sv.Type(), name, want)
	}
	if !want.matches(sf.Type) {
		return reflect.Value{}, fmt.Errorf("onnxruntime_go layout changed: %s.%s is %s, expected %s",
			sv.Type(), name, sf.Type, want)
	}
	f := sv.Field(sf.Index[0])
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), nil
}

var (
	advancedSessionType = reflect.TypeOf((*ort.AdvancedSession)(nil))
	shapeType           = reflect.TypeOf(Shape(nil))
)

// sessionPointer returns the OrtSession* inside an onnxruntime_go
// DynamicAdvancedSession (field s *AdvancedSession, whose field ortSession is
// the pointer).
func sessionPointer(d *ort.DynamicAdvancedSession) (unsafe.Pointer, error) {
	if d == nil {
		return nil, errors.New("nil session")
	}
	s, err := privateField(d, "s", fieldType{exact: advancedSessionType})
	if err != nil {
		return nil, err
	}
	if s.IsNil() {
		return nil, errors.New("session already destroyed")
	}
	return pointerField(s.Interface(), "ortSession", cPointer("OrtSession"), "session already destroyed")
}

// valuePointer returns the OrtValue* of an onnxruntime_go value: field
// ortValue of its ValueInternalData.
func valuePointer(v Value) (unsafe.Pointer, error) {
	if v == nil {
		return nil, errors.New("nil value")
	}
	return pointerField(v.GetInternals(), "ortValue", cPointer("OrtValue"), "value already destroyed")
}

// pointerField reads a checked pointer field; nilMsg is the error for nil.
func pointerField(ptr any, name string, want fieldType, nilMsg string) (unsafe.Pointer, error) {
	f, err := privateField(ptr, name, want)
	if err != nil {
		return nil, err
	}
	p := f.UnsafePointer()
	if p == nil {
		return nil, errors.New(nilMsg)
	}
	return p, nil
}

// swapOrtValue replaces the OrtValue (field ortValue) and the shape (field
// shape) of an onnxruntime_go tensor such as *CustomDataTensor, returning the
// old OrtValue for the caller to release. Both fields are checked before
// either is written.
func swapOrtValue(tensor any, v unsafe.Pointer, shape Shape) (unsafe.Pointer, error) {
	ptr, err := privateField(tensor, "ortValue", cPointer("OrtValue"))
	if err != nil {
		return nil, err
	}
	sh, err := privateField(tensor, "shape", fieldType{exact: shapeType})
	if err != nil {
		return nil, err
	}
	old := ptr.UnsafePointer()
	ptr.Set(reflect.NewAt(ptr.Type().Elem(), v))
	sh.Set(reflect.ValueOf(shape))
	return old, nil
}
