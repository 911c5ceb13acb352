package app

import (
	"fmt"
	"time"

	"diptych/engine/format"
)

// cpuFigure is what one image took on the CPU in this project's full-size
// benchmark (docs/benchmarks.md: random weights at the published sizes,
// which take exactly as long as the real ones). It is the first-run
// estimate of the time per image before this machine has a history.
type cpuFigure struct {
	cores    int           // cores of the benchmark machine
	fixed    time.Duration // per image, not per step: loading, text encoding, decoding
	perStep  time.Duration // per denoising step (SDXL), or 0
	steps    int           // steps of the estimate (SDXL's default)
	describe string        // what the figure is for: "per 384×384 image"
}

// The figures of docs/benchmarks.md (2-core AMD EPYC, 2 threads).
var (
	// Janus-Pro-1B's default combination, 576 image tokens with CFG.
	janus1BCPU = cpuFigure{cores: 2, fixed: 76 * time.Second, describe: "per 384×384 image"}
	// SDXL base at 1024², CFG, --low-memory: text encoders, UNet load and
	// VAE decode are the fixed part.
	sdxlCPU = cpuFigure{cores: 2, fixed: 90 * time.Second, perStep: 97 * time.Second, steps: 30,
		describe: "per 1024×1024 image at 30 steps"}
)

// maxScaledCores is where the estimate stops crediting more cores: the
// token and UNet steps are compute-bound on a few cores and meet the
// memory bandwidth beyond.
const maxScaledCores = 8

// estimate scales the figure to a machine with cores cores.
func (f cpuFigure) estimate(cores int) time.Duration {
	if cores <= 0 {
		cores = 1
	}
	c := min(cores, maxScaledCores)
	total := f.fixed + time.Duration(f.steps)*f.perStep
	return total * time.Duration(f.cores) / time.Duration(c)
}

// estimateText is the verdict's clause, "about 1 min per 384×384 image here
// (estimated from a 2-core benchmark)".
func (f cpuFigure) estimateText(cores int) string {
	return fmt.Sprintf("about %s %s here (estimated from a %d-core benchmark)", approx(f.estimate(cores)), f.describe, f.cores)
}

// approx writes an estimate without claiming precision it does not have:
// whole seconds under a minute, whole minutes under an hour.
func approx(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	case d.Round(time.Minute) < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	}
	return format.Duration(d)
}
