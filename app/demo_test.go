package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diptych/engine/models"
)

func TestInstallDemoModels(t *testing.T) {
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, "testdata/sdxl/base/model_index.json")); err != nil {
		t.Skip("the tiny SDXL fixture is not there yet:", err)
	}
	dest := filepath.Join(t.TempDir(), "models")
	dirs, err := InstallDemoModels(src, dest)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[models.Kind]bool{}
	for _, d := range dirs {
		l, err := models.Detect(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		kinds[l.Kind] = true
		if !IsDemoModel(d) || !strings.HasPrefix(filepath.Base(d), "demo-") {
			t.Fatalf("%s is not labelled as a demo model", d)
		}
		b, _ := os.ReadFile(filepath.Join(d, DemoMarker))
		if !strings.Contains(string(b), "PRODUCES NOISE") {
			t.Fatalf("marker text %q", b)
		}
	}
	if !kinds[models.KindSDXLBase] || !kinds[models.KindJanus] {
		t.Fatalf("installed kinds %v", kinds)
	}
	// Installing again keeps the folders and reports them.
	again, err := InstallDemoModels(src, dest)
	if err != nil || len(again) != len(dirs) {
		t.Fatalf("second install %v %v", again, err)
	}
	left, _ := filepath.Glob(filepath.Join(dest, ".*tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary folders left: %v", left)
	}
}

func TestInstallDemoModelsBadSourceAndClash(t *testing.T) {
	dest := t.TempDir()
	_, err := InstallDemoModels(filepath.Join(dest, "nowhere"), dest)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dest, "nowhere", "testdata/sdxl/base")) {
		t.Fatalf("missing source: %v", err)
	}
	src, _ := filepath.Abs("..")
	if _, err := os.Stat(filepath.Join(src, "testdata/sdxl/base")); err != nil {
		t.Skip("no fixture")
	}
	os.MkdirAll(filepath.Join(dest, "demo-sdxl-tiny"), 0o755)
	_, err = InstallDemoModels(src, dest)
	if err == nil || !strings.Contains(err.Error(), "is not a demo model") {
		t.Fatalf("clash: %v", err)
	}
}
