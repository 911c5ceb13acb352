//go:build !linux || !cgo

package ort

// SetMmapThreshold is a no-op off Linux/glibc.
func SetMmapThreshold(n int) bool { return false }

// ReleaseFreedMemory is a no-op off Linux/glibc.
func ReleaseFreedMemory() {}
