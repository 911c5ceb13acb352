//go:build !windows

package ort

/*
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define DIPTYCH_NSIG 65

static struct sigaction* diptych_save_signals(void) {
	struct sigaction* saved = calloc(DIPTYCH_NSIG, sizeof(struct sigaction));
	if (!saved) return NULL;
	for (int s = 1; s < DIPTYCH_NSIG; s++) sigaction(s, NULL, &saved[s]);
	return saved;
}

// diptych_restore_signals puts back every handler that changed since the
// save and returns how many it restored.
static int diptych_restore_signals(struct sigaction* saved) {
	int n = 0;
	if (!saved) return 0;
	for (int s = 1; s < DIPTYCH_NSIG; s++) {
		struct sigaction cur;
		if (sigaction(s, NULL, &cur) != 0) continue;
		if (cur.sa_handler != saved[s].sa_handler || cur.sa_flags != saved[s].sa_flags) {
			if (sigaction(s, &saved[s], NULL) == 0) n++;
		}
	}
	free(saved);
	return n;
}
*/
import "C"

import "sync"

var signalMu sync.Mutex

// keepGoSignalHandlers runs fn and then restores any signal handler that
// native code replaced during it. The CUDA provider installs its own handlers
// without SA_ONSTACK, which turns Ctrl+C into a Go runtime crash
// (onnxruntime_go issue #140); restoring Go's handlers keeps Ctrl+C a clean
// cancellation. It returns how many handlers were restored.
func keepGoSignalHandlers(fn func() error) (int, error) {
	signalMu.Lock()
	defer signalMu.Unlock()
	saved := C.diptych_save_signals()
	err := fn()
	return int(C.diptych_restore_signals(saved)), err
}
