package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// tinyNBitsModel is a ModelProto with a MatMulNBits node (accuracy_level 0
// and one other attribute), an Add node and an inline initializer.
func tinyNBitsModel(withLevel bool, endLevel ...int) []byte {
	attrK := appendBytesField(nil, 1, []byte("K"))
	attrK = appendVarintField(attrK, 3, 8)
	attrK = appendVarintField(attrK, 20, 2)
	nb := appendBytesField(nil, 1, []byte("A"))
	nb = appendBytesField(nb, 1, []byte("B"))
	nb = appendBytesField(nb, 2, []byte("Y"))
	nb = appendBytesField(nb, 4, []byte("MatMulNBits"))
	if withLevel {
		lvl := appendBytesField(nil, 1, []byte("accuracy_level"))
		lvl = appendVarintField(lvl, 3, 0)
		lvl = appendVarintField(lvl, 20, 2)
		nb = appendBytesField(nb, 5, lvl)
	}
	nb = appendBytesField(nb, 5, attrK)
	nb = appendBytesField(nb, 7, []byte("com.microsoft"))
	for _, l := range endLevel {
		lvl := appendBytesField(nil, 1, []byte("accuracy_level"))
		lvl = appendVarintField(lvl, 3, uint64(l))
		lvl = appendVarintField(lvl, 20, 2)
		nb = appendBytesField(nb, 5, lvl)
	}
	add := appendBytesField(nil, 1, []byte("Y"))
	add = appendBytesField(add, 1, []byte("Y"))
	add = appendBytesField(add, 2, []byte("Z"))
	add = appendBytesField(add, 4, []byte("Add"))
	init := appendVarintField(nil, 1, 4)
	init = appendVarintField(init, 2, 1)
	init = appendBytesField(init, 8, []byte("B"))
	init = appendBytesField(init, 9, bytes.Repeat([]byte{7}, 16))
	vi := func(name string) []byte {
		tt := appendVarintField(nil, 1, 1)
		return appendBytesField(appendBytesField(nil, 1, []byte(name)), 2, appendBytesField(nil, 1, tt))
	}
	g := appendBytesField(nil, 1, nb)
	g = appendBytesField(g, 1, add)
	g = appendBytesField(g, 2, []byte("g"))
	g = appendBytesField(g, 5, init)
	g = appendBytesField(g, 11, vi("A"))
	g = appendBytesField(g, 12, vi("Z"))
	m := appendVarintField(nil, 1, 8)
	m = appendBytesField(m, 7, g)
	return appendBytesField(m, 8, appendVarintField(appendBytesField(nil, 1, []byte("com.microsoft")), 2, 1))
}

func TestSetMatMulNBitsAccuracy(t *testing.T) {
	dir := t.TempDir()
	for _, withLevel := range []bool{true, false} {
		src := filepath.Join(dir, "src.onnx")
		os.WriteFile(src, tinyNBitsModel(withLevel), 0o644)
		dst := filepath.Join(dir, "out", "dst.onnx")
		n, err := SetMatMulNBitsAccuracy(src, dst, 4)
		if err != nil || n != 1 {
			t.Fatalf("changed %d: %v", n, err)
		}
		got, _ := os.ReadFile(dst)
		// The same model as if built with accuracy_level 4 as its last attribute.
		if want := tinyNBitsModel(false, 4); !bytes.Equal(got, want) {
			t.Fatalf("rewritten\n%q\nwant\n%q", got, want)
		}
		info, err := ReadModelInfo(dst)
		if err != nil || len(info.Inputs) != 1 || info.Inputs[0].Name != "A" || len(info.Outputs) != 1 {
			t.Fatalf("rewritten model reads as %+v, %v", info, err)
		}
		tab, err := FindGatherTable(dst, "A")
		if err == nil {
			t.Fatalf("no Gather, yet a table: %+v", tab)
		}
	}
	// A model without MatMulNBits is not copied.
	plain := filepath.Join(dir, "plain.onnx")
	b := bytes.Replace(tinyNBitsModel(true), []byte("MatMulNBits"), []byte("MatMulNBitX"), 1)
	os.WriteFile(plain, b, 0o644)
	if n, err := SetMatMulNBitsAccuracy(plain, filepath.Join(dir, "p2.onnx"), 4); err != nil || n != 0 {
		t.Fatalf("plain: %d %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "p2.onnx")); err == nil {
		t.Fatal("copy written for a model without MatMulNBits")
	}
}
