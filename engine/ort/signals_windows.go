package ort

// keepGoSignalHandlers runs fn. Windows has no POSIX signal handlers for
// native code to replace (Ctrl+C arrives through SetConsoleCtrlHandler, which
// the CUDA provider does not touch), so there is nothing to restore.
func keepGoSignalHandlers(fn func() error) (int, error) {
	return 0, fn()
}
