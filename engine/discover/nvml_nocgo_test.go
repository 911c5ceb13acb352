//go:build !cgo

package discover

import (
	"context"
	"strings"
	"testing"
)

func TestNVMLWithoutCgo(t *testing.T) {
	if _, err := nvmlQuery(); err == nil || !strings.Contains(err.Error(), "not available in a build without cgo") {
		t.Fatalf("nvmlQuery = %v", err)
	}
	r := LookupGPUs(context.Background())
	if r.Source != "nvidia-smi" && !strings.Contains(r.Problem, "not available in a build without cgo") {
		t.Fatalf("problem = %q, want it to say why NVML is missing", r.Problem)
	}
	if _, _, err := nvmlGPUUsage(0); err == nil || !strings.Contains(err.Error(), "without cgo") {
		t.Fatalf("nvmlGPUUsage = %v", err)
	}
	if p := NewPeakTracker(0).Stop(); p.GPUMB != 0 || p.RSSMB <= 0 {
		t.Fatalf("peak without cgo = %+v, want RSS only", p)
	}
}
