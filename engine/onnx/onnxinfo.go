// Package onnx reads what an .onnx file declares (graph inputs and outputs,
// element types, opsets, external data) straight from its protobuf, and
// converts float32 to and from the float16 and bfloat16 encodings ONNX graphs
// use. It is pure Go: no ONNX Runtime and no cgo, so model catalogs, checks
// and the CLI can use it in any build.
package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Dim is one dimension of a graph input or output: a fixed Value, or a
// symbolic Param (such as "batch_size") with Value -1.
type Dim struct {
	Value int64
	Param string
}

func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	if d.Value < 0 {
		return "?"
	}
	return fmt.Sprint(d.Value)
}

// TensorInfo describes one graph input or output.
type TensorInfo struct {
	Name  string
	Type  ElementType
	Shape []Dim
}

func (t TensorInfo) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = d.String()
	}
	return fmt.Sprintf("%s %s[%s]", t.Name, t.Type, strings.Join(dims, ","))
}

// ModelInfo is what ReadModelInfo finds in an .onnx file.
type ModelInfo struct {
	Path            string
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Opsets          map[string]int64
	Inputs          []TensorInfo
	Outputs         []TensorInfo
	// ExternalData lists the external data files the initializers refer to
	// (relative to the model's folder), without duplicates.
	ExternalData []string
	Metadata     map[string]string
}

// Input returns the input called name.
func (m ModelInfo) Input(name string) (TensorInfo, bool) { return findInfo(m.Inputs, name) }

// Output returns the output called name.
func (m ModelInfo) Output(name string) (TensorInfo, bool) { return findInfo(m.Outputs, name) }

func findInfo(list []TensorInfo, name string) (TensorInfo, bool) {
	for _, t := range list {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// ErrNotONNX reports a file that does not parse as an ONNX model.
var ErrNotONNX = errors.New("not an ONNX model")

// ReadModelInfo reads the graph inputs and outputs of an .onnx file without
// loading its weights: initializer payloads are skipped with Seek, so a
// multi-gigabyte model is inspected in milliseconds.
func ReadModelInfo(path string) (ModelInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("read model %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ModelInfo{}, fmt.Errorf("read model %s: %w", path, err)
	}
	if st.IsDir() {
		return ModelInfo{}, fmt.Errorf("read model %s: is a folder, expected an .onnx file", path)
	}
	r := &pbReader{f: f, br: bufio.NewReaderSize(f, 64<<10)}
	info := ModelInfo{Path: path, Opsets: map[string]int64{}, Metadata: map[string]string{}}
	if err := parseModel(r, st.Size(), &info); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return ModelInfo{}, fmt.Errorf("read model %s: %w: file is truncated (%d bytes)", path, ErrNotONNX, st.Size())
		}
		return ModelInfo{}, fmt.Errorf("read model %s: %w", path, err)
	}
	if info.IRVersion == 0 || (len(info.Inputs) == 0 && len(info.Outputs) == 0) {
		return ModelInfo{}, fmt.Errorf("read model %s: %w: no ir_version or graph found", path, ErrNotONNX)
	}
	return info, nil
}

// pbReader reads protobuf wire format from a file, skipping large fields by
// seeking instead of reading them.
type pbReader struct {
	f   *os.File
	br  *bufio.Reader
	pos int64
}

func (r *pbReader) byte() (byte, error) {
	b, err := r.br.ReadByte()
	if err == nil {
		r.pos++
	}
	return b, err
}

func (r *pbReader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.byte()
		if err != nil {
			if err == io.EOF && shift > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: varint overflow at byte %d", ErrNotONNX, r.pos)
}

func (r *pbReader) skip(n int64) error {
	if n <= int64(r.br.Buffered()) {
		_, err := r.br.Discard(int(n))
		r.pos += n
		return err
	}
	if _, err := r.f.Seek(r.pos+n, io.SeekStart); err != nil {
		return err
	}
	r.pos += n
	r.br.Reset(r.f)
	return nil
}

func (r *pbReader) bytes(n int64) ([]byte, error) {
	if n > 1<<20 {
		return nil, fmt.Errorf("%w: string field of %d bytes at byte %d", ErrNotONNX, n, r.pos)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	r.pos += n
	return b, nil
}

// field reads the next tag within a message ending at end. ok is false at the end.
func (r *pbReader) field(end int64) (num int, wire int, ok bool, err error) {
	if r.pos >= end {
		return 0, 0, false, nil
	}
	tag, err := r.varint()
	if err != nil {
		return 0, 0, false, err
	}
	num, wire = int(tag>>3), int(tag&7)
	if num == 0 {
		return 0, 0, false, fmt.Errorf("%w: field number 0 at byte %d", ErrNotONNX, r.pos)
	}
	return num, wire, true, nil
}

// length reads a length prefix and checks that it fits inside end.
func (r *pbReader) length(end int64) (int64, error) {
	n, err := r.varint()
	if err != nil {
		return 0, err
	}
	if int64(n) < 0 || r.pos+int64(n) > end {
		return 0, io.ErrUnexpectedEOF
	}
	return int64(n), nil
}

// skipValue skips a field of the given wire type.
func (r *pbReader) skipValue(wire int, end int64) error {
	switch wire {
	case 0:
		_, err := r.varint()
		return err
	case 1:
		return r.skip(8)
	case 2:
		n, err := r.length(end)
		if err != nil {
			return err
		}
		return r.skip(n)
	case 5:
		return r.skip(4)
	}
	return fmt.Errorf("%w: wire type %d at byte %d", ErrNotONNX, wire, r.pos)
}

func (r *pbReader) str(wire int, end int64) (string, error) {
	if wire != 2 {
		return "", fmt.Errorf("%w: expected a string at byte %d", ErrNotONNX, r.pos)
	}
	n, err := r.length(end)
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

// message calls fn for each field of the embedded message that starts here.
func (r *pbReader) message(wire int, end int64, fn func(num, wire int, end int64) error) error {
	if wire != 2 {
		return fmt.Errorf("%w: expected a message at byte %d", ErrNotONNX, r.pos)
	}
	n, err := r.length(end)
	if err != nil {
		return err
	}
	return r.fields(r.pos+n, fn)
}

func (r *pbReader) fields(end int64, fn func(num, wire int, end int64) error) error {
	for {
		num, wire, ok, err := r.field(end)
		if err != nil || !ok {
			return err
		}
		if err := fn(num, wire, end); err != nil {
			return err
		}
	}
}

// ONNX ModelProto field numbers (onnx.proto3).
func parseModel(r *pbReader, size int64, info *ModelInfo) error {
	return r.fields(size, func(num, wire int, end int64) error {
		var err error
		switch {
		case num == 1 && wire == 0:
			var v uint64
			v, err = r.varint()
			info.IRVersion = int64(v)
		case num == 2 && wire == 2:
			info.ProducerName, err = r.str(wire, end)
		case num == 3 && wire == 2:
			info.ProducerVersion, err = r.str(wire, end)
		case num == 7 && wire == 2:
			err = parseGraph(r, wire, end, info)
		case num == 8 && wire == 2:
			var domain string
			var version int64
			err = r.message(wire, end, func(num, wire int, end int64) error {
				switch {
				case num == 1 && wire == 2:
					var e error
					domain, e = r.str(wire, end)
					return e
				case num == 2 && wire == 0:
					v, e := r.varint()
					version = int64(v)
					return e
				}
				return r.skipValue(wire, end)
			})
			info.Opsets[domain] = version
		case num == 14 && wire == 2:
			var k, v string
			err = r.message(wire, end, stringPair(r, &k, &v))
			info.Metadata[k] = v
		default:
			if num > 30 {
				return fmt.Errorf("%w: unexpected field %d at byte %d", ErrNotONNX, num, r.pos)
			}
			err = r.skipValue(wire, end)
		}
		return err
	})
}

func stringPair(r *pbReader, k, v *string) func(num, wire int, end int64) error {
	return func(num, wire int, end int64) error {
		var err error
		switch num {
		case 1:
			*k, err = r.str(wire, end)
		case 2:
			*v, err = r.str(wire, end)
		default:
			err = r.skipValue(wire, end)
		}
		return err
	}
}

func parseGraph(r *pbReader, wire int, end int64, info *ModelInfo) error {
	initializers := map[string]bool{}
	seenData := map[string]bool{}
	var inputs []TensorInfo
	err := r.message(wire, end, func(num, wire int, end int64) error {
		switch num {
		case 5: // initializer (TensorProto): only its name and external data location
			return r.message(wire, end, func(num, wire int, end int64) error {
				switch num {
				case 8:
					name, err := r.str(wire, end)
					initializers[name] = true
					return err
				case 13: // external_data: StringStringEntryProto
					var k, v string
					if err := r.message(wire, end, stringPair(r, &k, &v)); err != nil {
						return err
					}
					if k == "location" && !seenData[v] {
						seenData[v] = true
						info.ExternalData = append(info.ExternalData, v)
					}
					return nil
				}
				return r.skipValue(wire, end)
			})
		case 11, 12:
			t, err := parseValueInfo(r, wire, end)
			if err != nil {
				return err
			}
			if num == 11 {
				inputs = append(inputs, t)
			} else {
				info.Outputs = append(info.Outputs, t)
			}
			return nil
		}
		return r.skipValue(wire, end)
	})
	for _, in := range inputs {
		if !initializers[in.Name] {
			info.Inputs = append(info.Inputs, in)
		}
	}
	return err
}

// parseValueInfo reads a ValueInfoProto: name (1) and type (2) → tensor_type
// (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) | dim_param (2).
func parseValueInfo(r *pbReader, wire int, end int64) (TensorInfo, error) {
	var t TensorInfo
	err := r.message(wire, end, func(num, wire int, end int64) error {
		switch num {
		case 1:
			var err error
			t.Name, err = r.str(wire, end)
			return err
		case 2:
			return r.message(wire, end, func(num, wire int, end int64) error {
				if num != 1 {
					return r.skipValue(wire, end)
				}
				return r.message(wire, end, func(num, wire int, end int64) error {
					switch {
					case num == 1 && wire == 0:
						v, err := r.varint()
						t.Type = ElementType(v)
						return err
					case num == 2:
						t.Shape = []Dim{}
						return r.message(wire, end, func(num, wire int, end int64) error {
							if num != 1 {
								return r.skipValue(wire, end)
							}
							d := Dim{Value: -1}
							err := r.message(wire, end, func(num, wire int, end int64) error {
								switch {
								case num == 1 && wire == 0:
									v, err := r.varint()
									d.Value = int64(v)
									return err
								case num == 2:
									var err error
									d.Param, err = r.str(wire, end)
									return err
								}
								return r.skipValue(wire, end)
							})
							t.Shape = append(t.Shape, d)
							return err
						})
					}
					return r.skipValue(wire, end)
				})
			})
		}
		return r.skipValue(wire, end)
	})
	return t, err
}
