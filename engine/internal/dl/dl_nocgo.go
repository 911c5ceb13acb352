//go:build !cgo

package dl

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrNoCgo is what every function of a build without cgo returns: opening a
// native library needs dlopen (or LoadLibrary), which needs cgo.
var ErrNoCgo = errors.New("built without cgo: native libraries cannot be opened")

// Library is an open shared library; a build without cgo never opens one.
type Library struct {
	Name string
}

// Open fails: a build without cgo cannot open native libraries.
func Open(name string) (*Library, error) {
	return nil, fmt.Errorf("open %s: %w", name, ErrNoCgo)
}

// Sym fails: a build without cgo has no open library.
func (l *Library) Sym(name string) (unsafe.Pointer, error) {
	return nil, fmt.Errorf("%s: symbol %s: %w", l.Name, name, ErrNoCgo)
}

// Close does nothing.
func (l *Library) Close() {}

// ORTVersion fails: reading the version means opening the library.
func ORTVersion(path string) (string, error) {
	return "", fmt.Errorf("read the ONNX Runtime version of %s: %w", path, ErrNoCgo)
}
