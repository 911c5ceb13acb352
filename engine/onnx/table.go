package onnx

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// RawTensor says where an initializer's bytes are on disk (raw_data inline
// in the .onnx file, or an external-data file), without reading them.
type RawTensor struct {
	Name   string
	Type   ElementType
	Dims   []int64
	File   string // the file holding the bytes
	Offset int64
	Length int64
}

// ErrNoTable means the graph has no plain float table Gather on the input.
var ErrNoTable = errors.New("no float32/float16 [rows, width] table gathered by that input")

// FindGatherTable finds the initializer that a top-level Gather node indexes
// with the graph input called indices (an embedding table: Gather(W, ids)),
// and where its bytes are. Only uncompressed float32/float16 2-D tables
// stored as raw_data qualify (a quantized table returns ErrNoTable).
func FindGatherTable(path, indices string) (RawTensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return RawTensor{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return RawTensor{}, err
	}
	r := &pbReader{f: f, br: bufio.NewReaderSize(f, 64<<10)}
	var table string
	inits := map[string]RawTensor{}
	err = r.fields(st.Size(), func(num, wire int, end int64) error {
		if num != 7 || wire != 2 {
			return r.skipValue(wire, end)
		}
		return r.message(wire, end, func(num, wire int, end int64) error {
			switch num {
			case 1: // NodeProto
				var ins []string
				var op string
				err := r.message(wire, end, func(num, wire int, end int64) error {
					switch num {
					case 1:
						s, err := r.str(wire, end)
						ins = append(ins, s)
						return err
					case 4:
						var err error
						op, err = r.str(wire, end)
						return err
					}
					return r.skipValue(wire, end)
				})
				if err == nil && op == "Gather" && len(ins) == 2 && ins[1] == indices && table == "" {
					table = ins[0]
				}
				return err
			case 5: // TensorProto
				t := RawTensor{File: path, Offset: -1}
				var ext map[string]string
				err := r.message(wire, end, func(num, wire int, end int64) error {
					switch {
					case num == 1 && wire == 0:
						v, err := r.varint()
						t.Dims = append(t.Dims, int64(v))
						return err
					case num == 1 && wire == 2: // packed dims
						n, err := r.length(end)
						if err != nil {
							return err
						}
						stop := r.pos + n
						for r.pos < stop {
							v, err := r.varint()
							if err != nil {
								return err
							}
							t.Dims = append(t.Dims, int64(v))
						}
						return nil
					case num == 2 && wire == 0:
						v, err := r.varint()
						t.Type = ElementType(v)
						return err
					case num == 8:
						var err error
						t.Name, err = r.str(wire, end)
						return err
					case num == 9 && wire == 2: // raw_data
						n, err := r.length(end)
						if err != nil {
							return err
						}
						t.Offset, t.Length = r.pos, n
						return r.skip(n)
					case num == 13:
						var k, v string
						if err := r.message(wire, end, stringPair(r, &k, &v)); err != nil {
							return err
						}
						if ext == nil {
							ext = map[string]string{}
						}
						ext[k] = v
						return nil
					}
					return r.skipValue(wire, end)
				})
				if err != nil {
					return err
				}
				if ext != nil {
					t.File = filepath.Join(filepath.Dir(path), filepath.FromSlash(ext["location"]))
					t.Offset, _ = strconv.ParseInt(ext["offset"], 10, 64)
					t.Length, _ = strconv.ParseInt(ext["length"], 10, 64)
					if t.Length == 0 {
						if st, err := os.Stat(t.File); err == nil {
							t.Length = st.Size() - t.Offset
						}
					}
				}
				inits[t.Name] = t
				return nil
			}
			return r.skipValue(wire, end)
		})
	})
	if err != nil {
		return RawTensor{}, fmt.Errorf("read %s: %w", path, err)
	}
	t, ok := inits[table]
	if table == "" || !ok || len(t.Dims) != 2 || t.Offset < 0 || (t.Type != Float32 && t.Type != Float16) ||
		t.Length != t.Dims[0]*t.Dims[1]*int64(t.Type.Size()) {
		return RawTensor{}, fmt.Errorf("%s: %w %q", path, ErrNoTable, indices)
	}
	return t, nil
}

// Table reads rows of a float table on disk on demand (ReadAt, through the
// page cache), so that a 839 MB embedding table costs no resident memory.
type Table struct {
	RawTensor
	f *os.File
}

// OpenTable opens the bytes of t for row reads.
func OpenTable(t RawTensor) (*Table, error) {
	f, err := os.Open(t.File)
	if err != nil {
		return nil, err
	}
	return &Table{RawTensor: t, f: f}, nil
}

// Rows appends rows ids of the table to dst as float32.
func (t *Table) Rows(dst []float32, ids []int64) ([]float32, error) {
	rows, width := t.Dims[0], t.Dims[1]
	size := int64(t.Type.Size())
	buf := make([]byte, width*size)
	for _, id := range ids {
		if id < 0 || id >= rows {
			return nil, fmt.Errorf("token id %d outside the table's %d rows", id, rows)
		}
		if _, err := t.f.ReadAt(buf, t.Offset+id*width*size); err != nil {
			return nil, fmt.Errorf("read row %d of %s: %w", id, t.Name, err)
		}
		if t.Type == Float32 {
			for i := int64(0); i < width; i++ {
				dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:])))
			}
		} else {
			for i := int64(0); i < width; i++ {
				dst = append(dst, F16ToF32(binary.LittleEndian.Uint16(buf[2*i:])))
			}
		}
	}
	return dst, nil
}

// Close closes the file.
func (t *Table) Close() error {
	if t == nil || t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}
