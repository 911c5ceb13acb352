package local

import (
	"context"
	"fmt"

	"diptych/engine/discover"
	"diptych/engine/models"
	"diptych/engine/ort"
)

// FitsTogether decides whether a compare's SDXL and Janus-Pro sides can run
// at the same time. Both must run on one CUDA GPU whose free memory holds
// both models' weights (their folders' ONNX sizes) plus half again for
// activations and the KV cache. On the CPU the answer is no: each engine
// already uses every core, so running both at once only adds memory. The
// reason says why, for the user.
func (e *Engine) FitsTogether(ctx context.Context, sdxlDir, janusDir, device string) (bool, string) {
	d, err := ort.ParseDevice(device)
	if err != nil {
		return false, err.Error()
	}
	rt, err := e.Runtime()
	if err != nil {
		return false, err.Error()
	}
	p, err := rt.Place(d)
	if err != nil {
		return false, err.Error()
	}
	var sizes [2]int64
	for i, dir := range []string{sdxlDir, janusDir} {
		l, err := models.Detect(dir)
		if err != nil {
			return false, err.Error()
		}
		sizes[i] = l.Size
	}
	var free int64 = -1
	if p.OnGPU() {
		for _, g := range discover.LookupGPUs(ctx).Devices {
			if g.CUDA == p.DeviceID {
				free = g.FreeMB
			}
		}
	}
	return fitsTogether(p.OnGPU(), free, sizes[0], sizes[1])
}

// fitsTogether is FitsTogether's rule: on a GPU with freeMB free (-1 when
// unknown), weights of a and b bytes need (a+b)·1.5.
func fitsTogether(onGPU bool, freeMB, a, b int64) (bool, string) {
	if !onGPU {
		return false, "on the CPU the two models run one after the other (each uses every core)"
	}
	if freeMB < 0 {
		return false, "the GPU's free memory is unknown, so the models run one after the other"
	}
	needMB := (a + b) * 3 / 2 >> 20
	if needMB > freeMB {
		return false, fmt.Sprintf("both models need about %d MB of GPU memory and %d MB are free: one after the other", needMB, freeMB)
	}
	return true, fmt.Sprintf("both models fit in the GPU's free memory (about %d of %d MB): running them together", needMB, freeMB)
}
