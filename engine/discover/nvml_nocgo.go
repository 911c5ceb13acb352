//go:build !cgo

package discover

import (
	"errors"
	"time"
)

// errNoNVML is why a build without cgo lists no GPU through NVML (nvidia-smi
// may still answer).
var errNoNVML = errors.New("NVML: not available in a build without cgo")

func nvmlQuery() (GPUReport, error) { return GPUReport{}, errNoNVML }

// SampleGPUMemory returns nil: without NVML there is nothing to sample.
func SampleGPUMemory(index int, interval time.Duration) *GPUMemorySampler { return nil }
