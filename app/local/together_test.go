package local

import (
	"strings"
	"testing"
)

func TestFitsTogetherRule(t *testing.T) {
	gb := int64(1 << 30)
	cases := []struct {
		gpu  bool
		free int64
		a, b int64
		ok   bool
		want string
	}{
		{false, 80000, gb, gb, false, "on the CPU"},
		{true, -1, gb, gb, false, "unknown"},
		{true, 80000, 7 * gb, 3 * gb, true, "about 15360 of 80000 MB"},
		{true, 12000, 7 * gb, 3 * gb, false, "need about 15360 MB of GPU memory and 12000 MB are free"},
	}
	for _, c := range cases {
		ok, why := fitsTogether(c.gpu, c.free, c.a, c.b)
		if ok != c.ok || !strings.Contains(why, c.want) {
			t.Errorf("fitsTogether(%v, %d, %d, %d) = %v, %q; want %v and %q", c.gpu, c.free, c.a, c.b, ok, why, c.ok, c.want)
		}
	}
}

// TestSDXLLowMemoryOnSmallCPUMachines: SDXL on the CPU of a machine with
// less than 32 GB always frees components between stages (the window has
// no --low-memory flag); a GPU run or a large machine keeps them unless
// asked.
func TestSDXLLowMemoryOnSmallCPUMachines(t *testing.T) {
	for _, c := range []struct {
		asked, gpu bool
		mb         int64
		want       bool
	}{
		{false, false, 16 * 1024, true},
		{false, false, 24 * 1024, true},
		{false, false, 64 * 1024, false},
		{true, false, 64 * 1024, true},
		{false, true, 16 * 1024, false},
		{true, true, 16 * 1024, true},
		{false, false, 0, false}, // memory unknown: as asked
	} {
		if got := sdxlLowMemory(c.asked, c.gpu, c.mb); got != c.want {
			t.Errorf("sdxlLowMemory(asked %v, gpu %v, %d MB) = %v, want %v", c.asked, c.gpu, c.mb, got, c.want)
		}
	}
}
