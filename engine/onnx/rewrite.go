package onnx

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// SetMatMulNBitsAccuracy writes to dst a copy of the model at src whose
// top-level com.microsoft MatMulNBits nodes have accuracy_level = level
// (ONNX Runtime's CPU kernels then compute with int8 activations for 4,
// about 3× faster than the float32 path of level 0 for a batch of a few
// rows). Everything else is copied byte for byte; external-data files are
// linked beside dst. It returns the number of nodes changed; with none,
// dst is not written.
func SetMatMulNBitsAccuracy(src, dst string, level int) (int, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	type span struct{ start, end int64 } // raw byte ranges [start,end)
	type node struct {
		raw     span // whole field (key included)
		payload span
		drop    []span // accuracy_level attributes inside payload
		change  bool
	}
	var graph span
	var graphPayload span
	var nodes []node
	r := &pbReader{f: f, br: bufio.NewReaderSize(f, 64<<10)}
	err = r.fields(st.Size(), func(num, wire int, end int64) error {
		if num != 7 || wire != 2 {
			return r.skipValue(wire, end)
		}
		graph.start = r.pos - 1 // key 0x3a is one byte
		n, err := r.length(end)
		if err != nil {
			return err
		}
		graphPayload = span{r.pos, r.pos + n}
		graph.end = graphPayload.end
		return r.fields(graphPayload.end, func(num, wire int, end int64) error {
			if num != 1 || wire != 2 {
				return r.skipValue(wire, end)
			}
			nd := node{raw: span{start: r.pos - 1}}
			n, err := r.length(end)
			if err != nil {
				return err
			}
			nd.payload = span{r.pos, r.pos + n}
			nd.raw.end = nd.payload.end
			var op, domain string
			err = r.fields(nd.payload.end, func(num, wire int, end int64) error {
				switch num {
				case 4:
					var err error
					op, err = r.str(wire, end)
					return err
				case 7:
					var err error
					domain, err = r.str(wire, end)
					return err
				case 5: // AttributeProto
					start := r.pos - 1
					var name string
					err := r.message(wire, end, func(num, wire int, end int64) error {
						if num == 1 {
							var err error
							name, err = r.str(wire, end)
							return err
						}
						return r.skipValue(wire, end)
					})
					if name == "accuracy_level" {
						nd.drop = append(nd.drop, span{start, r.pos})
					}
					return err
				}
				return r.skipValue(wire, end)
			})
			if err != nil {
				return err
			}
			nd.change = op == "MatMulNBits" && domain == "com.microsoft"
			nodes = append(nodes, nd)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", src, err)
	}
	attr := appendBytesField(nil, 1, []byte("accuracy_level"))
	attr = appendVarintField(attr, 3, uint64(level)) // i
	attr = appendVarintField(attr, 20, 2)            // type INT
	newAttr := appendBytesField(nil, 5, attr)
	changed := 0
	newLen := make([]int64, len(nodes))
	graphLen := graphPayload.end - graphPayload.start
	for i, nd := range nodes {
		if !nd.change {
			continue
		}
		changed++
		l := nd.payload.end - nd.payload.start + int64(len(newAttr))
		for _, d := range nd.drop {
			l -= d.end - d.start
		}
		newLen[i] = l
		graphLen += (1 + varintLen(uint64(l)) + l) - (nd.raw.end - nd.raw.start)
	}
	if changed == 0 {
		return 0, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	copyRange := func(a, b int64) error {
		_, err := io.Copy(w, io.NewSectionReader(f, a, b-a))
		return err
	}
	fail := func(err error) (int, error) {
		out.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("write %s: %w", dst, err)
	}
	if err := copyRange(0, graph.start); err != nil {
		return fail(err)
	}
	w.Write(appendVarint([]byte{0x3a}, uint64(graphLen)))
	pos := graphPayload.start
	for i, nd := range nodes {
		if !nd.change {
			continue
		}
		if err := copyRange(pos, nd.raw.start); err != nil {
			return fail(err)
		}
		w.Write(appendVarint([]byte{0x0a}, uint64(newLen[i])))
		p := nd.payload.start
		for _, d := range nd.drop {
			if err := copyRange(p, d.start); err != nil {
				return fail(err)
			}
			p = d.end
		}
		if err := copyRange(p, nd.payload.end); err != nil {
			return fail(err)
		}
		w.Write(newAttr)
		pos = nd.raw.end
	}
	if err := copyRange(pos, st.Size()); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fail(err)
	}
	info, err := ReadModelInfo(src)
	if err != nil {
		return 0, err
	}
	for _, ext := range info.ExternalData {
		link := filepath.Join(filepath.Dir(dst), ext)
		target, _ := filepath.Abs(filepath.Join(filepath.Dir(src), ext))
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return 0, err
		}
	}
	return changed, os.Rename(tmp, dst)
}

func varintLen(v uint64) int64 { return int64(len(binary.AppendUvarint(nil, v))) }

func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendVarintField(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(b, uint64(field<<3)), v)
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field<<3|2))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
