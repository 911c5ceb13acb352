//go:build !unix

package models

import "errors"

// freeSpace is unknown on this platform; the download then relies on the
// write itself reporting a full disk.
func freeSpace(dir string) (uint64, error) {
	return 0, errors.New("free space unknown on this platform")
}
