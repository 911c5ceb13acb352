// Package format writes durations, sizes and ratios the way Diptych shows
// them to people, in the CLI and in the window alike: "273 ms", "21.1 s",
// "1 min 12 s", "6.9 GB", "4.2×". It is the one place these are spelled, so
// the two front ends never disagree. It imports only the standard library.
package format

import (
	"fmt"
	"math"
	"time"
)

// Duration writes d for a person: "850 µs", "273 ms", "4.07 s", "21.1 s",
// "1 min 12 s", "2 h 05 min". Negative durations get a leading minus.
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	switch {
	case d == 0:
		return "0 s"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", int64(math.Round(float64(d)/float64(time.Millisecond))))
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		if s := d.Seconds(); s < 59.95 {
			return fmt.Sprintf("%.1f s", s)
		}
		return "1 min 0 s"
	case d.Round(time.Second) < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

// Bytes writes n in decimal units, as the Hugging Face Hub and file managers
// show sizes: "512 B", "1.5 kB", "6.9 GB".
func Bytes(n int64) string {
	if n < 0 {
		return "-" + Bytes(-n)
	}
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit-0.05 && i < 5 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, " kMGTP"[i])
}

// MB writes a size given in mebibytes (how memory peaks are measured) in the
// same units as Bytes.
func MB(mb int64) string { return Bytes(mb << 20) }

// Ratio writes how many times a is of b ("4.2×"); "" when b is not positive.
func Ratio(a, b float64) string {
	if b <= 0 || a < 0 {
		return ""
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}
