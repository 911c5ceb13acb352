package onnx

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PureGoPackages must build with CGO_ENABLED=0: they are what a tool, a test
// or a second binary may import without the ONNX Runtime, dlopen or a C
// compiler. engine/ort (and anything that imports it) is the cgo side.
var PureGoPackages = []string{
	"./engine/onnx", "./engine/models", "./engine/discover", "./engine/scheduler",
	"./engine/tokenizer", "./engine/rng", "./engine/format", "./engine/imagefile", "./gallery",
	"./app", "./ui",
}

// NoCgoStubPackages have `//go:build !cgo` files whose own tests run here
// with CGO_ENABLED=0, since the cgo build never compiles them.
var NoCgoStubPackages = []string{"./engine/internal/dl", "./engine/discover"}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return root
}

func goNoCgo(t *testing.T, args ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go command (-short)")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(gobin, append(args[:1:1], append([]string{"-tags", "sqlite_fts5 migrated_fynedo"}, args[1:]...)...)...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("CGO_ENABLED=0 go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestPureGoPackagesBuildWithoutCgo(t *testing.T) {
	goNoCgo(t, append([]string{"build"}, PureGoPackages...)...)
}

func TestStubsWithoutCgo(t *testing.T) {
	goNoCgo(t, append([]string{"test", "-count=1", "-p", "1", "-run", "WithoutCgo|LookupGPUs"}, NoCgoStubPackages...)...)
}
