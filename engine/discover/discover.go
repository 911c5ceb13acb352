// Package discover finds out what the machine offers: operating system, CPU,
// memory, NVIDIA GPUs (through NVML, or nvidia-smi when NVML is absent) and
// the CUDA and cuDNN libraries the CUDA execution provider needs.
package discover

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"diptych/engine/internal/dl"
)

// Host describes the machine.
type Host struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Kernel   string `json:"kernel,omitempty"`
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	MemoryMB int64  `json:"memory_mb"`
	FreeMB   int64  `json:"available_mb"`
}

// GPU is one NVIDIA device.
type GPU struct {
	// Index is NVML's (and nvidia-smi's) number for the GPU; it is not the
	// CUDA ordinal when CUDA_VISIBLE_DEVICES is set.
	Index    int    `json:"index"`
	Name     string `json:"name"`
	UUID     string `json:"uuid,omitempty"`       // "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6"
	PCIBusID string `json:"pci_bus_id,omitempty"` // "00000000:3B:00.0"
	// CUDA is the GPU's CUDA ordinal in this process ("cuda:N"), -1 when
	// CUDA_VISIBLE_DEVICES hides it (see VisibleGPUs).
	CUDA    int   `json:"cuda_ordinal"`
	TotalMB int64 `json:"total_mb"`
	FreeMB  int64 `json:"free_mb"`
	UsedMB  int64 `json:"used_mb"`
}

// GPUReport lists the GPUs and where the facts came from.
type GPUReport struct {
	Source     string `json:"source"` // "nvml", "nvidia-smi" or "" when none answered
	Driver     string `json:"driver,omitempty"`
	CUDADriver string `json:"cuda_driver,omitempty"`
	Devices    []GPU  `json:"devices"`
	// Problem says why no GPU could be listed.
	Problem string `json:"problem,omitempty"`
}

// LookupHost reads /proc for the CPU model and memory.
func LookupHost() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				h.OS = runtime.GOOS + " (" + strings.Trim(v, `"`) + ")"
			}
		}
	}
	h.CPU = procField("/proc/cpuinfo", "model name")
	h.MemoryMB = procKB("/proc/meminfo", "MemTotal") / 1024
	h.FreeMB = procKB("/proc/meminfo", "MemAvailable") / 1024
	return h
}

// LookupGPUs asks NVML, then nvidia-smi, and gives each GPU its CUDA
// ordinal in this process.
func LookupGPUs(ctx context.Context) GPUReport {
	r, err := nvmlQuery()
	if err == nil {
		setCUDAOrdinals(r.Devices)
		return r
	}
	problem := err.Error()
	if smi, err := nvidiaSMI(ctx); err == nil {
		setCUDAOrdinals(smi.Devices)
		return smi
	} else if _, lookErr := exec.LookPath("nvidia-smi"); lookErr == nil {
		problem += "; nvidia-smi: " + err.Error()
	} else {
		problem += "; nvidia-smi not installed"
	}
	return GPUReport{Problem: problem}
}

func nvidiaSMI(ctx context.Context) (GPUReport, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi",
		"--query-gpu=index,name,memory.total,memory.free,memory.used,driver_version,uuid,pci.bus_id",
		"--format=csv,noheader,nounits").Output()
	if err != nil {
		return GPUReport{}, err
	}
	return parseSMI(string(out))
}

func parseSMI(out string) (GPUReport, error) {
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		return GPUReport{}, fmt.Errorf("parse nvidia-smi output: %w", err)
	}
	r := GPUReport{Source: "nvidia-smi"}
	for _, row := range rows {
		if len(row) < 6 {
			return GPUReport{}, fmt.Errorf("parse nvidia-smi output: row %q has %d fields, want 6", row, len(row))
		}
		num := func(s string) int64 { v, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64); return v }
		g := GPU{Index: int(num(row[0])), Name: strings.TrimSpace(row[1]),
			TotalMB: num(row[2]), FreeMB: num(row[3]), UsedMB: num(row[4])}
		if len(row) >= 8 {
			g.UUID, g.PCIBusID = strings.TrimSpace(row[6]), strings.TrimSpace(row[7])
		}
		r.Devices = append(r.Devices, g)
		r.Driver = strings.TrimSpace(row[5])
	}
	return r, nil
}

// Library is a native library the CUDA provider needs.
type Library struct {
	Role  string `json:"role"`
	Found string `json:"found,omitempty"` // the name that opened
	Error string `json:"error,omitempty"` // why none of the names opened
}

type cudaLibrary struct {
	role  string
	names []string
}

// cudaLibraries lists, per role, the library names that satisfy it (CUDA 12 and 13).
var cudaLibraries = cudaLibraryNames(runtime.GOOS)

func cudaLibraryNames(goos string) []cudaLibrary {
	if goos == "windows" {
		return []cudaLibrary{
			{"NVIDIA driver (nvcuda)", []string{"nvcuda.dll"}},
			{"CUDA runtime (cudart)", []string{"cudart64_13.dll", "cudart64_12.dll"}},
			{"cuBLAS (cublasLt)", []string{"cublasLt64_13.dll", "cublasLt64_12.dll"}},
			{"cuFFT (cufft)", []string{"cufft64_12.dll", "cufft64_11.dll"}},
			{"cuDNN 9 (cudnn)", []string{"cudnn64_9.dll"}},
		}
	}
	return []cudaLibrary{
		{"NVIDIA driver (libcuda)", []string{"libcuda.so.1"}},
		{"CUDA runtime (libcudart)", []string{"libcudart.so.13", "libcudart.so.12"}},
		{"cuBLAS (libcublasLt)", []string{"libcublasLt.so.13", "libcublasLt.so.12"}},
		{"cuFFT (libcufft)", []string{"libcufft.so.12", "libcufft.so.11"}},
		{"cuDNN 9 (libcudnn)", []string{"libcudnn.so.9"}},
	}
}

// LookupCUDALibraries tries to open each library the CUDA provider needs, and
// the provider libraries beside the ONNX Runtime library at ortPath.
func LookupCUDALibraries(ortPath string) []Library {
	var out []Library
	for _, l := range cudaLibraries {
		out = append(out, probe(l.role, l.names))
	}
	if ortPath != "" && filepath.IsAbs(ortPath) {
		dir := filepath.Dir(ortPath)
		providers := []string{"libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"}
		if runtime.GOOS == "windows" {
			providers = []string{"onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"}
		}
		for _, name := range providers {
			p := filepath.Join(dir, name)
			lib := Library{Role: "ONNX Runtime CUDA provider (" + name + ")"}
			if _, err := os.Stat(p); err != nil {
				lib.Error = "not found in " + dir
			} else {
				lib.Found = p
			}
			out = append(out, lib)
		}
	}
	return out
}

func probe(role string, names []string) Library {
	var errs []string
	for _, n := range names {
		if err := dl.Probe(n); err == nil {
			return Library{Role: role, Found: n}
		} else {
			errs = append(errs, err.Error())
		}
	}
	return Library{Role: role, Error: strings.Join(errs, "; ")}
}

// Memory is a process's resident memory.
type Memory struct {
	RSSMB int64 // current resident set
	// PeakMB is the high-water mark since the process started (VmHWM), over
	// every run so far; a PeakTracker measures one run.
	PeakMB int64
}

// ProcessMemory reads /proc/self/status.
func ProcessMemory() Memory {
	return Memory{RSSMB: procKB("/proc/self/status", "VmRSS") / 1024, PeakMB: procKB("/proc/self/status", "VmHWM") / 1024}
}

func procKB(file, key string) int64 {
	v := procField(file, key)
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	return n
}

func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
