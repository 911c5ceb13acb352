package format

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                       "0 s",
		850 * time.Microsecond:                  "850 µs",
		273397060 * time.Nanosecond:             "273 ms",
		999 * time.Millisecond:                  "999 ms",
		4070 * time.Millisecond:                 "4.07 s",
		21121219465 * time.Nanosecond:           "21.1 s",
		59960 * time.Millisecond:                "1 min 0 s",
		72 * time.Second:                        "1 min 12 s",
		59*time.Minute + 59600*time.Millisecond: "1 h 00 min",
		2*time.Hour + 5*time.Minute:             "2 h 05 min",
		-1500 * time.Millisecond:                "-1.50 s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1.0 kB", 1500: "1.5 kB", 999_960: "1.0 MB",
		6_900_000_000: "6.9 GB", 2_100_000_000_000: "2.1 TB", -1500: "-1.5 kB",
		2_996_215_163: "3.0 GB", 10_300_000_000: "10.3 GB", // Hub sizes, as `diptych models` lists them
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	if got := MB(2048); got != "2.1 GB" {
		t.Errorf("MB(2048) = %q, want 2.1 GB", got)
	}
}

func TestRatio(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want string
	}{{21.4, 5.1, "4.2×"}, {100, 5, "20×"}, {1, 0, ""}, {-1, 2, ""}} {
		if got := Ratio(c.a, c.b); got != c.want {
			t.Errorf("Ratio(%g, %g) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}
