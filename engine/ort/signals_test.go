//go:build !windows

package ort

import (
	"os/signal"
	"syscall"
	"testing"
)

// Native code that replaces a signal handler during a guarded call (as the
// CUDA provider does) has it put back afterwards.
func TestKeepGoSignalHandlers(t *testing.T) {
	defer signal.Reset(syscall.SIGUSR2)
	n, err := keepGoSignalHandlers(func() error {
		signal.Ignore(syscall.SIGUSR2) // changes the kernel's handler for SIGUSR2
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("restored %d handlers (err %v), want 1", n, err)
	}
	n, _ = keepGoSignalHandlers(func() error { return nil })
	if n != 0 {
		t.Fatalf("restored %d handlers when nothing changed", n)
	}
}
