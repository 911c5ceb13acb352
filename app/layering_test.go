package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependenciesPointOneWay: ui → app → engine, gallery. The use cases
// (app) and the views (ui) never reach ONNX Runtime or the cgo engine; the
// engine knows nothing of Fyne, SQLite, the gallery or the use cases.
func TestDependenciesPointOneWay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list (-short)")
	}
	deps := func(pkg string) []string {
		cmd := exec.Command("go", "list", "-tags", "sqlite_fts5 migrated_fynedo", "-deps", pkg)
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	forbid := func(pkg string, bad ...string) {
		for _, d := range deps(pkg) {
			for _, b := range bad {
				if d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
	cgoEngine := []string{"diptych/engine/ort", "diptych/engine/sdxl", "diptych/engine/janus", "diptych/app/local",
		"github.com/yalue/onnxruntime_go"}
	forbid("./app", append(cgoEngine, "fyne.io/fyne/v2", "diptych/ui")...)
	forbid("./ui", cgoEngine...)
	forbid("./gallery", "diptych/app", "diptych/ui", "fyne.io/fyne/v2", "diptych/engine/ort")
	for _, e := range []string{"./engine/ort", "./engine/sdxl", "./engine/janus", "./engine/models", "./engine/discover"} {
		forbid(e, "diptych/app", "diptych/ui", "diptych/gallery", "fyne.io/fyne/v2", "github.com/mattn/go-sqlite3")
	}
}
