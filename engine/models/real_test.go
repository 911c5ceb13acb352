package models

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDetectRealTinyExports runs Detect and Check on the tiny real exports
// other parts of the tree commit under testdata (made by optimum and by
// tools/export_janus.py); it is skipped where they are absent.
func TestDetectRealTinyExports(t *testing.T) {
	for dir, want := range map[string]Kind{
		"../../testdata/sdxl/base":      KindSDXLBase,
		"../../testdata/sdxl/base-fp16": KindSDXLBase,
		"../../testdata/sdxl/refiner":   KindSDXLRefiner,
		"../../testdata/janus/tiny":     KindJanus,
	} {
		if _, err := os.Stat(dir); err != nil {
			t.Logf("skip %s: %v", dir, err)
			continue
		}
		l, err := Detect(dir)
		if err != nil {
			t.Errorf("Detect(%s): %v", dir, err)
			continue
		}
		if l.Kind != want {
			t.Errorf("Detect(%s) kind = %s, want %s", dir, l.Kind, want)
		}
		t.Logf("%s: %s %s components %v size %d", filepath.Base(dir), l.Kind, l.Params, l.ComponentNames(), l.Size)
		if probs := Check(l); len(probs) > 0 {
			t.Errorf("Check(%s): %v", dir, probs)
		}
	}
}
