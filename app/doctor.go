package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"diptych/engine/discover"
	"diptych/engine/models"
)

// DoctorOptions says which runtime and model folders to examine.
type DoctorOptions struct {
	// Runtime loads the ONNX Runtime library and probes its CUDA provider
	// (app/local's engine); nil reports the runtime as missing.
	Runtime RuntimeProber
	// Registry and ModelDirs are where models are looked for (FindModels).
	Registry  Registry
	ModelDirs []string
}

// RuntimeProber finds and opens the ONNX Runtime library and tries its CUDA
// provider; *local.Engine is one.
type RuntimeProber interface {
	ProbeRuntime() RuntimeProbe
}

// RuntimeProbe is what a RuntimeProber found.
type RuntimeProbe struct {
	Runtime RuntimeReport
	// CUDAError is why the CUDA provider cannot start ("" when it can);
	// CUDADetail is the runtime's own message.
	CUDAError, CUDADetail string
}

// RuntimeReport describes the ONNX Runtime library.
type RuntimeReport struct {
	Path      string   `json:"path,omitempty"`
	Version   string   `json:"version,omitempty"`
	Providers []string `json:"providers_compiled_in,omitempty"`
	SearchLog []string `json:"searched,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// CUDAReport says whether the CUDA provider can be used and, if not, why.
type CUDAReport struct {
	Usable bool   `json:"usable"`
	Reason string `json:"reason,omitempty"` // plain reason, e.g. "cuDNN is missing (libcudnn.so.9 not found): ..."
	Detail string `json:"detail,omitempty"` // the runtime's own message
}

// Verdict is doctor's plain answer for one model.
type Verdict struct {
	Model     string `json:"model"`
	Installed bool   `json:"installed"`
	Runs      string `json:"runs"` // "gpu", "cpu", "cpu-slow" or "no"
	Text      string `json:"verdict"`
	// Estimate is the time per image expected here on the CPU, from the
	// project's full-size benchmark scaled to this machine's cores (0 when
	// the model runs on a GPU or not at all: GPU figures are not measured).
	Estimate time.Duration `json:"estimate_ns,omitempty"`
	// EstimateText says it in words: "about 1 min per 384×384 image here
	// (estimated from a 2-core benchmark)".
	EstimateText string `json:"estimate,omitempty"`
}

// DoctorReport is everything `diptych doctor` prints.
type DoctorReport struct {
	Host     discover.Host      `json:"host"`
	Runtime  RuntimeReport      `json:"runtime"`
	GPU      discover.GPUReport `json:"gpu"`
	CUDALibs []discover.Library `json:"cuda_libraries"`
	CUDA     CUDAReport         `json:"cuda"`
	Models   []ModelInfo        `json:"models"`
	Verdicts []Verdict          `json:"verdicts"`
	gpus     []discover.GPU     // usable devices
}

// Diagnose examines the machine. It never fails: whatever cannot be found is
// reported with its reason.
func Diagnose(ctx context.Context, o DoctorOptions) DoctorReport {
	r := DoctorReport{Host: discover.LookupHost(), GPU: discover.LookupGPUs(ctx)}
	var probe RuntimeProbe
	if o.Runtime != nil {
		probe = o.Runtime.ProbeRuntime()
	} else {
		probe.Runtime.Error = "no ONNX Runtime engine in this build"
	}
	r.Runtime = probe.Runtime
	switch {
	case r.Runtime.Error != "":
		r.CUDA.Reason = "no ONNX Runtime library loaded"
	case probe.CUDAError != "":
		r.CUDA.Reason, r.CUDA.Detail = probe.CUDAError, probe.CUDADetail
	case len(r.GPU.Devices) == 0:
		r.CUDA.Reason = "the CUDA provider loads but no NVIDIA GPU was found"
		if r.GPU.Problem != "" {
			r.CUDA.Reason += " (" + r.GPU.Problem + ")"
		}
	default:
		r.CUDA.Usable = true
		for _, g := range r.GPU.Devices {
			if g.CUDA >= 0 { // CUDA_VISIBLE_DEVICES may hide some
				r.gpus = append(r.gpus, g)
			}
		}
	}
	abs := r.Runtime.Path
	if p, err := filepath.Abs(abs); err == nil && abs != "" && strings.Contains(abs, "/") {
		abs = p
	}
	r.CUDALibs = discover.LookupCUDALibraries(abs)
	r.Models, _ = FindModels(o.Registry, o.ModelDirs)
	r.Verdicts = verdicts(r)
	return r
}

// Rough memory needs (weights plus activations at the default size), used
// for the verdicts. The CPU figures are docs/benchmarks.md's peaks with
// headroom: SDXL 1024² with --low-memory, Janus-Pro-1B's default combination.
const (
	sdxlVRAMMB    = 10 * 1024
	sdxlCPURAMMB  = 16 * 1024
	janus1BRAMMB  = 4 * 1024
	janus7BVRAMMB = 20 * 1024
)

func verdicts(r DoctorReport) []Verdict {
	installed := func(kind models.Kind, params string) bool {
		for _, m := range r.Models {
			if m.Kind == string(kind) && (params == "" || m.Params == "" || m.Params == params) {
				return true
			}
		}
		return false
	}
	var best discover.GPU
	for _, g := range r.gpus {
		if g.TotalMB > best.TotalMB {
			best = g
		}
	}
	noGPU := "none found"
	if len(r.GPU.Devices) > 0 && !r.CUDA.Usable {
		noGPU = "the GPU is not usable (see CUDA above)"
	}
	gpuFits := func(need int64) bool { return r.CUDA.Usable && best.TotalMB >= need }
	gb := func(mb int64) string { return fmt.Sprintf("%.0f GB", float64(mb)/1024) }
	var out []Verdict
	add := func(model string, inst bool, runs, text string) {
		out = append(out, Verdict{Model: model, Installed: inst, Runs: runs, Text: text})
	}
	onCPU := func(f cpuFigure) {
		v := &out[len(out)-1]
		v.Estimate = f.estimate(r.Host.Cores)
		v.EstimateText = f.estimateText(r.Host.Cores)
	}

	for _, m := range []struct {
		name string
		kind models.Kind
	}{{"SDXL", models.KindSDXLBase}, {"SDXL refiner", models.KindSDXLRefiner}} {
		inst := installed(m.kind, "")
		switch {
		case gpuFits(sdxlVRAMMB):
			add(m.name, inst, "gpu", fmt.Sprintf("will run on %s (%s)", best.Name, gb(best.TotalMB)))
		case r.CUDA.Usable:
			add(m.name, inst, "cpu-slow", fmt.Sprintf("needs a CUDA GPU with ~%s — %s has %s; it will run on the CPU, slowly",
				gb(sdxlVRAMMB), best.Name, gb(best.TotalMB)))
		default:
			add(m.name, inst, "cpu-slow", fmt.Sprintf("needs a CUDA GPU with ~%s — %s; the CPU works with %s of RAM, slowly",
				gb(sdxlVRAMMB), noGPU, gb(sdxlCPURAMMB)))
		}
		if m.kind == models.KindSDXLBase && out[len(out)-1].Runs != "gpu" {
			onCPU(sdxlCPU)
		}
	}
	inst := installed(models.KindJanus, "1B")
	switch {
	case gpuFits(janus1BRAMMB / 2):
		add("Janus-Pro-1B", inst, "gpu", fmt.Sprintf("will run on %s", best.Name))
	case r.Host.MemoryMB >= janus1BRAMMB:
		add("Janus-Pro-1B", inst, "cpu", fmt.Sprintf("will run on the CPU (%d cores, %s RAM)", r.Host.Cores, gb(r.Host.MemoryMB)))
		onCPU(janus1BCPU)
	default:
		add("Janus-Pro-1B", inst, "no", fmt.Sprintf("needs ~%s of RAM on the CPU — this machine has %s", gb(janus1BRAMMB), gb(r.Host.MemoryMB)))
	}
	inst = installed(models.KindJanus, "7B")
	if gpuFits(janus7BVRAMMB) {
		add("Janus-Pro-7B", inst, "gpu", fmt.Sprintf("will run on %s (%s)", best.Name, gb(best.TotalMB)))
	} else {
		add("Janus-Pro-7B", inst, "no", fmt.Sprintf("needs a CUDA GPU with ~%s — %s; the CPU is refused unless forced (--force-cpu)",
			gb(janus7BVRAMMB), noGPU))
	}
	return out
}

// WriteText writes the report for people.
func (r DoctorReport) WriteText(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("System:   %s %s, kernel %s", r.Host.OS, r.Host.Arch, r.Host.Kernel)
	p("CPU:      %s (%d threads)", r.Host.CPU, r.Host.Cores)
	p("Memory:   %d MB total, %d MB available", r.Host.MemoryMB, r.Host.FreeMB)
	if r.Runtime.Error != "" {
		p("Runtime:  MISSING — %s", r.Runtime.Error)
	} else {
		p("Runtime:  ONNX Runtime %s at %s", r.Runtime.Version, r.Runtime.Path)
		p("          providers compiled in: %s", strings.Join(r.Runtime.Providers, ", "))
	}
	switch {
	case len(r.GPU.Devices) == 0:
		p("GPU:      none (%s)", r.GPU.Problem)
	default:
		for _, g := range r.GPU.Devices {
			p("GPU %d:    %s, %d MB (%d MB free), driver %s, CUDA %s [%s]", g.Index, g.Name, g.TotalMB, g.FreeMB,
				r.GPU.Driver, r.GPU.CUDADriver, r.GPU.Source)
		}
	}
	p("CUDA libraries:")
	for _, l := range r.CUDALibs {
		if l.Found != "" {
			p("  ok       %s: %s", l.Role, l.Found)
		} else {
			p("  missing  %s: %s", l.Role, l.Error)
		}
	}
	if r.CUDA.Usable {
		p("CUDA:     usable")
	} else {
		p("CUDA:     not usable — %s", r.CUDA.Reason)
		if r.CUDA.Detail != "" {
			p("          (%s)", r.CUDA.Detail)
		}
	}
	p("Models:")
	if len(r.Models) == 0 {
		p("  none installed (diptych models pull sdxl-base | janus-pro-1b, or diptych models import DIR)")
	}
	for _, m := range r.Models {
		if m.Problem != "" {
			p("  ?        %s: %s", m.Dir, m.Problem)
		} else {
			p("  %-8s %s %s (%d MB)", m.Kind, m.Dir, m.Params, m.SizeMB)
		}
	}
	p("Verdict:")
	for _, v := range r.Verdicts {
		mark := "not installed"
		if v.Installed {
			mark = "installed"
		}
		p("  %s (%s): %s", v.Model, mark, v.Text)
		if v.EstimateText != "" {
			p("      %s", v.EstimateText)
		}
	}
}
