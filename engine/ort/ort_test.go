package ort

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"diptych/engine/onnx"
)

const fixtures = "../../testdata/runtime"

// testRuntime loads the runtime that `make setup` put in .runtime/.
func testRuntime(t testing.TB) *Runtime {
	t.Helper()
	rt, err := Load(DefaultLocateOptions(""))
	if err != nil {
		t.Fatalf("load runtime (run `make setup`): %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func TestSessionFloat16AndInt64(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "mixed.onnx"), SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	xi, _ := s.Input("x")
	ni, _ := s.Input("n")
	x, err := NewFloatTensor(xi.Type, Shape{2, 4}, []float32{1, 2, 3, 4, 0.5, -1, 1e-3, 100})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := NewIntTensor(ni.Type, Shape{2, 1}, []int64{10, -3})
	y, _ := NewEmptyTensor(onnx.Float16, Shape{2, 4})
	sum, _ := NewEmptyTensor(onnx.Float32, Shape{2})
	defer Destroy(x, n, y, sum)
	if err := s.Run(context.Background(), map[string]Value{"x": x, "n": n}, map[string]Value{"y": y, "s": sum}); err != nil {
		t.Fatal(err)
	}
	got, _ := Float32s(y)
	want := []float32{12, 14, 16, 18, -2, -5, onnx.F16ToF32(onnx.F32ToF16(onnx.F16ToF32(onnx.F32ToF16(1e-3))*2 - 3)), 197}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("y = %v, want %v", got, want)
		}
	}
	sums, _ := Float32s(sum)
	if sums[0] != 60 || math.Abs(float64(sums[1]-(want[4]+want[5]+want[6]+want[7]))) > 1e-3 {
		t.Fatalf("s = %v", sums)
	}
	if s.Placement.Provider != ProviderCPU {
		t.Fatalf("placement = %v", s.Placement)
	}
}

func TestSessionErrors(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "mixed.onnx"), SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x, _ := NewFloatTensor(onnx.Float16, Shape{1, 4}, []float32{1, 2, 3, 4})
	defer x.Destroy()
	err = s.Run(context.Background(), map[string]Value{"x": x, "bogus": x}, nil)
	if err == nil || !strings.Contains(err.Error(), `no input "bogus"`) || !strings.Contains(err.Error(), "x, n") {
		t.Fatalf("unknown input: %v", err)
	}
	err = s.Run(context.Background(), map[string]Value{"x": x}, nil)
	if err == nil || !strings.Contains(err.Error(), `input "n" not given`) {
		t.Fatalf("missing input: %v", err)
	}

	// A model whose external weights are missing names the file.
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(fixtures, "extdata.onnx"))
	os.WriteFile(filepath.Join(dir, "extdata.onnx"), b, 0o644)
	_, err = rt.NewSession(filepath.Join(dir, "extdata.onnx"), SessionOptions{})
	if err == nil || !strings.Contains(err.Error(), "extdata.onnx_data") {
		t.Fatalf("missing external data: %v", err)
	}
	_, err = rt.NewSession(filepath.Join(dir, "nope.onnx"), SessionOptions{})
	if err == nil || !strings.Contains(err.Error(), "nope.onnx") {
		t.Fatalf("missing model: %v", err)
	}
}

func TestExternalData(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "extdata.onnx"), SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x, _ := ort.NewTensor(Shape{2, 3}, []float32{1, 0, 0, 0, 0, 8})
	y, _ := NewEmptyTensor(onnx.Float32, Shape{2, 3})
	defer Destroy(x, y)
	if err := s.Run(context.Background(), map[string]Value{"x": x}, map[string]Value{"y": y}); err != nil {
		t.Fatal(err)
	}
	got, _ := Float32s(y)
	want := []float32{1, 1.125, 1.25, 7, 8, 9} // row 0 of W/8 plus 1; 8 * row 2 of W/8 plus 1
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("y = %v, want %v", got, want)
		}
	}
}

func TestCancelRunFromAnotherGoroutine(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "slow.onnx"), SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := make([]float32, 256*256)
	for i := range data {
		data[i] = float32(i%7) / 700
	}
	x, _ := ort.NewTensor(Shape{256, 256}, data)
	iters, _ := ort.NewScalar[int64](1 << 40)
	y, _ := NewEmptyTensor(onnx.Float32, Shape{256, 256})
	defer Destroy(x, iters, y)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, map[string]Value{"x": x, "iters": iters}, map[string]Value{"y": y}) }()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("run was not terminated after cancel")
	}
}

func TestConcurrentRuns(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "mixed.onnx"), SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				x, _ := NewFloatTensor(onnx.Float16, Shape{1, 4}, []float32{float32(g), 0, 0, 0})
				n, _ := NewIntTensor(onnx.Int64, Shape{1, 1}, []int64{int64(i)})
				y, _ := NewEmptyTensor(onnx.Float16, Shape{1, 4})
				sum, _ := NewEmptyTensor(onnx.Float32, Shape{1})
				err := s.Run(context.Background(), map[string]Value{"x": x, "n": n}, map[string]Value{"y": y, "s": sum})
				v, _ := Float32s(y)
				Destroy(x, n, y, sum)
				if err != nil || v[0] != float32(2*g+i) {
					errs <- errors.Join(err, errors.New("wrong value"))
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestParseDevice(t *testing.T) {
	good := map[string]Device{"": {Kind: "auto"}, "auto": {Kind: "auto"}, "CPU": {Kind: "cpu"},
		"cuda": {Kind: "cuda"}, "cuda:1": {Kind: "cuda", ID: 1}}
	for in, want := range good {
		got, err := ParseDevice(in)
		if err != nil || got != want {
			t.Errorf("ParseDevice(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"gpu0", "cuda:", "cuda:-1", "cuda:x", "tpu", "metal"} {
		_, err := ParseDevice(in)
		if !errors.Is(err, ErrBadDevice) || !strings.Contains(err.Error(), "expected auto, cpu, cuda") {
			t.Errorf("ParseDevice(%q) err = %v", in, err)
		}
	}
}

// On a machine without a usable CUDA setup (CI), "cuda" fails with the reason
// and "auto" falls back to the CPU recording the same reason.
func TestPlaceWithoutGPU(t *testing.T) {
	rt := testRuntime(t)
	if rt.ProbeCUDA(0) == nil {
		t.Skip("CUDA is usable on this machine")
	}
	_, err := rt.Place(Device{Kind: "cuda"})
	var cu *CUDAUnavailableError
	if !errors.As(err, &cu) || cu.Reason == "" {
		t.Fatalf("Place(cuda) err = %v, want CUDAUnavailableError", err)
	}
	p, err := rt.Place(Device{Kind: "auto"})
	if err != nil || p.OnGPU() || p.Fallback == "" || !strings.Contains(p.Fallback, cu.Reason) {
		t.Fatalf("Place(auto) = %+v, %v; want CPU with reason %q", p, err, cu.Reason)
	}
	// The session runs on the CPU and keeps the reason.
	s, err := rt.NewSession(filepath.Join(fixtures, "mixed.onnx"), SessionOptions{Placement: p})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s.Placement.Fallback == "" {
		t.Fatal("fallback reason lost")
	}
}

func TestExplainCUDAError(t *testing.T) {
	cases := map[string]string{
		"Failed to load library /x/libonnxruntime_providers_shared.so with error: /x/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory": "libonnxruntime_providers_shared.so is not installed",
		"Failed to load library /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory":                       "CUDA runtime libraries are missing (libcublasLt.so.13",
		"libcudnn.so.9: cannot open shared object file: No such file or directory":                                                                                                  "cuDNN is missing",
		"CUDA failure 100: no CUDA-capable device is detected ; GPU=0":                                                                                                              "no CUDA-capable GPU",
		"CUDA execution provider is not enabled in this build.":                                                                                                                     "no CUDA provider",
	}
	for msg, want := range cases {
		if got := ExplainCUDAError(msg); !strings.Contains(got, want) {
			t.Errorf("ExplainCUDAError(%q) = %q, want it to contain %q", msg, got, want)
		}
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib", "libonnxruntime.so")
	os.MkdirAll(filepath.Dir(lib), 0o755)
	os.WriteFile(lib, []byte("x"), 0o644)

	p, _, err := Locate(LocateOptions{ExeDir: dir, SkipSystem: true})
	if err != nil || p != lib {
		t.Fatalf("beside executable: %q %v", p, err)
	}
	// The flag wins, and a flag pointing nowhere is an error naming it.
	_, _, err = Locate(LocateOptions{Flag: filepath.Join(dir, "nope.so"), ExeDir: dir})
	if err == nil || !strings.Contains(err.Error(), "--ort-lib") || !strings.Contains(err.Error(), "nope.so") {
		t.Fatalf("bad flag: %v", err)
	}
	_, _, err = Locate(LocateOptions{Env: dir, ExeDir: dir})
	if err == nil || !strings.Contains(err.Error(), EnvLibPath) || !strings.Contains(err.Error(), "is a folder") {
		t.Fatalf("env pointing at a folder: %v", err)
	}
	// Nothing anywhere: the error lists every place and the fix.
	empty := t.TempDir()
	_, tried, err := Locate(LocateOptions{ExeDir: empty, WorkDir: empty, SkipSystem: true})
	var nf *LibraryNotFoundError
	if !errors.As(err, &nf) || len(tried) == 0 || !strings.Contains(err.Error(), "make setup") ||
		!strings.Contains(err.Error(), filepath.Join(empty, "lib")) {
		t.Fatalf("not found: %v", err)
	}
	// The source tree's .runtime/ is found from a subfolder.
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module diptych\n"), 0o644)
	os.MkdirAll(filepath.Join(root, ".runtime"), 0o755)
	os.MkdirAll(filepath.Join(root, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(root, ".runtime", "libonnxruntime.so"), []byte("x"), 0o644)
	p, _, err = Locate(LocateOptions{WorkDir: filepath.Join(root, "a", "b"), SkipSystem: true})
	if err != nil || p != filepath.Join(root, ".runtime", "libonnxruntime.so") {
		t.Fatalf("source tree: %q %v", p, err)
	}
}

func TestOpenBadLibraries(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "libonnxruntime.so")
	os.WriteFile(text, []byte("not a library"), 0o644)
	_, err := Open(text)
	if err == nil || !strings.Contains(err.Error(), text) {
		t.Fatalf("text file: %v", err)
	}
	_, err = Open(filepath.Join(dir, "missing.so"))
	if err == nil || !strings.Contains(err.Error(), "missing.so") {
		t.Fatalf("missing: %v", err)
	}
	// A library that reports an old ONNX Runtime version is refused by name.
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not available to build the fake old runtime")
	}
	src := filepath.Join(dir, "old.c")
	os.WriteFile(src, []byte(`
static const char* ver(void) { return "1.23.2"; }
static const void* get_api(unsigned v) { return 0; }
static struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } base = { get_api, ver };
const void* OrtGetApiBase(void) { return &base; }
`), 0o644)
	old := filepath.Join(dir, "libold.so")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", old, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v %s", err, out)
	}
	_, err = Open(old)
	if err == nil || !strings.Contains(err.Error(), "1.23.2 is too old") || !strings.Contains(err.Error(), MinVersion) {
		t.Fatalf("old runtime: %v", err)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, min string
		ok     bool
	}{{"1.30.0", "1.24.0", true}, {"1.24.0", "1.24.0", true}, {"1.23.2", "1.24.0", false}, {"2.0", "1.24.0", true}, {"1.24.1-dev", "1.24.0", true}} {
		if versionAtLeast(c.v, c.min) != c.ok {
			t.Errorf("versionAtLeast(%q, %q) != %v", c.v, c.min, c.ok)
		}
	}
}

func TestProviders(t *testing.T) {
	rt := testRuntime(t)
	ps, err := rt.Providers()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 || ps[len(ps)-1] != ProviderCPU {
		t.Fatalf("providers = %v, want the CPU provider last", ps)
	}
}

func TestFloat16Scalar(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "scalar16.onnx"), SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, err := NewFloatTensor(onnx.Float16, Shape{}, []float32{958})
	if err != nil {
		t.Fatal(err)
	}
	out, err := NewEmptyTensor(onnx.Float16, Shape{})
	if err != nil {
		t.Fatal(err)
	}
	defer Destroy(in, out)
	if err := s.Run(context.Background(), map[string]Value{"t": in}, map[string]Value{"y": out}); err != nil {
		t.Fatal(err)
	}
	got, err := Float32s(out)
	if err != nil || len(got) != 1 || got[0] != 1916 {
		t.Fatalf("y = %v, %v; want [1916]", got, err)
	}
}

func TestRestrictedOutputs(t *testing.T) {
	rt := testRuntime(t)
	s, err := rt.NewSession(filepath.Join(fixtures, "mixed.onnx"), SessionOptions{Outputs: []string{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x, _ := NewFloatTensor(onnx.Float16, Shape{1, 4}, []float32{1, 2, 3, 4})
	n, _ := NewIntTensor(onnx.Int64, Shape{1, 1}, []int64{1})
	sum, _ := NewEmptyTensor(onnx.Float32, Shape{1})
	defer Destroy(x, n, sum)
	if err := s.Run(context.Background(), map[string]Value{"x": x, "n": n}, map[string]Value{"s": sum}); err != nil {
		t.Fatal(err)
	}
	if v, _ := Float32s(sum); v[0] != 24 {
		t.Fatalf("s = %v, want 24", v)
	}
	if _, err := rt.NewSession(filepath.Join(fixtures, "mixed.onnx"), SessionOptions{Outputs: []string{"nope"}}); err == nil ||
		!strings.Contains(err.Error(), `no output "nope"`) {
		t.Fatalf("unknown output: %v", err)
	}
}
