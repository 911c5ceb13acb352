package app

import (
	"strings"
	"testing"
	"time"

	"diptych/engine/discover"
)

func verdictFor(t *testing.T, vs []Verdict, model string) Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Model == model {
			return v
		}
	}
	t.Fatalf("no verdict for %s in %+v", model, vs)
	return Verdict{}
}

// TestVerdictsEstimateTheCPUTime: on a machine without a GPU the doctor
// says how long an image will take, from the benchmark figures scaled to
// the cores, and stops crediting cores at maxScaledCores.
func TestVerdictsEstimateTheCPUTime(t *testing.T) {
	for _, c := range []struct {
		cores     int
		janus     time.Duration
		janusText string
	}{
		{2, janus1BCPU.fixed, "about 1 min per 384×384 image here (estimated from a 2-core benchmark)"},
		{4, janus1BCPU.fixed / 2, "about 38 s per 384×384 image here"},
		{64, janus1BCPU.fixed * 2 / maxScaledCores, "about 19 s per 384×384 image here"},
	} {
		r := DoctorReport{Host: discover.Host{Cores: c.cores, MemoryMB: 24 * 1024}}
		vs := verdicts(r)
		j := verdictFor(t, vs, "Janus-Pro-1B")
		if j.Runs != "cpu" || j.Estimate != c.janus || !strings.HasPrefix(j.EstimateText, c.janusText) {
			t.Errorf("%d cores: Janus verdict %+v, want %v (%q)", c.cores, j, c.janus, c.janusText)
		}
		s := verdictFor(t, vs, "SDXL")
		want := (sdxlCPU.fixed + 30*sdxlCPU.perStep) * 2 / time.Duration(min(c.cores, maxScaledCores))
		if s.Estimate != want || !strings.Contains(s.EstimateText, "min per 1024×1024 image at 30 steps") {
			t.Errorf("%d cores: SDXL verdict %+v, want %v", c.cores, s, want)
		}
		if r := verdictFor(t, vs, "SDXL refiner"); r.Estimate != 0 {
			t.Errorf("refiner has an estimate of its own: %+v", r)
		}
	}
	// Too little RAM: no estimate for a model that will not run.
	vs := verdicts(DoctorReport{Host: discover.Host{Cores: 8, MemoryMB: 2 * 1024}})
	if j := verdictFor(t, vs, "Janus-Pro-1B"); j.Runs != "no" || j.EstimateText != "" {
		t.Errorf("Janus on 2 GB: %+v", j)
	}
	// A usable GPU that fits: GPU times are not measured, so no estimate.
	r := DoctorReport{Host: discover.Host{Cores: 8, MemoryMB: 32 * 1024}, gpus: []discover.GPU{{Name: "RTX 4090", TotalMB: 24 * 1024}}}
	r.CUDA.Usable = true
	for _, v := range verdicts(r) {
		if v.Runs == "gpu" && v.Estimate != 0 {
			t.Errorf("GPU verdict with a CPU estimate: %+v", v)
		}
	}
}

func TestApproxDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		14250 * time.Millisecond: "14 s",
		59 * time.Second:         "59 s",
		95 * time.Second:         "2 min",
		43 * time.Minute:         "43 min",
		150 * time.Minute:        "2 h 30 min",
	} {
		if got := approx(d); got != want {
			t.Errorf("approx(%v) = %q, want %q", d, got, want)
		}
	}
}
