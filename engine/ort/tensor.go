package ort

import (
	"encoding/binary"
	"fmt"
	"math"

	ort "github.com/yalue/onnxruntime_go"

	"diptych/engine/onnx"
)

// Value is an ONNX Runtime value (a tensor). Destroy it when done.
type Value = ort.Value

// Shape is a tensor shape.
type Shape = ort.Shape

// NewFloatTensor makes a tensor of element type t (float32, float16 or
// bfloat16) holding data. A float32 tensor shares data without copying;
// other types are converted, which is how float32 pipeline maths meets a
// float16 graph boundary.
func NewFloatTensor(t onnx.ElementType, shape Shape, data []float32) (Value, error) {
	if int64(len(data)) != numElements(shape) {
		return nil, fmt.Errorf("tensor %v needs %d values, got %d", shape, numElements(shape), len(data))
	}
	if len(shape) == 0 {
		return newScalar(t, data[0])
	}
	switch t {
	case onnx.Float32:
		return ort.NewTensor(shape, data)
	case onnx.Float16:
		b := make([]byte, 2*len(data))
		onnx.EncodeF16(b, data)
		return ort.NewCustomDataTensor(shape, b, ort.TensorElementDataTypeFloat16)
	case onnx.BFloat16:
		b := make([]byte, 2*len(data))
		onnx.EncodeBF16(b, data)
		return ort.NewCustomDataTensor(shape, b, ort.TensorElementDataTypeBFloat16)
	case onnx.Float64:
		d := make([]float64, len(data))
		for i, v := range data {
			d[i] = float64(v)
		}
		return ort.NewTensor(shape, d)
	}
	return nil, fmt.Errorf("cannot make a %s tensor from float32 values", t)
}

// NewIntTensor makes an int64, int32 or bool tensor from data.
func NewIntTensor(t onnx.ElementType, shape Shape, data []int64) (Value, error) {
	if int64(len(data)) != numElements(shape) {
		return nil, fmt.Errorf("tensor %v needs %d values, got %d", shape, numElements(shape), len(data))
	}
	if len(shape) == 0 {
		switch t {
		case onnx.Int64:
			return ort.NewScalar(data[0])
		case onnx.Int32:
			return ort.NewScalar(int32(data[0]))
		}
		return newScalar(t, float32(data[0]))
	}
	switch t {
	case onnx.Int64:
		return ort.NewTensor(shape, data)
	case onnx.Int32:
		d := make([]int32, len(data))
		for i, v := range data {
			if v > math.MaxInt32 || v < math.MinInt32 {
				return nil, fmt.Errorf("value %d does not fit an int32 tensor", v)
			}
			d[i] = int32(v)
		}
		return ort.NewTensor(shape, d)
	case onnx.Bool:
		d := make([]bool, len(data))
		for i, v := range data {
			d[i] = v != 0
		}
		return ort.NewTensor(shape, d)
	case onnx.Float32, onnx.Float16:
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		return NewFloatTensor(t, shape, f)
	}
	return nil, fmt.Errorf("cannot make a %s tensor from integers", t)
}

// NewEmptyTensor allocates an output tensor of type t. Outputs are always
// pre-allocated: onnxruntime_go cannot allocate float16 outputs itself.
func NewEmptyTensor(t onnx.ElementType, shape Shape) (Value, error) {
	n := shape.FlattenedSize()
	if len(shape) == 0 {
		switch t {
		case onnx.Float32, onnx.Float16, onnx.BFloat16:
			return newScalar(t, 0)
		case onnx.Int64:
			return ort.NewScalar[int64](0)
		}
	}
	switch t {
	case onnx.Float32:
		return ort.NewEmptyTensor[float32](shape)
	case onnx.Int64:
		return ort.NewEmptyTensor[int64](shape)
	case onnx.Int32:
		return ort.NewEmptyTensor[int32](shape)
	case onnx.Bool:
		return ort.NewEmptyTensor[bool](shape)
	case onnx.Uint8:
		return ort.NewEmptyTensor[uint8](shape)
	case onnx.Float64:
		return ort.NewEmptyTensor[float64](shape)
	case onnx.Float16:
		return ort.NewCustomDataTensor(shape, make([]byte, 2*n), ort.TensorElementDataTypeFloat16)
	case onnx.BFloat16:
		return ort.NewCustomDataTensor(shape, make([]byte, 2*n), ort.TensorElementDataTypeBFloat16)
	}
	return nil, fmt.Errorf("cannot allocate a %s tensor", t)
}

// numElements is the element count of shape; a rank-0 shape holds one.
func numElements(s Shape) int64 {
	if len(s) == 0 {
		return 1
	}
	return s.FlattenedSize()
}

// newScalar makes a rank-0 float tensor of type t.
func newScalar(t onnx.ElementType, v float32) (Value, error) {
	switch t {
	case onnx.Float32:
		return ort.NewScalar(v)
	case onnx.Float64:
		return ort.NewScalar(float64(v))
	case onnx.Float16:
		b := make([]byte, 2)
		binary.LittleEndian.PutUint16(b, onnx.F32ToF16(v))
		return newRank0(t, b)
	case onnx.BFloat16:
		b := make([]byte, 2)
		binary.LittleEndian.PutUint16(b, onnx.F32ToBF16(v))
		return newRank0(t, b)
	}
	return nil, fmt.Errorf("cannot make a %s scalar", t)
}

// Float32s returns a value's contents as float32, converting float16,
// bfloat16 and float64. For a float32 tensor it returns the live slice.
func Float32s(v Value) ([]float32, error) {
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		return t.GetData(), nil
	case *ort.Scalar[float32]:
		return []float32{t.GetData()}, nil
	case *ort.Tensor[float64]:
		d := t.GetData()
		out := make([]float32, len(d))
		for i, x := range d {
			out[i] = float32(x)
		}
		return out, nil
	case *ort.CustomDataTensor:
		b := t.GetData()
		out := make([]float32, len(b)/2)
		switch onnx.ElementType(t.DataType()) {
		case onnx.Float16:
			onnx.DecodeF16(out, b)
			return out, nil
		case onnx.BFloat16:
			onnx.DecodeBF16(out, b)
			return out, nil
		}
	}
	return nil, fmt.Errorf("value of type %s is not a float tensor", TypeOf(v))
}

// Int64s returns an integer value's contents as int64.
func Int64s(v Value) ([]int64, error) {
	switch t := v.(type) {
	case *ort.Tensor[int64]:
		return t.GetData(), nil
	case *ort.Tensor[int32]:
		d := t.GetData()
		out := make([]int64, len(d))
		for i, x := range d {
			out[i] = int64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("value of type %s is not an integer tensor", TypeOf(v))
}

// TypeOf returns a value's element type.
func TypeOf(v Value) onnx.ElementType {
	if v == nil {
		return onnx.Undefined
	}
	return onnx.ElementType(v.DataType())
}

// Destroy destroys every non-nil value.
func Destroy(vs ...Value) {
	for _, v := range vs {
		if v != nil {
			v.Destroy()
		}
	}
}
