package onnx

import "fmt"

// ElementType is an ONNX tensor element type (the TensorProto.DataType enum).
type ElementType int32

// The element types Diptych's models use.
const (
	Undefined ElementType = 0
	Float32   ElementType = 1
	Uint8     ElementType = 2
	Int8      ElementType = 3
	Int32     ElementType = 6
	Int64     ElementType = 7
	Bool      ElementType = 9
	Float16   ElementType = 10
	Float64   ElementType = 11
	BFloat16  ElementType = 16
)

var elementNames = map[ElementType]string{
	Undefined: "undefined", Float32: "float32", Uint8: "uint8", Int8: "int8", 4: "uint16", 5: "int16",
	Int32: "int32", Int64: "int64", 8: "string", Bool: "bool", Float16: "float16", Float64: "float64",
	12: "uint32", 13: "uint64", BFloat16: "bfloat16", 21: "uint4", 22: "int4",
}

func (t ElementType) String() string {
	if s, ok := elementNames[t]; ok {
		return s
	}
	return fmt.Sprintf("element type %d", int32(t))
}

// Size returns the number of bytes of one element, or 0 for types without a
// fixed byte size.
func (t ElementType) Size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Float16, BFloat16:
		return 2
	case Float32, Int32:
		return 4
	case Int64, Float64:
		return 8
	}
	return 0
}
