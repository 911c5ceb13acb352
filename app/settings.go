// Package app holds the use cases the GUI and the CLI share: settings,
// diagnostics, generation jobs and their queue, compare, sweep and bench.
// It drives engine/ and gallery/ and knows nothing of Fyne.
package app

import (
	"fmt"
	"os"
	"path/filepath"

	"diptych/app/api"
	"diptych/engine/models"
	"diptych/engine/ort"
)

// Settings are the user's choices that outlive a session (defined in
// app/api, where the GUI can use them without cgo).
type Settings = api.Settings

// DefaultSettings returns the settings of a fresh install.
func DefaultSettings() Settings { return api.DefaultSettings() }

// LoadSettings reads path; a missing file gives the defaults. A file that
// does not parse is an error naming it, never silently replaced.
func LoadSettings(path string) (Settings, error) { return api.LoadSettings(path) }

// ConfigDir is where Diptych keeps settings and the job queue
// ($XDG_CONFIG_HOME/diptych).
func ConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config folder: %w", err)
	}
	return filepath.Join(d, "diptych"), nil
}

// DataDir is where Diptych keeps models and the library by default
// ($DIPTYCH_HOME, else $XDG_DATA_HOME/diptych or ~/.local/share/diptych).
func DataDir() (string, error) {
	return models.DefaultDir()
}

// LocateRuntime returns where to look for the ONNX Runtime library: flag
// (--ort-lib or the settings' path), the environment, the GPU runtimes
// installed with `diptych models runtime --gpu`, then the defaults.
func LocateRuntime(flag string) ort.LocateOptions {
	o := ort.DefaultLocateOptions(flag)
	if st, err := models.OpenDefault(); err == nil {
		for _, r := range models.InstalledRuntimes(st.LibDir()) {
			o.Installed = append(o.Installed, r.Library)
		}
	}
	return o
}
