//go:build !cgo

package discover

import "errors"

// errNoNVML is why a build without cgo lists no GPU through NVML (nvidia-smi
// may still answer) and samples no GPU memory.
var errNoNVML = errors.New("NVML: not available in a build without cgo")

func nvmlQuery() (GPUReport, error) { return GPUReport{}, errNoNVML }

func nvmlGPUUsage(ordinal int) (func() (int64, bool), func(), error) { return nil, nil, errNoNVML }
