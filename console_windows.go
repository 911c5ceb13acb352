//go:build windows

package main

import (
	"os"
	"syscall"
)

// The Windows build is linked with -H windowsgui, so it starts without a
// console. When it is run with arguments from a terminal, attach to that
// terminal's console so the subcommands' output is visible.
func init() {
	if len(os.Args) < 2 {
		return
	}
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS = (DWORD)-1
	attach := syscall.NewLazyDLL("kernel32.dll").NewProc("AttachConsole")
	if ok, _, _ := attach.Call(attachParentProcess); ok == 0 {
		return // not started from a console
	}
	if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = f, f
	}
}
