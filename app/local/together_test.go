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
