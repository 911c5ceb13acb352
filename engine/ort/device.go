package ort

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Provider names as ONNX Runtime spells them.
const (
	ProviderCPU  = "CPUExecutionProvider"
	ProviderCUDA = "CUDAExecutionProvider"
)

// Device is what the user asked for with --device: auto, cpu, or cuda[:N].
type Device struct {
	Kind string // "auto", "cpu" or "cuda"
	ID   int    // CUDA device ordinal
}

func (d Device) String() string {
	if d.Kind == "cuda" && d.ID != 0 {
		return fmt.Sprintf("cuda:%d", d.ID)
	}
	return d.Kind
}

// ErrBadDevice reports an unparsable --device value.
var ErrBadDevice = errors.New("bad device")

// ParseDevice parses "auto", "cpu", "cuda", "cuda:N" ("" means auto).
func ParseDevice(s string) (Device, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "auto":
		return Device{Kind: "auto"}, nil
	case "cpu":
		return Device{Kind: "cpu"}, nil
	case "cuda", "gpu":
		return Device{Kind: "cuda"}, nil
	}
	if rest, ok := strings.CutPrefix(s, "cuda:"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 0 {
			return Device{Kind: "cuda", ID: n}, nil
		}
	}
	return Device{}, fmt.Errorf("%w %q: expected auto, cpu, cuda or cuda:N (N = 0, 1, ...)", ErrBadDevice, s)
}

// Placement is where sessions actually run.
type Placement struct {
	Requested Device
	Provider  string // ProviderCUDA or ProviderCPU
	DeviceID  int
	// Fallback says why "auto" runs on the CPU; empty when it did not fall back.
	Fallback string
}

// OnGPU reports whether the placement uses the CUDA provider.
func (p Placement) OnGPU() bool { return p.Provider == ProviderCUDA }

func (p Placement) String() string {
	if p.OnGPU() {
		return fmt.Sprintf("cuda:%d (%s)", p.DeviceID, p.Provider)
	}
	if p.Fallback != "" {
		return "cpu (" + p.Fallback + ")"
	}
	return "cpu"
}

// CUDAUnavailableError carries the exact reason CUDA cannot be used.
type CUDAUnavailableError struct {
	DeviceID int
	Reason   string // plain explanation
	Detail   string // the runtime's own message
}

func (e *CUDAUnavailableError) Error() string {
	if e.Detail == "" || e.Detail == e.Reason {
		return fmt.Sprintf("CUDA device %d unavailable: %s", e.DeviceID, e.Reason)
	}
	return fmt.Sprintf("CUDA device %d unavailable: %s (%s)", e.DeviceID, e.Reason, e.Detail)
}

// Place resolves a requested device. "cpu" always succeeds; "cuda" fails
// with a *CUDAUnavailableError; "auto" tries CUDA and falls back to the CPU,
// recording the reason in Placement.Fallback.
func (rt *Runtime) Place(d Device) (Placement, error) {
	p := Placement{Requested: d, Provider: ProviderCPU}
	switch d.Kind {
	case "cpu":
		return p, nil
	case "auto", "cuda":
	default:
		return p, fmt.Errorf("%w %q", ErrBadDevice, d.Kind)
	}
	if err := rt.ProbeCUDA(d.ID); err != nil {
		if d.Kind == "cuda" {
			return p, err
		}
		p.Fallback = err.Error()
		var cu *CUDAUnavailableError
		if errors.As(err, &cu) {
			p.Fallback = cu.Reason
		}
		return p, nil
	}
	p.Provider, p.DeviceID = ProviderCUDA, d.ID
	return p, nil
}

// ProbeCUDA checks that the CUDA provider and the CUDA and cuDNN libraries it
// needs load, without creating a session. Results are cached per device.
func (rt *Runtime) ProbeCUDA(id int) error {
	rt.cudaMu.Lock()
	defer rt.cudaMu.Unlock()
	if err, ok := rt.cudaProbe[id]; ok {
		return err
	}
	err := rt.probeCUDA(id)
	rt.cudaProbe[id] = err
	return err
}

func (rt *Runtime) probeCUDA(id int) error {
	opts, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return &CUDAUnavailableError{DeviceID: id, Reason: "this ONNX Runtime build (" + rt.Path +
			") has no CUDA provider; install the GPU runtime with `diptych models runtime --gpu`", Detail: err.Error()}
	}
	defer opts.Destroy()
	_, err = keepGoSignalHandlers(func() error {
		return opts.Update(map[string]string{"device_id": strconv.Itoa(id)})
	})
	if err != nil {
		return &CUDAUnavailableError{DeviceID: id, Reason: ExplainCUDAError(err.Error()), Detail: firstLine(err.Error())}
	}
	return nil
}

// ExplainCUDAError turns a CUDA provider load or session error into a plain
// reason naming what is missing.
func ExplainCUDAError(msg string) string {
	lib := missingLibrary(msg)
	switch {
	case strings.Contains(lib, "providers_shared") || strings.Contains(lib, "providers_cuda"):
		return "the CUDA provider library " + lib + " is not installed beside libonnxruntime " +
			"(the CPU runtime from npm has none): run `diptych models runtime --gpu`"
	case strings.Contains(lib, "cudnn"):
		return "cuDNN is missing (" + lib + " not found): install cuDNN 9 for your CUDA version"
	case strings.Contains(lib, "cublas") || strings.Contains(lib, "cudart") || strings.Contains(lib, "curand") ||
		strings.Contains(lib, "cufft"):
		return "the CUDA runtime libraries are missing (" + lib + " not found): install the CUDA toolkit runtime"
	case strings.Contains(lib, "libcuda.so"):
		return "no NVIDIA driver (" + lib + " not found)"
	case lib != "":
		return lib + " could not be loaded"
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "no cuda-capable device") || strings.Contains(low, "cudaerrornodevice") ||
		strings.Contains(low, "cuda failure 100"):
		return "no CUDA-capable GPU was found"
	case strings.Contains(low, "invalid device ordinal") || strings.Contains(low, "cuda failure 101"):
		return "that CUDA device number does not exist"
	case strings.Contains(low, "insufficient driver") || strings.Contains(low, "cuda failure 35"):
		return "the NVIDIA driver is older than the CUDA runtime needs"
	case strings.Contains(low, "not enabled in this build") || strings.Contains(low, "not supported in this build"):
		return "this ONNX Runtime build has no CUDA provider"
	}
	return firstLine(msg)
}

// missingLibrary extracts "libX.so.N" from a dlopen "cannot open shared object
// file" message.
func missingLibrary(msg string) string {
	i := strings.Index(msg, ": cannot open shared object file")
	if i < 0 {
		return ""
	}
	head := msg[:i]
	j := strings.LastIndexAny(head, " /:")
	return strings.TrimSpace(head[j+1:])
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
