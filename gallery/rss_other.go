//go:build !(linux || darwin || freebsd)

package gallery

// peakRSSMB is not measured on this platform.
func peakRSSMB() float64 { return 0 }
