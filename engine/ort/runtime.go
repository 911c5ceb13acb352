// Package ort loads ONNX Runtime, chooses the execution provider (CUDA with a
// recorded reason when it falls back to the CPU), creates sessions from model
// files and converts tensors at graph boundaries (float16, int32/int64). The
// cgo-free parts — element types, reading a model's interface without loading
// weights, float16/bfloat16 conversion — are in engine/onnx.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"diptych/engine/internal/dl"

	ort "github.com/yalue/onnxruntime_go"
)

// MinVersion is the oldest ONNX Runtime the bundled onnxruntime_go (C API 24) accepts.
const MinVersion = "1.24.0"

// EnvLibPath names the environment variable that points at libonnxruntime.
const EnvLibPath = "DIPTYCH_ORT_LIB"

// libNames are the file names tried in each candidate folder, in order, and
// systemLibNames those tried on the system library search path.
var libNames, systemLibNames = runtimeLibNames(runtime.GOOS)

func runtimeLibNames(goos string) (inFolder, onSystemPath []string) {
	switch goos {
	case "windows":
		return []string{"onnxruntime.dll"}, []string{"onnxruntime.dll"}
	case "darwin":
		return []string{"libonnxruntime.dylib"}, []string{"libonnxruntime.dylib"}
	}
	return []string{"libonnxruntime.so", "libonnxruntime.so.1"}, []string{"libonnxruntime.so.1", "libonnxruntime.so"}
}

// Candidate is one place the runtime library was looked for.
type Candidate struct {
	Source string // "--ort-lib", EnvLibPath, "beside the executable", "source tree", "system library path"
	Path   string
	Err    error // why it was not used; nil for the one chosen
}

// LibraryNotFoundError lists every place that was searched.
type LibraryNotFoundError struct{ Tried []Candidate }

func (e *LibraryNotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("ONNX Runtime library not found; looked in:\n")
	for _, c := range e.Tried {
		fmt.Fprintf(&b, "  %s: %s (%v)\n", c.Source, c.Path, c.Err)
	}
	b.WriteString("Fix: run `make setup` in the source tree (fetches it into .runtime/), " +
		"or pass --ort-lib /path/to/libonnxruntime.so, or set " + EnvLibPath + ".")
	return b.String()
}

// LocateOptions says where to look beyond the defaults; empty fields are
// filled from the process (flag value, environment, executable, working dir).
type LocateOptions struct {
	Flag string // --ort-lib
	Env  string // value of DIPTYCH_ORT_LIB
	// Installed lists runtime libraries installed into the app's data folder
	// (`diptych models runtime --gpu`), newest first.
	Installed  []string
	ExeDir     string // folder of the running executable
	WorkDir    string // current directory, to find the source tree
	SkipSystem bool   // do not fall back to the system library path (tests)
}

// DefaultLocateOptions fills LocateOptions from the running process.
func DefaultLocateOptions(flag string) LocateOptions {
	o := LocateOptions{Flag: flag, Env: os.Getenv(EnvLibPath)}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		o.ExeDir = filepath.Dir(exe)
	}
	o.WorkDir, _ = os.Getwd()
	return o
}

// Locate finds libonnxruntime in this order: the --ort-lib flag, the
// DIPTYCH_ORT_LIB variable, a runtime installed into the app's data folder, a
// lib/ folder beside the executable, the .runtime/ folder of the source tree,
// the system library path. An explicit flag or
// variable that points nowhere is an error, not a reason to look further.
func Locate(o LocateOptions) (string, []Candidate, error) {
	var tried []Candidate
	explicit := func(source, p string) (string, error) {
		err := checkFile(p)
		tried = append(tried, Candidate{Source: source, Path: p, Err: err})
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", source, p, err)
		}
		return p, nil
	}
	if o.Flag != "" {
		p, err := explicit("--ort-lib", o.Flag)
		return p, tried, err
	}
	if o.Env != "" {
		p, err := explicit(EnvLibPath, o.Env)
		return p, tried, err
	}
	for _, p := range o.Installed {
		err := checkFile(p)
		tried = append(tried, Candidate{Source: "installed runtime", Path: p, Err: err})
		if err == nil {
			return p, tried, nil
		}
	}
	var dirs []Candidate
	if o.ExeDir != "" {
		dirs = append(dirs, Candidate{Source: "beside the executable", Path: filepath.Join(o.ExeDir, "lib")})
	}
	for _, start := range []string{o.ExeDir, o.WorkDir} {
		if root := sourceRoot(start); root != "" {
			dirs = append(dirs, Candidate{Source: "source tree", Path: filepath.Join(root, ".runtime")})
			break
		}
	}
	for _, d := range dirs {
		for _, name := range libNames {
			p := filepath.Join(d.Path, name)
			if err := checkFile(p); err != nil {
				tried = append(tried, Candidate{Source: d.Source, Path: p, Err: err})
				continue
			}
			tried = append(tried, Candidate{Source: d.Source, Path: p})
			return p, tried, nil
		}
	}
	if !o.SkipSystem {
		for _, name := range systemLibNames {
			err := dl.Probe(name)
			tried = append(tried, Candidate{Source: "system library path", Path: name, Err: err})
			if err == nil {
				return name, tried, nil
			}
		}
	}
	return "", tried, &LibraryNotFoundError{Tried: tried}
}

func checkFile(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("no such file")
		}
		return err
	}
	if st.IsDir() {
		return errors.New("is a folder, expected the libonnxruntime.so file")
	}
	return nil
}

// sourceRoot walks up from dir to the Diptych source tree (the folder whose
// go.mod declares module diptych), or returns "".
func sourceRoot(dir string) string {
	for d := dir; d != "" && d != "/" && d != "."; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module diptych") {
			return d
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return ""
}

// Runtime is the loaded ONNX Runtime library. ONNX Runtime keeps one
// environment per process; Runtime values share it and the last Close
// releases it.
type Runtime struct {
	Path    string
	Version string

	cudaMu    sync.Mutex
	cudaProbe map[int]error
}

var (
	envMu   sync.Mutex
	envRefs int
	envPath string
)

// Load finds and initialises the runtime library (see Locate).
func Load(o LocateOptions) (*Runtime, error) {
	path, _, err := Locate(o)
	if err != nil {
		return nil, err
	}
	return Open(path)
}

// Open initialises the runtime library at path. A library that is missing,
// not a shared library, or older than MinVersion gets an error that says so.
func Open(path string) (*Runtime, error) {
	ver, err := dl.ORTVersion(path)
	if err != nil {
		return nil, fmt.Errorf("load ONNX Runtime %s: %v", path, err)
	}
	if !versionAtLeast(ver, MinVersion) {
		return nil, fmt.Errorf("load ONNX Runtime %s: version %s is too old; Diptych needs ONNX Runtime %s or newer "+
			"(run `make setup` for the bundled release, or pass --ort-lib)", path, ver, MinVersion)
	}
	envMu.Lock()
	defer envMu.Unlock()
	if envRefs > 0 {
		if path != envPath {
			return nil, fmt.Errorf("load ONNX Runtime %s: %s is already loaded in this process", path, envPath)
		}
		envRefs++
		return &Runtime{Path: path, Version: ort.GetVersion(), cudaProbe: map[int]error{}}, nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
		return nil, fmt.Errorf("load ONNX Runtime %s (version %s): %w", path, ver, err)
	}
	if err := bindAPI(path); err != nil {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("load ONNX Runtime %s (version %s): %w", path, ver, err)
	}
	envRefs, envPath = 1, path
	return &Runtime{Path: path, Version: ort.GetVersion(), cudaProbe: map[int]error{}}, nil
}

// Close releases this handle; the environment goes with the last one.
func (rt *Runtime) Close() error {
	if rt == nil {
		return nil
	}
	envMu.Lock()
	defer envMu.Unlock()
	if envRefs == 0 {
		return nil
	}
	envRefs--
	if envRefs == 0 {
		envPath = ""
		unbindAPI()
		return ort.DestroyEnvironment()
	}
	return nil
}

// versionAtLeast compares dotted numeric versions ("1.30.0" >= "1.24.0").
func versionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(strings.TrimFunc(a[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		y, _ = strconv.Atoi(b[i])
		if x != y {
			return x > y
		}
	}
	return true
}
