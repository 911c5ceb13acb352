//go:build !cgo

package dl

import (
	"errors"
	"strings"
	"testing"
)

func TestOpenWithoutCgo(t *testing.T) {
	_, err := Open("libc.so.6")
	if !errors.Is(err, ErrNoCgo) || !strings.Contains(err.Error(), "built without cgo") || !strings.Contains(err.Error(), "libc.so.6") {
		t.Fatalf("Open = %v, want ErrNoCgo naming the library", err)
	}
	if err := Probe("libc.so.6"); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Probe = %v, want ErrNoCgo", err)
	}
	if _, err := ORTVersion("/x/libonnxruntime.so"); !errors.Is(err, ErrNoCgo) || !strings.Contains(err.Error(), "/x/libonnxruntime.so") {
		t.Fatalf("ORTVersion = %v, want ErrNoCgo naming the file", err)
	}
}
