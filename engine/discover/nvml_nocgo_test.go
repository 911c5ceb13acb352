//go:build !cgo

package discover

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNVMLWithoutCgo(t *testing.T) {
	if _, err := nvmlQuery(); err == nil || !strings.Contains(err.Error(), "not available in a build without cgo") {
		t.Fatalf("nvmlQuery = %v", err)
	}
	r := LookupGPUs(context.Background())
	if r.Source != "nvidia-smi" && !strings.Contains(r.Problem, "not available in a build without cgo") {
		t.Fatalf("problem = %q, want it to say why NVML is missing", r.Problem)
	}
	if s := SampleGPUMemory(0, time.Millisecond); s.Stop() != 0 {
		t.Fatal("a build without cgo sampled GPU memory")
	}
}
